//! Middleware every request passes: request ids and logs, CORS, rate limits, idempotency.

pub mod cors;
pub mod idempotency;
pub mod rate_limit;
pub mod request_context;
