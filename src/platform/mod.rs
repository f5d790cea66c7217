//! Platform: what every layer leans on without being a domain: settings, background jobs and
//! periodic maintenance, rate limits, coordination of several nodes, paging, PATCH semantics,
//! search scopes, health, telemetry.

pub mod coordination;
pub mod health;
pub mod ids;
pub mod jobs;
pub mod maintenance;
pub mod paging;
pub mod patch;
pub mod rate_limits;
pub mod scope;
pub mod settings;
pub mod telemetry;
pub mod tenancy;
