//! Services: the product's domains. Each area owns its rules and its transactions and is called
//! by thin HTTP handlers; services use engines and platform parts, never the HTTP layer.

pub mod analysis;
pub mod audit;
pub mod billing;
pub mod chat;
pub mod content;
pub mod identity;
pub mod jobs;
pub mod knowledge;
pub mod media;
pub mod search;
pub mod signals;
pub mod webhooks;
