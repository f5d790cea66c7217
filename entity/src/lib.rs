//! SeaORM entities, one module per table. Only data shapes live here: behaviour belongs to the
//! services in the `lectern` crate, and responses use their own view types.

pub mod api_key;
pub mod assistant;
pub mod audit_event;
pub mod chunk;
pub mod conversation;
pub mod document;
pub mod group;
pub mod group_member;
pub mod invite;
pub mod job;
pub mod knowledge_base;
pub mod llm_usage;
pub mod membership;
pub mod message;
pub mod oauth_state;
pub mod outbox_event;
pub mod password_reset;
pub mod session;
pub mod site;
pub mod tenant;
pub mod user;
pub mod user_identity;
pub mod waitlist_entry;
