//! The one table of stable error codes and the JSON error body every failure uses.
//!
//! Each layer has its own `thiserror` enum; each converts into [`ApiError`], which the HTTP layer
//! renders ([`crate::http::error`]) as `{"error": CODE, "message": "...", "details": ..., "requestId": "..."}`. The
//! request id is filled in by the request-context middleware, which sees every response.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Stable machine-readable error codes. Clients match on these, so names never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    InsufficientBalance,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    UnprocessableEntity,
    RateLimitExceeded,
    InternalError,
    UpstreamError,
    ServiceUnavailable,
    UpstreamTimeout,
}

impl ErrorCode {
    /// Every code, in table order (used by `GET /v1/errors`).
    pub const ALL: [ErrorCode; 16] = [
        Self::InvalidRequest,
        Self::Unauthorized,
        Self::InsufficientBalance,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::NotAcceptable,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::UnprocessableEntity,
        Self::RateLimitExceeded,
        Self::InternalError,
        Self::UpstreamError,
        Self::ServiceUnavailable,
        Self::UpstreamTimeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::InsufficientBalance => "INSUFFICIENT_BALANCE",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::Conflict => "CONFLICT",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::UnprocessableEntity => "UNPROCESSABLE_ENTITY",
            Self::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            Self::InternalError => "INTERNAL_ERROR",
            Self::UpstreamError => "UPSTREAM_ERROR",
            Self::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// What the code means, for humans reading `GET /v1/errors` or the API docs.
    pub fn description(self) -> &'static str {
        match self {
            Self::InvalidRequest => "The request is malformed or a parameter is invalid; `details` names the field.",
            Self::Unauthorized => "Missing, expired or invalid credentials.",
            Self::InsufficientBalance => "The tenant has too few credits for this operation; nothing was done.",
            Self::Forbidden => "The credentials are valid but lack the permission this operation needs.",
            Self::NotFound => "No such resource, or it belongs to another tenant.",
            Self::MethodNotAllowed => "The resource exists but does not accept this HTTP method; see the Allow header.",
            Self::NotAcceptable => "The server cannot produce a response in a format the Accept header allows.",
            Self::Conflict => {
                "The request conflicts with the current state (duplicate, in use, or a reused idempotency key)."
            }
            Self::PayloadTooLarge => "The request body or an uploaded file is over the configured limit.",
            Self::UnsupportedMediaType => "The Content-Type or the uploaded file type is not supported.",
            Self::UnprocessableEntity => "The input is well-formed but cannot be processed (e.g. a corrupt document).",
            Self::RateLimitExceeded => "Too many requests; retry after the number of seconds in Retry-After.",
            Self::InternalError => "An unexpected server error; the request id identifies it in the logs.",
            Self::UpstreamError => {
                "The language model upstream failed or answered with an error; `details` has its status."
            }
            Self::UpstreamTimeout => "The language model upstream did not answer in time.",
            Self::ServiceUnavailable => "The server is starting, shutting down or a dependency is down; retry later.",
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine code, e.g. `NOT_FOUND`.
    #[schema(example = "NOT_FOUND")]
    pub error: String,
    /// Human-readable explanation, safe to show to the user.
    pub message: String,
    /// Structured context (the failing field, limits, ...), or null.
    #[schema(value_type = Object, nullable = true)]
    pub details: Value,
    /// The request's id, as echoed in the X-Request-ID header.
    pub request_id: String,
}

/// An error on its way to becoming an HTTP response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Client { code: ErrorCode, message: String, details: Value },
    /// Anything unexpected: the cause chain is logged, the client sees a generic message.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Client { code, message: message.into(), details: Value::Null }
    }

    pub fn with_details(self, extra: Value) -> Self {
        match self {
            Self::Client { code, message, .. } => Self::Client { code, message, details: extra },
            other => other,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// A 400 naming the offending field, so a form can put the message next to it.
    pub fn invalid_field(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(ErrorCode::InvalidRequest, format!("invalid `{field}`: {reason}"))
            .with_details(serde_json::json!({ "field": field, "reason": reason }))
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Client { code, .. } => *code,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The message and details a client may see; internal causes are never exposed.
    pub fn public_parts(&self) -> (String, Value) {
        match self {
            Self::Client { message, details, .. } => (message.clone(), details.clone()),
            Self::Internal(_) => ("internal server error".to_owned(), Value::Null),
        }
    }
}

/// The error body of the OpenAI-compatible routes: OpenAI's own shape, which its SDKs parse.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenAiErrorBody {
    pub error: OpenAiError,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenAiError {
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`,
    /// `rate_limit_error`, `insufficient_quota` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The offending field, when there is one.
    pub param: Option<String>,
    /// The lower-cased stable code, e.g. `not_found`.
    pub code: String,
}

/// Database errors that a client's timing or input caused are never a 500: a unique violation
/// is a 409 naming the field, a row that vanished under a reference is a 409, and a write that
/// lost a race for a lock (SQLite busy after its timeout, PostgreSQL serialization failure or
/// deadlock) is a 409 to retry. Everything else is internal.
impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(message)) => {
                let field = unique_field(&error, &message);
                let reason = "another record already uses this value";
                return Self::new(
                    ErrorCode::Conflict,
                    match &field {
                        Some(field) => format!("`{field}` is already taken"),
                        None => reason.to_owned(),
                    },
                )
                .with_details(serde_json::json!({ "field": field, "reason": reason }));
            }
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Self::new(
                    ErrorCode::Conflict,
                    "something this change refers to was deleted, or something still refers to it",
                )
            }
            _ => {}
        }
        if lost_a_race(&error) {
            return Self::new(ErrorCode::Conflict, "another request changed this at the same time; try again")
                .with_details(serde_json::json!({ "retry": true }));
        }
        Self::Internal(error.into())
    }
}

fn database_error(error: &sea_orm::DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => e.as_database_error(),
        _ => None,
    }
}

/// SQLite busy/locked (primary codes 5 and 6 with their extended codes) and PostgreSQL
/// serialization failure, deadlock and lock-not-available.
fn lost_a_race(error: &sea_orm::DbErr) -> bool {
    let Some(e) = database_error(error) else { return false };
    let code = e.code().unwrap_or_default();
    if matches!(code.as_ref(), "40001" | "40P01" | "55P03") {
        return true;
    }
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

/// The column a unique violation is about, as the API names it (camelCase), leaving out the
/// scoping columns (`tenant_id`, `site_id`, …) that only say where it is unique.
/// SQLite says `UNIQUE constraint failed: entries.site_id, entries.slug`; PostgreSQL's detail
/// says `Key (site_id, slug)=(…) already exists.`
fn unique_field(error: &sea_orm::DbErr, message: &str) -> Option<String> {
    let columns: Vec<String> = if let Some(list) = message.split("UNIQUE constraint failed: ").nth(1) {
        list.split(',').map(|c| c.trim().rsplit('.').next().unwrap_or_default().to_owned()).collect()
    } else {
        let detail = database_error(error)
            .and_then(|e| e.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>())
            .and_then(|e| e.detail().map(str::to_owned))
            .unwrap_or_default();
        let inside = detail.split_once("Key (").and_then(|(_, rest)| rest.split_once(")=")).map(|(cols, _)| cols);
        inside.map(|cols| cols.split(',').map(|c| c.trim().trim_matches('"').to_owned()).collect()).unwrap_or_default()
    };
    let scoping = |c: &str| c == "id" || c.ends_with("_id") || c == "locale";
    let column = columns.iter().rev().find(|c| !scoping(c)).or(columns.last())?;
    let mut camel = String::new();
    let mut upper = false;
    for ch in column.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            camel.extend(ch.to_uppercase());
            upper = false;
        } else {
            camel.push(ch);
        }
    }
    (!camel.is_empty()).then_some(camel)
}

/// Maps a unique-constraint violation to a 409 with `message`; other errors stay internal.
pub fn conflict_on_unique(error: sea_orm::DbErr, message: &str) -> ApiError {
    match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::new(ErrorCode::Conflict, message),
        _ => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unique_violations_are_a_409_naming_the_field_and_busy_writes_a_409_to_retry() {
        use sea_orm::ConnectionTrait;
        let db = crate::engines::store::memory_db().await;
        db.execute_unprepared(
            "CREATE TABLE things (id INTEGER PRIMARY KEY, site_id TEXT, api_slug TEXT, UNIQUE (site_id, api_slug))",
        )
        .await
        .unwrap();
        db.execute_unprepared("INSERT INTO things (site_id, api_slug) VALUES ('s', 'a')").await.unwrap();
        let err = ApiError::from(
            db.execute_unprepared("INSERT INTO things (site_id, api_slug) VALUES ('s', 'a')").await.unwrap_err(),
        );
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert_eq!(err.public_parts().1["field"], "apiSlug");

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
        let one = || {
            let mut options = sea_orm::ConnectOptions::new(url.clone());
            options.max_connections(1).min_connections(1);
            sea_orm::Database::connect(options)
        };
        let (a, b) = (one().await.unwrap(), one().await.unwrap());
        a.execute_unprepared("CREATE TABLE t (x INTEGER)").await.unwrap();
        b.execute_unprepared("PRAGMA busy_timeout = 0").await.unwrap();
        let holder = sea_orm::TransactionTrait::begin(&a).await.unwrap();
        holder.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        let err = ApiError::from(b.execute_unprepared("INSERT INTO t VALUES (2)").await.unwrap_err());
        assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
        holder.rollback().await.unwrap();
    }

    #[test]
    fn serde_name_matches_as_str() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), Value::String(code.as_str().into()));
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = ApiError::from(anyhow::anyhow!("password=hunter2 leaked"));
        let (message, details) = err.public_parts();
        assert_eq!(message, "internal server error");
        assert_eq!(details, Value::Null);
    }
}
