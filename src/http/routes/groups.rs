//! `/v1/groups/*`: teams that hold a role and site limits.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::groups::{self, GroupMemberPayload, GroupPatch, GroupPayload, GroupView};
use crate::services::identity::permissions::require::{MembersManage, MembersRead};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/groups").route(web::get().to(list_groups)).route(web::post().to(create_group)))
        .service(
            web::resource("/v1/groups/{id}")
                .route(web::get().to(get_group))
                .route(web::patch().to(update_group))
                .route(web::delete().to(delete_group)),
        )
        .service(web::resource("/v1/groups/{id}/members").route(web::post().to(add_group_member)))
        .service(web::resource("/v1/groups/{id}/members/{user_id}").route(web::delete().to(remove_group_member)));
}

/// Groups of the tenant with their members. Sort: `name`, `createdAt`.
#[utoipa::path(get, path = "/v1/groups", tag = "members", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<GroupView>), (status = 403, body = ErrorBody)))]
pub async fn list_groups(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersRead>,
    params: ListParams,
) -> ApiResult<web::Json<Page<GroupView>>> {
    Ok(web::Json(groups::list(&ctx, &who, &params).await?))
}

/// Creates a group holding a role (at most the caller's own) and optional site limits.
#[utoipa::path(post, path = "/v1/groups", tag = "members", security(("bearer" = [])), request_body = GroupPayload,
    responses((status = 201, body = GroupView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_group(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    Json(payload): Json<GroupPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(groups::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/groups/{id}", tag = "members", security(("bearer" = [])),
    responses((status = 200, body = GroupView), (status = 404, body = ErrorBody)))]
pub async fn get_group(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersRead>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<GroupView>> {
    Ok(web::Json(groups::get(&ctx, &who, *id).await?))
}

/// Renames a group or changes its role or site limits.
#[utoipa::path(patch, path = "/v1/groups/{id}", tag = "members", security(("bearer" = [])), request_body = GroupPatch,
    responses((status = 200, body = GroupView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_group(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    id: Path<Uuid>,
    Json(patch): Json<GroupPatch>,
) -> ApiResult<web::Json<GroupView>> {
    Ok(web::Json(groups::update(&ctx, &who, *id, patch).await?))
}

#[utoipa::path(delete, path = "/v1/groups/{id}", tag = "members", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_group(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    groups::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a member of the tenant to the group.
#[utoipa::path(post, path = "/v1/groups/{id}/members", tag = "members", security(("bearer" = [])), request_body = GroupMemberPayload,
    responses((status = 200, body = GroupView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_group_member(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    id: Path<Uuid>,
    Json(payload): Json<GroupMemberPayload>,
) -> ApiResult<web::Json<GroupView>> {
    Ok(web::Json(groups::add_member(&ctx, &who, *id, payload).await?))
}

#[utoipa::path(delete, path = "/v1/groups/{id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_group_member(
    ctx: Data<AppContext>,
    Require(who, _): Require<MembersManage>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    groups::remove_member(&ctx, &who, id, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
