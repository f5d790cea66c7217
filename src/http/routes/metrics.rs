//! `GET /metrics` (Prometheus text format, optional basic auth) and the middleware that counts
//! every HTTP request by route template, so ids in paths do not explode the label set.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::app::context::AppContext;
use crate::error::{ApiError, ErrorCode};
use crate::platform::telemetry::metrics;

pub fn routes(cfg: &mut web::ServiceConfig) {
    metrics::install();
    cfg.service(web::resource("/metrics").route(web::get().to(scrape)));
}

pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    if route != "/metrics" {
        metrics::http_request(&method, &route, res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(res)
}

fn authorized(ctx: &AppContext, req: &HttpRequest) -> bool {
    let Some((user, password)) = &ctx.settings.metrics_auth else { return true };
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    let sent =
        req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    sent.is_some_and(|s| constant_time_eq(s.trim().as_bytes(), expected.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn scrape(ctx: Data<AppContext>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if !authorized(&ctx, &req) {
        let error = ApiError::new(ErrorCode::Unauthorized, "metrics need basic auth (LECTERN_METRICS_USER)");
        return Err(error);
    }
    if ctx.readiness.is_ready() {
        if let Err(error) = database_gauges(&ctx).await {
            tracing::warn!(%error, "reading queue depths for /metrics failed");
        }
    }
    pool_gauges(&ctx);
    metrics::set_gauge("lectern_uptime_seconds", &[], ctx.started_at.elapsed().as_secs_f64());
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics::render()))
}

/// Jobs by kind and status, and pending webhook deliveries: counted at scrape time.
async fn database_gauges(ctx: &AppContext) -> Result<(), sea_orm::DbErr> {
    let backend = ctx.db.get_database_backend();
    let rows = ctx
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT kind, status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') GROUP BY kind, status",
        ))
        .await?;
    // Kinds with nothing queued report 0 rather than vanishing.
    for kind in crate::platform::jobs::JobKind::ALL.map(crate::platform::jobs::JobKind::as_str) {
        for status in ["queued", "running"] {
            let n = rows
                .iter()
                .find(|r| {
                    r.try_get::<String>("", "kind").is_ok_and(|k| k == kind)
                        && r.try_get::<String>("", "status").is_ok_and(|s| s == status)
                })
                .and_then(|r| r.try_get::<i64>("", "n").ok())
                .unwrap_or(0);
            let labels = [("kind", kind.to_owned()), ("status", status.to_owned())];
            metrics::set_gauge("lectern_jobs", &labels, n as f64);
        }
    }
    let pending = ctx
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'sending')",
        ))
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    metrics::set_gauge("lectern_webhook_deliveries_pending", &[], pending as f64);
    Ok(())
}

fn pool_gauges(ctx: &AppContext) {
    let (open, idle) = match ctx.db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = ctx.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = ctx.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    metrics::set_gauge("lectern_db_pool_connections", &[("state", "open".to_owned())], f64::from(open));
    metrics::set_gauge("lectern_db_pool_connections", &[("state", "idle".to_owned())], idle as f64);
}
