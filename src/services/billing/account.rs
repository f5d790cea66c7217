//! What a tenant sees of its credits: balance, transactions (and CSV), usage by day, operation
//! or model; billing settings; manual grants and adjustments by a platform admin.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{credit_transaction, tenant, wallet};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::in_tenant;
use crate::services::billing::ledger::{self, Entry, Floor, Kind, LedgerError};
use crate::services::billing::meter::spent_this_month;
use crate::services::billing::money;
use crate::services::billing::prices::{self, Allowances, CostSettings};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Credits as a decimal string.
    pub balance: String,
    pub balance_micros: i64,
    pub overdraft_limit: String,
    pub monthly_cap: Option<String>,
    pub spent_this_month: String,
    pub low_balance_threshold: Option<String>,
    pub hard_stop: bool,
    pub plan: Option<String>,
    pub subscription_status: Option<String>,
    /// Whether Stripe is configured (checkout answers 409 otherwise).
    pub payments_configured: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    pub id: Uuid,
    pub amount: String,
    pub amount_micros: i64,
    pub balance_after: String,
    pub kind: String,
    pub reference: String,
    pub operation: Option<String>,
    pub model: Option<String>,
    pub sandbox: bool,
    pub actor: String,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
}

impl From<credit_transaction::Model> for TransactionView {
    fn from(t: credit_transaction::Model) -> Self {
        Self {
            id: t.id,
            amount: money::format(t.amount),
            amount_micros: t.amount,
            balance_after: money::format(t.balance_after),
            kind: t.kind,
            reference: t.reference,
            operation: t.operation,
            model: t.model,
            sandbox: t.sandbox,
            actor: t.actor,
            metadata: t.metadata,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TransactionFilter {
    /// `purchase`, `grant`, `usage`, `refund`, `adjustment`, `expiry`.
    pub kind: Option<String>,
    pub operation: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    /// Include test-key (sandbox) rows; default true.
    pub sandbox: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// `day` (default), `operation` or `model`.
    pub group_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    /// The day, operation or model.
    pub key: String,
    pub operations: i64,
    /// Credits charged (reservations net of settlements).
    pub credits: String,
    pub credits_micros: i64,
    /// What test keys would have been charged.
    pub sandbox_credits: String,
    /// With `groupBy=day`: that day's micro-credits per operation (for stacked charts).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_operation_micros: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub rows: Vec<UsageRow>,
    pub total: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditGrant {
    /// Credits, e.g. `"100"` or `"-2.5"` (adjustments may be negative).
    #[schema(value_type = String)]
    pub amount: Value,
    /// `grant` (default, positive) or `adjustment`.
    pub kind: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingSettings {
    /// Credits the balance may go below zero (platform admin).
    pub overdraft_limit: Option<String>,
    /// Most credits of usage per calendar month; null = no cap.
    pub monthly_cap: Option<String>,
    /// `credits.low` fires once when the balance falls below this; null = off.
    pub low_balance_threshold: Option<String>,
    /// Refuse work at zero (true) or let it use the overdraft (false).
    pub hard_stop: Option<bool>,
    /// Price overrides for this tenant (platform admin): a partial prices object.
    #[schema(value_type = Option<Object>)]
    pub prices: Option<Value>,
    /// Free monthly quantities per operation (platform admin).
    pub allowances: Option<Allowances>,
    /// Rate-limit overrides for this tenant (platform admin): `{"llm": "600/min", "search": "off"}`
    /// over the plan's limits and the defaults; `{}` clears them.
    #[schema(value_type = Option<Object>)]
    pub rate_limits: Option<Value>,
}

fn day(field: &str, raw: &Option<String>) -> ApiResult<Option<NaiveDate>> {
    raw.as_deref().map(|s| crate::platform::paging::parse_day(field, s)).transpose()
}

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).map_or_else(Utc::now, |t| t.and_utc())
}

pub async fn balance(ctx: &AppContext, principal: &Principal) -> ApiResult<Balance> {
    let scope = principal.require(Permission::BillingRead)?;
    let w = ledger::open(&ctx.db, scope.tenant_id, ctx.settings.starter_credits).await?;
    Ok(Balance {
        balance: money::format(w.balance),
        balance_micros: w.balance,
        overdraft_limit: money::format(w.overdraft_limit),
        monthly_cap: w.monthly_cap.map(money::format),
        spent_this_month: money::format(spent_this_month(&ctx.db, scope.tenant_id).await?),
        low_balance_threshold: w.low_balance_threshold.map(money::format),
        hard_stop: w.hard_stop,
        plan: w.plan,
        subscription_status: w.subscription_status,
        payments_configured: ctx.settings.stripe.is_some(),
    })
}

fn filtered(tenant_id: Uuid, filter: &TransactionFilter) -> ApiResult<sea_orm::Select<credit_transaction::Entity>> {
    let mut select = in_tenant::<credit_transaction::Entity>(tenant_id);
    if let Some(kind) = &filter.kind {
        select = select.filter(credit_transaction::Column::Kind.eq(kind.as_str()));
    }
    if let Some(op) = &filter.operation {
        select = select.filter(credit_transaction::Column::Operation.eq(op.as_str()));
    }
    if let Some(from) = day("from", &filter.from)? {
        select = select.filter(credit_transaction::Column::CreatedAt.gte(start_of(from)));
    }
    if let Some(to) = day("to", &filter.to)? {
        select = select.filter(credit_transaction::Column::CreatedAt.lt(start_of(to + chrono::Duration::days(1))));
    }
    if filter.sandbox == Some(false) {
        select = select.filter(credit_transaction::Column::Sandbox.eq(false));
    }
    Ok(select)
}

pub async fn transactions(
    ctx: &AppContext,
    principal: &Principal,
    filter: &TransactionFilter,
    params: &ListParams,
) -> ApiResult<Page<TransactionView>> {
    let scope = principal.require(Permission::BillingRead)?;
    let sort = params.sort_or(&["createdAt"], Sort::desc("createdAt"))?;
    let select = filtered(scope.tenant_id, filter)?;
    Ok(fetch_page(&ctx.db, select, params, Some((credit_transaction::Column::CreatedAt, sort.order())))
        .await?
        .map(TransactionView::from))
}

/// Every matching transaction as CSV, oldest first.
pub async fn transactions_csv(
    ctx: &AppContext,
    principal: &Principal,
    filter: &TransactionFilter,
) -> ApiResult<String> {
    let scope = principal.require(Permission::BillingRead)?;
    let rows =
        filtered(scope.tenant_id, filter)?.order_by_asc(credit_transaction::Column::CreatedAt).all(&ctx.db).await?;
    let mut out = String::from("id,created_at,kind,amount,balance_after,operation,model,sandbox,reference,actor\n");
    for t in rows {
        let fields = [
            t.id.to_string(),
            t.created_at.to_rfc3339(),
            t.kind,
            money::format(t.amount),
            money::format(t.balance_after),
            t.operation.unwrap_or_default(),
            t.model.unwrap_or_default(),
            t.sandbox.to_string(),
            t.reference,
            t.actor,
        ];
        out.push_str(
            &fields.iter().map(|f| crate::services::audit::events::csv_field(f)).collect::<Vec<_>>().join(","),
        );
        out.push('\n');
    }
    Ok(out)
}

pub async fn usage(ctx: &AppContext, principal: &Principal, query: &UsageQuery) -> ApiResult<Usage> {
    let scope = principal.require(Permission::BillingRead)?;
    let to = day("to", &query.to)?.unwrap_or_else(|| Utc::now().date_naive());
    let from = day("from", &query.from)?.unwrap_or(to - chrono::Duration::days(29));
    if from > to || (to - from).num_days() > 366 {
        return Err(ApiError::invalid_field("from", "must be before `to`, at most 366 days"));
    }
    let group_by = query.group_by.clone().unwrap_or_else(|| "day".to_owned());
    if !["day", "operation", "model"].contains(&group_by.as_str()) {
        return Err(ApiError::invalid_field("groupBy", "one of day, operation, model"));
    }
    let rows = in_tenant::<credit_transaction::Entity>(scope.tenant_id)
        .filter(credit_transaction::Column::Operation.is_not_null())
        .filter(credit_transaction::Column::CreatedAt.gte(start_of(from)))
        .filter(credit_transaction::Column::CreatedAt.lt(start_of(to + chrono::Duration::days(1))))
        .all(&ctx.db)
        .await?;
    let mut groups: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let mut by_operation: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for t in &rows {
        let key = match group_by.as_str() {
            "operation" => t.operation.clone().unwrap_or_default(),
            "model" => t.model.clone().unwrap_or_else(|| "-".to_owned()),
            _ => t.created_at.format("%Y-%m-%d").to_string(),
        };
        if group_by == "day" {
            let operation = t.operation.clone().unwrap_or_default();
            *by_operation.entry(key.clone()).or_default().entry(operation).or_default() -= t.amount;
        }
        let slot = groups.entry(key).or_default();
        if t.reference.starts_with("usage:") {
            slot.0 += 1;
        }
        slot.1 -= t.amount;
        if t.sandbox {
            // Sandbox rows carry the price they would have cost; settlements carry the final one.
            let price = t.metadata.get("price").and_then(Value::as_i64).unwrap_or(0);
            if t.reference.starts_with("settle:") {
                let reserved = t.metadata.get("reserved").and_then(Value::as_i64).unwrap_or(0);
                slot.2 += price - reserved;
            } else {
                slot.2 += price;
            }
        }
    }
    let total: i64 = groups.values().map(|g| g.1).sum();
    Ok(Usage {
        from: from.to_string(),
        to: to.to_string(),
        group_by,
        total: money::format(total),
        rows: groups
            .into_iter()
            .map(|(key, (operations, micros, sandbox))| UsageRow {
                by_operation_micros: by_operation.remove(&key).unwrap_or_default(),
                key,
                operations,
                credits: money::format(micros),
                credits_micros: micros,
                sandbox_credits: money::format(sandbox),
            })
            .collect(),
    })
}

/// Grant or adjust a tenant's credits (platform admin), with a reason in the ledger and audit.
pub async fn grant(
    ctx: &AppContext,
    principal: &Principal,
    tenant_id: Uuid,
    grant: CreditGrant,
) -> ApiResult<TransactionView> {
    principal.require_superadmin()?;
    tenant::Entity::find_by_id(tenant_id).one(&ctx.db).await?.ok_or_else(|| ApiError::not_found("tenant"))?;
    let amount = money::from_json("amount", &grant.amount)?;
    let kind = match grant.kind.as_deref().unwrap_or("grant") {
        "grant" if amount > 0 => Kind::Grant,
        "grant" => {
            return Err(ApiError::invalid_field("amount", "a grant is positive; use kind `adjustment` to take credits"))
        }
        "adjustment" if amount != 0 => Kind::Adjustment,
        "adjustment" => return Err(ApiError::invalid_field("amount", "cannot be zero")),
        _ => return Err(ApiError::invalid_field("kind", "`grant` or `adjustment`")),
    };
    let reason = grant.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid_field("reason", "say why, in 1 to 500 characters"));
    }
    let actor = principal.platform_actor(Some(tenant_id));
    let (_turn, txn) = crate::services::billing::begin(ctx).await?;
    ledger::open(&txn, tenant_id, ctx.settings.starter_credits).await?;
    let row = ledger::apply(
        &txn,
        Entry {
            tenant_id,
            amount,
            kind,
            reference: format!("{}:{}", kind.as_str(), Uuid::now_v7()),
            operation: None,
            model: None,
            sandbox: false,
            actor: &actor,
            metadata: json!({ "reason": reason }),
            floor: Floor::Overdraft,
        },
    )
    .await
    .map_err(|e| match e {
        LedgerError::Insufficient { balance, .. } => ApiError::new(
            ErrorCode::Conflict,
            format!("the adjustment would take the balance ({}) below its floor", money::format(balance)),
        ),
        LedgerError::Duplicate(_) => ApiError::new(ErrorCode::Conflict, "already applied"),
        LedgerError::Db(e) => e.into(),
    })?;
    txn.commit().await?;
    Ok(row.into())
}

pub async fn get_settings(
    ctx: &AppContext,
    principal: &Principal,
    tenant_id: Uuid,
) -> ApiResult<(BillingSettings, CostSettings)> {
    if !principal.is_superadmin {
        let scope = principal.require(Permission::BillingRead)?;
        if scope.tenant_id != tenant_id {
            return Err(ApiError::not_found("tenant"));
        }
    }
    tenant::Entity::find_by_id(tenant_id).one(&ctx.db).await?.ok_or_else(|| ApiError::not_found("tenant"))?;
    let w = ledger::open(&ctx.db, tenant_id, ctx.settings.starter_credits).await?;
    let overrides = prices::tenant_override(ctx, tenant_id).await?;
    Ok((
        BillingSettings {
            overdraft_limit: Some(money::format(w.overdraft_limit)),
            monthly_cap: w.monthly_cap.map(money::format),
            low_balance_threshold: w.low_balance_threshold.map(money::format),
            hard_stop: Some(w.hard_stop),
            prices: overrides.as_ref().map(|o| o.0.clone()),
            allowances: overrides.map(|o| o.1),
            rate_limits: w.rate_limits.clone(),
        },
        prices::effective(ctx, tenant_id).await?,
    ))
}

/// Owners set their caps and alerts; overdraft, prices and allowances are the platform admin's.
pub async fn put_settings(
    ctx: &AppContext,
    principal: &Principal,
    tenant_id: Uuid,
    s: BillingSettings,
) -> ApiResult<(BillingSettings, CostSettings)> {
    if !principal.is_superadmin {
        let scope = principal.require(Permission::BillingManage)?;
        if scope.tenant_id != tenant_id {
            return Err(ApiError::not_found("tenant"));
        }
        if s.overdraft_limit.is_some() || s.prices.is_some() || s.allowances.is_some() || s.rate_limits.is_some() {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "overdraft, prices, allowances and rate limits are set by a platform admin",
            ));
        }
    }
    tenant::Entity::find_by_id(tenant_id).one(&ctx.db).await?.ok_or_else(|| ApiError::not_found("tenant"))?;
    let optional = |field: &str, v: &Option<String>| -> ApiResult<Option<i64>> {
        match v.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => {
                let micros = money::parse(field, text)?;
                if micros < 0 {
                    return Err(ApiError::invalid_field(field, "cannot be negative"));
                }
                Ok(Some(micros))
            }
        }
    };
    let w = ledger::open(&ctx.db, tenant_id, ctx.settings.starter_credits).await?;
    let current_balance = w.balance;
    let mut active: wallet::ActiveModel = w.into();
    active.monthly_cap = Set(optional("monthlyCap", &s.monthly_cap)?);
    active.low_balance_threshold = Set(optional("lowBalanceThreshold", &s.low_balance_threshold)?);
    if let Some(hard_stop) = s.hard_stop {
        active.hard_stop = Set(hard_stop);
    }
    if let Some(limit) = optional("overdraftLimit", &s.overdraft_limit)? {
        if current_balance + limit < 0 {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("the balance ({}) is already below that overdraft", money::format(current_balance)),
            ));
        }
        active.overdraft_limit = Set(limit);
    }
    if let Some(limits) = &s.rate_limits {
        crate::platform::rate_limits::Overrides::from_json(limits)
            .map_err(|e| ApiError::invalid_field("rateLimits", e))?;
        let empty = limits.as_object().is_some_and(serde_json::Map::is_empty);
        active.rate_limits = Set((!empty).then(|| limits.clone()));
    }
    active.low_balance_notified = Set(false);
    active.updated_at = Set(Utc::now());
    let (_turn, txn) = crate::services::billing::begin(ctx).await?;
    active.update(&txn).await?;
    crate::services::audit::record(
        &txn,
        &crate::services::audit::Actor { tenant_id: Some(tenant_id), ..principal.actor() },
        "billing.settings",
        crate::services::audit::Target::new("tenant", tenant_id),
        json!({ "monthlyCap": s.monthly_cap, "lowBalanceThreshold": s.low_balance_threshold, "hardStop": s.hard_stop,
            "rateLimits": s.rate_limits }),
    )
    .await?;
    txn.commit().await?;
    // Every node drops its cached copy (this one too, through the same signal).
    ctx.rate_limits.forget_tenant(tenant_id);
    let changed = crate::platform::coordination::Signal::TenantLimitsChanged { tenant_id };
    if let Err(error) = ctx.coordination.publish(&changed).await {
        tracing::warn!(%error, "other nodes keep the old rate limits until their cache expires (30 s)");
    }
    if s.prices.is_some() || s.allowances.is_some() {
        prices::save(ctx, Some(tenant_id), s.prices.unwrap_or_else(|| json!({})), s.allowances.unwrap_or_default())
            .await?;
    }
    get_settings(ctx, principal, tenant_id).await
}
