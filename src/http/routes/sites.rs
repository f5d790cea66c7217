//! `/v1/sites/*`: the sites of the tenant the call acts in.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::permissions::require::{SitesManage, SitesRead};
use crate::services::identity::sites::{self, SitePatch, SitePayload, SiteView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/sites").route(web::get().to(list_sites)).route(web::post().to(create_site)))
        .service(
            web::resource("/v1/sites/{id}")
                .route(web::get().to(get_site))
                .route(web::patch().to(update_site))
                .route(web::delete().to(delete_site)),
        );
}

/// Sites of the tenant (only the allowed ones for members limited to some sites).
#[utoipa::path(get, path = "/v1/sites", tag = "sites", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<SiteView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_sites(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesRead>,
    params: ListParams,
) -> ApiResult<web::Json<Page<SiteView>>> {
    Ok(web::Json(sites::list(&ctx, &who, &params).await?))
}

#[utoipa::path(post, path = "/v1/sites", tag = "sites", security(("bearer" = [])), request_body = SitePayload,
    responses((status = 201, body = SiteView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "Slug taken", body = ErrorBody)))]
pub async fn create_site(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesManage>,
    Json(payload): Json<SitePayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(sites::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/sites/{id}", tag = "sites", security(("bearer" = [])),
    responses((status = 200, body = SiteView), (status = 404, body = ErrorBody)))]
pub async fn get_site(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesRead>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<SiteView>> {
    Ok(web::Json(sites::get(&ctx, &who, *id).await?))
}

#[utoipa::path(patch, path = "/v1/sites/{id}", tag = "sites", security(("bearer" = [])), request_body = SitePatch,
    responses((status = 200, body = SiteView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_site(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesManage>,
    id: Path<Uuid>,
    Json(patch): Json<SitePatch>,
) -> ApiResult<web::Json<SiteView>> {
    Ok(web::Json(sites::update(&ctx, &who, *id, patch).await?))
}

#[utoipa::path(delete, path = "/v1/sites/{id}", tag = "sites", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_site(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesManage>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    sites::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
