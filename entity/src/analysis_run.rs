//! `analysis_runs`: one schema applied to some documents, then reviewed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "analysis_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub schema_id: Uuid,
    pub schema_version: i32,
    /// `queued`, `running`, `review` (values wait for a person), `completed` or `failed`.
    pub status: String,
    /// `rules` or `llm:<model>`.
    pub extractor: String,
    pub document_ids: Json,
    pub job_id: Option<Uuid>,
    /// Values at least this confident and without errors are approved without review (> 1 = never).
    pub auto_approve_above: f64,
    pub error: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
