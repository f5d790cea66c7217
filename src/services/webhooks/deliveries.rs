//! Getting events to endpoints: fan-out from the outbox into one delivery per subscribed
//! endpoint, then signed POSTs with retries (exponential backoff with jitter, about 24 h with
//! the defaults). An endpoint whose delivery runs out of attempts is switched off, a
//! `webhook.disabled` event goes to the tenant's other endpoints and its owners get an email.
//!
//! Deliveries are rows claimed with a lease, like jobs: any node sends them, a node that dies
//! mid-attempt leaves them to be sent again; receivers dedupe with `Lectern-Event-Id`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
    Statement,
};
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{outbox_event, webhook_delivery, webhook_endpoint};

use super::events::{self, Envelope, Event};
use crate::app::context::AppContext;
use crate::error::ApiResult;
use crate::platform::tenancy::in_tenant;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// `pending` (waiting for its next attempt), `sending`, `succeeded` or `failed` (for good).
    pub status: String,
    /// Attempts made so far.
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status on the last attempt.
    pub response_status: Option<i32>,
    /// The first 1 KB of the receiver's answer.
    pub response_body: Option<String>,
    pub latency_ms: Option<i32>,
    /// Why the last attempt failed (timeout, connection refused, status 500, …).
    pub error: Option<String>,
    /// The delivery this one replays.
    pub replay_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<webhook_delivery::Model> for DeliveryView {
    fn from(m: webhook_delivery::Model) -> Self {
        let waiting = m.status == "pending";
        Self {
            id: m.id,
            event_id: m.event_id,
            event_type: m.event_type,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: waiting.then_some(m.next_attempt_at),
            response_status: m.response_status,
            response_body: m.response_body,
            latency_ms: m.latency_ms,
            error: m.error,
            replay_of: m.replay_of,
            created_at: m.created_at,
            finished_at: m.finished_at,
        }
    }
}

/// The JSON body of a delivery.
pub fn envelope(
    id: Uuid,
    kind: &str,
    tenant_id: Uuid,
    created_at: DateTime<Utc>,
    data: serde_json::Value,
) -> ApiResult<String> {
    let envelope = Envelope { id, r#type: kind.to_owned(), version: events::VERSION, tenant_id, created_at, data };
    Ok(serde_json::to_string(&envelope).map_err(anyhow::Error::from)?)
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length: this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Queues one delivery to `endpoint` (a replay or a test) and wakes the dispatcher.
pub async fn queue(
    ctx: &AppContext,
    endpoint: &webhook_endpoint::Model,
    event_id: Uuid,
    kind: &str,
    body: String,
    dedupe: String,
    replay_of: Option<Uuid>,
) -> ApiResult<webhook_delivery::Model> {
    let active: webhook_delivery::ActiveModel = row(endpoint, event_id, kind, body, dedupe, replay_of).into();
    let saved = active.insert(&ctx.db).await?;
    ctx.signals.webhooks.notify_one();
    Ok(saved)
}

fn row(
    endpoint: &webhook_endpoint::Model,
    event_id: Uuid,
    kind: &str,
    body: String,
    dedupe: String,
    replay_of: Option<Uuid>,
) -> webhook_delivery::Model {
    let now = Utc::now();
    webhook_delivery::Model {
        id: Uuid::now_v7(),
        tenant_id: endpoint.tenant_id,
        endpoint_id: endpoint.id,
        event_id,
        event_type: kind.to_owned(),
        dedupe_key: dedupe,
        body,
        status: "pending".to_owned(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: None,
        response_status: None,
        response_body: None,
        latency_ms: None,
        error: None,
        replay_of,
        created_at: now,
        updated_at: now,
        finished_at: None,
    }
}

/// Starts the dispatcher: fan-out and sending, woken by new deliveries or every second.
pub fn spawn(ctx: Arc<AppContext>) {
    tokio::spawn(async move {
        loop {
            let busy = match round(&ctx).await {
                Ok(busy) => busy,
                Err(error) => {
                    tracing::warn!(%error, "webhook dispatch failed");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    () = ctx.signals.webhooks.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    });
}

/// One round: fan out new events, then send what is due. True when there may be more to do.
async fn round(ctx: &Arc<AppContext>) -> Result<bool, DbErr> {
    let fanned = fan_out(ctx).await?;
    let due = claim(ctx).await?;
    let sent = due.len();
    let mut tasks = tokio::task::JoinSet::new();
    for delivery in due {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            if let Err(error) = attempt(&ctx, delivery).await {
                tracing::warn!(%error, "recording a webhook attempt failed");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(fanned > 0 || sent > 0)
}

const BATCH: u64 = 50;

/// Turns undelivered outbox events into deliveries for the endpoints subscribed to them.
async fn fan_out(ctx: &AppContext) -> Result<usize, DbErr> {
    let pending = outbox_event::Entity::find()
        .filter(outbox_event::Column::DeliveredAt.is_null())
        .order_by_asc(outbox_event::Column::CreatedAt)
        .limit(BATCH)
        .all(&ctx.db)
        .await?;
    for event in &pending {
        let endpoints = in_tenant::<webhook_endpoint::Entity>(event.tenant_id)
            .filter(webhook_endpoint::Column::Active.eq(true))
            .all(&ctx.db)
            .await?;
        for endpoint in endpoints.iter().filter(|e| subscribed(e, &event.kind)) {
            let body = envelope(event.id, &event.kind, event.tenant_id, event.created_at, event.payload.clone())
                .map_err(|e| DbErr::Custom(format!("{e:?}")))?;
            // Two nodes fanning out the same event insert the same key: the second one is dropped.
            let dedupe = format!("{}:{}", endpoint.id, event.id);
            let active: webhook_delivery::ActiveModel = row(endpoint, event.id, &event.kind, body, dedupe, None).into();
            webhook_delivery::Entity::insert(active)
                .on_conflict(OnConflict::column(webhook_delivery::Column::DedupeKey).do_nothing().to_owned())
                .exec_without_returning(&ctx.db)
                .await?;
        }
        outbox_event::Entity::update_many()
            .col_expr(outbox_event::Column::DeliveredAt, Expr::value(Utc::now()))
            .filter(outbox_event::Column::Id.eq(event.id))
            .exec(&ctx.db)
            .await?;
    }
    Ok(pending.len())
}

fn subscribed(endpoint: &webhook_endpoint::Model, kind: &str) -> bool {
    let list: Vec<String> = serde_json::from_value(endpoint.events.clone()).unwrap_or_default();
    // Tests are sent only on request; `*` means every domain event.
    kind != "webhook.test" && list.iter().any(|e| e == "*" || e == kind)
}

/// A node that dies mid-attempt: its deliveries are taken over after this.
const LEASE_SECS: i64 = 120;

/// Takes due deliveries (pending and due, or sending with an expired lease) for this node.
async fn claim(ctx: &AppContext) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    let backend = ctx.db.get_database_backend();
    let lock = if backend == sea_orm::DatabaseBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let now = Utc::now();
    let sql = format!(
        "UPDATE webhook_deliveries SET status = 'sending', lease_until = $1, updated_at = $2 \
         WHERE id IN (SELECT id FROM webhook_deliveries \
           WHERE (status = 'pending' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until < $2) \
           ORDER BY next_attempt_at LIMIT {BATCH} {lock}) RETURNING *"
    );
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [(now + chrono::Duration::seconds(LEASE_SECS)).into(), now.into()],
    );
    webhook_delivery::Model::find_by_statement(statement).all(&ctx.db).await
}

/// The delay before retry `attempts` (1-based): base × 3^(n-1), capped at 8 h (scaled with the
/// base), ±20 % jitter so a receiver coming back is not hit by every retry at once.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 3f64.powi(i32::try_from(attempts.saturating_sub(1).min(20)).unwrap_or(20));
    let cap = base.as_secs_f64() * 2880.0;
    let delay = (base.as_secs_f64() * factor).min(cap);
    let jitter = rand::rng().random_range(0.8..1.2);
    Duration::from_secs_f64(delay * jitter)
}

struct Outcome {
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
    latency_ms: i32,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends one attempt and records its outcome.
async fn attempt(ctx: &AppContext, delivery: webhook_delivery::Model) -> Result<(), DbErr> {
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id).one(&ctx.db).await? else {
        return Ok(());
    };
    let outcome = send(ctx, &endpoint, &delivery).await;
    let attempts = delivery.attempts + 1;
    crate::platform::telemetry::metrics::webhook_delivery(if outcome.succeeded() { "succeeded" } else { "failed" });
    let now = Utc::now();
    let last = u32::try_from(attempts).unwrap_or(u32::MAX) >= ctx.settings.webhook_max_attempts;
    let status = match (outcome.succeeded(), last) {
        (true, _) => "succeeded",
        (false, true) => "failed",
        (false, false) => "pending",
    };
    let retry_in = backoff(ctx.settings.webhook_retry_base, u32::try_from(attempts).unwrap_or(1));
    let mut active: webhook_delivery::ActiveModel = delivery.clone().into();
    active.status = Set(status.to_owned());
    active.attempts = Set(attempts);
    active.lease_until = Set(None);
    active.response_status = Set(outcome.status.map(i32::from));
    active.response_body = Set(outcome.body.clone());
    active.latency_ms = Set(Some(outcome.latency_ms));
    active.error = Set(outcome.error.clone());
    active.updated_at = Set(now);
    if status == "pending" {
        active.next_attempt_at = Set(now + chrono::Duration::from_std(retry_in).unwrap_or_default());
    } else {
        active.finished_at = Set(Some(now));
    }
    active.update(&ctx.db).await?;

    let failures = if outcome.succeeded() { 0 } else { endpoint.consecutive_failures.saturating_add(1) };
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::ConsecutiveFailures, Expr::value(failures))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .exec(&ctx.db)
        .await?;
    if status == "failed" && endpoint.active && delivery.event_type != events::WebhookTestV1::TYPE {
        disable(ctx, &endpoint, attempts).await?;
    }
    Ok(())
}

async fn send(ctx: &AppContext, endpoint: &webhook_endpoint::Model, delivery: &webhook_delivery::Model) -> Outcome {
    let started = Instant::now();
    let failed = |error: String| Outcome {
        status: None,
        body: None,
        error: Some(error),
        latency_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
    };
    // Checked on every attempt: the name may resolve elsewhere by now (DNS rebinding).
    let url = match reqwest::Url::parse(&endpoint.url) {
        Ok(url) => url,
        Err(e) => return failed(format!("invalid URL: {e}")),
    };
    let address = match crate::engines::net::checked_address(&url, ctx.settings.allow_private_urls).await {
        Ok(address) => address,
        Err(e) => return failed(e.to_string()),
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ctx.settings.webhook_timeout)
        .user_agent(concat!("lectern-webhooks/", env!("CARGO_PKG_VERSION")))
        .resolve(url.host_str().unwrap_or_default(), address)
        .build()
    {
        Ok(client) => client,
        Err(e) => return failed(e.to_string()),
    };
    let timestamp = Utc::now().timestamp();
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Lectern-Event-Id", delivery.event_id.to_string())
        .header("Lectern-Event-Type", delivery.event_type.as_str())
        .header("Lectern-Delivery-Id", delivery.id.to_string())
        .header("Lectern-Signature", signature(&endpoint.secret, timestamp, &delivery.body))
        .body(delivery.body.clone())
        .send()
        .await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let body: String = text.chars().take(1024).collect();
            let error = (!(200..300).contains(&status)).then(|| format!("the receiver answered {status}"));
            Outcome { status: Some(status), body: Some(body), error, latency_ms }
        }
        Err(e) if e.is_timeout() => failed(format!("no answer within {} s", ctx.settings.webhook_timeout.as_secs())),
        Err(e) => failed(format!("could not connect: {e}")),
    }
}

/// Switches an endpoint off after a delivery ran out of attempts, and tells the tenant.
async fn disable(ctx: &AppContext, endpoint: &webhook_endpoint::Model, attempts: i32) -> Result<(), DbErr> {
    let reason = format!("a delivery failed {attempts} times in a row; fix the receiver and switch the endpoint on");
    let now = Utc::now();
    let updated = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Active, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledReason, Expr::value(reason.clone()))
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .filter(webhook_endpoint::Column::Active.eq(true))
        .exec(&ctx.db)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(());
    }
    tracing::warn!(endpoint = %endpoint.id, url = %endpoint.url, "webhook endpoint disabled after repeated failures");
    let actor = crate::services::audit::Actor {
        tenant_id: Some(endpoint.tenant_id),
        ..crate::services::audit::Actor::system()
    };
    let target = crate::services::audit::Target::new("webhook", endpoint.id);
    crate::services::audit::record(&ctx.db, &actor, "webhook.disable", target, serde_json::json!({ "reason": reason }))
        .await?;
    let event = events::WebhookDisabledV1 { endpoint_id: endpoint.id, url: endpoint.url.clone(), reason };
    events::emit(&ctx.db, endpoint.tenant_id, &event).await?;
    super::notify::endpoint_disabled(ctx, endpoint).await;
    Ok(())
}
