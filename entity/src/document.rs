//! `documents`: one uploaded file, fetched page or pasted text in a knowledge base.

use sea_orm::entity::prelude::*;
use sea_orm::Iterable;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    pub status: DocumentStatus,
    pub error: Option<String>,
    pub pages: Option<i32>,
    pub chunk_count: i32,
    pub metadata: Json,
    /// What parsing found besides text (OCRed pages, tables); null before the first parse.
    pub parse: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a document is in its ingestion; stored as the same lower-case strings as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum DocumentStatus {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "processing")]
    Processing,
    #[sea_orm(string_value = "ready")]
    Ready,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    /// The status a stored or requested string names, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::iter().find(|status| status.as_str() == text)
    }
}

impl std::fmt::Display for DocumentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
