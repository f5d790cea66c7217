//! A job as the API shows it, with its progress in percent.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::job::{self, JobStatus};

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: Uuid,
    pub kind: String,
    pub target_id: Option<Uuid>,
    pub status: JobStatus,
    /// What it is doing: `queued`, `parsing`, `chunking`, `embedding`, `indexing`, `done`.
    pub stage: String,
    pub done: i64,
    pub total: i64,
    /// 0–100.
    pub progress: u8,
    pub attempts: i32,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<job::Model> for JobView {
    fn from(j: job::Model) -> Self {
        let progress = match j.status {
            JobStatus::Succeeded => 100,
            _ if j.total > 0 => u8::try_from((j.done.clamp(0, j.total) * 100) / j.total).unwrap_or(100),
            _ => 0,
        };
        Self {
            id: j.id,
            kind: j.kind,
            target_id: j.target_id,
            status: j.status,
            stage: j.stage,
            done: j.done,
            total: j.total,
            progress,
            attempts: j.attempts,
            error: j.error,
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}
