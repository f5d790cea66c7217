//! `documents`: one uploaded file, fetched page or pasted text in a knowledge base.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kb_id: Uuid,
    pub title: String,
    /// `upload`, `url` or `text`.
    pub source_kind: String,
    /// File name or URL.
    pub source_name: Option<String>,
    /// Detected type (`pdf`, `docx`, ...).
    pub kind: Option<String>,
    pub bytes: i64,
    /// sha256 of the original bytes, hex: the blob's key and the duplicate check.
    pub sha256: String,
    /// `queued`, `processing`, `ready` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub pages: Option<i32>,
    pub chunk_count: i32,
    pub metadata: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
