//! `webhook_endpoints`: where a tenant wants its events POSTed, signed with the endpoint's secret.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// Subscribed event types (`["document.ingested"]`, or `["*"]` for all).
    pub events: Json,
    /// The HMAC key (`whsec_…`); shown once, at creation and on rotation.
    pub secret: String,
    pub active: bool,
    /// Why the endpoint was switched off automatically (repeated failures).
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
