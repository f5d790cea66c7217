//! `/v1/waitlist/*`: sign-ups waiting for a superadmin (sign-up mode `approval`).

use actix_web::web::{self, Data, Path};
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Authenticated;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::signup::{self, WaitlistView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/waitlist").route(web::get().to(list_waitlist)))
        .service(web::resource("/v1/waitlist/{id}/approve").route(web::post().to(approve_signup)))
        .service(web::resource("/v1/waitlist/{id}/reject").route(web::post().to(reject_signup)));
}

/// Every sign-up request, oldest first (superadmin).
#[utoipa::path(get, path = "/v1/waitlist", tag = "tenants", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<WaitlistView>), (status = 403, body = ErrorBody)))]
pub async fn list_waitlist(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    params: ListParams,
) -> ApiResult<web::Json<Page<WaitlistView>>> {
    Ok(web::Json(signup::list_waitlist(&ctx, &who, &params).await?))
}

/// Approves a sign-up: the account and its own tenant are created.
#[utoipa::path(post, path = "/v1/waitlist/{id}/approve", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = WaitlistView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_signup(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<WaitlistView>> {
    Ok(web::Json(signup::decide(&ctx, &who, *id, true).await?))
}

/// Rejects a sign-up.
#[utoipa::path(post, path = "/v1/waitlist/{id}/reject", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = WaitlistView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject_signup(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<WaitlistView>> {
    Ok(web::Json(signup::decide(&ctx, &who, *id, false).await?))
}
