//! Buying credits with Stripe: the packs and plans on sale, and Checkout Sessions created with
//! async-stripe. A session carries the tenant as `client_reference_id` and the credits in
//! `metadata.credits`; the webhook grants exactly that.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_shared::CheckoutSessionMode;
use utoipa::ToSchema;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::settings::{StripeProduct, StripeSettings};
use crate::services::billing::{ledger, money};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub name: String,
    /// Credits per purchase (packs) or per month (plans).
    pub credits: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plans {
    pub payments_configured: bool,
    /// One-off credit packs.
    pub packs: Vec<Product>,
    /// Subscriptions that grant credits on every paid invoice.
    pub plans: Vec<Product>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequest {
    /// A credit pack name (one-off payment)…
    pub pack: Option<String>,
    /// …or a plan name (subscription).
    pub plan: Option<String>,
    /// Where Stripe sends the buyer afterwards (default: the dashboard's billing page).
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutStarted {
    pub session_id: String,
    /// Send the buyer here.
    pub url: String,
}

fn products(list: &[StripeProduct]) -> Vec<Product> {
    list.iter().map(|p| Product { name: p.name.clone(), credits: money::format(p.credits) }).collect()
}

pub fn plans(ctx: &AppContext, principal: &Principal) -> ApiResult<Plans> {
    principal.require(Permission::BillingRead)?;
    Ok(match &ctx.settings.stripe {
        Some(s) => Plans { payments_configured: true, packs: products(&s.packs), plans: products(&s.plans) },
        None => Plans { payments_configured: false, packs: Vec::new(), plans: Vec::new() },
    })
}

pub fn configured(ctx: &AppContext) -> ApiResult<&StripeSettings> {
    ctx.settings.stripe.as_ref().ok_or_else(|| {
        ApiError::new(ErrorCode::Conflict, "payments not configured: set STRIPE_SECRET_KEY, or grant credits by hand")
    })
}

fn return_url(field: &str, given: Option<&str>, default: String) -> ApiResult<String> {
    match given {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(url.to_owned()),
        Some(_) => Err(ApiError::invalid_field(field, "must be an http(s) URL")),
        None => Ok(default),
    }
}

pub async fn checkout(ctx: &AppContext, principal: &Principal, request: CheckoutRequest) -> ApiResult<CheckoutStarted> {
    let scope = principal.require(Permission::BillingManage)?;
    let stripe_settings = configured(ctx)?;
    let (product, mode) = match (&request.pack, &request.plan) {
        (Some(name), None) => (stripe_settings.packs.iter().find(|p| &p.name == name), CheckoutSessionMode::Payment),
        (None, Some(name)) => {
            (stripe_settings.plans.iter().find(|p| &p.name == name), CheckoutSessionMode::Subscription)
        }
        _ => return Err(ApiError::invalid("name exactly one of `pack` or `plan`")),
    };
    let Some(product) = product else {
        let names: Vec<&str> =
            stripe_settings.packs.iter().chain(&stripe_settings.plans).map(|p| p.name.as_str()).collect();
        return Err(ApiError::invalid_field("pack", format!("no such pack or plan; on sale: {}", names.join(", "))));
    };
    let base = &ctx.settings.public_url;
    let success = return_url("successUrl", request.success_url.as_deref(), format!("{base}/billing?checkout=success"))?;
    let cancel = return_url("cancelUrl", request.cancel_url.as_deref(), format!("{base}/billing?checkout=cancelled"))?;
    let tenant = scope.tenant_id.to_string();
    let metadata = HashMap::from([
        ("tenant_id".to_owned(), tenant.clone()),
        ("credits".to_owned(), money::format(product.credits)),
        ("product".to_owned(), product.name.clone()),
    ]);
    let mut line = CreateCheckoutSessionLineItems::new();
    line.price = Some(product.price_id.clone());
    line.quantity = Some(1);
    let subscription = mode == CheckoutSessionMode::Subscription;
    let mut create = CreateCheckoutSession::new()
        .mode(mode)
        .line_items(vec![line])
        .client_reference_id(tenant)
        .metadata(metadata.clone())
        .success_url(success)
        .cancel_url(cancel);
    if subscription {
        let mut data = CreateCheckoutSessionSubscriptionData::new();
        data.metadata = Some(metadata);
        create = create.subscription_data(data);
    }
    if let Some(customer) =
        ledger::open(&ctx.db, scope.tenant_id, ctx.settings.starter_credits).await?.stripe_customer_id
    {
        create = create.customer(customer);
    }
    let session = create.send(&client(stripe_settings)?).await.map_err(|e| refused("the checkout", &e))?;
    let url = session.url.ok_or_else(|| ApiError::new(ErrorCode::UpstreamError, "Stripe returned no checkout URL"))?;
    Ok(CheckoutStarted { session_id: session.id.to_string(), url })
}

fn client(settings: &StripeSettings) -> ApiResult<stripe::Client> {
    Ok(stripe::ClientBuilder::new(settings.secret_key.expose().clone())
        .url(settings.api_base.clone())
        .build()
        .map_err(|e| anyhow::anyhow!("stripe client: {e}"))?)
}

fn refused(what: &str, error: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(%error, "a Stripe call failed: {what}");
    ApiError::new(ErrorCode::UpstreamError, format!("Stripe refused {what}: {error}"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalLink {
    /// Stripe's customer portal: invoices, payment methods, subscription changes.
    pub url: String,
}

/// A link to Stripe's customer portal for the tenant's Stripe customer (after a first purchase).
pub async fn portal(ctx: &AppContext, principal: &Principal) -> ApiResult<PortalLink> {
    let scope = principal.require(Permission::BillingManage)?;
    let stripe_settings = configured(ctx)?;
    let customer = ledger::open(&ctx.db, scope.tenant_id, ctx.settings.starter_credits)
        .await?
        .stripe_customer_id
        .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "no Stripe customer yet: buy credits or a plan first"))?;
    let session = stripe_billing::billing_portal_session::CreateBillingPortalSession::new()
        .customer(customer)
        .return_url(format!("{}/billing", ctx.settings.public_url))
        .send(&client(stripe_settings)?)
        .await
        .map_err(|e| refused("the portal session", &e))?;
    Ok(PortalLink { url: session.url })
}
