//! `webhook_deliveries`: one event on its way to one endpoint, with the last attempt's outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub endpoint_id: Uuid,
    /// The outbox event (also the `Lectern-Event-Id` header; the same for replays).
    pub event_id: Uuid,
    pub event_type: String,
    /// `endpoint:event` for fan-out, so two nodes never queue the same delivery twice.
    pub dedupe_key: String,
    /// The exact JSON body sent (and signed).
    pub body: String,
    /// `pending`, `sending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While `sending`: a node crashing mid-attempt leaves it to be retried after this.
    pub lease_until: Option<DateTimeUtc>,
    pub response_status: Option<i32>,
    /// The first 1 KB of the receiver's answer.
    pub response_body: Option<String>,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
    pub replay_of: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
