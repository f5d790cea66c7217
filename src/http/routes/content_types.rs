//! `/v1/content-types`: the tenant's content types.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::content::types::{self, TypePatch, TypePayload, TypeView};
use crate::services::identity::permissions::require::{ContentRead, ContentTypesManage};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/content-types").route(web::get().to(list_types)).route(web::post().to(create_type)))
        .service(
            web::resource("/v1/content-types/{id}")
                .route(web::get().to(get_type))
                .route(web::patch().to(update_type))
                .route(web::delete().to(delete_type)),
        );
}

/// Content types of the tenant, including the built-in `post` and `page`.
#[utoipa::path(get, path = "/v1/content-types", tag = "content", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<TypeView>), (status = 403, body = ErrorBody)))]
pub async fn list_types(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    params: ListParams,
) -> ApiResult<web::Json<Page<TypeView>>> {
    Ok(web::Json(types::list(&ctx, &who, &params).await?))
}

#[utoipa::path(post, path = "/v1/content-types", tag = "content", security(("bearer" = [])), request_body = TypePayload,
    responses((status = 201, body = TypeView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "api id taken", body = ErrorBody)))]
pub async fn create_type(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentTypesManage>,
    Json(payload): Json<TypePayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(types::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/content-types/{id}", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = TypeView), (status = 404, body = ErrorBody)))]
pub async fn get_type(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<TypeView>> {
    Ok(web::Json(types::get(&ctx, &who, *id).await?))
}

/// Changing fields re-checks every entry of the type: 409 with the entries it would break.
#[utoipa::path(patch, path = "/v1/content-types/{id}", tag = "content", security(("bearer" = [])), request_body = TypePatch,
    responses((status = 200, body = TypeView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Existing entries would become invalid", body = ErrorBody)))]
pub async fn update_type(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentTypesManage>,
    id: Path<Uuid>,
    Json(patch): Json<TypePatch>,
) -> ApiResult<web::Json<TypeView>> {
    Ok(web::Json(types::update(&ctx, &who, *id, patch).await?))
}

#[utoipa::path(delete, path = "/v1/content-types/{id}", tag = "content", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "Built in, or entries use it", body = ErrorBody)))]
pub async fn delete_type(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentTypesManage>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    types::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
