//! Stripe webhooks: the `Stripe-Signature` header is checked (HMAC-SHA256 of `t.body` with the
//! endpoint secret, any of several `v1` signatures, within the tolerance window) before
//! anything is read, then each event id is applied exactly once: the event row and its ledger
//! effect commit together, and every effect also has its own unique ledger reference, so a
//! second delivery, or a second event about the same payment, grants nothing more.

use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use entity::{credit_transaction, stripe_event, wallet};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::tenancy::in_tenant;
use crate::services::audit::{Actor, Target};
use crate::services::billing::ledger::{self, Entry, Floor, Kind, LedgerError};
use crate::services::billing::money;
use crate::services::billing::stripe::configured;

/// Checks a `Stripe-Signature` header (`t=…,v1=…[,v1=…]`) against the raw body.
pub fn verify(header: &str, body: &[u8], secret: &str, tolerance_secs: i64, now: i64) -> Result<(), String> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.extend(hex::decode(sig).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("the Stripe-Signature header has no timestamp")?;
    if signatures.is_empty() {
        return Err("the Stripe-Signature header has no v1 signature".to_owned());
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad webhook secret".to_owned())?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    // verify_slice compares in constant time.
    if !signatures.iter().any(|sig| mac.clone().verify_slice(sig).is_ok()) {
        return Err("no signature matches".to_owned());
    }
    if (now - timestamp).abs() > tolerance_secs {
        return Err(format!("the signature is {} s old; the tolerance is {tolerance_secs} s", now - timestamp));
    }
    Ok(())
}

/// What a delivery did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub received: bool,
    /// `granted`, `refunded`, `updated`, `ignored`, `unmatched`, `duplicate`.
    pub outcome: String,
}

pub async fn receive(ctx: &AppContext, signature: Option<&str>, body: &[u8]) -> ApiResult<Outcome> {
    let settings = configured(ctx)?;
    let secret = settings
        .webhook_secret
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "STRIPE_WEBHOOK_SECRET is not set"))?;
    let header = signature.ok_or_else(|| ApiError::invalid("missing Stripe-Signature header"))?;
    verify(header, body, secret.expose(), settings.tolerance_secs, Utc::now().timestamp())
        .map_err(|reason| ApiError::invalid(format!("webhook signature rejected: {reason}")))?;
    let event: Value = serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("not a JSON event: {e}")))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(ApiError::invalid("the event has no id or type"));
    };
    let object = &event["data"]["object"];
    let starter = ctx.settings.starter_credits;
    let (_turn, txn) = crate::services::billing::begin(ctx).await?;
    if stripe_event::Entity::find_by_id(id).one(&txn).await?.is_some() {
        return Ok(Outcome { received: true, outcome: "duplicate".to_owned() });
    }
    let (tenant, outcome) = match kind {
        "checkout.session.completed" => checkout_completed(&txn, object, starter).await?,
        "invoice.paid" => invoice_paid(ctx, &txn, object).await?,
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            subscription_changed(&txn, object, event["created"].as_i64(), kind.ends_with("deleted"), starter).await?
        }
        "charge.refunded" => charge_refunded(&txn, object, starter).await?,
        _ => (None, "ignored"),
    };
    let saved = stripe_event::ActiveModel {
        id: Set(id.to_owned()),
        kind: Set(kind.to_owned()),
        tenant_id: Set(tenant),
        outcome: Set(outcome.to_owned()),
        received_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await;
    match saved {
        Ok(_) => txn.commit().await?,
        // Another delivery of the same event committed first: ours rolls back.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(Outcome { received: true, outcome: "duplicate".to_owned() })
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(event = id, kind, outcome, "stripe event applied");
    Ok(Outcome { received: true, outcome: outcome.to_owned() })
}

fn stripe_actor(tenant: Uuid) -> Actor {
    Actor { tenant_id: Some(tenant), id: Some("stripe".to_owned()), ..Actor::system() }
}

fn tenant_of(object: &Value) -> Option<Uuid> {
    [
        &object["client_reference_id"],
        &object["metadata"]["tenant_id"],
        &object["subscription_details"]["metadata"]["tenant_id"],
        &object["lines"]["data"][0]["metadata"]["tenant_id"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
}

async fn tenant_exists<C: ConnectionTrait>(conn: &C, tenant: Uuid) -> ApiResult<bool> {
    Ok(entity::tenant::Entity::find_by_id(tenant).one(conn).await?.is_some())
}

/// Books `entry`; an effect already booked (same reference) is not an error.
async fn book<C: ConnectionTrait>(conn: &C, entry: Entry<'_>) -> ApiResult<bool> {
    match ledger::apply(conn, entry).await {
        Ok(_) => Ok(true),
        Err(LedgerError::Duplicate(_)) => Ok(false),
        Err(LedgerError::Insufficient { .. }) => Ok(false),
        Err(LedgerError::Db(e)) => Err(e.into()),
    }
}

async fn remember_customer<C: ConnectionTrait>(conn: &C, tenant: Uuid, object: &Value, starter: i64) -> ApiResult<()> {
    let w = ledger::open(conn, tenant, starter).await?;
    let mut active: wallet::ActiveModel = w.into();
    if let Some(customer) = object["customer"].as_str() {
        active.stripe_customer_id = Set(Some(customer.to_owned()));
    }
    if let Some(subscription) = object["subscription"].as_str() {
        active.subscription_id = Set(Some(subscription.to_owned()));
        if let Some(product) = object["metadata"]["product"].as_str() {
            active.plan = Set(Some(product.to_owned()));
        }
    }
    active.updated_at = Set(Utc::now());
    active.update(conn).await?;
    Ok(())
}

async fn checkout_completed<C: ConnectionTrait>(
    conn: &C,
    object: &Value,
    starter: i64,
) -> ApiResult<(Option<Uuid>, &'static str)> {
    let Some(tenant) = tenant_of(object) else { return Ok((None, "unmatched")) };
    if !tenant_exists(conn, tenant).await? {
        return Ok((None, "unmatched"));
    }
    remember_customer(conn, tenant, object, starter).await?;
    // Subscriptions are paid through invoices (invoice.paid grants); unpaid sessions wait.
    if object["mode"].as_str() != Some("payment") || object["payment_status"].as_str() != Some("paid") {
        return Ok((Some(tenant), "updated"));
    }
    let Some(credits) = object["metadata"]["credits"].as_str().and_then(|c| money::parse("credits", c).ok()) else {
        return Ok((Some(tenant), "ignored"));
    };
    let session = object["id"].as_str().unwrap_or_default();
    let actor = stripe_actor(tenant);
    let granted = book(
        conn,
        Entry {
            tenant_id: tenant,
            amount: credits,
            kind: Kind::Purchase,
            reference: format!("stripe:checkout:{session}"),
            operation: None,
            model: None,
            sandbox: false,
            actor: &actor,
            metadata: json!({
                "session": session,
                "paymentIntent": object["payment_intent"],
                "amountTotal": object["amount_total"],
                "currency": object["currency"],
                "product": object["metadata"]["product"],
            }),
            floor: Floor::Overdraft,
        },
    )
    .await?;
    Ok((Some(tenant), if granted { "granted" } else { "duplicate" }))
}

async fn invoice_paid<C: ConnectionTrait>(
    ctx: &AppContext,
    conn: &C,
    object: &Value,
) -> ApiResult<(Option<Uuid>, &'static str)> {
    let starter = ctx.settings.starter_credits;
    let subscription =
        object["subscription"].as_str().or_else(|| object["parent"]["subscription_details"]["subscription"].as_str());
    let by_wallet = match (subscription, object["customer"].as_str()) {
        (Some(sub), _) => wallet::Entity::find().filter(wallet::Column::SubscriptionId.eq(sub)).one(conn).await?,
        (None, Some(customer)) => {
            wallet::Entity::find().filter(wallet::Column::StripeCustomerId.eq(customer)).one(conn).await?
        }
        _ => None,
    };
    // Out of order (before checkout.session.completed): the subscription's metadata names the tenant.
    let Some(tenant) = by_wallet.map(|w| w.tenant_id).or_else(|| tenant_of(object)) else {
        return Ok((None, "unmatched"));
    };
    if !tenant_exists(conn, tenant).await? {
        return Ok((None, "unmatched"));
    }
    let price = object["lines"]["data"][0]["price"]["id"]
        .as_str()
        .or_else(|| object["lines"]["data"][0]["plan"]["id"].as_str())
        .or_else(|| object["lines"]["data"][0]["pricing"]["price_details"]["price"].as_str());
    let plans = ctx.settings.stripe.as_ref().map(|s| s.plans.clone()).unwrap_or_default();
    let Some(plan) = plans.iter().find(|p| Some(p.price_id.as_str()) == price) else {
        return Ok((Some(tenant), "ignored"));
    };
    let mut w: wallet::ActiveModel = ledger::open(conn, tenant, starter).await?.into();
    if let Some(sub) = subscription {
        w.subscription_id = Set(Some(sub.to_owned()));
    }
    if let Some(customer) = object["customer"].as_str() {
        w.stripe_customer_id = Set(Some(customer.to_owned()));
    }
    w.plan = Set(Some(plan.name.clone()));
    w.updated_at = Set(Utc::now());
    w.update(conn).await?;
    let invoice = object["id"].as_str().unwrap_or_default();
    let actor = stripe_actor(tenant);
    let granted = book(
        conn,
        Entry {
            tenant_id: tenant,
            amount: plan.credits,
            kind: Kind::Grant,
            reference: format!("stripe:invoice:{invoice}"),
            operation: None,
            model: None,
            sandbox: false,
            actor: &actor,
            metadata: json!({ "invoice": invoice, "plan": plan.name, "subscription": subscription }),
            floor: Floor::Overdraft,
        },
    )
    .await?;
    Ok((Some(tenant), if granted { "granted" } else { "duplicate" }))
}

/// Applies a subscription's new state unless a newer event was applied already: Stripe may
/// deliver `updated` after `deleted`, and a canceled subscription never becomes active again.
async fn subscription_changed<C: ConnectionTrait>(
    conn: &C,
    object: &Value,
    created: Option<i64>,
    deleted: bool,
    starter: i64,
) -> ApiResult<(Option<Uuid>, &'static str)> {
    let Some(id) = object["id"].as_str() else { return Ok((None, "ignored")) };
    let found = wallet::Entity::find().filter(wallet::Column::SubscriptionId.eq(id)).one(conn).await?;
    let tenant = match found.map(|w| w.tenant_id).or_else(|| tenant_of(object)) {
        Some(t) if tenant_exists(conn, t).await? => t,
        _ => return Ok((None, "unmatched")),
    };
    let current = ledger::open(conn, tenant, starter).await?;
    if current.subscription_id.as_deref() == Some(id) {
        // A deletion is final whatever its timestamp says.
        let newer_applied =
            !deleted && matches!((current.subscription_event_at, created), (Some(seen), Some(at)) if seen > at);
        let ended = current.subscription_status.as_deref() == Some("canceled") && !deleted;
        if newer_applied || ended {
            return Ok((Some(tenant), "stale"));
        }
    }
    let mut w: wallet::ActiveModel = current.into();
    w.subscription_id = Set(Some(id.to_owned()));
    if created.is_some() {
        w.subscription_event_at = Set(created);
    }
    w.subscription_status =
        Set(Some(if deleted { "canceled" } else { object["status"].as_str().unwrap_or("active") }.to_owned()));
    if deleted {
        w.plan = Set(None);
    }
    w.updated_at = Set(Utc::now());
    let saved = w.update(conn).await?;
    let details = json!({ "subscription": id, "status": saved.subscription_status, "plan": saved.plan });
    crate::services::audit::record(
        conn,
        &stripe_actor(tenant),
        "billing.subscription",
        Target::new("tenant", tenant),
        details,
    )
    .await?;
    Ok((Some(tenant), "updated"))
}

/// Takes back the refunded share of the credits a payment bought.
async fn charge_refunded<C: ConnectionTrait>(
    conn: &C,
    object: &Value,
    starter: i64,
) -> ApiResult<(Option<Uuid>, &'static str)> {
    let Some(intent) = object["payment_intent"].as_str() else { return Ok((None, "ignored")) };
    let purchases = credit_transaction::Entity::find()
        .filter(credit_transaction::Column::Kind.eq(Kind::Purchase.as_str()))
        .all(conn)
        .await?;
    let Some(purchase) = purchases.into_iter().find(|p| p.metadata["paymentIntent"].as_str() == Some(intent)) else {
        return Ok((None, "unmatched"));
    };
    let (paid, refunded) = (object["amount"].as_i64().unwrap_or(0), object["amount_refunded"].as_i64().unwrap_or(0));
    if paid <= 0 || refunded <= 0 {
        return Ok((Some(purchase.tenant_id), "ignored"));
    }
    // Credits for everything refunded so far, minus what earlier refunds already took.
    let owed = i64::try_from(i128::from(purchase.amount) * i128::from(refunded.min(paid)) / i128::from(paid))
        .unwrap_or(purchase.amount);
    let taken: i64 = in_tenant::<credit_transaction::Entity>(purchase.tenant_id)
        .filter(credit_transaction::Column::Reference.starts_with(format!("stripe:refund:{intent}:")))
        .all(conn)
        .await?
        .iter()
        .map(|t| -t.amount)
        .sum();
    let amount = owed - taken;
    if amount <= 0 {
        return Ok((Some(purchase.tenant_id), "duplicate"));
    }
    let actor = stripe_actor(purchase.tenant_id);
    let w = ledger::open(conn, purchase.tenant_id, starter).await?;
    // Credits already spent cannot be taken back below the floor: take what is there.
    let available = (w.balance + w.overdraft_limit).max(0);
    let take = amount.min(available);
    book(
        conn,
        Entry {
            tenant_id: purchase.tenant_id,
            amount: -take,
            kind: Kind::Refund,
            reference: format!("stripe:refund:{intent}:{refunded}"),
            operation: None,
            model: None,
            sandbox: false,
            actor: &actor,
            metadata: json!({ "charge": object["id"], "amountRefunded": refunded, "owed": amount, "uncollected": amount - take }),
            floor: Floor::Overdraft,
        },
    )
    .await?;
    Ok((Some(purchase.tenant_id), "refunded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(body: &str, secret: &str, t: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn signatures_are_checked_with_tolerance_and_several_v1() {
        let body = r#"{"id":"evt_1"}"#;
        let good = sign(body, "whsec_a", 1000);
        assert!(verify(&format!("t=1000,v1={good}"), body.as_bytes(), "whsec_a", 300, 1100).is_ok());
        assert!(verify(&format!("t=1000,v1=deadbeef,v1={good}"), body.as_bytes(), "whsec_a", 300, 1100).is_ok());
        assert!(verify(&format!("t=1000,v1={good}"), body.as_bytes(), "whsec_b", 300, 1100).is_err());
        assert!(verify(&format!("t=1000,v1={good}"), b"{\"id\":\"evt_2\"}", "whsec_a", 300, 1100).is_err());
        let stale = verify(&format!("t=1000,v1={good}"), body.as_bytes(), "whsec_a", 300, 1400).unwrap_err();
        assert!(stale.contains("old"), "{stale}");
        assert!(verify("v1=abc", body.as_bytes(), "whsec_a", 300, 1000).is_err());
        assert!(verify("t=1000", body.as_bytes(), "whsec_a", 300, 1000).is_err());
    }
}
