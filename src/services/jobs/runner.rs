//! One handler per job kind: ingestion, scheduled publishing, site reindexing and analysis runs,
//! each with what to do when it fails for good or is cancelled.

use std::sync::atomic::Ordering;

use sea_orm::{DatabaseConnection, DbErr};

use entity::job::{self, JobStatus};

use crate::app::context::AppContext;
use crate::platform::jobs::{self, worker::Runner, JobError, JobKind};
use crate::services::{analysis, billing, content, knowledge, webhooks};

impl Runner for AppContext {
    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn signal(&self) -> &tokio::sync::Notify {
        &self.signals.jobs
    }

    fn lease(&self) -> chrono::Duration {
        jobs::lease(&self.settings)
    }

    async fn run(&self, kind: JobKind, job: &job::Model) -> Result<(), JobError> {
        match kind {
            JobKind::IngestDocument => knowledge::pipeline::ingest(self, job).await,
            JobKind::PublishEntry => content::publishing::run_job(self, job).await,
            JobKind::ReindexSite => content::site_search::run_reindex(self, job).await,
            JobKind::AnalyzeRun => analysis::runs::run_job(self, job).await,
            // Done when queued: it only groups the ingestions it queued.
            JobKind::ReindexKb => Ok(()),
        }
    }

    async fn on_final_failure(&self, kind: JobKind, job: &job::Model, message: &str) {
        match kind {
            JobKind::IngestDocument => {
                // A document that never became searchable costs nothing.
                if let Some(document) = job.target_id {
                    billing::meter::settle_later(self, job.tenant_id, document, &Default::default()).await;
                }
                if let Err(e) = knowledge::pipeline::mark_failed(self, job, message).await {
                    tracing::error!(error = %e, "recording the failure failed");
                }
            }
            JobKind::AnalyzeRun => {
                if let Some(run) = job.target_id {
                    billing::meter::settle_later(self, job.tenant_id, run, &Default::default()).await;
                    let failed = analysis::runs::set_status(self, run, "failed", Some(message.to_owned()));
                    if let Err(e) = failed.await {
                        tracing::error!(error = %e, "recording the run's failure failed");
                    }
                }
            }
            JobKind::ReindexKb | JobKind::PublishEntry | JobKind::ReindexSite => {}
        }
    }

    async fn on_cancelled(&self, kind: JobKind, job: &job::Model) -> Result<(), DbErr> {
        match kind {
            JobKind::IngestDocument => knowledge::pipeline::mark_failed(self, job, "cancelled").await,
            _ => Ok(()),
        }
    }

    /// `job.completed` for a job that is done for good; a success may have written vectors.
    async fn on_finished(&self, job: &job::Model, error: Option<&str>) {
        if error.is_none() {
            if let Ok(engines) = self.engines() {
                engines.vectors_dirty.store(true, Ordering::SeqCst);
            }
        }
        let event = webhooks::events::JobCompletedV1 {
            job_id: job.id,
            kind: job.kind.clone(),
            target_id: job.target_id,
            status: if error.is_some() { JobStatus::Failed } else { JobStatus::Succeeded }.as_str().to_owned(),
            error: error.map(str::to_owned),
        };
        if let Err(error) = webhooks::events::emit(&self.db, job.tenant_id, &event).await {
            tracing::warn!(%error, "recording job.completed failed");
        }
    }

    /// When the queue is empty after writes, one idle worker builds the vector index, so
    /// searches over large knowledge bases stay fast without slowing ingestion down.
    async fn idle(&self) {
        let Ok(engines) = self.engines() else { return };
        if !engines.vectors_dirty.swap(false, Ordering::SeqCst) {
            return;
        }
        let started = std::time::Instant::now();
        match engines.vectors.optimize().await {
            Ok(true) => tracing::info!(ms = started.elapsed().as_millis() as u64, "vector index optimized"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "optimizing the vector index failed"),
        }
    }
}
