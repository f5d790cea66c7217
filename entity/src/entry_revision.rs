//! `entry_revisions`: a snapshot of an entry at each save.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entry_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub entry_id: Uuid,
    /// 1, 2, 3… per entry.
    pub number: i32,
    pub title: String,
    pub slug: String,
    pub status: String,
    pub data: Json,
    pub tags: String,
    /// Who saved it (`user:<id>`, `api_key:<id>`, `system`).
    pub actor: String,
    /// e.g. `published`, `restored from 3`.
    pub note: Option<String>,
    /// JSON array of what changed since the previous revision (`title`, `slug`, field names).
    pub changed: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
