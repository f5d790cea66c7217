//! `wallets`: a tenant's credit balance and billing controls (one row per tenant).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "wallets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// Micro-credits (1 credit = 1,000,000). Never below `-overdraft_limit` (a CHECK too).
    pub balance: i64,
    pub overdraft_limit: i64,
    /// Most micro-credits of usage per calendar month (UTC); None = no cap.
    pub monthly_cap: Option<i64>,
    /// `credits.low` is emitted once when the balance falls below this.
    pub low_balance_threshold: Option<i64>,
    pub low_balance_notified: bool,
    /// Refuse work when the balance cannot pay (true), or let usage run into the overdraft.
    pub hard_stop: bool,
    pub stripe_customer_id: Option<String>,
    pub plan: Option<String>,
    pub subscription_id: Option<String>,
    pub subscription_status: Option<String>,
    /// Unix seconds of the last applied subscription event's `created` (older ones are stale).
    pub subscription_event_at: Option<i64>,
    /// Rate-limit overrides for this tenant (`{"llm": "600/min"}`), over the plan's and the defaults.
    pub rate_limits: Option<Json>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
