//! `GET /health` (liveness and component status) and `GET /health/ready` (readiness).

use actix_web::web::{self, Data, Json};
use actix_web::HttpResponse;
use serde_json::json;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::platform::health::{self, HealthReport};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(get_health)))
        .service(web::resource("/health/ready").route(web::get().to(get_ready)));
}

/// Liveness: answers 200 while the process serves HTTP, with each component's status.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The process is alive; see `status` and `components`", body = HealthReport)))]
pub async fn get_health(ctx: Data<AppContext>) -> Json<HealthReport> {
    Json(health::report(&ctx).await)
}

/// Readiness: 200 once migrations ran and storage is open, 503 before (and if startup failed).
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready to serve traffic", body = Object, example = json!({"status": "ready"})),
        (status = 503, description = "Starting, or startup failed", body = ErrorBody),
    ))]
pub async fn get_ready(ctx: Data<AppContext>) -> ApiResult<HttpResponse> {
    let stage = ctx.readiness.stage();
    if ctx.readiness.is_ready() {
        return Ok(HttpResponse::Ok().json(json!({ "status": "ready" })));
    }
    Err(ApiError::new(ErrorCode::ServiceUnavailable, format!("not ready: {}", stage.describe()))
        .with_details(json!({ "stage": stage.describe(), "retryAfter": 1 })))
}
