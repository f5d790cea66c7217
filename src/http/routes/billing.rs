//! `/v1/billing/*`, `/v1/admin/cost-settings`, `/v1/admin/tenants/{id}/credits`,
//! `/v1/tenants/{id}/billing-settings` and the Stripe webhook.

use actix_web::web::{self, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::{Authenticated, Require};
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::platform::paging::{ListParams, Page};
use crate::services::billing::account::{
    self, Balance, BillingSettings, CreditGrant, TransactionFilter, TransactionView, Usage, UsageQuery,
};
use crate::services::billing::prices::{self, CostSettings};
use crate::services::billing::stripe::{self, CheckoutRequest, CheckoutStarted, Plans, PortalLink};
use crate::services::billing::stripe_events::{self, Outcome};
use crate::services::identity::permissions::require::{BillingManage, BillingRead};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/billing/balance").route(web::get().to(get_balance)))
        .service(web::resource("/v1/billing/transactions").route(web::get().to(list_transactions)))
        .service(web::resource("/v1/billing/transactions.csv").route(web::get().to(export_transactions)))
        .service(web::resource("/v1/billing/usage").route(web::get().to(get_usage)))
        .service(web::resource("/v1/billing/plans").route(web::get().to(list_plans)))
        .service(web::resource("/v1/billing/checkout").route(web::post().to(start_checkout)))
        .service(web::resource("/v1/billing/portal").route(web::post().to(open_portal)))
        .service(web::resource("/v1/billing/stripe/webhook").route(web::post().to(stripe_webhook)))
        .service(
            web::resource("/v1/admin/cost-settings")
                .route(web::get().to(get_cost_settings))
                .route(web::put().to(put_cost_settings)),
        )
        .service(web::resource("/v1/admin/tenants/{id}/credits").route(web::post().to(grant_credits)))
        .service(
            web::resource("/v1/tenants/{id}/billing-settings")
                .route(web::get().to(get_billing_settings))
                .route(web::put().to(put_billing_settings)),
        );
}

#[utoipa::path(get, path = "/v1/billing/balance", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = Balance), (status = 403, body = ErrorBody)))]
pub async fn get_balance(
    ctx: Data<AppContext>,
    Require(who, _): Require<BillingRead>,
) -> ApiResult<web::Json<Balance>> {
    Ok(web::Json(account::balance(&ctx, &who).await?))
}

/// The ledger, newest first; filter by `kind`, `operation`, `from`/`to` days, `sandbox`.
#[utoipa::path(get, path = "/v1/billing/transactions", tag = "billing", security(("bearer" = [])), params(ListParams, TransactionFilter),
    responses((status = 200, body = Page<TransactionView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_transactions(
    ctx: Data<AppContext>,
    Require(who, _): Require<BillingRead>,
    filter: Query<TransactionFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<TransactionView>>> {
    Ok(web::Json(account::transactions(&ctx, &who, &filter, &params).await?))
}

/// The same rows as CSV, oldest first.
#[utoipa::path(get, path = "/v1/billing/transactions.csv", tag = "billing", security(("bearer" = [])), params(TransactionFilter),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 403, body = ErrorBody)))]
pub async fn export_transactions(
    ctx: Data<AppContext>,
    Require(who, _): Require<BillingRead>,
    filter: Query<TransactionFilter>,
) -> ApiResult<HttpResponse> {
    let csv = account::transactions_csv(&ctx, &who, &filter).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"transactions.csv\""))
        .body(csv))
}

/// Credits used per day, operation or model (`groupBy`), with what test keys would have cost.
#[utoipa::path(get, path = "/v1/billing/usage", tag = "billing", security(("bearer" = [])), params(UsageQuery),
    responses((status = 200, body = Usage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_usage(
    ctx: Data<AppContext>,
    Require(who, _): Require<BillingRead>,
    query: Query<UsageQuery>,
) -> ApiResult<web::Json<Usage>> {
    Ok(web::Json(account::usage(&ctx, &who, &query).await?))
}

#[utoipa::path(get, path = "/v1/billing/plans", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = Plans), (status = 403, body = ErrorBody)))]
pub async fn list_plans(ctx: Data<AppContext>, Require(who, _): Require<BillingRead>) -> ApiResult<web::Json<Plans>> {
    Ok(web::Json(stripe::plans(&ctx, &who)?))
}

/// A Stripe Checkout Session for a credit pack or plan; send the buyer to `url`. 409 when
/// payments are not configured.
#[utoipa::path(post, path = "/v1/billing/checkout", tag = "billing", security(("bearer" = [])), request_body = CheckoutRequest,
    responses((status = 201, body = CheckoutStarted), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Payments not configured", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn start_checkout(
    ctx: Data<AppContext>,
    Require(who, _): Require<BillingManage>,
    Json(request): Json<CheckoutRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(stripe::checkout(&ctx, &who, request).await?))
}

/// A link to Stripe's customer portal (invoices, cards, subscription); 409 before any purchase.
#[utoipa::path(post, path = "/v1/billing/portal", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = PortalLink), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn open_portal(
    ctx: Data<AppContext>,
    Require(who, _): Require<BillingManage>,
) -> ApiResult<web::Json<PortalLink>> {
    Ok(web::Json(stripe::portal(&ctx, &who).await?))
}

/// Stripe's webhook endpoint: verified by `Stripe-Signature`, each event applied once.
#[utoipa::path(post, path = "/v1/billing/stripe/webhook", tag = "billing", request_body(content = String, description = "The raw Stripe event"),
    responses((status = 200, body = Outcome), (status = 400, description = "Bad or stale signature", body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn stripe_webhook(
    ctx: Data<AppContext>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<web::Json<Outcome>> {
    let signature = req.headers().get("Stripe-Signature").and_then(|v| v.to_str().ok());
    Ok(web::Json(stripe_events::receive(&ctx, signature, &body).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CostSettingsPayload {
    /// A full or partial prices object (micro-credits); missing keys keep the defaults.
    #[schema(value_type = Object)]
    pub prices: serde_json::Value,
    #[serde(default)]
    pub allowances: prices::Allowances,
}

/// Global prices and free allowances (platform admin).
#[utoipa::path(get, path = "/v1/admin/cost-settings", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = CostSettings), (status = 403, body = ErrorBody)))]
pub async fn get_cost_settings(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
) -> ApiResult<web::Json<CostSettings>> {
    who.require_superadmin()?;
    Ok(web::Json(prices::global(&ctx).await?))
}

#[utoipa::path(put, path = "/v1/admin/cost-settings", tag = "billing", security(("bearer" = [])), request_body = CostSettingsPayload,
    responses((status = 200, body = CostSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_cost_settings(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    Json(payload): Json<CostSettingsPayload>,
) -> ApiResult<web::Json<CostSettings>> {
    who.require_superadmin()?;
    prices::save(&ctx, None, payload.prices, payload.allowances).await?;
    crate::services::audit::record(
        &ctx.db,
        &who.platform_actor(None),
        "billing.cost_settings",
        crate::services::audit::Target { kind: "cost_settings", id: None },
        serde_json::Value::Null,
    )
    .await?;
    Ok(web::Json(prices::global(&ctx).await?))
}

/// Grant (positive) or adjust (either sign) a tenant's credits, with a reason (platform admin).
#[utoipa::path(post, path = "/v1/admin/tenants/{id}/credits", tag = "billing", security(("bearer" = [])), request_body = CreditGrant,
    responses((status = 201, body = TransactionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn grant_credits(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
    Json(grant): Json<CreditGrant>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(account::grant(&ctx, &who, *id, grant).await?))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingSettingsView {
    pub settings: BillingSettings,
    /// The prices and allowances in effect for the tenant.
    pub effective: CostSettings,
    /// The rate limits in effect for the tenant's callers, per class (`off` = unlimited).
    pub rate_limits: std::collections::BTreeMap<String, String>,
}

#[utoipa::path(get, path = "/v1/tenants/{id}/billing-settings", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = BillingSettingsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_billing_settings(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<BillingSettingsView>> {
    let (settings, effective) = account::get_settings(&ctx, &who, *id).await?;
    let rate_limits = crate::http::middleware::rate_limit::tenant_limits(&ctx, *id).await.describe();
    Ok(web::Json(BillingSettingsView { settings, effective, rate_limits }))
}

/// Owners set the monthly cap, low-balance alert and hard stop; a platform admin also the
/// overdraft, prices and allowances.
#[utoipa::path(put, path = "/v1/tenants/{id}/billing-settings", tag = "billing", security(("bearer" = [])), request_body = BillingSettings,
    responses((status = 200, body = BillingSettingsView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_billing_settings(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
    Json(settings): Json<BillingSettings>,
) -> ApiResult<web::Json<BillingSettingsView>> {
    let (settings, effective) = account::put_settings(&ctx, &who, *id, settings).await?;
    let rate_limits = crate::http::middleware::rate_limit::tenant_limits(&ctx, *id).await.describe();
    Ok(web::Json(BillingSettingsView { settings, effective, rate_limits }))
}
