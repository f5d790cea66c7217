//! Outbound webhooks: tenants register endpoints for event types; events recorded in the outbox
//! are delivered to them signed (`Lectern-Signature`), retried, and can be replayed.

pub mod deliveries;
pub mod endpoints;
pub mod events;
mod notify;
