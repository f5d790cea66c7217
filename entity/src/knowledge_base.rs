//! `knowledge_bases`: collections of documents searched together.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_bases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: String,
    pub embedding_model: String,
    pub chunk_max_tokens: i32,
    pub chunk_overlap_tokens: i32,
    /// `private`, `tenant` or `public`.
    pub visibility: String,
    /// Languages other than English found in its chunks, comma-led (`,de,fr`).
    pub languages: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
