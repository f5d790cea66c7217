//! `/v1/members/*` and `/v1/invites/*`: who belongs to the tenant, with which role.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::members::{self, CreatedInviteView, InvitePayload, InviteView, MemberPatch, MemberView};
use crate::services::identity::permissions::require::{MembersManage, MembersRead};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/members").route(web::get().to(list_members)))
        .service(
            web::resource("/v1/members/{user_id}")
                .route(web::patch().to(update_member))
                .route(web::delete().to(remove_member)),
        )
        .service(web::resource("/v1/invites").route(web::get().to(list_invites)).route(web::post().to(create_invite)))
        .service(web::resource("/v1/invites/{id}").route(web::delete().to(revoke_invite)));
}

/// Members of the tenant. Sort: `name`, `email`, `joinedAt`.
#[utoipa::path(get, path = "/v1/members", tag = "members", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<MemberView>), (status = 403, body = ErrorBody)))]
pub async fn list_members(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersRead>,
    params: ListParams,
) -> ApiResult<web::Json<Page<MemberView>>> {
    Ok(web::Json(members::list(&ctx, &who, &params).await?))
}

/// Changes a member's role or site limits. Nobody grants a role above their own; the last owner stays.
#[utoipa::path(patch, path = "/v1/members/{user_id}", tag = "members", security(("bearer" = [])), request_body = MemberPatch,
    responses((status = 200, body = MemberView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_member(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    user_id: Path<Uuid>,
    Json(patch): Json<MemberPatch>,
) -> ApiResult<web::Json<MemberView>> {
    Ok(web::Json(members::update(&ctx, &who, *user_id, patch).await?))
}

/// Removes a member (kept in the audit history) and revokes the keys they made in this tenant.
#[utoipa::path(delete, path = "/v1/members/{user_id}", tag = "members", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    user_id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    members::remove(&ctx, &who, *user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Pending invitations.
#[utoipa::path(get, path = "/v1/invites", tag = "members", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<InviteView>), (status = 403, body = ErrorBody)))]
pub async fn list_invites(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    params: ListParams,
) -> ApiResult<web::Json<Page<InviteView>>> {
    Ok(web::Json(members::list_invites(&ctx, &who, &params).await?))
}

/// Invites someone by email; the link is mailed and returned once to the inviter.
#[utoipa::path(post, path = "/v1/invites", tag = "members", security(("bearer" = [])), request_body = InvitePayload,
    responses((status = 201, body = CreatedInviteView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "Already a member", body = ErrorBody)))]
pub async fn create_invite(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    Json(payload): Json<InvitePayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(members::invite(&ctx, &who, payload).await?))
}

#[utoipa::path(delete, path = "/v1/invites/{id}", tag = "members", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_invite(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    members::revoke_invite(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
