//! The job worker pool: each worker claims a job, runs it through the application's
//! [`Runner`], records the outcome, and waits for a wake-up (or a short poll) when there is
//! nothing to do. A panic in a job is caught and counted as a failed attempt; the worker goes on.
//! The pool knows no domain: what a kind does, and what happens when it ends, is the runner's.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use sea_orm::{DatabaseConnection, DbErr};

use entity::job;

use super::{queue, JobError, JobKind};

/// What the pool needs from the application: the database, the wake-up signal, the lease, and
/// for each [`JobKind`] what to run and what to do when the job ends for good.
pub trait Runner: Send + Sync + 'static {
    fn db(&self) -> &DatabaseConnection;
    /// Notified when a job is queued, so idle workers start at once.
    fn signal(&self) -> &tokio::sync::Notify;
    fn lease(&self) -> chrono::Duration;
    /// One attempt of `job`.
    fn run(&self, kind: JobKind, job: &job::Model) -> impl Future<Output = Result<(), JobError>> + Send;
    /// The job failed for good (a permanent error, or its last attempt); `message` says why.
    fn on_final_failure(&self, kind: JobKind, job: &job::Model, message: &str) -> impl Future<Output = ()> + Send;
    /// The job was cancelled while it ran.
    fn on_cancelled(&self, kind: JobKind, job: &job::Model) -> impl Future<Output = Result<(), DbErr>> + Send;
    /// The job is done for good: succeeded (`error` is `None`) or failed.
    fn on_finished(&self, job: &job::Model, error: Option<&str>) -> impl Future<Output = ()> + Send;
    /// Nothing is queued: time for deferred housekeeping.
    fn idle(&self) -> impl Future<Output = ()> + Send;
}

/// Starts `count` workers on the current runtime.
pub fn spawn_pool<R: Runner>(runner: Arc<R>, count: usize) {
    for n in 0..count {
        let name = format!("{}-{}-{n}", hostname(), std::process::id());
        tokio::spawn(run(runner.clone(), name, poll_interval(n)));
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "lectern".to_owned())
}

/// How often an idle worker looks for jobs nobody told it about (queued on another node, or due
/// after a retry's backoff). Two workers look every second; the others rest longer, since a
/// worker that finds a job wakes them all, so a big pool costs an idle database little.
fn poll_interval(worker: usize) -> Duration {
    Duration::from_secs(if worker < 2 { 1 } else { 10 })
}

async fn run<R: Runner>(runner: Arc<R>, name: String, poll: Duration) {
    loop {
        match queue::claim(runner.db(), &name, runner.lease()).await {
            Ok(Some(job)) => {
                // Where there was one job there may be more: idle workers look too.
                runner.signal().notify_waiters();
                // On a task of its own, so that nothing a job does (even a panic outside its
                // handler) can end this worker: its job would wait out its lease with no
                // worker left to take it over.
                let (owned, id) = (runner.clone(), job.id);
                if let Err(error) = tokio::spawn(async move { process(owned.as_ref(), job).await }).await {
                    tracing::error!(worker = %name, job = %id, %error, "a job's task died; it runs again when its lease ends");
                }
            }
            Ok(None) => {
                runner.idle().await;
                tokio::select! {
                    () = runner.signal().notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
            Err(error) => {
                tracing::warn!(worker = %name, %error, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn process<R: Runner>(runner: &R, job: job::Model) {
    let span =
        tracing::info_span!("job", job_id = %job.id, kind = %job.kind, attempt = job.attempts, tenant = %job.tenant_id);
    let _entered = span.enter();
    let started = Instant::now();
    let kind = JobKind::parse(&job.kind);
    let outcome = match kind {
        Some(kind) => AssertUnwindSafe(runner.run(kind, &job)).catch_unwind().await,
        None => Ok(Err(JobError::permanent(format!("unknown job kind {}", job.kind)))),
    };
    let label = match &outcome {
        Ok(Ok(())) => "succeeded",
        Ok(Err(JobError::Cancelled)) => "cancelled",
        Ok(Err(JobError::Deferred(_))) => "deferred",
        Ok(Err(_)) => "failed",
        Err(_) => "panicked",
    };
    crate::platform::telemetry::metrics::job_finished(&job.kind, label, started.elapsed().as_secs_f64());
    let result = match outcome {
        Ok(Ok(())) => {
            runner.on_finished(&job, None).await;
            queue::succeed(runner.db(), job.id).await
        }
        Ok(Err(JobError::Cancelled)) => match kind {
            Some(kind) => runner.on_cancelled(kind, &job).await,
            None => Ok(()),
        },
        Ok(Err(JobError::Deferred(reason))) => {
            tracing::debug!(%reason, "job deferred");
            Ok(())
        }
        Ok(Err(error)) => {
            let permanent = matches!(error, JobError::Permanent(_));
            let message = error.to_string();
            let last = permanent || job.attempts >= job.max_attempts;
            tracing::warn!(error = %message, permanent, "job attempt failed");
            if last {
                if let Some(kind) = kind {
                    runner.on_final_failure(kind, &job, &message).await;
                }
                runner.on_finished(&job, Some(&message)).await;
            }
            queue::fail(runner.db(), &job, &message, permanent).await
        }
        Err(_) => {
            tracing::error!("job panicked");
            queue::fail(runner.db(), &job, "internal error while processing", false).await
        }
    };
    if let Err(error) = result {
        tracing::error!(%error, "recording the job outcome failed; its lease will expire and it will run again");
    }
}
