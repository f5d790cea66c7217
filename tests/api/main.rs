#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The integration suite: one binary that starts the real server on port 0 with its own data
//! directory and talks HTTP to it. With `TEST_DATABASE_URL=postgres://…` every test gets a
//! fresh PostgreSQL database instead of a SQLite file.

mod admin_cli;
mod analysis;
mod api_keys;
mod audit;
mod auth;
mod billing;
mod browser;
mod chat;
mod cli;
mod cluster;
mod concurrency;
mod content;
mod crash;
mod docs;
mod errors;
mod eval;
mod formats;
mod fuzz;
mod gateway;
mod groups;
mod health;
mod idempotency;
mod isolation;
mod jobs;
mod knowledge;
mod lists;
mod maintenance;
mod media;
mod metrics;
mod nodes;
mod oauth;
mod onboarding;
mod rate_limits;
mod realtime;
mod request_id;
mod retrieval;
mod roles;
mod scale_out;
mod search;
mod secrets;
mod shutdown;
mod signup;
mod site_search;
mod support;
mod visibility;
mod webhooks;
