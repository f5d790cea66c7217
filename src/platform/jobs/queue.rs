//! The queue: jobs as rows. Enqueue, claim with a lease, report progress (which renews the
//! lease), finish. A worker that dies leaves its lease to expire and the job is claimed again;
//! every job step is written to be safe to repeat.
//!
//! Claiming is one statement: `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING *`, with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent workers never take the same job.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    Set, Statement,
};
use uuid::Uuid;

use entity::job::{self, JobStatus};

use super::JobKind;

/// How long a claim lasts without a progress report (`LECTERN_JOB_LEASE_SECS`).
pub fn lease(settings: &crate::platform::settings::Settings) -> Duration {
    Duration::seconds(i64::try_from(settings.job_lease.as_secs()).unwrap_or(60))
}

pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    tenant_id: Uuid,
    kind: JobKind,
    target_id: Uuid,
) -> Result<job::Model, DbErr> {
    enqueue_at(conn, tenant_id, kind, target_id, Utc::now()).await
}

/// Queues a job that no worker takes before `run_after`.
pub async fn enqueue_at<C: ConnectionTrait>(
    conn: &C,
    tenant_id: Uuid,
    kind: JobKind,
    target_id: Uuid,
    run_after: DateTime<Utc>,
) -> Result<job::Model, DbErr> {
    let now = Utc::now();
    job::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        kind: Set(kind.as_str().to_owned()),
        target_id: Set(Some(target_id)),
        status: Set(JobStatus::Queued),
        attempts: Set(0),
        max_attempts: Set(3),
        run_after: Set(run_after),
        locked_until: Set(None),
        locked_by: Set(None),
        stage: Set("queued".to_owned()),
        done: Set(0),
        total: Set(0),
        error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
    .insert(conn)
    .await
}

/// Claims the oldest runnable job (queued and due, or running with an expired lease).
pub async fn claim<C: ConnectionTrait>(conn: &C, worker: &str, lease: Duration) -> Result<Option<job::Model>, DbErr> {
    let backend = conn.get_database_backend();
    let now = Utc::now();
    let until = now + lease;
    let (sql, values) = match backend {
        DatabaseBackend::Postgres => (
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, locked_by = $2, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_after <= $3) OR (status = 'running' AND locked_until < $3) \
             ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *",
            vec![until.into(), worker.into(), now.into()],
        ),
        _ => (
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = ?, locked_by = ?, updated_at = ? \
             WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_after <= ?) OR (status = 'running' AND locked_until < ?) \
             ORDER BY created_at LIMIT 1) RETURNING *",
            vec![until.into(), worker.into(), now.into(), now.into(), now.into()],
        ),
    };
    job::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, values)).one(conn).await
}

/// Records progress and renews the lease. Returns false if the job was cancelled meanwhile.
pub async fn progress<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    stage: &str,
    done: i64,
    total: i64,
    lease: Duration,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let updated = job::Entity::update_many()
        .col_expr(job::Column::Stage, Expr::value(stage))
        .col_expr(job::Column::Done, Expr::value(done))
        .col_expr(job::Column::Total, Expr::value(total))
        .col_expr(job::Column::LockedUntil, Expr::value(now + lease))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub async fn succeed<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<(), DbErr> {
    finish(conn, id, JobStatus::Succeeded, None).await
}

/// A failed attempt: retried later with backoff while attempts remain and the error is
/// transient, else failed for good with the reason.
pub async fn fail<C: ConnectionTrait>(conn: &C, job: &job::Model, error: &str, permanent: bool) -> Result<(), DbErr> {
    if !permanent && job.attempts < job.max_attempts {
        let now = Utc::now();
        job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(JobStatus::Queued))
            .col_expr(job::Column::RunAfter, Expr::value(now + next_attempt_delay(job.attempts)))
            .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(job::Column::Error, Expr::value(error))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(job.id))
            .exec(conn)
            .await?;
        return Ok(());
    }
    finish(conn, job.id, JobStatus::Failed, Some(error)).await
}

async fn finish<C: ConnectionTrait>(conn: &C, id: Uuid, status: JobStatus, error: Option<&str>) -> Result<(), DbErr> {
    let now = Utc::now();
    job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(status))
        .col_expr(
            job::Column::Stage,
            Expr::value(if status == JobStatus::Succeeded { "done" } else { status.as_str() }),
        )
        .col_expr(job::Column::Error, Expr::value(error.map(str::to_owned)))
        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.is_in([JobStatus::Running, JobStatus::Queued]))
        .exec(conn)
        .await?;
    Ok(())
}

/// Puts a running job back in the queue until `run_after` without spending an attempt: it is
/// waiting for something else (an analysis for its documents' ingestion), not failing.
pub async fn defer<C: ConnectionTrait>(conn: &C, id: Uuid, stage: &str, run_after: DateTime<Utc>) -> Result<(), DbErr> {
    job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Queued))
        .col_expr(job::Column::Stage, Expr::value(stage))
        .col_expr(job::Column::Attempts, sea_orm::sea_query::ExprTrait::sub(Expr::col(job::Column::Attempts), 1))
        .col_expr(job::Column::RunAfter, Expr::value(run_after))
        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(conn)
        .await?;
    Ok(())
}

/// Cancels a queued or running job; a running one stops at its next progress report.
pub async fn cancel<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bool, DbErr> {
    let now = Utc::now();
    let updated = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Cancelled))
        .col_expr(job::Column::Stage, Expr::value("cancelled"))
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.is_in([JobStatus::Running, JobStatus::Queued]))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Backoff before attempt `attempts + 1`: 5 s, 25 s, 125 s, … capped at 10 min.
pub fn next_attempt_delay(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 6)).unwrap_or(6);
    Duration::seconds((5i64 * 5i64.pow(exponent.saturating_sub(1))).min(600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::store::memory_db;
    use crate::platform::jobs::JobView;

    #[test]
    fn backoff_grows_fivefold_and_is_capped() {
        assert_eq!(next_attempt_delay(1), Duration::seconds(5));
        assert_eq!(next_attempt_delay(2), Duration::seconds(25));
        assert_eq!(next_attempt_delay(3), Duration::seconds(125));
        assert_eq!(next_attempt_delay(9), Duration::seconds(600));
    }

    async fn tenant(db: &sea_orm::DatabaseConnection) -> Uuid {
        let t = crate::services::identity::tenants::create_tenant_row(
            db,
            &crate::services::identity::tenants::TenantPayload { name: "T".into(), slug: None },
        )
        .await
        .unwrap();
        t.id
    }

    #[tokio::test]
    async fn a_job_is_claimed_once_until_its_lease_expires() {
        let db = memory_db().await;
        let t = tenant(&db).await;
        let queued = enqueue(&db, t, JobKind::IngestDocument, Uuid::now_v7()).await.unwrap();
        let claimed = claim(&db, "w1", Duration::seconds(60)).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.status.as_str(), claimed.attempts), (queued.id, "running", 1));
        assert!(claim(&db, "w2", Duration::seconds(60)).await.unwrap().is_none(), "leased");
        // The worker crashed: once the lease has passed, another worker takes the job.
        job::Entity::update_many()
            .col_expr(job::Column::LockedUntil, Expr::value(Utc::now() - Duration::seconds(1)))
            .exec(&db)
            .await
            .unwrap();
        let again = claim(&db, "w2", Duration::seconds(60)).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts, again.locked_by.as_deref()), (queued.id, 2, Some("w2")));
    }

    #[tokio::test]
    async fn transient_failures_retry_later_and_permanent_ones_stop() {
        let db = memory_db().await;
        let t = tenant(&db).await;
        enqueue(&db, t, JobKind::IngestDocument, Uuid::now_v7()).await.unwrap();
        let running = claim(&db, "w", Duration::seconds(60)).await.unwrap().unwrap();
        fail(&db, &running, "upstream timeout", false).await.unwrap();
        let row = job::Entity::find_by_id(running.id).one(&db).await.unwrap().unwrap();
        assert_eq!(row.status, JobStatus::Queued);
        assert!(row.run_after > Utc::now(), "not before the backoff");
        assert!(claim(&db, "w", Duration::seconds(60)).await.unwrap().is_none());

        enqueue(&db, t, JobKind::IngestDocument, Uuid::now_v7()).await.unwrap();
        let second = claim(&db, "w", Duration::seconds(60)).await.unwrap().unwrap();
        assert!(progress(&db, second.id, "embedding", 3, 10, Duration::seconds(60)).await.unwrap());
        fail(&db, &second, "not a PDF", true).await.unwrap();
        let row = job::Entity::find_by_id(second.id).one(&db).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.error.as_deref()), ("failed", Some("not a PDF")));
        assert_eq!(JobView::from(row).progress, 30);
    }

    #[tokio::test]
    async fn a_deferred_job_waits_without_spending_an_attempt() {
        let db = memory_db().await;
        let t = tenant(&db).await;
        enqueue(&db, t, JobKind::AnalyzeRun, Uuid::now_v7()).await.unwrap();
        for _ in 0..5 {
            let running = claim(&db, "w", Duration::seconds(60)).await.unwrap().unwrap();
            assert_eq!(running.attempts, 1, "waiting never uses up the job's attempts");
            defer(&db, running.id, "waiting for ingestion", Utc::now() - Duration::seconds(1)).await.unwrap();
        }
        let row = job::Entity::find_by_id(claim(&db, "w", Duration::seconds(60)).await.unwrap().unwrap().id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, JobStatus::Running);
        defer(&db, row.id, "waiting for ingestion", Utc::now() + Duration::seconds(60)).await.unwrap();
        assert!(claim(&db, "w", Duration::seconds(60)).await.unwrap().is_none(), "not before run_after");
        let row = job::Entity::find_by_id(row.id).one(&db).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.stage.as_str(), row.attempts), ("queued", "waiting for ingestion", 0));
    }

    #[tokio::test]
    async fn a_cancelled_job_stops_at_its_next_progress_report() {
        let db = memory_db().await;
        let t = tenant(&db).await;
        enqueue(&db, t, JobKind::IngestDocument, Uuid::now_v7()).await.unwrap();
        let running = claim(&db, "w", Duration::seconds(60)).await.unwrap().unwrap();
        assert!(cancel(&db, running.id).await.unwrap());
        assert!(!progress(&db, running.id, "embedding", 1, 2, Duration::seconds(60)).await.unwrap());
        succeed(&db, running.id).await.unwrap();
        let row = job::Entity::find_by_id(running.id).one(&db).await.unwrap().unwrap();
        assert_eq!(row.status, JobStatus::Cancelled, "a late success does not undo the cancel");
    }
}
