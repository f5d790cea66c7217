//! `chunks`: the passages of a document; the source of truth for the search indexes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kb_id: Uuid,
    pub document_id: Uuid,
    pub idx: i32,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    /// JSON array of page numbers.
    pub pages: Json,
    /// JSON array of headings, outermost first.
    pub headings: Json,
    pub start_char: i32,
    pub end_char: i32,
    pub tokens: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
