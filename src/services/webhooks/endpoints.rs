//! Webhook endpoints of a tenant: create (the secret is shown once), list, change, rotate the
//! secret, delete; their deliveries, replays and test pings.

use chrono::Utc;
use rand::RngCore;
use reqwest::Url;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{webhook_delivery, webhook_endpoint};

use super::deliveries;
use super::events::{self, Event};
use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// Subscribed event types; `*` = every type.
    pub events: Vec<String>,
    pub active: bool,
    /// Why it was switched off automatically, if it was.
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
    /// The signing secret: only in the answer to a create or a rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<webhook_endpoint::Model> for EndpointView {
    fn from(m: webhook_endpoint::Model) -> Self {
        Self {
            id: m.id,
            url: m.url,
            description: m.description,
            events: serde_json::from_value(m.events).unwrap_or_default(),
            active: m.active,
            disabled_reason: m.disabled_reason,
            consecutive_failures: m.consecutive_failures,
            created_at: m.created_at,
            updated_at: m.updated_at,
            secret: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// `true` switches a disabled endpoint back on (and clears its failure count).
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    pub r#type: &'static str,
    pub description: &'static str,
    pub version: u32,
    /// The payload's schema in the OpenAPI document (`components.schemas`).
    pub schema: &'static str,
}

pub fn event_types() -> Vec<EventType> {
    events::TYPES
        .iter()
        .map(|(t, d, s)| EventType { r#type: t, description: d, version: events::VERSION, schema: s })
        .collect()
}

fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// An http(s) URL whose host resolves to public addresses only (unless private URLs are allowed).
pub async fn check_url(ctx: &AppContext, raw: &str) -> ApiResult<String> {
    let url = Url::parse(raw.trim()).map_err(|e| ApiError::invalid_field("url", format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || raw.len() > 2000 {
        return Err(ApiError::invalid_field("url", "must be an http:// or https:// URL"));
    }
    crate::engines::net::checked_address(&url, ctx.settings.allow_private_urls).await?;
    Ok(url.to_string())
}

fn check_events(list: &[String]) -> ApiResult<serde_json::Value> {
    if list.is_empty() {
        return Err(ApiError::invalid_field("events", "subscribe to at least one event type (or `*`)"));
    }
    if let Some(unknown) = list.iter().find(|e| *e != "*" && !events::is_known(e)) {
        return Err(ApiError::invalid_field(
            "events",
            format!("`{unknown}` is not an event type; see GET /v1/webhooks/event-types"),
        ));
    }
    let mut sorted = list.to_vec();
    sorted.sort();
    sorted.dedup();
    Ok(json!(sorted))
}

fn description(text: Option<String>) -> ApiResult<Option<String>> {
    match text.map(|t| t.trim().to_owned()) {
        Some(t) if t.chars().count() > 500 => Err(ApiError::invalid_field("description", "at most 500 characters")),
        Some(t) if t.is_empty() => Ok(None),
        other => Ok(other),
    }
}

pub async fn create(ctx: &AppContext, principal: &Principal, new: NewEndpoint) -> ApiResult<EndpointView> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    let events = check_events(&new.events)?;
    let url = check_url(ctx, &new.url).await?;
    let now = Utc::now();
    let secret = new_secret();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let model = webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        url: Set(url.clone()),
        description: Set(description(new.description)?),
        events: Set(events.clone()),
        secret: Set(secret.clone()),
        active: Set(true),
        disabled_reason: Set(None),
        consecutive_failures: Set(0),
        created_by: Set(principal.actor().id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let details = json!({ "url": url, "events": events });
    audit::record(&txn, &principal.actor(), "webhook.create", Target::new("webhook", model.id), details).await?;
    txn.commit().await?;
    Ok(EndpointView { secret: Some(secret), ..model.into() })
}

pub async fn find(ctx: &AppContext, tenant_id: Uuid, id: Uuid) -> ApiResult<webhook_endpoint::Model> {
    by_id_in_tenant::<webhook_endpoint::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<EndpointView>> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    let sort = params.sort_or(&["createdAt", "url"], Sort::desc("createdAt"))?;
    let column = if sort.field == "url" { webhook_endpoint::Column::Url } else { webhook_endpoint::Column::CreatedAt };
    let select = in_tenant::<webhook_endpoint::Entity>(tenant_id);
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(EndpointView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<EndpointView> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    Ok(find(ctx, tenant_id, id).await?.into())
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    patch: EndpointPatch,
) -> ApiResult<EndpointView> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    let current = find(ctx, tenant_id, id).await?;
    let mut active: webhook_endpoint::ActiveModel = current.into();
    if let Some(url) = &patch.url {
        active.url = Set(check_url(ctx, url).await?);
    }
    if let Some(list) = &patch.events {
        active.events = Set(check_events(list)?);
    }
    if patch.description.is_some() {
        active.description = Set(description(patch.description.clone())?);
    }
    if let Some(on) = patch.active {
        active.active = Set(on);
        if on {
            active.disabled_reason = Set(None);
            active.consecutive_failures = Set(0);
        }
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    let details = json!({ "url": patch.url, "events": patch.events, "active": patch.active });
    audit::record(&txn, &principal.actor(), "webhook.update", Target::new("webhook", id), details).await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn rotate_secret(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<EndpointView> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    let current = find(ctx, tenant_id, id).await?;
    let secret = new_secret();
    let mut active: webhook_endpoint::ActiveModel = current.into();
    active.secret = Set(secret.clone());
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "webhook.rotate_secret", Target::new("webhook", id), json!({})).await?;
    txn.commit().await?;
    Ok(EndpointView { secret: Some(secret), ..saved.into() })
}

pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    let current = find(ctx, tenant_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::EndpointId.eq(id)).exec(&txn).await?;
    webhook_endpoint::Entity::delete_by_id(id).exec(&txn).await?;
    let details = json!({ "url": current.url });
    audit::record(&txn, &principal.actor(), "webhook.delete", Target::new("webhook", id), details).await?;
    txn.commit().await?;
    Ok(())
}

/// Queues a `webhook.test` event to this endpoint alone (also when it is disabled).
pub async fn test(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<deliveries::DeliveryView> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    let endpoint = find(ctx, tenant_id, id).await?;
    let event = events::WebhookTestV1 { endpoint_id: id, message: "This is a test event from Lectern.".to_owned() };
    let data = serde_json::to_value(&event).map_err(anyhow::Error::from)?;
    let event_id = Uuid::now_v7();
    let body = deliveries::envelope(event_id, events::WebhookTestV1::TYPE, tenant_id, Utc::now(), data)?;
    let queued =
        deliveries::queue(ctx, &endpoint, event_id, events::WebhookTestV1::TYPE, body, event_id.to_string(), None)
            .await?;
    audit::record(&ctx.db, &principal.actor(), "webhook.test", Target::new("webhook", id), json!({})).await?;
    Ok(queued.into())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryFilter {
    /// `pending`, `sending`, `succeeded` or `failed`.
    pub status: Option<String>,
    pub event_type: Option<String>,
}

pub async fn deliveries(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    filter: &DeliveryFilter,
    params: &ListParams,
) -> ApiResult<Page<deliveries::DeliveryView>> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    find(ctx, tenant_id, id).await?;
    params.sort_or(&["createdAt"], Sort::desc("createdAt"))?;
    let mut select =
        in_tenant::<webhook_delivery::Entity>(tenant_id).filter(webhook_delivery::Column::EndpointId.eq(id));
    if let Some(status) = &filter.status {
        if !["pending", "sending", "succeeded", "failed"].contains(&status.as_str()) {
            return Err(ApiError::invalid_field("status", "one of pending, sending, succeeded, failed"));
        }
        select = select.filter(webhook_delivery::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = &filter.event_type {
        select = select.filter(webhook_delivery::Column::EventType.eq(kind.as_str()));
    }
    let order = params.sort.as_ref().map_or(sea_orm::Order::Desc, |s| s.order());
    let page = fetch_page(&ctx.db, select, params, Some((webhook_delivery::Column::Id, order))).await?;
    Ok(page.map(deliveries::DeliveryView::from))
}

/// Sends a delivery's event again, as a new delivery with the same event id and body.
pub async fn replay(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    delivery_id: Uuid,
) -> ApiResult<deliveries::DeliveryView> {
    let tenant_id = principal.require(Permission::WebhooksManage)?.tenant_id;
    let endpoint = find(ctx, tenant_id, id).await?;
    let original = by_id_in_tenant::<webhook_delivery::Entity>(tenant_id, delivery_id)
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    let queued = deliveries::queue(
        ctx,
        &endpoint,
        original.event_id,
        &original.event_type,
        original.body.clone(),
        Uuid::now_v7().to_string(),
        Some(original.id),
    )
    .await?;
    let details = json!({ "delivery": delivery_id, "eventId": original.event_id });
    audit::record(&ctx.db, &principal.actor(), "webhook.replay", Target::new("webhook", id), details).await?;
    Ok(queued.into())
}
