//! SeaORM entities, one module per table. Only data shapes live here: behaviour belongs to the
//! services in the `lectern` crate, and responses use their own view types.

pub mod audit_event;
