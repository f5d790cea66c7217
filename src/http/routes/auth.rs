//! `/v1/auth/*` and `/v1/roles`: setup, login, sessions, the caller's profile, invitations.

use actix_web::web::{self, Data, Path};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::{client_ip, Authenticated, MaybeAuthenticated};
use crate::http::extract::Json;
use crate::services::identity::accounts::{
    self, ChangePasswordPayload, MeView, SetupPayload, SetupStatusView, SetupView, UpdateMePayload, UserView,
};
use crate::services::identity::members::{self, AcceptInvitePayload, PublicInviteView};
use crate::services::identity::recovery::{self, ResetConfirmPayload, ResetRequestPayload};
use crate::services::identity::sessions::{self, LoginPayload, RefreshPayload, TokensView};
use crate::services::identity::signup::{self, SignupOutcome, SignupPayload};
use crate::services::identity::{self, CallerView, MyPermissionsView, RoleView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/auth/setup-status").route(web::get().to(get_setup_status)))
        .service(web::resource("/v1/auth/setup").route(web::post().to(post_setup)))
        .service(web::resource("/v1/auth/login").route(web::post().to(post_login)))
        .service(web::resource("/v1/auth/refresh").route(web::post().to(post_refresh)))
        .service(web::resource("/v1/auth/logout").route(web::post().to(post_logout)))
        .service(web::resource("/v1/auth/me").route(web::get().to(get_me)).route(web::patch().to(patch_me)))
        .service(web::resource("/v1/auth/password").route(web::post().to(post_password)))
        .service(web::resource("/v1/auth/my-permissions").route(web::get().to(get_my_permissions)))
        .service(web::resource("/v1/auth/test").route(web::get().to(get_auth_test)))
        .service(web::resource("/v1/auth/invites/{token}").route(web::get().to(get_invite)))
        .service(web::resource("/v1/auth/invites/{token}/accept").route(web::post().to(post_accept_invite)))
        .service(web::resource("/v1/auth/signup").route(web::post().to(post_signup)))
        .service(web::resource("/v1/auth/password-reset").route(web::post().to(post_password_reset)))
        .service(web::resource("/v1/auth/password-reset/confirm").route(web::post().to(post_password_reset_confirm)))
        .service(web::resource("/v1/roles").route(web::get().to(list_roles)));
}

fn ip_of(req: &HttpRequest) -> String {
    client_ip(req).unwrap_or_else(|| "unknown".to_owned())
}

/// Whether the platform is bootstrapped, how people can log in, and who may sign up.
#[utoipa::path(get, path = "/v1/auth/setup-status", tag = "auth", responses((status = 200, body = SetupStatusView)))]
pub async fn get_setup_status(ctx: Data<AppContext>) -> ApiResult<web::Json<SetupStatusView>> {
    Ok(web::Json(accounts::setup_status(&ctx).await?))
}

/// One-shot bootstrap: creates the platform superadmin and the first tenant (its owner).
#[utoipa::path(post, path = "/v1/auth/setup", tag = "auth", request_body = SetupPayload,
    responses((status = 201, body = SetupView), (status = 400, body = ErrorBody), (status = 409, description = "Already set up", body = ErrorBody)))]
pub async fn post_setup(
    ctx: Data<AppContext>,
    req: HttpRequest,
    Json(payload): Json<SetupPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(accounts::setup(&ctx, payload, Some(ip_of(&req))).await?))
}

/// Password login: a short-lived access token and a rotating refresh token.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginPayload,
    responses((status = 200, body = TokensView), (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many failures; see Retry-After", body = ErrorBody)))]
pub async fn post_login(
    ctx: Data<AppContext>,
    req: HttpRequest,
    Json(payload): Json<LoginPayload>,
) -> ApiResult<web::Json<TokensView>> {
    Ok(web::Json(sessions::login(&ctx, payload, &ip_of(&req)).await?))
}

/// Exchanges a refresh token for new tokens. Reusing an old refresh token ends the session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshPayload,
    responses((status = 200, body = TokensView), (status = 401, body = ErrorBody)))]
pub async fn post_refresh(
    ctx: Data<AppContext>,
    Json(payload): Json<RefreshPayload>,
) -> ApiResult<web::Json<TokensView>> {
    Ok(web::Json(sessions::refresh(&ctx, payload).await?))
}

/// Ends the current session: its refresh tokens and access tokens stop working at once.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn post_logout(ctx: Data<AppContext>, Authenticated(who): Authenticated) -> ApiResult<HttpResponse> {
    sessions::logout(&ctx, &who).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller, their memberships and effective permissions per tenant.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub async fn get_me(ctx: Data<AppContext>, Authenticated(who): Authenticated) -> ApiResult<web::Json<MeView>> {
    Ok(web::Json(accounts::me(&ctx, &who).await?))
}

/// Changes the caller's name, avatar or locale.
#[utoipa::path(patch, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])), request_body = UpdateMePayload,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn patch_me(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    Json(payload): Json<UpdateMePayload>,
) -> ApiResult<web::Json<UserView>> {
    Ok(web::Json(accounts::update_me(&ctx, &who, payload).await?))
}

/// Changes the caller's password; every session of theirs ends.
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordPayload,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn post_password(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    Json(payload): Json<ChangePasswordPayload>,
) -> ApiResult<HttpResponse> {
    accounts::change_password(&ctx, &who, payload).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's effective permissions in the tenant the call acts in.
#[utoipa::path(get, path = "/v1/auth/my-permissions", tag = "auth", security(("bearer" = [])),
    params(("X-Tenant-ID" = Option<uuid::Uuid>, Header, description = "The tenant to act in")),
    responses((status = 200, body = MyPermissionsView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_my_permissions(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
) -> ApiResult<web::Json<MyPermissionsView>> {
    Ok(web::Json(identity::my_permissions(&ctx, &who).await?))
}

/// Tells an integrator whether their key (or token) works, for which tenant and scopes.
#[utoipa::path(get, path = "/v1/auth/test", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = CallerView), (status = 401, body = ErrorBody)))]
pub async fn get_auth_test(Authenticated(who): Authenticated) -> ApiResult<web::Json<CallerView>> {
    Ok(web::Json(identity::describe(&who)?))
}

/// What an invitation is for (public: the token is the credential).
#[utoipa::path(get, path = "/v1/auth/invites/{token}", tag = "auth",
    responses((status = 200, body = PublicInviteView), (status = 404, description = "Unknown, expired, used or revoked", body = ErrorBody)))]
pub async fn get_invite(ctx: Data<AppContext>, token: Path<String>) -> ApiResult<web::Json<PublicInviteView>> {
    Ok(web::Json(members::show_invite(&ctx, &token).await?))
}

/// Accepts an invitation, creating the account if needed, and logs the user in.
#[utoipa::path(post, path = "/v1/auth/invites/{token}/accept", tag = "auth", request_body = AcceptInvitePayload,
    responses((status = 200, body = TokensView), (status = 400, body = ErrorBody), (status = 401, description = "The invited account exists: log in as it", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_accept_invite(
    ctx: Data<AppContext>,
    token: Path<String>,
    MaybeAuthenticated(who): MaybeAuthenticated,
    Json(payload): Json<AcceptInvitePayload>,
) -> ApiResult<web::Json<TokensView>> {
    Ok(web::Json(members::accept_invite(&ctx, &token, payload, who.as_ref()).await?))
}

/// The fixed roles and their permissions.
#[utoipa::path(get, path = "/v1/roles", tag = "auth", responses((status = 200, body = Vec<RoleView>)))]
pub async fn list_roles() -> web::Json<Vec<RoleView>> {
    web::Json(identity::roles())
}

/// Self-service sign-up, as the sign-up mode allows: `open` logs the new account in (201),
/// `approval` puts it on the waitlist (202); `off` and `invite` answer 403.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", request_body = SignupPayload,
    responses((status = 201, description = "Account created and logged in", body = SignupOutcome),
        (status = 202, description = "Waiting for approval", body = SignupOutcome),
        (status = 400, body = ErrorBody), (status = 403, description = "Sign-up is closed or by invitation", body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn post_signup(ctx: Data<AppContext>, Json(payload): Json<SignupPayload>) -> ApiResult<HttpResponse> {
    let outcome = signup::signup(&ctx, payload).await?;
    Ok(match outcome {
        SignupOutcome::Active { .. } => HttpResponse::Created().json(outcome),
        SignupOutcome::Pending { .. } => HttpResponse::Accepted().json(outcome),
    })
}

/// Mails a password reset link. Always 202, whether or not the email has an account.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", request_body = ResetRequestPayload,
    responses((status = 202), (status = 400, body = ErrorBody)))]
pub async fn post_password_reset(
    ctx: Data<AppContext>,
    Json(payload): Json<ResetRequestPayload>,
) -> ApiResult<HttpResponse> {
    recovery::request(&ctx, payload).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "status": "sent if the account exists" })))
}

/// Sets a new password with the token from the reset mail; every session of the account ends.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "auth", request_body = ResetConfirmPayload,
    responses((status = 204), (status = 400, description = "Bad token or weak password", body = ErrorBody)))]
pub async fn post_password_reset_confirm(
    ctx: Data<AppContext>,
    req: HttpRequest,
    Json(payload): Json<ResetConfirmPayload>,
) -> ApiResult<HttpResponse> {
    let request_id = req.extensions().get::<crate::http::middleware::request_context::RequestId>().map(|r| r.0.clone());
    recovery::confirm(&ctx, payload, client_ip(&req), request_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
