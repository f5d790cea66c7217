//! Credits and billing: a wallet and an append-only ledger per tenant, prices, the metering API
//! every paid operation goes through, and Stripe (checkout and webhooks) to buy credits.

pub mod account;
pub mod ledger;
pub mod meter;
pub mod model_calls;
pub mod money;
pub mod prices;
pub mod storage;
pub mod stripe;
pub mod stripe_events;

use sea_orm::{
    DatabaseBackend, DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

use crate::app::context::AppContext;

/// A transaction for ledger work. SQLite cannot upgrade a reading transaction to a writing one
/// while another writer holds the lock (it fails with "database is locked" at once), so on
/// SQLite a ledger transaction takes the write lock when it begins (`BEGIN IMMEDIATE`, which
/// waits up to the busy timeout) and this process's ledger transactions take turns; PostgreSQL
/// serialises them on the wallet row.
pub async fn begin(
    ctx: &AppContext,
) -> Result<(Option<tokio::sync::MutexGuard<'_, ()>>, DatabaseTransaction), sea_orm::DbErr> {
    begin_in(&ctx.db, &ctx.ledger_lock).await
}

/// [`begin`] on a connection with the lock its process's ledger transactions share.
pub async fn begin_in<'a>(
    db: &DatabaseConnection,
    lock: &'a tokio::sync::Mutex<()>,
) -> Result<(Option<tokio::sync::MutexGuard<'a, ()>>, DatabaseTransaction), sea_orm::DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let guard = lock.lock().await;
            let options = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            };
            Ok((Some(guard), db.begin_with_options(options).await?))
        }
        _ => Ok((None, db.begin().await?)),
    }
}
