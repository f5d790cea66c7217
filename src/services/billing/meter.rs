//! The one metering API: reserve the estimated price before work (402 when the tenant cannot
//! pay, before anything runs), settle with what was really used after (the difference goes back,
//! or is charged). Test keys are metered but never charged: their rows carry amount 0 and the
//! price in `metadata.price`.

use chrono::{Datelike, TimeZone, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use entity::credit_transaction;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::tenancy::in_tenant;
use crate::services::audit::Actor;
use crate::services::billing::ledger::{self, Entry, Floor, Kind, LedgerError};
use crate::services::billing::money;
use crate::services::billing::prices::{self, Quantity};
use crate::services::identity::Principal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Search,
    Chat,
    Completion,
    Embedding,
    Ingest,
    Analysis,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::Chat => "chat",
            Self::Completion => "completion",
            Self::Embedding => "embedding",
            Self::Ingest => "ingest",
            Self::Analysis => "analysis",
        }
    }
}

/// Money held for one operation until it is settled.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub operation: Operation,
    pub model: Option<String>,
    pub reserved: i64,
    pub sandbox: bool,
    /// Inside the free allowance: nothing is charged either way.
    pub free: bool,
    pub actor: Actor,
}

fn month_start() -> chrono::DateTime<Utc> {
    let now = Utc::now();
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now)
}

/// Micro-credits of usage booked this calendar month (positive number).
pub async fn spent_this_month<C: sea_orm::ConnectionTrait>(conn: &C, tenant_id: Uuid) -> ApiResult<i64> {
    let amounts: Vec<i64> = credit_transaction::Entity::find()
        .select_only()
        .column(credit_transaction::Column::Amount)
        .filter(credit_transaction::Column::TenantId.eq(tenant_id))
        .filter(credit_transaction::Column::Kind.is_in([Kind::Usage.as_str(), Kind::Refund.as_str()]))
        .filter(credit_transaction::Column::Operation.is_not_null())
        .filter(credit_transaction::Column::CreatedAt.gte(month_start()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(-amounts.into_iter().sum::<i64>())
}

fn insufficient(balance: i64, estimate: i64, reason: &str) -> ApiError {
    ApiError::new(ErrorCode::InsufficientBalance, reason.to_owned()).with_details(json!({
        "balance": money::format(balance),
        "estimate": money::format(estimate),
        "balanceMicros": balance,
        "estimateMicros": estimate,
    }))
}

/// Holds the estimated price of an operation; 402 `INSUFFICIENT_BALANCE` (with the balance
/// and the estimate) when the tenant cannot pay or would pass its monthly cap.
pub async fn reserve(
    ctx: &AppContext,
    principal: &Principal,
    operation: Operation,
    model: Option<&str>,
    estimate: &Quantity,
) -> ApiResult<Reservation> {
    reserve_as(ctx, principal, Uuid::now_v7(), operation, model, estimate).await
}

/// [`reserve`] under a known id, for work settled later by another process (ingestion jobs
/// settle by document id with [`settle_later`]).
pub async fn reserve_as(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    operation: Operation,
    model: Option<&str>,
    estimate: &Quantity,
) -> ApiResult<Reservation> {
    reserve_for(ctx, Payer::of(principal)?, id, operation, model, estimate).await
}

/// Who pays: a tenant, who acted, and whether it is a sandbox (test key) call.
pub struct Payer {
    pub tenant_id: Uuid,
    pub actor: Actor,
    pub sandbox: bool,
}

impl Payer {
    /// The caller's tenant, with the caller as actor; a test-mode key pays in sandbox credits.
    pub fn of(principal: &Principal) -> ApiResult<Self> {
        Ok(Self { tenant_id: principal.tenant_id()?, actor: principal.actor(), sandbox: principal.is_test_mode() })
    }

    /// A tenant paying for its site's visitors (public assistants).
    pub fn visitors_of(tenant_id: Uuid, site_id: Uuid) -> Self {
        Self {
            tenant_id,
            actor: Actor { tenant_id: Some(tenant_id), id: Some(format!("public:{site_id}")), ..Actor::system() },
            sandbox: false,
        }
    }
}

pub async fn reserve_for(
    ctx: &AppContext,
    payer: Payer,
    id: Uuid,
    operation: Operation,
    model: Option<&str>,
    estimate: &Quantity,
) -> ApiResult<Reservation> {
    let tenant_id = payer.tenant_id;
    let settings = prices::effective(ctx, tenant_id).await?;
    let mut price = settings.prices.cost(model, estimate);
    let sandbox = payer.sandbox;
    let mut free = false;
    if let Some(allowance) = settings.allowances.get(operation.as_str()).filter(|a| **a > 0) {
        let used = in_tenant::<credit_transaction::Entity>(tenant_id)
            .filter(credit_transaction::Column::Kind.eq(Kind::Usage.as_str()))
            .filter(credit_transaction::Column::Operation.eq(operation.as_str()))
            .filter(credit_transaction::Column::Sandbox.eq(false))
            .filter(credit_transaction::Column::CreatedAt.gte(month_start()))
            .count(&ctx.db)
            .await?;
        if i64::try_from(used).unwrap_or(i64::MAX) < *allowance {
            (price, free) = (0, true);
        }
    }
    let reservation = Reservation {
        id,
        tenant_id,
        operation,
        model: model.map(str::to_owned),
        reserved: price,
        sandbox,
        free,
        actor: payer.actor,
    };
    let (_turn, txn) = crate::services::billing::begin(ctx).await?;
    let wallet = ledger::open(&txn, tenant_id, ctx.settings.starter_credits).await?;
    if !sandbox && price > 0 {
        if let Some(cap) = wallet.monthly_cap {
            let spent = spent_this_month(&txn, tenant_id).await?;
            if spent + price > cap {
                return Err(insufficient(wallet.balance, price, "the monthly spending cap would be passed")
                    .with_details(json!({
                        "balance": money::format(wallet.balance),
                        "estimate": money::format(price),
                        "monthlyCap": money::format(cap),
                        "spentThisMonth": money::format(spent),
                    })));
            }
        }
    }
    let booked = ledger::apply(
        &txn,
        Entry {
            tenant_id,
            amount: -price,
            kind: Kind::Usage,
            reference: format!("usage:{}", reservation.id),
            operation: Some(operation.as_str()),
            model,
            sandbox,
            actor: &reservation.actor,
            metadata: json!({ "estimate": true, "price": price, "free": free }),
            floor: if wallet.hard_stop { Floor::Zero } else { Floor::Overdraft },
        },
    )
    .await;
    match booked {
        Ok(_) => {
            txn.commit().await?;
            Ok(reservation)
        }
        Err(LedgerError::Insufficient { balance, .. }) => {
            Err(insufficient(balance, price, "not enough credits for this operation; buy or grant credits"))
        }
        Err(LedgerError::Duplicate(_)) => Err(anyhow::anyhow!("reservation id reused").into()),
        Err(LedgerError::Db(e)) => Err(e.into()),
    }
}

/// Books the real price: returns what was held too much, or charges the rest (into the
/// overdraft if allowed; what cannot be collected is noted on the row). Returns the price in
/// micro-credits. Never fails the caller: errors are logged.
pub async fn settle(ctx: &AppContext, reservation: &Reservation, actual: &Quantity) -> i64 {
    match try_settle(ctx, reservation, actual).await {
        Ok(cost) => cost,
        Err(error) => {
            tracing::error!(%error, reservation = %reservation.id, "settling a metered operation failed");
            reservation.reserved
        }
    }
}

async fn try_settle(ctx: &AppContext, r: &Reservation, actual: &Quantity) -> anyhow::Result<i64> {
    let settings = prices::effective(ctx, r.tenant_id).await?;
    let cost = if r.free { 0 } else { settings.prices.cost(r.model.as_deref(), actual) };
    let difference = r.reserved - cost;
    if difference == 0 && !r.sandbox {
        return Ok(cost);
    }
    let (kind, amount) = if difference > 0 { (Kind::Refund, difference) } else { (Kind::Usage, difference) };
    let entry = |amount: i64, note: &str| Entry {
        tenant_id: r.tenant_id,
        amount,
        kind,
        reference: format!("settle:{}", r.id),
        operation: Some(r.operation.as_str()),
        model: r.model.as_deref(),
        sandbox: r.sandbox,
        actor: &r.actor,
        metadata: json!({ "price": cost, "reserved": r.reserved, "note": note }),
        floor: Floor::Overdraft,
    };
    let (turn, txn) = crate::services::billing::begin(ctx).await?;
    match ledger::apply(&txn, entry(amount, "settled")).await {
        Ok(_) | Err(LedgerError::Duplicate(_)) => {}
        Err(LedgerError::Insufficient { balance, overdraft_limit }) => {
            // Charge what the floor allows; the rest is recorded as uncollected.
            let collectable = (balance + overdraft_limit).max(0).min(-amount);
            drop(txn);
            drop(turn);
            let (_turn, txn) = crate::services::billing::begin(ctx).await?;
            match ledger::apply(&txn, entry(-collectable, "partly uncollected")).await {
                Ok(_) | Err(LedgerError::Duplicate(_)) => {}
                Err(e) => return Err(e.into()),
            }
            txn.commit().await?;
            return Ok(cost);
        }
        Err(LedgerError::Db(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(cost)
}

/// Settles a reservation made under `id` (see [`reserve_as`]) from its ledger row; nothing when
/// there is none (work from before metering, or not metered).
pub async fn settle_later(ctx: &AppContext, tenant_id: Uuid, id: Uuid, actual: &Quantity) {
    let held = in_tenant::<credit_transaction::Entity>(tenant_id)
        .filter(credit_transaction::Column::Reference.eq(format!("usage:{id}")))
        .one(&ctx.db)
        .await;
    let row = match held {
        Ok(Some(row)) => row,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(%error, "finding a reservation failed");
            return;
        }
    };
    let operation = match row.operation.as_deref() {
        Some("ingest") => Operation::Ingest,
        Some("analysis") => Operation::Analysis,
        _ => return,
    };
    let reservation = Reservation {
        id,
        tenant_id,
        operation,
        model: row.model.clone(),
        reserved: row.metadata["price"].as_i64().unwrap_or(-row.amount),
        sandbox: row.sandbox,
        free: row.metadata["free"].as_bool().unwrap_or(false),
        actor: Actor { tenant_id: Some(tenant_id), ..Actor::system() },
    };
    settle(ctx, &reservation, actual).await;
}

/// What ingesting a file of `bytes` is expected to cost at most: a page per 2 KB of text-like
/// bytes and a token per 3 bytes (PDFs and DOCX hold less text than their size; the
/// difference is returned when the job settles).
pub fn ingest_estimate(bytes: usize) -> Quantity {
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    Quantity { pages: (bytes / 2048).max(1), embed_tokens: bytes / 3 + 1, ..Quantity::default() }
}

/// Reserve and settle at once, for operations whose price is known up front (a search).
pub async fn charge(
    ctx: &AppContext,
    principal: &Principal,
    operation: Operation,
    model: Option<&str>,
    quantity: &Quantity,
) -> ApiResult<()> {
    reserve(ctx, principal, operation, model, quantity).await.map(|_| ())
}

/// The price of one search.
pub fn one_search() -> Quantity {
    Quantity { searches: 1, ..Quantity::default() }
}

/// What a model call is expected to cost at most: the prompt as estimated, the completion up to
/// `max_completion` tokens.
pub fn model_call(prompt_tokens: u32, max_completion: u32, searches: i64) -> Quantity {
    Quantity {
        prompt_tokens: i64::from(prompt_tokens),
        completion_tokens: i64::from(max_completion),
        searches,
        ..Quantity::default()
    }
}

/// Completion tokens reserved when a request sets no `max_tokens`.
pub const DEFAULT_COMPLETION_RESERVE: u32 = 1024;
