//! `/v1/auth/oauth/*`: login through Google, GitHub or an OIDC issuer.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::Query;
use crate::services::identity::oauth::{self, CallbackParams, ProviderView};
use crate::services::identity::sessions::TokensView;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/auth/oauth/providers").route(web::get().to(list_providers)))
        .service(web::resource("/v1/auth/oauth/{provider}/start").route(web::get().to(start_login)))
        .service(web::resource("/v1/auth/oauth/{provider}/callback").route(web::get().to(finish_login)));
}

/// The login providers configured on this server.
#[utoipa::path(get, path = "/v1/auth/oauth/providers", tag = "auth", responses((status = 200, body = Vec<ProviderView>)))]
pub async fn list_providers(ctx: Data<AppContext>) -> web::Json<Vec<ProviderView>> {
    web::Json(oauth::providers(&ctx))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StartParams {
    /// A path on this server to return to after login; the tokens arrive in its URL fragment.
    pub redirect_to: Option<String>,
}

/// Redirects the browser to the provider's login page.
#[utoipa::path(get, path = "/v1/auth/oauth/{provider}/start", tag = "auth", params(("provider" = String, Path, description = "google, github or oidc"), StartParams),
    responses((status = 302, description = "To the provider"), (status = 400, body = ErrorBody), (status = 404, description = "Provider not configured", body = ErrorBody),
        (status = 503, description = "Provider unreachable", body = ErrorBody)))]
pub async fn start_login(
    ctx: Data<AppContext>,
    provider: Path<String>,
    Query(params): Query<StartParams>,
) -> ApiResult<HttpResponse> {
    let url = oauth::start(&ctx, &provider, params.redirect_to).await?;
    Ok(HttpResponse::Found().insert_header(("Location", url)).insert_header(("Cache-Control", "no-store")).finish())
}

/// Where the provider sends the browser back. With a `redirectTo` from the start, redirects
/// there with the tokens in the URL fragment (never sent to a server); otherwise answers JSON.
#[utoipa::path(get, path = "/v1/auth/oauth/{provider}/callback", tag = "auth", params(("provider" = String, Path), CallbackParams),
    responses((status = 200, body = TokensView), (status = 302, description = "Back to the page the login started from"),
        (status = 400, description = "Unknown, used or expired state", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "No verified email, or sign-up not allowed", body = ErrorBody)))]
pub async fn finish_login(
    ctx: Data<AppContext>,
    provider: Path<String>,
    Query(params): Query<CallbackParams>,
) -> ApiResult<HttpResponse> {
    let (tokens, redirect_to) = oauth::callback(&ctx, &provider, params).await?;
    Ok(match redirect_to {
        Some(path) => {
            let fragment = format!(
                "accessToken={}&refreshToken={}&expiresAt={}",
                tokens.access_token,
                tokens.refresh_token,
                tokens.expires_at.timestamp()
            );
            HttpResponse::Found()
                .insert_header(("Location", format!("{path}#{fragment}")))
                .insert_header(("Cache-Control", "no-store"))
                .finish()
        }
        None => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(tokens),
    })
}
