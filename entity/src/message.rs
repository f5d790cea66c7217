//! `messages`: one turn of a conversation; assistant turns keep their citations and usage.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub conversation_id: Uuid,
    /// `user` or `assistant`.
    pub role: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// `complete`, `streaming`, `cancelled` or `failed`.
    pub status: String,
    /// JSON array of `{n, chunkId, documentId, documentTitle, pages, snippet}`.
    pub citations: Json,
    /// The check of the answer's citations (see the API's `Verification`); None before it ran.
    pub verification: Option<Json>,
    pub model: Option<String>,
    pub prompt_tokens: i32,
    pub completion_tokens: i32,
    pub latency_ms: i32,
    /// `up` or `down`.
    pub feedback: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub feedback_comment: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
