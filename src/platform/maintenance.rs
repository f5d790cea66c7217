//! Periodic work: clean-up of rows that only grow (expired idempotency keys, login sessions and
//! password resets; outbox events once fanned out; finished webhook deliveries past their
//! retention) and the daily storage charge. Every node runs it; deleting the same rows twice is
//! harmless and a day's storage is charged once (see `billing::storage`).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use std::sync::Arc;

use entity::{idempotency_key, outbox_event, password_reset, session, webhook_delivery};

use crate::app::context::AppContext;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(600);

/// Fanned-out outbox events are kept this long (the deliveries hold their bodies).
const OUTBOX_KEEP: chrono::Duration = chrono::Duration::days(1);

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Swept {
    pub idempotency_keys: u64,
    pub sessions: u64,
    pub password_resets: u64,
    pub outbox_events: u64,
    pub webhook_deliveries: u64,
}

impl Swept {
    pub fn total(&self) -> u64 {
        self.idempotency_keys + self.sessions + self.password_resets + self.outbox_events + self.webhook_deliveries
    }
}

/// Deletes what has expired at `now`. Webhook deliveries that succeeded or failed more than
/// `webhook_retention` ago go; pending ones stay whatever their age.
pub async fn sweep(
    db: &DatabaseConnection,
    webhook_retention: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Swept, DbErr> {
    let idempotency_keys = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    // An expired refresh token can never be used again, so its row no longer guards against
    // reuse of a rotated token either.
    let sessions =
        session::Entity::delete_many().filter(session::Column::ExpiresAt.lt(now)).exec(db).await?.rows_affected;
    let password_resets = password_reset::Entity::delete_many()
        .filter(password_reset::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    let outbox_events = outbox_event::Entity::delete_many()
        .filter(outbox_event::Column::DeliveredAt.lt(now - OUTBOX_KEEP))
        .exec(db)
        .await?
        .rows_affected;
    let webhook_deliveries = webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Status.is_in(["succeeded", "failed"]))
        .filter(webhook_delivery::Column::FinishedAt.lt(now - webhook_retention))
        .exec(db)
        .await?
        .rows_affected;
    Ok(Swept { idempotency_keys, sessions, password_resets, outbox_events, webhook_deliveries })
}

/// Sweeps every ten minutes, and charges yesterday's storage once a day, for the life of the process.
pub fn spawn(ctx: Arc<AppContext>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        let mut charged: Option<NaiveDate> = None;
        loop {
            tick.tick().await;
            match sweep(&ctx.db, ctx.settings.webhook_retention, Utc::now()).await {
                Ok(swept) if swept.total() > 0 => tracing::info!(?swept, "expired rows deleted"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweeping expired rows failed"),
            }
            let yesterday = Utc::now().date_naive().pred_opt();
            if yesterday.is_some() && charged != yesterday {
                let day = yesterday.unwrap_or_default();
                match crate::services::billing::storage::charge_day(&ctx.db, &ctx.ledger_lock, day).await {
                    Ok(done) => {
                        tracing::info!(%day, ?done, "storage charged");
                        charged = yesterday;
                    }
                    Err(error) => tracing::warn!(%error, %day, "charging storage failed; trying again later"),
                }
            }
        }
    });
}
