//! `audit_events`: who changed what, when and from where.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Null for platform-level events (e.g. setup, superadmin actions).
    pub tenant_id: Option<Uuid>,
    /// `user`, `api_key`, `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// Dotted verb, e.g. `site.create`.
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub details: Json,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
    /// A superadmin's platform action (tenants, sign-ups, global prices): listed only in the
    /// platform audit view; `tenant_id` is the tenant it was done to, if it still exists.
    pub platform: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
