//! The job worker pool: each worker claims a job, runs it, records the outcome, and waits for
//! a wake-up (or a short poll) when there is nothing to do. A panic in a job is caught and
//! counted as a failed attempt; the worker goes on.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use actix_web::web::Data;
use futures_util::FutureExt;

use crate::context::AppContext;
use crate::jobs;
use crate::knowledge::pipeline;

/// Starts `LECTERN_WORKERS` workers on the current runtime.
pub fn spawn_pool(ctx: Data<AppContext>) {
    for n in 0..ctx.settings.workers {
        let name = format!("{}-{}-{n}", hostname(), std::process::id());
        tokio::spawn(run(ctx.clone(), name));
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "lectern".to_owned())
}

/// Tells idle workers that a job was queued.
pub fn wake(ctx: &AppContext) {
    ctx.job_signal.notify_waiters();
}

async fn run(ctx: Data<AppContext>, name: String) {
    loop {
        match jobs::claim(&ctx.db, &name, jobs::lease(&ctx.settings)).await {
            Ok(Some(job)) => process(&ctx, job).await,
            Ok(None) => {
                optimize_if_dirty(&ctx).await;
                tokio::select! {
                    () = ctx.job_signal.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            Err(error) => {
                tracing::warn!(worker = %name, %error, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// When the queue is empty after writes, one idle worker builds the vector index, so searches
/// over large knowledge bases stay fast without slowing ingestion down.
async fn optimize_if_dirty(ctx: &AppContext) {
    let Ok(engines) = ctx.engines() else { return };
    if !engines.vectors_dirty.swap(false, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let started = std::time::Instant::now();
    match engines.vectors.optimize().await {
        Ok(true) => tracing::info!(ms = started.elapsed().as_millis() as u64, "vector index optimized"),
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, "optimizing the vector index failed"),
    }
}

async fn process(ctx: &AppContext, job: entity::job::Model) {
    let span =
        tracing::info_span!("job", job_id = %job.id, kind = %job.kind, attempt = job.attempts, tenant = %job.tenant_id);
    let _entered = span.enter();
    let started = std::time::Instant::now();
    let outcome = match job.kind.as_str() {
        "ingest_document" => AssertUnwindSafe(pipeline::ingest(ctx, &job)).catch_unwind().await,
        "publish_entry" => AssertUnwindSafe(crate::content::publishing::run_job(ctx, &job)).catch_unwind().await,
        "reindex_site" => AssertUnwindSafe(crate::content::site_search::run_reindex(ctx, &job)).catch_unwind().await,
        "analyze_run" => AssertUnwindSafe(crate::analysis::runs::run_job(ctx, &job)).catch_unwind().await,
        other => Ok(Err(pipeline::Failure {
            message: format!("unknown job kind {other}"),
            permanent: true,
            cancelled: false,
        })),
    };
    let label = match &outcome {
        Ok(Ok(())) => "succeeded",
        Ok(Err(failure)) if failure.cancelled => "cancelled",
        Ok(Err(_)) => "failed",
        Err(_) => "panicked",
    };
    crate::telemetry::metrics::job_finished(&job.kind, label, started.elapsed().as_secs_f64());
    let result = match outcome {
        Ok(Ok(())) => {
            if let Ok(engines) = ctx.engines() {
                engines.vectors_dirty.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            finished(ctx, &job, None).await;
            jobs::succeed(&ctx.db, job.id).await
        }
        Ok(Err(failure)) if failure.cancelled && job.kind == "ingest_document" => {
            pipeline::mark_failed(ctx, &job, "cancelled").await
        }
        Ok(Err(failure)) if failure.cancelled => Ok(()),
        Ok(Err(failure)) => {
            let last = failure.permanent || job.attempts >= job.max_attempts;
            tracing::warn!(error = %failure.message, permanent = failure.permanent, "job attempt failed");
            if last && job.kind == "ingest_document" {
                // A document that never became searchable costs nothing.
                if let Some(document) = job.target_id {
                    crate::billing::meter::settle_later(ctx, job.tenant_id, document, &Default::default()).await;
                }
                if let Err(e) = pipeline::mark_failed(ctx, &job, &failure.message).await {
                    tracing::error!(error = %e, "recording the failure failed");
                }
            }
            if last && job.kind == "analyze_run" {
                if let Some(run) = job.target_id {
                    crate::billing::meter::settle_later(ctx, job.tenant_id, run, &Default::default()).await;
                    let failed = crate::analysis::runs::set_status(ctx, run, "failed", Some(failure.message.clone()));
                    if let Err(e) = failed.await {
                        tracing::error!(error = %e, "recording the run's failure failed");
                    }
                }
            }
            if last {
                finished(ctx, &job, Some(&failure.message)).await;
            }
            jobs::fail(&ctx.db, &job, &failure.message, failure.permanent).await
        }
        Err(_) => {
            tracing::error!("job panicked");
            jobs::fail(&ctx.db, &job, "internal error while processing", false).await
        }
    };
    if let Err(error) = result {
        tracing::error!(%error, "recording the job outcome failed; its lease will expire and it will run again");
    }
}

/// `job.completed` for a job that is done for good (succeeded, or failed after its last attempt).
async fn finished(ctx: &AppContext, job: &entity::job::Model, error: Option<&str>) {
    let event = crate::webhooks::events::JobCompletedV1 {
        job_id: job.id,
        kind: job.kind.clone(),
        target_id: job.target_id,
        status: if error.is_some() { "failed" } else { "succeeded" }.to_owned(),
        error: error.map(str::to_owned),
    };
    if let Err(error) = crate::webhooks::events::emit(&ctx.db, job.tenant_id, &event).await {
        tracing::warn!(%error, "recording job.completed failed");
    }
}
