//! CORS for the API (`/v1`, docs): origins from `LECTERN_CORS_ORIGINS` (none by default, `*` for
//! any). Preflights are answered here; site routes under `/public/` follow each site's own
//! allowed origins instead (see `public`).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::HttpResponse;

use crate::app::context::AppContext;
use crate::error::{ApiError, ErrorCode};

/// The origin to answer with, if `origin` is allowed.
pub fn allowed(origins: &[String], origin: &str) -> Option<HeaderValue> {
    let lower = origin.to_ascii_lowercase();
    if origins.iter().any(|o| o == "*") {
        Some(HeaderValue::from_static("*"))
    } else if origins.contains(&lower) {
        HeaderValue::from_str(origin).ok()
    } else {
        None
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let origins = req.app_data::<Data<AppContext>>().map(|ctx| ctx.settings.cors_origins.clone()).unwrap_or_default();
    let (Some(origin), false) = (origin, req.path().starts_with("/public/")) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let allow = allowed(&origins, &origin);
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let Some(allow) = allow else {
            return Err(ApiError::new(ErrorCode::Forbidden, "this origin may not call the API from a browser")
                .with_details(serde_json::json!({ "origin": origin, "setting": "LECTERN_CORS_ORIGINS" }))
                .into());
        };
        let response = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, allow))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, PUT, PATCH, DELETE, OPTIONS"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, X-Tenant-ID, X-Request-ID, Idempotency-Key, X-Idempotency-Key, If-None-Match",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"))
            .finish();
        return Ok(req.into_response(response));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    res.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(allow) = allow {
        res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        res.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("X-Request-ID, Retry-After, Idempotent-Replayed, Content-Disposition"),
        );
    }
    Ok(res)
}
