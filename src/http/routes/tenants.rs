//! `/v1/tenants/*`: superadmins manage every tenant; members see their own; owners rename theirs.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Authenticated;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::tenants::{self, TenantPatch, TenantPayload, TenantView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/tenants").route(web::get().to(list_tenants)).route(web::post().to(create_tenant)))
        .service(
            web::resource("/v1/tenants/{id}")
                .route(web::get().to(get_tenant))
                .route(web::patch().to(update_tenant))
                .route(web::delete().to(delete_tenant)),
        )
        .service(web::resource("/v1/tenants/{id}/suspend").route(web::post().to(suspend_tenant)))
        .service(web::resource("/v1/tenants/{id}/resume").route(web::post().to(resume_tenant)));
}

/// Tenants the caller can see (all of them for a superadmin). Sort: `name`, `slug`, `createdAt`.
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<TenantView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_tenants(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    params: ListParams,
) -> ApiResult<web::Json<Page<TenantView>>> {
    Ok(web::Json(tenants::list(&ctx, &who, &params).await?))
}

/// Creates a tenant (superadmin).
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", security(("bearer" = [])), request_body = TenantPayload,
    responses((status = 201, body = TenantView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "Slug taken", body = ErrorBody)))]
pub async fn create_tenant(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    Json(payload): Json<TenantPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(tenants::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = TenantView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_tenant(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<TenantView>> {
    Ok(web::Json(tenants::get(&ctx, &who, *id).await?))
}

/// Renames a tenant or changes its slug (superadmin, or an owner acting in it).
#[utoipa::path(patch, path = "/v1/tenants/{id}", tag = "tenants", security(("bearer" = [])), request_body = TenantPatch,
    responses((status = 200, body = TenantView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_tenant(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
    Json(patch): Json<TenantPatch>,
) -> ApiResult<web::Json<TenantView>> {
    Ok(web::Json(tenants::update(&ctx, &who, *id, patch).await?))
}

/// Deletes an empty tenant (superadmin); 409 while it has sites or API keys.
#[utoipa::path(delete, path = "/v1/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_tenant(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    tenants::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Suspends a tenant (superadmin): its members and keys get 403 until resumed.
#[utoipa::path(post, path = "/v1/tenants/{id}/suspend", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = TenantView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suspend_tenant(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<TenantView>> {
    Ok(web::Json(tenants::set_active(&ctx, &who, *id, false).await?))
}

/// Resumes a suspended tenant (superadmin).
#[utoipa::path(post, path = "/v1/tenants/{id}/resume", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = TenantView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resume_tenant(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<TenantView>> {
    Ok(web::Json(tenants::set_active(&ctx, &who, *id, true).await?))
}
