//! Chat: conversations and their messages, a turn (retrieve → prompt → stream the answer with
//! citations → store it), cancellation, feedback, assistants and the usage record of each call.

pub mod assistants;
pub mod completions;
pub mod conversations;
pub mod events;
pub mod in_flight;
pub mod messages;
pub mod public;
pub mod rewrite;
pub mod turn;
pub mod usage;
pub mod verify;
