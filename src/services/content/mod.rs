//! Content: content types, entries with revisions and translations, elements, publishing,
//! public delivery and public site search, contact forms and site statistics.

pub mod analytics;
pub mod cache;
pub mod contact;
pub mod delivery;
pub mod elements;
pub mod entries;
pub mod entry_shapes;
pub mod fields;
pub mod hooks;
pub mod kb_sync;
pub mod publishing;
pub mod revisions;
pub mod save;
pub mod site_index;
pub mod site_search;
pub mod stats;
pub mod translations;
pub mod types;
