//! `sites`: a tenant's web properties; content and media live in sites.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// Unique per tenant.
    pub slug: String,
    /// JSON array of host names.
    pub domains: Json,
    pub default_locale: String,
    /// JSON array of locale codes, including the default.
    pub locales: Json,
    /// JSON array of origins allowed to call the public API from a browser (`*` for any).
    pub allowed_origins: Option<Json>,
    /// Published entries are also indexed into this knowledge base, when set.
    pub knowledge_base_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
