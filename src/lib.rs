//! Lectern: a self-hostable, multi-tenant content and RAG platform.
//!
//! The crate reads as its layers, each calling only the ones below it:
//!
//! - [`http`]: routes (one module per URL area), middleware and extractors, the OpenAPI
//!   document. The only place that knows actix.
//! - [`services`]: the domains (identity, content, media, knowledge, search, chat, analysis,
//!   billing, webhooks, audit). Rules and transactions live here.
//! - [`engines`]: storage and models behind small APIs that know no domain: the SQL store,
//!   tantivy, vectors (qdrant-edge or a Qdrant server), blobs, the embedder, LLM clients,
//!   parsers, the chunker, mail, guarded outbound HTTP.
//! - [`platform`]: settings, background jobs, maintenance, rate limits, paging, PATCH semantics,
//!   search scopes, health, telemetry.
//! - [`cli`]: the command line and its tools (admin, import, eval).
//! - [`app`]: wires everything into a server; [`error`] is the one code table all layers share.

pub mod app;
pub mod cli;
pub mod engines;
pub mod error;
pub mod http;
pub mod platform;
pub mod services;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Feature areas this build serves, reported by `GET /v1/info`.
pub const FEATURES: &[&str] = &[
    "health",
    "openapi",
    "identity",
    "knowledge",
    "search",
    "chat",
    "content",
    "media",
    "billing",
    "webhooks",
    "rate-limits",
    "metrics",
];
