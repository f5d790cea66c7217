//! What metered operations cost: global defaults with per-tenant overrides, and free monthly
//! allowances. All prices are micro-credits.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::cost_setting;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};

/// Per-model token prices (micro-credits per 1,000 tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelPrice {
    pub prompt_per_1k: i64,
    pub completion_per_1k: i64,
}

/// Prices in micro-credits (1 credit = 1,000,000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Prices {
    /// Per 1,000 prompt tokens, for models without their own price.
    pub prompt_per_1k: i64,
    /// Per 1,000 completion tokens, for models without their own price.
    pub completion_per_1k: i64,
    /// Per model, overriding the two above.
    pub models: BTreeMap<String, ModelPrice>,
    /// Per 1,000 embedded tokens (ingestion and `/v1/embeddings`).
    pub embed_per_1k: i64,
    /// Per parsed page.
    pub per_page: i64,
    /// Per search (and per retrieval of a chat turn).
    pub per_search: i64,
    /// Per document analysis run.
    pub per_analysis_run: i64,
    /// Per GB stored per month.
    pub storage_gb_month: i64,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            prompt_per_1k: 50_000,
            completion_per_1k: 150_000,
            // The built-in extractive model runs here and costs nothing to run.
            models: BTreeMap::from([("extractive".to_owned(), ModelPrice { prompt_per_1k: 0, completion_per_1k: 0 })]),
            embed_per_1k: 2_000,
            per_page: 10_000,
            per_search: 10_000,
            per_analysis_run: 1_000_000,
            storage_gb_month: 10_000_000,
        }
    }
}

/// Free quantities per calendar month (UTC), by operation: `{"search": 1000}`.
pub type Allowances = BTreeMap<String, i64>;

/// What an operation used (or is estimated to use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quantity {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub embed_tokens: i64,
    pub pages: i64,
    pub searches: i64,
    pub analysis_runs: i64,
}

impl Prices {
    /// Micro-credits for `q` with `model`; token prices round up per operation.
    pub fn cost(&self, model: Option<&str>, q: &Quantity) -> i64 {
        let (prompt, completion) = model
            .and_then(|m| self.models.get(m))
            .map_or((self.prompt_per_1k, self.completion_per_1k), |p| (p.prompt_per_1k, p.completion_per_1k));
        let per_1k = |tokens: i64, price: i64| (tokens.max(0) * price + 999) / 1000;
        per_1k(q.prompt_tokens, prompt)
            + per_1k(q.completion_tokens, completion)
            + per_1k(q.embed_tokens, self.embed_per_1k)
            + q.pages.max(0) * self.per_page
            + q.searches.max(0) * self.per_search
            + q.analysis_runs.max(0) * self.per_analysis_run
    }

    fn check(&self) -> ApiResult<()> {
        let all = [
            self.prompt_per_1k,
            self.completion_per_1k,
            self.embed_per_1k,
            self.per_page,
            self.per_search,
            self.per_analysis_run,
            self.storage_gb_month,
        ];
        let models = self.models.values().flat_map(|m| [m.prompt_per_1k, m.completion_per_1k]);
        if all.into_iter().chain(models).any(|p| !(0..=1_000_000_000_000).contains(&p)) {
            return Err(ApiError::invalid_field("prices", "prices are micro-credits from 0 to 10^12"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CostSettings {
    pub prices: Prices,
    #[serde(default)]
    pub allowances: Allowances,
}

async fn row(db: &DatabaseConnection, tenant: Option<Uuid>) -> ApiResult<Option<cost_setting::Model>> {
    let select = cost_setting::Entity::find();
    let select = match tenant {
        Some(t) => select.filter(cost_setting::Column::TenantId.eq(t)),
        None => select.filter(cost_setting::Column::TenantId.is_null()),
    };
    Ok(select.one(db).await?)
}

/// The global defaults (built-in ones until an admin saves some).
pub async fn global(ctx: &AppContext) -> ApiResult<CostSettings> {
    global_in(&ctx.db).await
}

async fn global_in(db: &DatabaseConnection) -> ApiResult<CostSettings> {
    Ok(match row(db, None).await? {
        Some(r) => CostSettings {
            prices: serde_json::from_value(r.prices).unwrap_or_default(),
            allowances: serde_json::from_value(r.allowances).unwrap_or_default(),
        },
        None => CostSettings { prices: Prices::default(), allowances: Allowances::new() },
    })
}

/// A tenant's override (partial JSON objects merged over the global settings).
pub async fn tenant_override(ctx: &AppContext, tenant: Uuid) -> ApiResult<Option<(serde_json::Value, Allowances)>> {
    tenant_override_in(&ctx.db, tenant).await
}

async fn tenant_override_in(
    db: &DatabaseConnection,
    tenant: Uuid,
) -> ApiResult<Option<(serde_json::Value, Allowances)>> {
    Ok(row(db, Some(tenant)).await?.map(|r| (r.prices, serde_json::from_value(r.allowances).unwrap_or_default())))
}

/// The settings that apply to a tenant: global, with its overrides on top.
pub async fn effective(ctx: &AppContext, tenant: Uuid) -> ApiResult<CostSettings> {
    effective_in(&ctx.db, tenant).await
}

/// [`effective`] for jobs that hold a connection rather than the application context.
pub async fn effective_in(db: &DatabaseConnection, tenant: Uuid) -> ApiResult<CostSettings> {
    let mut settings = global_in(db).await?;
    if let Some((prices, allowances)) = tenant_override_in(db, tenant).await? {
        let mut merged = serde_json::to_value(&settings.prices).map_err(anyhow::Error::from)?;
        merge(&mut merged, prices);
        settings.prices = serde_json::from_value(merged).unwrap_or(settings.prices);
        settings.allowances.extend(allowances);
    }
    Ok(settings)
}

fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Saves the global settings (`tenant` None) or a tenant's overrides.
pub async fn save(
    ctx: &AppContext,
    tenant: Option<Uuid>,
    prices: serde_json::Value,
    allowances: Allowances,
) -> ApiResult<()> {
    // Overrides are partial: check them merged over the defaults.
    let mut full = serde_json::to_value(Prices::default()).map_err(anyhow::Error::from)?;
    merge(&mut full, prices.clone());
    let checked: Prices = serde_json::from_value(full).map_err(|e| ApiError::invalid_field("prices", e.to_string()))?;
    checked.check()?;
    if allowances.values().any(|v| *v < 0) {
        return Err(ApiError::invalid_field("allowances", "free quantities cannot be negative"));
    }
    let allowances = serde_json::to_value(&allowances).map_err(anyhow::Error::from)?;
    match row(&ctx.db, tenant).await? {
        Some(existing) => {
            let mut active: cost_setting::ActiveModel = existing.into();
            active.prices = Set(prices);
            active.allowances = Set(allowances);
            active.updated_at = Set(Utc::now());
            active.update(&ctx.db).await?;
        }
        None => {
            cost_setting::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant),
                prices: Set(prices),
                allowances: Set(allowances),
                updated_at: Set(Utc::now()),
            }
            .insert(&ctx.db)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_add_up_per_operation_and_model() {
        let prices = Prices::default();
        let q = Quantity { prompt_tokens: 1500, completion_tokens: 100, ..Default::default() };
        assert_eq!(prices.cost(Some("gpt-x"), &q), 75_000 + 15_000);
        assert_eq!(prices.cost(Some("extractive"), &q), 0);
        assert_eq!(prices.cost(None, &Quantity { searches: 3, pages: 2, ..Default::default() }), 30_000 + 20_000);
        assert_eq!(prices.cost(None, &Quantity { embed_tokens: 1, ..Default::default() }), 2, "rounds up");
        let mut base = serde_json::json!({"a": 1, "m": {"x": 1, "y": 2}});
        merge(&mut base, serde_json::json!({"m": {"y": 3}}));
        assert_eq!(base, serde_json::json!({"a": 1, "m": {"x": 1, "y": 3}}));
    }
}
