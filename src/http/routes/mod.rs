//! One module per URL area, each exporting `routes`; handlers extract, call one service
//! function and map the result to a view.

pub mod analysis;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod chat;
pub mod content_types;
pub mod dashboard;
pub mod elements;
pub mod entries;
pub mod groups;
pub mod health;
pub mod jobs;
pub mod knowledge;
pub mod media;
pub mod members;
pub mod meta;
pub mod metrics;
pub mod oauth;
pub mod openai;
pub mod public;
pub mod search;
pub mod site_admin;
pub mod sites;
pub mod tenants;
pub mod waitlist;
pub mod webhooks;
pub mod ws;
