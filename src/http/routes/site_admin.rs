//! `/v1/sites/{site}/…` for admins: public search reindex and analytics, statistics, contact
//! form submissions.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::platform::jobs::JobView;
use crate::platform::paging::{ListParams, Page};
use crate::services::content::contact::{self, ContactFilter, ContactPatch, ContactView};
use crate::services::content::site_search;
use crate::services::content::stats::{self, Period, SearchAnalytics, SiteStats};
use crate::services::identity::permissions::require::{ContentWrite, SitesManage};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/sites/{site}/search/reindex").route(web::post().to(reindex_site)))
        .service(web::resource("/v1/sites/{site}/search/analytics").route(web::get().to(search_analytics)))
        .service(web::resource("/v1/sites/{site}/stats").route(web::get().to(site_stats)))
        .service(web::resource("/v1/sites/{site}/contact-submissions").route(web::get().to(list_contacts)))
        .service(web::resource("/v1/sites/{site}/contact-submissions/{id}").route(web::patch().to(update_contact)));
}

/// Rebuilds the site's public search index from its published entries, as a job with progress
/// (`GET /v1/jobs/{id}`).
#[utoipa::path(post, path = "/v1/sites/{site}/search/reindex", tag = "sites", security(("bearer" = [])),
    responses((status = 202, body = JobView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reindex_site(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesManage>,
    site: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Accepted().json(site_search::reindex(&ctx, &who, *site).await?))
}

/// Top queries, queries that found nothing, click-through, per day.
#[utoipa::path(get, path = "/v1/sites/{site}/search/analytics", tag = "sites", security(("bearer" = [])), params(Period),
    responses((status = 200, body = SearchAnalytics), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn search_analytics(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesManage>,
    site: Path<Uuid>,
    period: Query<Period>,
) -> ApiResult<web::Json<SearchAnalytics>> {
    Ok(web::Json(stats::search_analytics(&ctx, &who, *site, &period).await?))
}

/// Views per day, top entries, searches, and the trend against the previous period.
#[utoipa::path(get, path = "/v1/sites/{site}/stats", tag = "sites", security(("bearer" = [])), params(Period),
    responses((status = 200, body = SiteStats), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn site_stats(
    ctx: Data<AppContext>,
    Require(who, _): Require<SitesManage>,
    site: Path<Uuid>,
    period: Query<Period>,
) -> ApiResult<web::Json<SiteStats>> {
    Ok(web::Json(stats::site_stats(&ctx, &who, *site, &period).await?))
}

#[utoipa::path(get, path = "/v1/sites/{site}/contact-submissions", tag = "sites", security(("bearer" = [])), params(ListParams, ContactFilter),
    responses((status = 200, body = Page<ContactView>), (status = 404, body = ErrorBody)))]
pub async fn list_contacts(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentWrite>,
    site: Path<Uuid>,
    filter: Query<ContactFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<ContactView>>> {
    Ok(web::Json(contact::list(&ctx, &who, *site, &filter, &params).await?))
}

/// Mark a submission handled (or new again).
#[utoipa::path(patch, path = "/v1/sites/{site}/contact-submissions/{id}", tag = "sites", security(("bearer" = [])), request_body = ContactPatch,
    responses((status = 200, body = ContactView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_contact(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentWrite>,
    path: Path<(Uuid, Uuid)>,
    Json(patch): Json<ContactPatch>,
) -> ApiResult<web::Json<ContactView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(contact::update(&ctx, &who, site, id, patch).await?))
}
