//! `/v1/audit-events`: the tenant's audit log, as pages or CSV.

use actix_web::web::{self, Data};
use actix_web::HttpResponse;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::{Authenticated, Require};
use crate::http::extract::Query;
use crate::platform::paging::{ListParams, Page};
use crate::services::audit::events::{self, AuditEventView, AuditFilter};
use crate::services::identity::permissions::require::AuditRead;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/audit-events").route(web::get().to(list_audit_events)))
        .service(web::resource("/v1/audit-events.csv").route(web::get().to(export_audit_events)))
        .service(web::resource("/v1/platform/audit-events").route(web::get().to(list_platform_audit_events)));
}

/// Every state change in the tenant, newest first; filter by `actor`, `action` (`entry.*`),
/// `target` (`entry` or `entry:<id>`), `from`/`to` days.
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", security(("bearer" = [])), params(ListParams, AuditFilter),
    responses((status = 200, body = Page<AuditEventView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_audit_events(
    ctx: Data<AppContext>,
    Require(who, _): Require<AuditRead>,
    filter: Query<AuditFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<AuditEventView>>> {
    Ok(web::Json(events::list(&ctx, &who, &filter, &params).await?))
}

/// Platform actions (tenants created, changed, suspended or deleted, sign-ups decided, global
/// prices and credit grants) and events of no tenant, across tenants; superadmins only.
#[utoipa::path(get, path = "/v1/platform/audit-events", tag = "audit", security(("bearer" = [])), params(ListParams, AuditFilter),
    responses((status = 200, body = Page<AuditEventView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_platform_audit_events(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    filter: Query<AuditFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<AuditEventView>>> {
    Ok(web::Json(events::list_platform(&ctx, &who, &filter, &params).await?))
}

/// The same events as CSV, oldest first.
#[utoipa::path(get, path = "/v1/audit-events.csv", tag = "audit", security(("bearer" = [])), params(AuditFilter),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 403, body = ErrorBody)))]
pub async fn export_audit_events(
    ctx: Data<AppContext>,
    Require(who, _): Require<AuditRead>,
    filter: Query<AuditFilter>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"audit-events.csv\""))
        .body(events::csv(&ctx, &who, &filter).await?))
}
