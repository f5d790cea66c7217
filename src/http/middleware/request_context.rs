//! The outermost middleware. For every request it:
//! - takes a valid `X-Request-ID` from the client or makes one, and echoes it on the response;
//! - opens the tracing span (request id, method, path, tenant) that every log line runs in;
//! - turns a panic in any inner layer into a logged 500, so no panic reaches a client;
//! - renders every error response in the one JSON shape, including actix's own 404/405 and
//!   payload errors that never passed through [`ApiError`](crate::error::ApiError);
//! - writes the access log line (health and metrics probes stay out of it).

use std::future::{ready, Ready};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::error::RenderedError;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// Accepts a client's id if it is 1–128 characters of `[A-Za-z0-9._:-]`, so it is safe in
    /// logs and headers; anything else is replaced, not rejected.
    pub fn from_client(value: Option<&HeaderValue>) -> Option<Self> {
        let text = value?.to_str().ok()?;
        let valid = (1..=128).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        valid.then(|| Self(text.to_owned()))
    }

    pub fn generate() -> Self {
        Self(Uuid::now_v7().to_string())
    }
}

/// Paths polled by probes and scrapers: kept out of the access log.
fn is_quiet(path: &str) -> bool {
    path == "/health" || path == "/health/ready" || path == "/metrics"
}

pub struct RequestContext;

impl<S, B> Transform<S, ServiceRequest> for RequestContext
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = RequestContextService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestContextService { service: Rc::new(service) }))
    }
}

pub struct RequestContextService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for RequestContextService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let request_id =
            RequestId::from_client(req.headers().get(&REQUEST_ID_HEADER)).unwrap_or_else(RequestId::generate);
        req.extensions_mut().insert(request_id.clone());
        let span = tracing::info_span!(
            "request",
            request_id = %request_id.0,
            method = %req.method(),
            path = %req.path(),
            tenant = tracing::field::Empty,
        );
        // Never clone the HttpRequest here: routing (inside the service) needs it unshared.
        let method = req.method().to_string();
        let path = req.path().to_owned();
        let quiet = is_quiet(&path);
        let service = Rc::clone(&self.service);
        let started = Instant::now();

        // No parameter means U+0000 and PostgreSQL cannot store it: one check for every route.
        let nul_parameter = crate::http::extract::query_nul_key(req.query_string());

        async move {
            let finish = |mut response: HttpResponse| {
                if response.status().is_client_error() || response.status().is_server_error() {
                    response = render_error(response, &method, &path, &request_id);
                }
                if let Ok(value) = HeaderValue::from_str(&request_id.0) {
                    response.headers_mut().insert(REQUEST_ID_HEADER, value);
                }
                if !quiet {
                    let status = response.status().as_u16();
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    tracing::info!(status, latency_ms = format_args!("{ms:.2}"), "request finished");
                }
                response
            };
            if let Some(key) = nul_parameter {
                let refused =
                    ApiError::invalid_field(&key, "must not contain the NUL character (%00)").error_response();
                let (req, response) = req.into_response(refused).into_parts();
                return Ok(ServiceResponse::new(req, finish(response)));
            }
            // Both the call and the future it returns may panic.
            let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| service.call(req))) {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            match outcome {
                Ok(Ok(response)) => {
                    let (req, response) = response.map_into_boxed_body().into_parts();
                    Ok(ServiceResponse::new(req, finish(response)))
                }
                // Without the request we cannot build a ServiceResponse: hand actix a finished
                // response wrapped as an error, which it sends as is.
                Ok(Err(error)) => Err(finished(finish(error.error_response()))),
                Err(panic) => {
                    tracing::error!(panic = %panic_message(panic.as_ref()), "handler panicked");
                    let response = ApiError::from(anyhow::anyhow!("handler panicked")).error_response();
                    Err(finished(finish(response)))
                }
            }
        }
        .instrument(span)
        .boxed_local()
    }
}

fn finished(response: HttpResponse) -> actix_web::Error {
    InternalError::from_response("request failed", response).into()
}

/// Replaces the body of an error response with the JSON error shape, keeping its headers
/// (e.g. `Allow` on a 405, `Retry-After` on a 429/503).
fn render_error(response: HttpResponse, method: &str, path: &str, request_id: &RequestId) -> HttpResponse {
    let status = response.status();
    let rendered = response
        .extensions()
        .get::<RenderedError>()
        .cloned()
        .unwrap_or_else(|| fallback_error(status, &response, method, path));
    let json = if crate::http::routes::openai::OPENAI_PATHS.contains(&path) {
        openai_error(&rendered)
    } else {
        let body = ErrorBody {
            error: rendered.code.as_str().to_owned(),
            message: rendered.message,
            details: rendered.details,
            request_id: request_id.0.clone(),
        };
        serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"error\":\"INTERNAL_ERROR\"}".to_vec())
    };
    let mut response = response.set_body(BoxBody::new(json));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// OpenAI's error object, which its SDKs turn into typed exceptions.
fn openai_error(rendered: &RenderedError) -> Vec<u8> {
    let kind = match rendered.code {
        ErrorCode::Unauthorized => "authentication_error",
        ErrorCode::Forbidden => "permission_error",
        ErrorCode::RateLimitExceeded => "rate_limit_error",
        ErrorCode::InsufficientBalance => "insufficient_quota",
        ErrorCode::NotFound => "not_found_error",
        code if code.status().is_server_error() => "server_error",
        _ => "invalid_request_error",
    };
    let body = crate::error::OpenAiErrorBody {
        error: crate::error::OpenAiError {
            message: rendered.message.clone(),
            kind: kind.to_owned(),
            param: rendered.details.get("field").and_then(|f| f.as_str()).map(str::to_owned),
            code: rendered.code.as_str().to_ascii_lowercase(),
        },
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Wording for error responses that actix produced itself.
fn fallback_error(status: StatusCode, response: &HttpResponse, method: &str, path: &str) -> RenderedError {
    let code = ErrorCode::from_status(status);
    let message = match status {
        StatusCode::NOT_FOUND => format!("no route for {method} {path}"),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = response.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default();
            format!("method {method} is not allowed on {path}; allowed: {allowed}")
        }
        _ => match response.error() {
            Some(error) if !status.is_server_error() => error.to_string(),
            _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
        },
    };
    if status.is_server_error() {
        if let Some(error) = response.error() {
            tracing::error!(error = %error, "unhandled server error");
        }
    }
    RenderedError { code, message, details: serde_json::Value::Null }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_ids_are_validated() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(RequestId::from_client(Some(&ok)), Some(RequestId("abc-123_x.y:z".into())));
        for bad in ["", "has space", "<script>", &"x".repeat(129)] {
            assert_eq!(RequestId::from_client(Some(&HeaderValue::from_str(bad).unwrap())), None, "{bad}");
        }
        assert_eq!(RequestId::from_client(None), None);
    }
}
