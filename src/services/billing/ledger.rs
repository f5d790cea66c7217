//! The ledger: every change of a balance is one append-only row, written in the same
//! transaction as the wallet update. A debit is one conditional UPDATE (the new balance must
//! stay at or above the floor), so concurrent debits can never overspend: the database
//! serialises them on the wallet row, and a CHECK constraint backs it up. References are unique
//! per tenant: applying the same effect twice is reported, never booked twice.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use entity::{credit_transaction, wallet};

use crate::platform::tenancy::in_tenant;
use crate::services::audit::{self, Actor, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Purchase,
    Grant,
    Usage,
    Refund,
    Adjustment,
    Expiry,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Grant => "grant",
            Self::Usage => "usage",
            Self::Refund => "refund",
            Self::Adjustment => "adjustment",
            Self::Expiry => "expiry",
        }
    }
}

/// How low a debit may take the balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Floor {
    /// Not below zero.
    Zero,
    /// Not below minus the tenant's overdraft limit.
    Overdraft,
}

pub struct Entry<'a> {
    pub tenant_id: Uuid,
    /// Signed micro-credits.
    pub amount: i64,
    pub kind: Kind,
    pub reference: String,
    pub operation: Option<&'a str>,
    pub model: Option<&'a str>,
    pub sandbox: bool,
    pub actor: &'a Actor,
    pub metadata: Value,
    pub floor: Floor,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("insufficient balance")]
    Insufficient { balance: i64, overdraft_limit: i64 },
    #[error("already applied")]
    Duplicate(Box<credit_transaction::Model>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The tenant's wallet (created empty if missing; see [`open`] for the starter credits).
pub async fn wallet<C: ConnectionTrait>(conn: &C, tenant_id: Uuid) -> Result<wallet::Model, DbErr> {
    open(conn, tenant_id, 0).await
}

/// The tenant's wallet; a new one starts with `starter` micro-credits, booked as a grant.
pub async fn open<C: ConnectionTrait>(conn: &C, tenant_id: Uuid, starter: i64) -> Result<wallet::Model, DbErr> {
    if let Some(existing) = wallet::Entity::find_by_id(tenant_id).one(conn).await? {
        return Ok(existing);
    }
    let fresh = wallet::ActiveModel {
        tenant_id: Set(tenant_id),
        balance: Set(std::cmp::max(starter, 0)),
        overdraft_limit: Set(0),
        monthly_cap: Set(None),
        low_balance_threshold: Set(None),
        low_balance_notified: Set(false),
        hard_stop: Set(true),
        stripe_customer_id: Set(None),
        plan: Set(None),
        subscription_id: Set(None),
        subscription_status: Set(None),
        subscription_event_at: Set(None),
        rate_limits: Set(None),
        updated_at: Set(Utc::now()),
    };
    let created = wallet::Entity::insert(fresh)
        .on_conflict(OnConflict::column(wallet::Column::TenantId).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    if created == 1 && starter > 0 {
        credit_transaction::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant_id),
            amount: Set(starter),
            balance_after: Set(starter),
            kind: Set(Kind::Grant.as_str().to_owned()),
            reference: Set("starter".to_owned()),
            operation: Set(None),
            model: Set(None),
            sandbox: Set(false),
            actor: Set("system".to_owned()),
            metadata: Set(json!({ "reason": "starter credits (LECTERN_STARTER_CREDITS)" })),
            created_at: Set(Utc::now()),
        }
        .insert(conn)
        .await?;
        let system = Actor { tenant_id: Some(tenant_id), ..Actor::system() };
        audit::record(
            conn,
            &system,
            "credits.grant",
            Target::new("tenant", tenant_id),
            json!({ "amount": starter, "reference": "starter" }),
        )
        .await?;
    }
    wallet::Entity::find_by_id(tenant_id).one(conn).await?.ok_or_else(|| DbErr::RecordNotFound("wallet".to_owned()))
}

pub fn actor_label(actor: &Actor) -> String {
    match &actor.id {
        Some(id) => format!("{}:{id}", actor.kind.as_str()),
        None => actor.kind.as_str().to_owned(),
    }
}

/// Books one entry (call inside a transaction). Sandbox entries are recorded with amount 0.
pub async fn apply<C: ConnectionTrait>(conn: &C, entry: Entry<'_>) -> Result<credit_transaction::Model, LedgerError> {
    let current = wallet(conn, entry.tenant_id).await?;
    if let Some(existing) = in_tenant::<credit_transaction::Entity>(entry.tenant_id)
        .filter(credit_transaction::Column::Reference.eq(entry.reference.as_str()))
        .one(conn)
        .await?
    {
        return Err(LedgerError::Duplicate(Box::new(existing)));
    }
    let amount = if entry.sandbox { 0 } else { entry.amount };
    let mut update = wallet::Entity::update_many()
        .col_expr(wallet::Column::Balance, Expr::col(wallet::Column::Balance).add(amount))
        .col_expr(wallet::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(wallet::Column::TenantId.eq(entry.tenant_id));
    if amount < 0 {
        let floor = match entry.floor {
            Floor::Zero => Expr::col(wallet::Column::Balance).add(amount).gte(0),
            Floor::Overdraft => {
                Expr::col(wallet::Column::Balance).add(amount).add(Expr::col(wallet::Column::OverdraftLimit)).gte(0)
            }
        };
        update = update.filter(floor);
    }
    if amount != 0 && update.exec(conn).await?.rows_affected == 0 {
        let now = wallet::Entity::find_by_id(entry.tenant_id).one(conn).await?.unwrap_or(current);
        return Err(LedgerError::Insufficient { balance: now.balance, overdraft_limit: now.overdraft_limit });
    }
    let after = wallet::Entity::find_by_id(entry.tenant_id)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("wallet".to_owned()))?;
    let row = credit_transaction::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(entry.tenant_id),
        amount: Set(amount),
        balance_after: Set(after.balance),
        kind: Set(entry.kind.as_str().to_owned()),
        reference: Set(entry.reference.clone()),
        operation: Set(entry.operation.map(str::to_owned)),
        model: Set(entry.model.map(str::to_owned)),
        sandbox: Set(entry.sandbox),
        actor: Set(actor_label(entry.actor)),
        metadata: Set(entry.metadata.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    low_balance(conn, &after, amount).await?;
    let actor = Actor { tenant_id: Some(entry.tenant_id), ..entry.actor.clone() };
    audit::record(
        conn,
        &actor,
        &format!("credits.{}", entry.kind.as_str()),
        Target::new("credit_transaction", row.id),
        json!({ "amount": amount, "balanceAfter": after.balance, "reference": entry.reference, "sandbox": entry.sandbox }),
    )
    .await?;
    if row.kind == "usage" {
        crate::platform::telemetry::metrics::credits_charged(row.operation.as_deref().unwrap_or("other"), -amount);
    }
    Ok(row)
}

/// `credits.low` once per crossing below the threshold; re-armed when the balance recovers.
async fn low_balance<C: ConnectionTrait>(conn: &C, w: &wallet::Model, amount: i64) -> Result<(), DbErr> {
    let Some(threshold) = w.low_balance_threshold else { return Ok(()) };
    let below = w.balance < threshold;
    if below && amount < 0 && !w.low_balance_notified {
        set_notified(conn, w.tenant_id, true).await?;
        let event = crate::services::webhooks::events::CreditsLowV1 {
            balance: crate::services::billing::money::format(w.balance),
            threshold: crate::services::billing::money::format(threshold),
        };
        crate::services::webhooks::events::emit(conn, w.tenant_id, &event).await?;
    } else if !below && w.low_balance_notified {
        set_notified(conn, w.tenant_id, false).await?;
    }
    Ok(())
}

async fn set_notified<C: ConnectionTrait>(conn: &C, tenant_id: Uuid, notified: bool) -> Result<(), DbErr> {
    wallet::Entity::update_many()
        .col_expr(wallet::Column::LowBalanceNotified, Expr::value(notified))
        .filter(wallet::Column::TenantId.eq(tenant_id))
        .exec(conn)
        .await?;
    Ok(())
}
