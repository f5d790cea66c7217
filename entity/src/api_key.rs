//! `api_keys`: tenant-scoped keys for integrators (`lk_live_…` / `lk_test_…`), stored hashed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The creating user; null for service-account keys owned by the tenant.
    pub user_id: Option<Uuid>,
    pub name: String,
    /// The first characters of the key, shown in lists so people can tell keys apart.
    pub prefix: String,
    /// sha256 of the whole key, hex.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// `live` or `test` (sandbox: metered, never charged).
    pub mode: String,
    /// JSON array of permission names the key may use.
    pub scopes: Json,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
