//! Public assistants: a site's visitors chat with an assistant the site published, without an
//! account. Answers come only from the assistant's public knowledge bases, are rate-limited
//! per IP and metered to the tenant; visitor turns are not stored as conversations.

use std::num::NonZeroU32;

use actix_web::web::Data;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{assistant, knowledge_base, site};

use super::events::ChatEvent;
use super::turn::{self, Plan};
use crate::billing::meter;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::llm::ChatMessage;

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
    ctx: Data<AppContext>,
    site_id: Uuid,
    assistant_id: Uuid,
    ip: Option<String>,
    request: VisitorChat,
) -> ApiResult<mpsc::Receiver<ChatEvent>> {
    let published = assistant::Entity::find_by_id(assistant_id)
        .filter(assistant::Column::PublicSiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("assistant"))?;
    site::Entity::find_by_id(site_id)
        .filter(site::Column::TenantId.eq(published.tenant_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("assistant"))?;
    ctx.visitors
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
        knowledge_base::Entity::find()
            .filter(knowledge_base::Column::TenantId.eq(published.tenant_id))
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
    let prompt: u32 = messages.iter().map(|m| crate::llm::estimate_tokens(&m.content)).sum();
    let context_budget = if kb_ids.is_empty() { 0 } else { 3000 };
    let estimate =
        meter::model_call(prompt + context_budget, meter::DEFAULT_COMPLETION_RESERVE, i64::from(!kb_ids.is_empty()));
    let payer = meter::Payer::visitors_of(published.tenant_id, site_id);
    let reservation =
        meter::reserve_for(&ctx, payer, Uuid::now_v7(), meter::Operation::Chat, Some(&model), &estimate).await?;
    let plan = Plan {
        tenant_id: published.tenant_id,
        actor: format!("public:{site_id}"),
        question,
        model,
        kb_ids,
        retrieval: settings.retrieval,
        messages,
        temperature: published.temperature.map(|t| t as f32),
    };
    let (tx, events) = mpsc::channel(256);
    tokio::spawn(async move {
        // Visitors cannot cancel; the sender lives as long as the turn.
        let (_keep, mut cancel) = tokio::sync::watch::channel(false);
        let message_id = Uuid::now_v7();
        let _ = tx
            .send(ChatEvent::Start {
                conversation_id: None,
                user_message_id: None,
                message_id,
                model: plan.model.clone(),
            })
            .await;
        let started = std::time::Instant::now();
        let outcome = turn::answer(&ctx, &plan, &tx, &mut cancel).await;
        let used = match &outcome {
            Ok(answer) => meter::model_call(
                answer.usage.prompt_tokens,
                answer.usage.completion_tokens,
                i64::from(!plan.kb_ids.is_empty()),
            ),
            Err(_) => Default::default(),
        };
        let cost = meter::settle(&ctx, &reservation, &used).await;
        let event = match outcome {
            Ok(answer) => {
                let latency_ms = turn::elapsed_ms(started);
                if let Err(error) = turn::record_usage(&ctx.db, &plan, &answer.usage, latency_ms).await {
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
                }
            }
            Err(error) => ChatEvent::Error { code: error.code().as_str().to_owned(), message: error.public_parts().0 },
        };
        let _ = tx.send(event).await;
    });
    Ok(events)
}
