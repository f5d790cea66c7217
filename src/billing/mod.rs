//! Credits and billing: a wallet and an append-only ledger per tenant, prices, the metering API
//! every paid operation goes through, and Stripe (checkout and webhooks) to buy credits.

pub mod account;
pub mod ledger;
pub mod meter;
pub mod money;
pub mod prices;
pub mod stripe;
pub mod webhook;

use sea_orm::{DatabaseBackend, DatabaseTransaction, TransactionTrait};

use crate::context::AppContext;

/// A transaction for ledger work. SQLite cannot upgrade a reading transaction to a writing one
/// while another writer waits (it fails with "database is locked" at once), so on SQLite ledger
/// transactions of this process take turns; PostgreSQL serialises them on the wallet row.
pub async fn begin(
    ctx: &AppContext,
) -> Result<(Option<tokio::sync::MutexGuard<'_, ()>>, DatabaseTransaction), sea_orm::DbErr> {
    let guard = match ctx.db.get_database_backend() {
        DatabaseBackend::Sqlite => Some(ctx.ledger_lock.lock().await),
        _ => None,
    };
    Ok((guard, ctx.db.begin().await?))
}
