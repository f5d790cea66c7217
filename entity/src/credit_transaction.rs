//! `credit_transactions`: the append-only credit ledger.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Signed micro-credits: positive adds, negative takes.
    pub amount: i64,
    pub balance_after: i64,
    /// `purchase`, `grant`, `usage`, `refund`, `adjustment` or `expiry`.
    pub kind: String,
    /// Unique per tenant: the effect this row is (a Stripe event, a job, a request).
    pub reference: String,
    /// For usage: `search`, `chat`, `completion`, `embedding`, `ingest`, `analysis`.
    pub operation: Option<String>,
    pub model: Option<String>,
    /// Test keys: recorded with amount 0, the price in metadata.
    pub sandbox: bool,
    pub actor: String,
    pub metadata: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
