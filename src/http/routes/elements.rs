//! `/v1/sites/{site}/elements/*`: reusable content blocks.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::content::elements::{self, ElementPatch, ElementPayload, ElementView};
use crate::services::content::entries::EntryView;
use crate::services::identity::permissions::require::{ContentRead, ContentWrite};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/sites/{site}/elements")
            .route(web::get().to(list_elements))
            .route(web::post().to(create_element)),
    )
    .service(
        web::resource("/v1/sites/{site}/elements/{id}")
            .route(web::get().to(get_element))
            .route(web::patch().to(update_element))
            .route(web::delete().to(delete_element)),
    )
    .service(web::resource("/v1/sites/{site}/elements/{id}/usage").route(web::get().to(element_usage)));
}

#[utoipa::path(get, path = "/v1/sites/{site}/elements", tag = "content", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<ElementView>), (status = 404, body = ErrorBody)))]
pub async fn list_elements(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    site: Path<Uuid>,
    params: ListParams,
) -> ApiResult<web::Json<Page<ElementView>>> {
    Ok(web::Json(elements::list(&ctx, &who, *site, &params).await?))
}

#[utoipa::path(post, path = "/v1/sites/{site}/elements", tag = "content", security(("bearer" = [])), request_body = ElementPayload,
    responses((status = 201, body = ElementView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_element(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentWrite>,
    site: Path<Uuid>,
    Json(payload): Json<ElementPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(elements::create(&ctx, &who, *site, payload).await?))
}

#[utoipa::path(get, path = "/v1/sites/{site}/elements/{id}", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = ElementView), (status = 404, body = ErrorBody)))]
pub async fn get_element(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<ElementView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(elements::get(&ctx, &who, site, id).await?))
}

#[utoipa::path(patch, path = "/v1/sites/{site}/elements/{id}", tag = "content", security(("bearer" = [])), request_body = ElementPatch,
    responses((status = 200, body = ElementView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_element(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentWrite>,
    path: Path<(Uuid, Uuid)>,
    Json(patch): Json<ElementPatch>,
) -> ApiResult<web::Json<ElementView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(elements::update(&ctx, &who, site, id, patch).await?))
}

/// Entries that embed the element.
#[utoipa::path(get, path = "/v1/sites/{site}/elements/{id}/usage", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = Vec<EntryView>), (status = 404, body = ErrorBody)))]
pub async fn element_usage(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<Vec<EntryView>>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(elements::usage(&ctx, &who, site, id).await?))
}

#[utoipa::path(delete, path = "/v1/sites/{site}/elements/{id}", tag = "content", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "Entries use it", body = ErrorBody)))]
pub async fn delete_element(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentWrite>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    elements::delete(&ctx, &who, site, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
