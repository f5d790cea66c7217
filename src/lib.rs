//! Lectern: a self-hostable, multi-tenant content and RAG platform.
//!
//! Layers (see ARCHITECTURE.md): [`http`] routes and middleware → services → engines
//! ([`store`], later fulltext, vectors, embedder, llm). [`app`] wires them into a server.

pub mod admin;
pub mod analysis;
pub mod app;
pub mod audit;
pub mod audit_log;
pub mod billing;
pub mod blobs;
pub mod chat;
pub mod chunk;
pub mod cli;
pub mod content;
pub mod context;
pub mod embed;
pub mod engines;
pub mod error;
pub mod eval;
pub mod fulltext;
pub mod health;
pub mod http;
pub mod identity;
pub mod import;
pub mod jobs;
pub mod knowledge;
pub mod list;
pub mod llm;
pub mod mail;
pub mod maintenance;
pub mod media;
pub mod parse;
pub mod patch;
pub mod rate_limits;
pub mod retry;
pub mod scope;
pub mod search;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod vectors;
pub mod webhooks;

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
