//! Storage is charged once a day: the bytes of a tenant's documents and media files, at the
//! `storageGbMonth` price (1 GB = 10^9 bytes) spread over the days of the month. A day's charge
//! has the reference `storage:<day>`, so however many nodes run it, and however often, each
//! tenant pays for a day once. It is measured when the charge runs, shortly after the day ends.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use entity::{document, media};

use crate::engines::store::sum_i64;
use crate::services::audit::Actor;
use crate::services::billing::ledger::{self, Entry, Floor, Kind, LedgerError};
use crate::services::billing::prices;

/// What one day's run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DayCharged {
    /// Tenants charged now.
    pub tenants: u64,
    /// Micro-credits charged now.
    pub micros: i64,
    /// Tenants already charged for the day (by another node or an earlier run).
    pub already: u64,
    /// Tenants whose balance and overdraft could not cover the day (not charged; logged).
    pub unpaid: u64,
}

/// Bytes stored per tenant: documents' originals and media files.
pub async fn stored_bytes(db: &DatabaseConnection) -> Result<BTreeMap<Uuid, i64>, DbErr> {
    let documents: Vec<(Uuid, Option<i64>)> = document::Entity::find()
        .select_only()
        .column(document::Column::TenantId)
        .column_as(sum_i64(document::Column::Bytes), "total")
        .group_by(document::Column::TenantId)
        .into_tuple()
        .all(db)
        .await?;
    let files: Vec<(Uuid, Option<i64>)> = media::Entity::find()
        .select_only()
        .column(media::Column::TenantId)
        .column_as(sum_i64(media::Column::Size), "total")
        .group_by(media::Column::TenantId)
        .into_tuple()
        .all(db)
        .await?;
    let mut bytes = BTreeMap::new();
    for (tenant, sum) in documents.into_iter().chain(files) {
        *bytes.entry(tenant).or_insert(0) += sum.unwrap_or(0);
    }
    Ok(bytes)
}

/// Micro-credits for keeping `bytes` one day of a month with `days` days, rounded to the nearest.
pub fn daily_cost(bytes: i64, gb_month: i64, days: u32) -> i64 {
    let denominator = 1_000_000_000_i128 * i128::from(days.max(1));
    let cost = (i128::from(bytes.max(0)) * i128::from(gb_month.max(0)) + denominator / 2) / denominator;
    i64::try_from(cost).unwrap_or(i64::MAX)
}

fn days_in_month(day: NaiveDate) -> u32 {
    let next = if day.month() == 12 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
    };
    next.and_then(|n| n.pred_opt()).map_or(30, |last| last.day())
}

/// Charges every tenant that stores something for `day`.
pub async fn charge_day(
    db: &DatabaseConnection,
    ledger_lock: &tokio::sync::Mutex<()>,
    day: NaiveDate,
) -> anyhow::Result<DayCharged> {
    let mut done = DayCharged::default();
    let reference = format!("storage:{day}");
    for (tenant_id, bytes) in stored_bytes(db).await? {
        let price = prices::effective_in(db, tenant_id).await.map_err(|e| anyhow::anyhow!("{e}"))?.prices;
        let cost = daily_cost(bytes, price.storage_gb_month, days_in_month(day));
        if cost == 0 {
            continue;
        }
        let (_guard, txn) = super::begin_in(db, ledger_lock).await?;
        let entry = Entry {
            tenant_id,
            amount: -cost,
            kind: Kind::Usage,
            reference: reference.clone(),
            operation: Some("storage"),
            model: None,
            sandbox: false,
            actor: &Actor::system(),
            metadata: json!({ "day": day, "bytes": bytes, "price": cost }),
            // Storage is already used: it may take the balance into the overdraft, like a
            // settlement, but never further.
            floor: Floor::Overdraft,
        };
        match ledger::apply(&txn, entry).await {
            Ok(_) => {
                txn.commit().await?;
                done.tenants += 1;
                done.micros += cost;
            }
            Err(LedgerError::Duplicate(_)) => done.already += 1,
            Err(LedgerError::Insufficient { balance, .. }) => {
                tracing::warn!(%tenant_id, %day, cost, balance, "storage not charged: the balance cannot cover it");
                done.unpaid += 1;
            }
            Err(LedgerError::Db(error)) => return Err(error.into()),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_costs_its_share_of_the_month() {
        // 3 GB at 10 credits a GB-month for one of 30 days: 1 credit.
        assert_eq!(daily_cost(3_000_000_000, 10_000_000, 30), 1_000_000);
        assert_eq!(daily_cost(0, 10_000_000, 31), 0);
        assert_eq!(daily_cost(1_000, 10_000_000, 31), 0, "a kilobyte rounds to nothing");
        assert_eq!(daily_cost(i64::MAX, 1_000_000_000_000, 28), i64::MAX, "no overflow");
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            [days_in_month(day(2026, 2, 10)), days_in_month(day(2028, 2, 1)), days_in_month(day(2026, 12, 31))],
            [28, 29, 31]
        );
    }
}
