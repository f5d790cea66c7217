//! Public assistants: a site's visitors chat with an assistant the site published, without an
//! account. Answers come only from the assistant's public knowledge bases, are rate-limited
//! per IP and metered to the tenant; visitor turns are not stored as conversations.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{assistant, knowledge_base, site};

use super::events::ChatEvent;
use super::turn::{self, Plan};
use crate::app::context::AppContext;
use crate::engines::llm::ChatMessage;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::billing::meter;
use crate::services::billing::model_calls::{self, BilledCall, CallSpec, Pricing};

/// Turns per visitor IP and minute.
pub struct VisitorLimiter(DefaultKeyedRateLimiter<String>);

impl VisitorLimiter {
    pub fn per_minute(turns: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(turns).unwrap_or(NonZeroU32::MIN));
        Self(RateLimiter::keyed(quota))
    }

    pub fn per_hour(requests: u32) -> Self {
        let quota = Quota::per_hour(NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN));
        Self(RateLimiter::keyed(quota))
    }

    /// Counts one request from `ip`; a 429 with `message` and `retryAfter` when over the quota.
    pub fn check(&self, ip: &str, message: &str) -> ApiResult<()> {
        // One entry per address seen: forget the idle ones before the map grows large.
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&ip.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            let seconds = wait.as_secs().max(1);
            ApiError::new(ErrorCode::RateLimitExceeded, message)
                .with_details(serde_json::json!({"retryAfter": seconds}))
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisitorChat {
    pub message: String,
    /// Earlier turns the visitor's page kept (at most 20), oldest first.
    #[serde(default)]
    pub history: Vec<ChatMessage>,
}

const MAX_HISTORY: usize = 20;

pub async fn start(
    ctx: Arc<AppContext>,
    site_id: Uuid,
    assistant_id: Uuid,
    ip: Option<String>,
    request: VisitorChat,
) -> ApiResult<mpsc::Receiver<ChatEvent>> {
    let (plan, call) = plan_turn(&ctx, site_id, assistant_id, ip, request).await?;
    let (tx, events) = mpsc::channel(256);
    tokio::spawn(answer(ctx, plan, call, tx));
    Ok(events)
}

/// Checks a visitor's question against the published assistant, and holds the credits the
/// site's tenant pays for it.
async fn plan_turn(
    ctx: &AppContext,
    site_id: Uuid,
    assistant_id: Uuid,
    ip: Option<String>,
    request: VisitorChat,
) -> ApiResult<(Plan, BilledCall)> {
    let published = assistant::Entity::find_by_id(assistant_id)
        .filter(assistant::Column::PublicSiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("assistant"))?;
    by_id_in_tenant::<site::Entity>(published.tenant_id, site_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("assistant"))?;
    ctx.chat
        .visitors
        .check(ip.as_deref().unwrap_or("unknown"), "too many questions from this address; try again shortly")?;
    let question = request.message.trim().to_owned();
    if question.is_empty() || question.chars().count() > 4000 {
        return Err(ApiError::invalid_field("message", "must be 1 to 4000 characters"));
    }
    if request.history.len() > MAX_HISTORY
        || request
            .history
            .iter()
            .any(|m| !matches!(m.role.as_str(), "user" | "assistant") || m.content.chars().count() > 8000)
    {
        return Err(ApiError::invalid_field("history", "at most 20 user or assistant messages of 8000 characters"));
    }
    let settings = super::assistants::settings(&published);
    // Only knowledge bases published to the public.
    let kb_ids: Vec<Uuid> = if settings.knowledge_bases.is_empty() {
        Vec::new()
    } else {
        in_tenant::<knowledge_base::Entity>(published.tenant_id)
            .filter(knowledge_base::Column::Id.is_in(settings.knowledge_bases.clone()))
            .filter(knowledge_base::Column::Visibility.eq("public"))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|kb| kb.id)
            .collect()
    };
    let model =
        settings.model.clone().filter(|m| ctx.llm.knows(m)).unwrap_or_else(|| ctx.llm.default_model().to_owned());
    let mut messages = Vec::new();
    if !settings.instructions.trim().is_empty() {
        messages.push(ChatMessage::new("system", settings.instructions.clone()));
    }
    messages.extend(request.history);
    messages.push(ChatMessage::new("user", question.clone()));
    // The site's tenant pays for its visitors' questions: refused (402) when it cannot.
    let spec = CallSpec {
        payer: meter::Payer::visitors_of(published.tenant_id, site_id),
        actor: format!("public:{site_id}"),
        operation: meter::Operation::Chat,
        usage_operation: "chat",
        model: model.clone(),
        pricing: Pricing::Generation { retrieved: !kb_ids.is_empty() },
    };
    let call = BilledCall::hold(ctx, spec, turn::most_tokens(&messages, &kb_ids)).await?;
    let plan = Plan {
        tenant_id: published.tenant_id,
        question,
        model,
        kb_ids,
        retrieval: settings.retrieval,
        messages,
        temperature: published.temperature.map(|t| t as f32),
    };
    Ok((plan, call))
}

/// Answers in a task of its own, so a dropped connection does not lose the settlement.
async fn answer(ctx: Arc<AppContext>, plan: Plan, call: BilledCall, tx: mpsc::Sender<ChatEvent>) {
    // Visitors cannot cancel; the sender lives as long as the turn.
    let (_keep, mut cancel) = tokio::sync::watch::channel(false);
    let message_id = Uuid::now_v7();
    let _ = tx
        .send(ChatEvent::Start { conversation_id: None, user_message_id: None, message_id, model: plan.model.clone() })
        .await;
    let started = std::time::Instant::now();
    let outcome = turn::answer(&ctx, &plan, &tx, &mut cancel).await;
    let cost = match &outcome {
        Ok(answer) => call.settle(&ctx, turn::tokens(&answer.usage)).await,
        Err(_) => {
            call.release(&ctx).await;
            0
        }
    };
    let event = match outcome {
        Ok(answer) => {
            let latency_ms = model_calls::elapsed_ms(started);
            if let Err(error) = call.record_usage(&ctx.db, turn::tokens(&answer.usage), latency_ms).await {
                tracing::error!(%error, "recording public chat usage failed");
            }
            ChatEvent::Done {
                message_id,
                status: "complete".to_owned(),
                usage: answer.usage,
                cost: cost as f64 / 1_000_000.0,
                latency_ms,
                model: plan.model.clone(),
                notice: answer.notice,
                verification: answer.verification,
            }
        }
        Err(error) => ChatEvent::Error { code: error.code().as_str().to_owned(), message: error.public_parts().0 },
    };
    let _ = tx.send(event).await;
}
