//! The HTTP layer: [`routes`] (one module per URL area, each exporting `routes`), [`middleware`],
//! [`extract`] (extractors that fail in the project's error shape), the [`openapi`] document.
//! Handlers extract, call one service function, and map to a view.

pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod routes;

use routes::*;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::context::AppContext;
use crate::error::{ApiError, ErrorCode};

/// Extra routes mounted behind the full middleware stack (used by the integration tests to
/// exercise extractor and panic handling on a real server).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

/// Mounts every area, the docs and the dashboard.
pub fn configure(cfg: &mut web::ServiceConfig, extra: Option<ExtraRoutes>) {
    cfg.app_data(web::JsonConfig::default().error_handler(|e, _| bad_extractor_input("body", &e)))
        .app_data(web::QueryConfig::default().error_handler(|e, _| bad_extractor_input("query", &e)))
        .app_data(web::PathConfig::default().error_handler(|e, _| bad_extractor_input("path", &e)))
        .configure(health::routes)
        .configure(meta::routes)
        .configure(auth::routes)
        .configure(oauth::routes)
        .configure(tenants::routes)
        .configure(sites::routes)
        .configure(content_types::routes)
        .configure(entries::routes)
        .configure(elements::routes)
        .configure(media::routes)
        .configure(site_admin::routes)
        .configure(billing::routes)
        .configure(audit::routes)
        .configure(members::routes)
        .configure(groups::routes)
        .configure(waitlist::routes)
        .configure(knowledge::routes)
        .configure(jobs::routes)
        .configure(search::routes)
        .configure(chat::routes)
        .configure(openai::routes)
        .configure(public::routes)
        .configure(ws::routes)
        .configure(api_keys::routes)
        .configure(webhooks::routes)
        .configure(analysis::routes)
        .configure(metrics::routes)
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi::ApiDoc::openapi()))
        .service(web::resource("/docs").route(web::get().to(redirect_to_docs)));
    if let Some(extra) = extra {
        cfg.configure(extra);
    }
}

/// For actix's own extractors (a `Path<Uuid>` that is not a UUID, ...).
fn bad_extractor_input(part: &str, error: &dyn std::fmt::Display) -> actix_web::Error {
    ApiError::invalid(format!("invalid {part}: {error}")).into()
}

pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, format!("no route for {} {}", req.method(), req.path())))
}

async fn redirect_to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}

/// Paths that answer while the server is still starting: everything but the API itself (the
/// dashboard shows the start-up stage from `/health`).
fn available_while_starting(path: &str) -> bool {
    !(path.starts_with("/v1/") || path.starts_with("/public/"))
}

/// Until startup has finished (migrations, storage), everything else answers 503.
pub async fn readiness_gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !available_while_starting(req.path()) {
        if let Some(ctx) = req.app_data::<Data<AppContext>>() {
            if !ctx.readiness.is_ready() {
                let stage = ctx.readiness.stage().describe();
                return Err(ApiError::new(ErrorCode::ServiceUnavailable, format!("server is not ready: {stage}"))
                    .with_details(json!({ "stage": stage, "retryAfter": 1 }))
                    .into());
            }
        }
    }
    next.call(req).await
}
