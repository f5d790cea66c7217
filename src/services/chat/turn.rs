//! One chat turn: check everything, store the question and a placeholder answer, then (in a
//! task, so a dropped connection does not lose the answer) retrieve, generate and stream typed
//! events, and store the answer with its citations and usage.

use std::time::Instant;

use chrono::Utc;
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{conversation, message};

use super::conversations::{self, Citation, ConversationPayload};
use super::events::{cited_numbers, ChatEvent, Usage};
use super::rewrite;
use super::verify::{self, Verification};
use super::{assistants, usage};
use crate::app::context::AppContext;
use crate::engines::llm::{self, ChatMessage, Delta, Generation, LlmError};
use crate::error::{ApiError, ApiResult};
use crate::services::billing::meter::{self, Operation};
use crate::services::billing::model_calls::{self, BilledCall, CallSpec, Pricing, Tokens};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;
use crate::services::search::prompt_context::{self as context_block, ContextSource};
use crate::services::search::{self, Mode, SearchRequest};

/// Tokens of retrieved passages a prompt may carry.
const SOURCES_BUDGET: usize = 3000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatRequest {
    /// Continue this conversation; omitted: start a new one.
    pub conversation_id: Option<Uuid>,
    pub message: String,
    /// Retrieve from these (default: the conversation's, else the assistant's).
    pub knowledge_bases: Option<Vec<Uuid>>,
    /// Use an assistant's instructions, model, knowledge bases and retrieval settings.
    pub assistant_id: Option<Uuid>,
    pub model: Option<String>,
    pub temperature: Option<f32>,
    /// Server-sent events (default) or one JSON answer.
    #[serde(default = "yes")]
    pub stream: bool,
}

fn yes() -> bool {
    true
}

/// What to answer and how: the parts of a turn shared by stored and public (visitor) turns.
pub struct Plan {
    pub tenant_id: Uuid,
    pub question: String,
    pub model: String,
    pub kb_ids: Vec<Uuid>,
    pub retrieval: assistants::Retrieval,
    /// The conversation so far, ending with the question.
    pub messages: Vec<ChatMessage>,
    pub temperature: Option<f32>,
}

/// Everything a stored turn needs, checked before anything streams.
struct Prepared {
    plan: Plan,
    /// The credits held for this turn, settled when it ends.
    call: BilledCall,
    conversation_id: Uuid,
    user_message_id: Uuid,
    message_id: Uuid,
}

/// A finished (or cancelled) answer.
pub struct Answer {
    pub text: String,
    pub cited: Vec<Citation>,
    pub cancelled: bool,
    pub usage: Usage,
    pub notice: Option<String>,
    pub verification: Option<Verification>,
}

pub struct Started {
    pub message_id: Uuid,
    pub events: mpsc::Receiver<ChatEvent>,
}

pub async fn start(ctx: Arc<AppContext>, principal: &Principal, request: ChatRequest) -> ApiResult<Started> {
    let prepared = prepare(&ctx, principal, request).await?;
    let message_id = prepared.message_id;
    let (tx, events) = mpsc::channel(256);
    let cancel = ctx.chat.turns.start(message_id);
    tokio::spawn(async move {
        run(&ctx, &prepared, &tx, cancel).await;
        ctx.chat.turns.finish(prepared.message_id);
    });
    Ok(Started { message_id, events })
}

async fn prepare(ctx: &AppContext, principal: &Principal, request: ChatRequest) -> ApiResult<Prepared> {
    let scope = principal.require(Permission::ChatUse)?;
    let tenant_id = scope.tenant_id;
    let question = check(&request)?;
    let created_here = request.conversation_id.is_none();
    let conversation = match request.conversation_id {
        Some(id) => conversations::find(ctx, principal, id).await?,
        None => {
            let created = conversations::create(
                ctx,
                principal,
                ConversationPayload {
                    title: Some(conversations::title_from(&question)),
                    knowledge_bases: request.knowledge_bases.clone().unwrap_or_default(),
                    assistant_id: request.assistant_id,
                    model: request.model.clone(),
                    ..Default::default()
                },
            )
            .await?;
            conversations::find(ctx, principal, created.id).await?
        }
    };
    let assistant = match request.assistant_id.or(conversation.assistant_id) {
        Some(id) => Some(assistants::find(ctx, tenant_id, id).await?),
        None => None,
    };
    let settings = assistant.as_ref().map(assistants::settings);
    let kb_ids = match &request.knowledge_bases {
        Some(named) => search::resolve_kbs(ctx, scope, Some(named)).await?,
        None => {
            let own: Vec<Uuid> = serde_json::from_value(conversation.knowledge_base_ids.clone()).unwrap_or_default();
            let remembered = if own.is_empty() {
                settings.as_ref().map(|s| s.knowledge_bases.clone()).unwrap_or_default()
            } else {
                own
            };
            search::still_readable(ctx, scope, &remembered).await?
        }
    };
    let model = request
        .model
        .or_else(|| conversation.model.clone())
        .or_else(|| settings.as_ref().and_then(|s| s.model.clone()))
        .unwrap_or_else(|| ctx.llm.default_model().to_owned());
    if !ctx.llm.knows(&model) {
        return Err(LlmError::UnknownModel(model).into());
    }
    let mut messages = Vec::new();
    let system = conversation.system_prompt.clone().or_else(|| settings.as_ref().map(|s| s.instructions.clone()));
    if let Some(system) = system.filter(|s| !s.trim().is_empty()) {
        messages.push(ChatMessage::new("system", system));
    }
    for m in conversations::history(ctx, conversation.id).await? {
        messages.push(ChatMessage::new(&m.role, m.content));
    }
    messages.push(ChatMessage::new("user", question.clone()));
    let pricing = Pricing::Generation { retrieved: !kb_ids.is_empty() };
    let held = match CallSpec::for_principal(principal, Operation::Chat, "chat", &model, pricing) {
        Ok(spec) => BilledCall::hold(ctx, spec, most_tokens(&messages, &kb_ids)).await,
        Err(e) => Err(e),
    };
    let call = match held {
        Ok(call) => call,
        Err(e) => {
            // Nothing of a refused turn stays behind.
            if created_here {
                conversation::Entity::delete_by_id(conversation.id).exec(&ctx.db).await?;
            }
            return Err(e);
        }
    };

    let (user_message_id, message_id) = store_question(ctx, &conversation, &question, &model).await?;
    Ok(Prepared {
        call,
        plan: Plan {
            tenant_id,
            question,
            model,
            kb_ids,
            retrieval: settings.map(|s| s.retrieval).unwrap_or_default(),
            messages,
            temperature: request.temperature.or_else(|| assistant.and_then(|a| a.temperature.map(|t| t as f32))),
        },
        conversation_id: conversation.id,
        user_message_id,
        message_id,
    })
}

/// The question, trimmed; a 400 naming the field when it or the temperature is out of range.
fn check(request: &ChatRequest) -> ApiResult<String> {
    let question = request.message.trim().to_owned();
    if question.is_empty() {
        return Err(ApiError::invalid_field("message", "must not be empty"));
    }
    if question.chars().count() > 32_000 {
        return Err(ApiError::invalid_field("message", "must be at most 32000 characters"));
    }
    if request.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(ApiError::invalid_field("temperature", "must be from 0 to 2"));
    }
    Ok(question)
}

/// Stores the question and a placeholder for the answer (status `streaming`), and touches the
/// conversation; returns their ids.
async fn store_question(
    ctx: &AppContext,
    conversation: &conversation::Model,
    question: &str,
    model: &str,
) -> ApiResult<(Uuid, Uuid)> {
    let (user_message_id, message_id) = (Uuid::now_v7(), Uuid::now_v7());
    let now = Utc::now();
    let row = |id: Uuid, role: &str, content: &str, status: &str| message::ActiveModel {
        id: Set(id),
        tenant_id: Set(conversation.tenant_id),
        conversation_id: Set(conversation.id),
        role: Set(role.to_owned()),
        content: Set(content.to_owned()),
        status: Set(status.to_owned()),
        citations: Set(serde_json::json!([])),
        verification: Set(None),
        model: Set((role == "assistant").then(|| model.to_owned())),
        prompt_tokens: Set(0),
        completion_tokens: Set(0),
        latency_ms: Set(0),
        feedback: Set(None),
        feedback_comment: Set(None),
        error: Set(None),
        created_at: Set(now),
    };
    let txn = ctx.db.begin().await?;
    row(user_message_id, "user", question, "complete").insert(&txn).await?;
    // One microsecond later, so ordering by time keeps question before answer.
    let mut answer = row(message_id, "assistant", "", "streaming");
    answer.created_at = Set(now + chrono::Duration::microseconds(1));
    answer.insert(&txn).await?;
    let mut touched: conversation::ActiveModel = conversation.clone().into();
    touched.updated_at = Set(now);
    touched.update(&txn).await?;
    txn.commit().await?;
    Ok((user_message_id, message_id))
}

async fn sources(ctx: &AppContext, p: &Plan, query: &str) -> ApiResult<(Vec<ContextSource>, u64)> {
    if p.kb_ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let request = SearchRequest {
        query: query.to_owned(),
        mode: p.retrieval.mode.unwrap_or(Mode::Hybrid),
        limit: Some(p.retrieval.top_k.unwrap_or(8)),
        min_score: p.retrieval.min_score,
        rerank: p.retrieval.rerank,
        ..Default::default()
    };
    let hits = search::retrieve(ctx, p.tenant_id, &p.kb_ids, &request).await?;
    let indexing = search::indexing(ctx, p.tenant_id, &p.kb_ids).await?;
    let mut block = context_block::build(&hits, SOURCES_BUDGET);
    if p.retrieval.expand_context.unwrap_or(true) {
        search::neighbours::expand(ctx, p.tenant_id, &mut block, SOURCES_BUDGET).await?;
    }
    Ok((block.sources, indexing))
}

/// What a stored answer keeps of a source it cites.
pub fn citation(source: &ContextSource) -> Citation {
    Citation {
        n: source.n,
        chunk_id: source.chunk_id,
        document_id: source.document_id,
        document_title: source.document_title.clone(),
        knowledge_base_id: source.knowledge_base_id,
        page: source.pages.first().copied(),
        snippet: source.snippet.clone(),
    }
}

/// Retrieves, generates and streams `indexing`, `token` and `citation` events until the model
/// finishes or the turn is cancelled.
pub async fn answer(
    ctx: &AppContext,
    p: &Plan,
    tx: &mpsc::Sender<ChatEvent>,
    cancel: &mut tokio::sync::watch::Receiver<bool>,
) -> ApiResult<Answer> {
    let send = |event: ChatEvent| async move {
        let _ = tx.send(event).await; // a closed connection does not stop the turn
    };
    let retrieval = match p.kb_ids.is_empty() {
        true => None,
        false => {
            let enabled = p.retrieval.rewrite_follow_ups.unwrap_or(true);
            Some(rewrite::retrieval_query(ctx, &p.model, &p.messages, enabled).await)
        }
    };
    if let Some(r) = &retrieval {
        send(ChatEvent::Retrieval { retrieval_query: r.query.clone(), rewrite: r.rewrite }).await;
    }
    let query = retrieval.as_ref().map_or(p.question.as_str(), |r| r.query.as_str());
    let (sources, indexing) = sources(ctx, p, query).await?;
    let notice = (indexing > 0)
        .then(|| format!("{indexing} document(s) are still being indexed; this answer may not include them."));
    if let Some(message) = &notice {
        send(ChatEvent::Indexing { documents: indexing, message: message.clone() }).await;
    }
    let generation = Generation {
        model: p.model.clone(),
        messages: p.messages.clone(),
        sources: sources.clone(),
        temperature: p.temperature,
        ..Default::default()
    };
    let mut stream = ctx.llm.generate(generation).await?;
    let (mut text, mut usage, mut cited, mut cancelled) = (String::new(), None, Vec::<Citation>::new(), false);
    loop {
        tokio::select! {
            changed = cancel.changed() => {
                if changed.is_err() || *cancel.borrow() {
                    cancelled = true;
                    break;
                }
            }
            delta = stream.next() => match delta {
                None => break,
                Some(Err(e)) => return Err(ApiError::from(e)),
                Some(Ok(Delta::Text(t))) => {
                    text.push_str(&t);
                    send(ChatEvent::Token { content: t }).await;
                    for n in cited_numbers(&text) {
                        if cited.iter().any(|c| c.n == n) {
                            continue;
                        }
                        if let Some(source) = sources.iter().find(|s| s.n == n) {
                            let c = citation(source);
                            send(ChatEvent::citation(&c)).await;
                            cited.push(c);
                        }
                    }
                }
                Some(Ok(Delta::Usage { prompt_tokens, completion_tokens })) => usage = Some((prompt_tokens, completion_tokens)),
                Some(Ok(Delta::Finish(_))) => {}
            }
        }
    }
    let (prompt_tokens, completion_tokens) = usage.unwrap_or_else(|| {
        let prompt: u32 = p.messages.iter().map(|m| llm::estimate_tokens(&m.content)).sum();
        (prompt, llm::estimate_tokens(&text))
    });
    // A model's rewrite of the retrieval query is part of the turn's cost.
    let (rewrite_prompt, rewrite_completion) = retrieval.as_ref().map_or((0, 0), |r| r.usage);
    let (prompt_tokens, completion_tokens) = (prompt_tokens + rewrite_prompt, completion_tokens + rewrite_completion);
    let verification =
        (!sources.is_empty() && !cancelled).then(|| verify::check(&text, &sources, p.model == llm::EXTRACTIVE));
    Ok(Answer { text, cited, cancelled, usage: Usage { prompt_tokens, completion_tokens }, notice, verification })
}

/// The most a turn can cost: the prompt, room for retrieved passages, a full answer.
pub fn most_tokens(messages: &[ChatMessage], kb_ids: &[Uuid]) -> Tokens {
    let prompt: u32 = messages.iter().map(|m| llm::estimate_tokens(&m.content)).sum();
    let context_budget = if kb_ids.is_empty() { 0 } else { 3000 };
    Tokens { prompt: prompt + context_budget, completion: meter::DEFAULT_COMPLETION_RESERVE }
}

/// The turn's usage as billed tokens.
pub fn tokens(usage: &Usage) -> Tokens {
    Tokens { prompt: usage.prompt_tokens, completion: usage.completion_tokens }
}

async fn run(
    ctx: &AppContext,
    p: &Prepared,
    tx: &mpsc::Sender<ChatEvent>,
    mut cancel: tokio::sync::watch::Receiver<bool>,
) {
    let send = |event: ChatEvent| async move {
        let _ = tx.send(event).await;
    };
    send(ChatEvent::Start {
        conversation_id: Some(p.conversation_id),
        user_message_id: Some(p.user_message_id),
        message_id: p.message_id,
        model: p.plan.model.clone(),
    })
    .await;
    let started = Instant::now();
    let outcome = answer(ctx, &p.plan, tx, &mut cancel).await;
    let cost_micros = match &outcome {
        Ok(answer) => p.call.settle(ctx, tokens(&answer.usage)).await,
        Err(_) => {
            p.call.release(ctx).await;
            0
        }
    };
    let latency_ms = model_calls::elapsed_ms(started);
    let clamp = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    match outcome {
        Ok(answer) => {
            let status = if answer.cancelled { "cancelled" } else { "complete" };
            let stored = message::ActiveModel {
                id: Set(p.message_id),
                content: Set(answer.text),
                status: Set(status.to_owned()),
                citations: Set(serde_json::to_value(&answer.cited).unwrap_or_default()),
                verification: Set(answer.verification.as_ref().and_then(|v| serde_json::to_value(v).ok())),
                prompt_tokens: Set(clamp(answer.usage.prompt_tokens.into())),
                completion_tokens: Set(clamp(answer.usage.completion_tokens.into())),
                latency_ms: Set(clamp(latency_ms)),
                ..Default::default()
            };
            let saved = async {
                let txn = ctx.db.begin().await?;
                message::Entity::update(stored).exec(&txn).await?;
                p.call.record_usage(&txn, tokens(&answer.usage), latency_ms).await?;
                txn.commit().await
            }
            .await;
            if let Err(error) = saved {
                tracing::error!(%error, message_id = %p.message_id, "storing a chat answer failed");
                let message = "the answer could not be stored".to_owned();
                send(ChatEvent::Error { code: "INTERNAL_ERROR".into(), message }).await;
                return;
            }
            send(ChatEvent::Done {
                message_id: p.message_id,
                status: status.to_owned(),
                usage: answer.usage,
                cost: cost_micros as f64 / 1_000_000.0,
                latency_ms,
                model: p.plan.model.clone(),
                notice: answer.notice,
                verification: answer.verification,
            })
            .await;
        }
        Err(error) => {
            let (message, _) = error.public_parts();
            let failed = message::ActiveModel {
                id: Set(p.message_id),
                status: Set("failed".to_owned()),
                error: Set(Some(message.clone())),
                latency_ms: Set(clamp(latency_ms)),
                ..Default::default()
            };
            if let Err(e) = message::Entity::update(failed).exec(&ctx.db).await {
                tracing::error!(error = %e, "recording a failed chat turn failed");
            }
            send(ChatEvent::Error { code: error.code().as_str().to_owned(), message }).await;
        }
    }
}

/// Asks an upstream model for a short title; None for the extractive model or on failure.
pub async fn ask_for_title(
    ctx: &AppContext,
    principal: &Principal,
    model: &str,
    history: &[message::Model],
) -> Option<String> {
    if model == llm::EXTRACTIVE {
        return None;
    }
    let mut messages = vec![ChatMessage::new(
        "system",
        "Write a title of at most six words for this conversation. Answer with the title only.",
    )];
    messages.extend(history.iter().take(2).map(|m| ChatMessage::new(&m.role, m.content.clone())));
    let started = Instant::now();
    let generation = Generation { model: model.to_owned(), messages, max_tokens: Some(24), ..Default::default() };
    let collected = llm::collect(ctx.llm.generate(generation).await.ok()?).await.ok()?;
    let (prompt_tokens, completion_tokens) = collected.usage.unwrap_or((0, llm::estimate_tokens(&collected.text)));
    let tenant_id = principal.tenant.as_ref()?.tenant_id;
    let call = usage::Call {
        tenant_id,
        actor: usage::actor(principal),
        operation: "title",
        model,
        prompt_tokens,
        completion_tokens,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    if let Err(error) = usage::record(&ctx.db, call).await {
        tracing::warn!(%error, "recording title usage failed");
    }
    let title = collected.text.trim().trim_matches(['"', '\'', '.']).trim().to_owned();
    (!title.is_empty()).then(|| title.chars().take(120).collect())
}
