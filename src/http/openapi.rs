//! The OpenAPI 3.1 document, generated from the handlers' annotations and served at
//! `/openapi.json`, with Swagger UI (vendored assets, no download) at `/docs`.

use utoipa::OpenApi;

use crate::error::{ErrorBody, ErrorCode};
use crate::health::{ComponentHealth, HealthReport, Status};
use crate::http::{health, meta};
use crate::list::Pagination;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lectern API",
        description = "Multi-tenant content and RAG platform. Every error has the body \
            `{\"error\": CODE, \"message\": ..., \"details\": ..., \"requestId\": ...}`; \
            see `GET /v1/errors` for the codes. Every response carries `X-Request-ID`.",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(health::get_health, health::get_ready, meta::get_info, meta::list_error_codes),
    components(schemas(ErrorBody, ErrorCode, HealthReport, ComponentHealth, Status, Pagination)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "meta", description = "What this server is and how it reports errors"),
    )
)]
pub struct ApiDoc;
