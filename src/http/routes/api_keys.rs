//! `/v1/api-keys/*`: keys for integrators, shown once at creation.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::api_keys::{self, ApiKeyPatch, ApiKeyPayload, ApiKeyView, CreatedApiKeyView};
use crate::services::identity::permissions::require::ApiKeysManage;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/api-keys").route(web::get().to(list_api_keys)).route(web::post().to(create_api_key)),
    )
    .service(
        web::resource("/v1/api-keys/{id}")
            .route(web::get().to(get_api_key))
            .route(web::patch().to(update_api_key))
            .route(web::delete().to(revoke_api_key)),
    );
}

/// Active keys of the tenant. Sort: `name`, `createdAt`, `lastUsedAt`.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<ApiKeyView>), (status = 403, body = ErrorBody)))]
pub async fn list_api_keys(
    ctx: Data<AppContext>,
    Require(who, _): Require<ApiKeysManage>,
    params: ListParams,
) -> ApiResult<web::Json<Page<ApiKeyView>>> {
    Ok(web::Json(api_keys::list(&ctx, &who, &params).await?))
}

/// Creates a key; the response holds the secret, which is never shown again.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])), request_body = ApiKeyPayload,
    responses((status = 201, body = CreatedApiKeyView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_api_key(
    ctx: Data<AppContext>,
    Require(who, _): Require<ApiKeysManage>,
    Json(payload): Json<ApiKeyPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(api_keys::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyView), (status = 404, body = ErrorBody)))]
pub async fn get_api_key(
    ctx: Data<AppContext>,
    Require(who, _): Require<ApiKeysManage>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<ApiKeyView>> {
    Ok(web::Json(api_keys::get(&ctx, &who, *id).await?))
}

#[utoipa::path(patch, path = "/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])), request_body = ApiKeyPatch,
    responses((status = 200, body = ApiKeyView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_api_key(
    ctx: Data<AppContext>,
    Require(who, _): Require<ApiKeysManage>,
    id: Path<Uuid>,
    Json(patch): Json<ApiKeyPatch>,
) -> ApiResult<web::Json<ApiKeyView>> {
    Ok(web::Json(api_keys::update(&ctx, &who, *id, patch).await?))
}

/// Revokes a key: it stops working on its next request.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_api_key(
    ctx: Data<AppContext>,
    Require(who, _): Require<ApiKeysManage>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    api_keys::revoke(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
