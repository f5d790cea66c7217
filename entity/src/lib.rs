//! SeaORM entities, one module per table. Only data shapes live here: behaviour belongs to the
//! services in the `lectern` crate, and responses use their own view types.

pub mod api_key;
pub mod assistant;
pub mod audit_event;
pub mod chunk;
pub mod contact_submission;
pub mod content_type;
pub mod conversation;
pub mod document;
pub mod element;
pub mod entry;
pub mod entry_ref;
pub mod entry_revision;
pub mod group;
pub mod group_member;
pub mod invite;
pub mod job;
pub mod knowledge_base;
pub mod llm_usage;
pub mod media;
pub mod media_folder;
pub mod membership;
pub mod message;
pub mod oauth_state;
pub mod outbox_event;
pub mod page_view_day;
pub mod password_reset;
pub mod search_query_day;
pub mod session;
pub mod site;
pub mod tenant;
pub mod user;
pub mod user_identity;
pub mod waitlist_entry;
