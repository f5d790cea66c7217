//! The relational store: connecting (SQLite by default, PostgreSQL by URL) and migrating.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use crate::platform::settings::{DatabaseBackend, Settings};

/// `CAST(SUM(column) AS BIGINT)`: SUM of a BIGINT is NUMERIC on PostgreSQL; the cast gives
/// both databases an i64 (NULL when there are no rows).
pub fn sum_i64(column: impl sea_orm::sea_query::IntoColumnRef) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Alias, Expr, Func};
    Expr::from(Func::cast_as(Func::sum(Expr::col(column)), Alias::new("BIGINT")))
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
    #[error("cannot connect to the {backend} database: {source}")]
    Connect { backend: &'static str, source: DbErr },
    #[error("migration failed: {0}")]
    Migrate(DbErr),
}

/// Opens the connection pool. SQLite gets WAL (readers never block the writer), foreign keys
/// and a busy timeout so concurrent writers wait instead of failing.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, StoreError> {
    let url = settings.database_url.expose().clone();
    let backend = settings.database_backend;
    if backend == DatabaseBackend::Sqlite {
        ensure_sqlite_parent_dir(&url)?;
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(sqlite_safe_pool_size(&url, settings.database_max_connections))
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    Database::connect(options).await.map_err(|source| StoreError::Connect { backend: backend.name(), source })
}

/// A transaction for a read-modify-write of rows: read them inside it (with `lock_exclusive()`)
/// and compute what depends on them (revision numbers, free slugs, counters) inside it too.
/// On SQLite it takes the write lock when it begins (`BEGIN IMMEDIATE`, waiting up to the busy
/// timeout): a deferred transaction that reads and then writes cannot wait for another writer
/// and fails with "database is locked" at once. On PostgreSQL `lock_exclusive()` reads become
/// `SELECT … FOR UPDATE`, so concurrent writers of one row take turns.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            let options = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            };
            db.begin_with_options(options).await
        }
        _ => db.begin().await,
    }
}

/// Applies every pending migration; returns how many were applied now. Nodes starting at once
/// take turns: the whole run is one transaction holding the database's own lock (SQLite's
/// write lock, across processes; a PostgreSQL advisory lock), so the second node finds
/// nothing pending instead of applying a migration twice.
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, StoreError> {
    use sea_orm::ConnectionTrait;
    let txn = begin_write(db).await.map_err(StoreError::Migrate)?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7265766243)").await.map_err(StoreError::Migrate)?;
    }
    let pending = Migrator::get_pending_migrations(&txn).await.map_err(StoreError::Migrate)?.len();
    Migrator::up(&txn, None).await.map_err(StoreError::Migrate)?;
    txn.commit().await.map_err(StoreError::Migrate)?;
    Ok(pending)
}

/// An in-memory SQLite database is private to one connection: a larger pool would see several
/// different empty databases.
fn sqlite_safe_pool_size(url: &str, wanted: u32) -> u32 {
    if url.contains(":memory:") || url.contains("mode=memory") {
        1
    } else {
        wanted
    }
}

fn ensure_sqlite_parent_dir(url: &str) -> Result<(), StoreError> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::CreateDir { path: dir.display().to_string(), source }),
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) async fn memory_db() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    migrate(&db).await.unwrap();
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrations_apply_once_and_then_are_a_no_op() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        assert!(migrate(&db).await.unwrap() >= 1);
        assert_eq!(migrate(&db).await.unwrap(), 0);
    }

    #[test]
    fn parent_dir_of_a_sqlite_url_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/deeper/x.db?mode=rwc", dir.path().display());
        ensure_sqlite_parent_dir(&url).unwrap();
        assert!(dir.path().join("nested/deeper").is_dir());
    }
}
