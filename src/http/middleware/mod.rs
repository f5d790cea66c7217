//! Middleware every request passes: request ids and logs, CORS, rate limits, idempotency, and
//! the cross-node drop of cached principals after identity changes.

pub mod cors;
pub mod idempotency;
pub mod identity_changes;
pub mod rate_limit;
pub mod request_context;
