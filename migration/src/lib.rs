//! Database migrations, run on boot and by `lectern migrate`.
//!
//! Each migration declares its own `Iden` enums and never imports the `entity` crate, so an old
//! migration keeps compiling and meaning the same thing however the entities change later.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_audit_events;
mod m20261123_000002_identity;
mod m20261123_000003_access;
mod m20261123_000004_knowledge;
mod m20261123_000005_chat;
mod m20261123_000006_content;
mod m20261123_000007_billing;
mod m20261123_000008_idempotency;
mod m20261123_000009_integrations;
mod m20261123_000010_analysis;
mod m20261206_000011_subscription_order;
mod m20261207_000012_audit_platform;
mod m20261207_000013_message_verification;
mod m20261207_000014_kb_languages;
mod m20261207_000015_document_parse;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_audit_events::Migration),
            Box::new(m20261123_000002_identity::Migration),
            Box::new(m20261123_000003_access::Migration),
            Box::new(m20261123_000004_knowledge::Migration),
            Box::new(m20261123_000005_chat::Migration),
            Box::new(m20261123_000006_content::Migration),
            Box::new(m20261123_000007_billing::Migration),
            Box::new(m20261123_000008_idempotency::Migration),
            Box::new(m20261123_000009_integrations::Migration),
            Box::new(m20261123_000010_analysis::Migration),
            Box::new(m20261206_000011_subscription_order::Migration),
            Box::new(m20261207_000012_audit_platform::Migration),
            Box::new(m20261207_000013_message_verification::Migration),
            Box::new(m20261207_000014_kb_languages::Migration),
            Box::new(m20261207_000015_document_parse::Migration),
        ]
    }
}
