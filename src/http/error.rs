//! How an [`ApiError`] becomes an HTTP response: the status of each code, the `Retry-After`
//! header, and the rendered error the request-context middleware turns into the JSON body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::InsufficientBalance => StatusCode::PAYMENT_REQUIRED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnprocessableEntity => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::UpstreamError => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code a bare HTTP status stands for, used to wrap responses that did not come from
    /// an [`ApiError`] (actix's own 404/405, payload errors) in the same body.
    pub fn from_status(status: StatusCode) -> ErrorCode {
        Self::ALL.into_iter().find(|code| code.status() == status).unwrap_or(if status.is_server_error() {
            Self::InternalError
        } else {
            Self::InvalidRequest
        })
    }
}

/// Attached to the response so the request-context middleware can render the final body with
/// the request id, without parsing what the handler produced.
#[derive(Debug, Clone)]
pub struct RenderedError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let (message, details) = self.public_parts();
        let mut builder = HttpResponse::build(self.status_code());
        // 429 and 503 tell the client when to come back.
        if let Some(seconds) = details.get("retryAfter").and_then(Value::as_u64) {
            builder.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        let rendered = RenderedError { code: self.code(), message, details };
        let mut response = builder.finish();
        response.extensions_mut().insert(rendered);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_back_from_its_status() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_status(code.status()), code, "{}", code.as_str());
        }
    }

    #[test]
    fn unknown_statuses_fall_back_by_class() {
        assert_eq!(ErrorCode::from_status(StatusCode::IM_A_TEAPOT), ErrorCode::InvalidRequest);
        assert_eq!(ErrorCode::from_status(StatusCode::HTTP_VERSION_NOT_SUPPORTED), ErrorCode::InternalError);
    }
}
