//! The OpenAI-compatible surface: `/v1/models`, `/v1/chat/completions`, `/v1/completions`,
//! `/v1/embeddings` (and `/v1/providers` for admins). Errors on these paths use OpenAI's error
//! object (see the request-context middleware), so SDKs surface them.

use std::time::Instant;

use actix_web::web::{self, Data};
use actix_web::HttpResponse;
use base64::Engine as _;
use futures_util::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::billing::meter::{self, Operation};
use crate::chat::completions::{self, ChatCompletionRequest, CompletionRequest, EmbeddingRequest, Prepared};
use crate::chat::events::cited_numbers;
use crate::chat::usage;
use crate::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::Json;
use crate::http::principal::Require;
use crate::identity::permissions::require::{ChatUse, TenantManage};
use crate::identity::Principal;
use crate::llm::{self, Delta};

/// Paths answered with OpenAI's error object.
pub const OPENAI_PATHS: [&str; 4] = ["/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/models").route(web::get().to(list_models)))
        .service(web::resource("/v1/providers").route(web::get().to(list_llm_providers)))
        .service(web::resource("/v1/chat/completions").route(web::post().to(chat_completions)))
        .service(web::resource("/v1/completions").route(web::post().to(text_completions)))
        .service(web::resource("/v1/embeddings").route(web::post().to(embeddings)));
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Every model: the built-in extractive one, each upstream's, and the embedding model.
#[utoipa::path(get, path = "/v1/models", tag = "openai", security(("bearer" = [])),
    responses((status = 200, description = "OpenAI model list, with `provider` and `capabilities` on each")))]
pub async fn list_models(ctx: Data<AppContext>, Require(_who, _): Require<ChatUse>) -> HttpResponse {
    let mut data: Vec<Value> = ctx
        .llm
        .models()
        .into_iter()
        .map(|m| json!({"id": m.id, "object": "model", "created": 0, "owned_by": m.provider, "provider": m.provider, "capabilities": m.capabilities}))
        .collect();
    let embedding = &ctx.settings.embedding_model;
    data.push(json!({"id": embedding, "object": "model", "created": 0, "owned_by": "lectern", "provider": "lectern", "capabilities": ["embeddings"]}));
    HttpResponse::Ok().json(json!({"object": "list", "data": data}))
}

/// The configured upstreams (without their keys).
#[utoipa::path(get, path = "/v1/providers", tag = "openai", security(("bearer" = [])),
    responses((status = 200, description = "Providers with base URL, models and timeout"), (status = 403, body = ErrorBody)))]
pub async fn list_llm_providers(ctx: Data<AppContext>, Require(_who, _): Require<TenantManage>) -> HttpResponse {
    let mut data = vec![
        json!({"name": "lectern", "baseUrl": null, "models": [llm::EXTRACTIVE], "timeoutSecs": null, "hasApiKey": false}),
    ];
    data.extend(ctx.llm.providers().iter().map(|p| {
        json!({"name": p.name, "baseUrl": p.base_url, "models": p.models, "timeoutSecs": p.timeout.as_secs(), "hasApiKey": p.api_key.is_some()})
    }));
    HttpResponse::Ok().json(json!({"data": data, "defaultModel": ctx.llm.default_model()}))
}

/// The citations the text refers to, for the response's metadata.
fn cited(prepared: &Prepared, text: &str) -> Vec<Value> {
    cited_numbers(text)
        .into_iter()
        .filter_map(|n| prepared.citations.iter().find(|c| c.n == n))
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect()
}

async fn record(
    ctx: &AppContext,
    who: &Principal,
    prepared: &Prepared,
    reservation: &meter::Reservation,
    operation: &str,
    usage: (u32, u32),
    started: Instant,
) {
    let searches = i64::from(!prepared.generation.sources.is_empty());
    meter::settle(ctx, reservation, &meter::model_call(usage.0, usage.1, searches)).await;
    let call = usage::Call {
        tenant_id: prepared.tenant_id,
        actor: usage::actor(who),
        operation,
        model: &prepared.generation.model,
        prompt_tokens: usage.0,
        completion_tokens: usage.1,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    if let Err(error) = usage::record(&ctx.db, call).await {
        tracing::error!(%error, "recording model usage failed");
    }
}

fn usage_json((prompt, completion): (u32, u32)) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn estimate(prepared: &Prepared, text: &str) -> (u32, u32) {
    let prompt: u32 = prepared.generation.messages.iter().map(|m| llm::estimate_tokens(&m.content)).sum::<u32>()
        + prepared.generation.sources.iter().map(|s| llm::estimate_tokens(&s.text)).sum::<u32>();
    (prompt, llm::estimate_tokens(text))
}

/// Runs a prepared generation: one JSON body, or OpenAI-style `data:` chunks ending in `[DONE]`.
async fn respond(
    ctx: Data<AppContext>,
    who: Principal,
    prepared: Prepared,
    chat: bool,
    stream: bool,
    include_usage: bool,
) -> ApiResult<HttpResponse> {
    let started = Instant::now();
    let id = format!("{}-{}", if chat { "chatcmpl" } else { "cmpl" }, Uuid::now_v7().simple());
    let model = prepared.generation.model.clone();
    let (prompt, _) = estimate(&prepared, "");
    let max_completion = prepared.generation.max_tokens.unwrap_or(meter::DEFAULT_COMPLETION_RESERVE);
    let searches = i64::from(!prepared.generation.sources.is_empty());
    let held = meter::model_call(prompt, max_completion, searches);
    let reservation =
        meter::reserve(&ctx, &who, if chat { Operation::Chat } else { Operation::Completion }, Some(&model), &held)
            .await?;
    let deltas = match ctx.llm.generate(prepared.generation.clone()).await {
        Ok(deltas) => deltas,
        Err(e) => {
            meter::settle(&ctx, &reservation, &Default::default()).await;
            return Err(e.into());
        }
    };
    let (object, chunk_object) =
        if chat { ("chat.completion", "chat.completion.chunk") } else { ("text_completion", "text_completion") };
    if !stream {
        let collected = llm::collect(deltas).await?;
        let usage = collected.usage.unwrap_or_else(|| estimate(&prepared, &collected.text));
        record(
            &ctx,
            &who,
            &prepared,
            &reservation,
            if chat { "chat.completions" } else { "completions" },
            usage,
            started,
        )
        .await;
        let citations = cited(&prepared, &collected.text);
        let finish = collected.finish_reason.unwrap_or_else(|| "stop".to_owned());
        let choice = if chat {
            json!({"index": 0, "message": {"role": "assistant", "content": collected.text, "metadata": {"citations": citations}}, "finish_reason": finish, "logprobs": null})
        } else {
            json!({"index": 0, "text": collected.text, "finish_reason": finish, "logprobs": null})
        };
        return Ok(HttpResponse::Ok().json(json!({
            "id": id, "object": object, "created": now(), "model": model,
            "choices": [choice], "usage": usage_json(usage), "citations": citations,
        })));
    }
    let usage_id = id.clone();
    let chunk = move |delta: Value, finish: Option<&str>, extra: Option<Value>| {
        let choice = if chat {
            json!({"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null})
        } else {
            json!({"index": 0, "text": delta.get("content").cloned().unwrap_or(json!("")), "finish_reason": finish, "logprobs": null})
        };
        let mut body = json!({"id": id, "object": chunk_object, "created": now(), "model": model, "choices": [choice]});
        if let Some(extra) = extra {
            if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
                body.extend(extra.clone());
            }
        }
        web::Bytes::from(format!("data: {body}\n\n"))
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<web::Bytes>(64);
    tokio::spawn(async move {
        let mut deltas = deltas;
        let (mut text, mut usage, mut finish) = (String::new(), None, None);
        let _ = tx.send(chunk(json!({"role": "assistant", "content": ""}), None, None)).await;
        while let Some(delta) = deltas.next().await {
            match delta {
                Ok(Delta::Text(t)) => {
                    text.push_str(&t);
                    let _ = tx.send(chunk(json!({"content": t}), None, None)).await;
                }
                Ok(Delta::Usage { prompt_tokens, completion_tokens }) => {
                    usage = Some((prompt_tokens, completion_tokens))
                }
                Ok(Delta::Finish(reason)) => finish = Some(reason),
                Err(error) => {
                    let body = json!({"error": {"message": error.to_string(), "type": "server_error", "param": null, "code": "upstream_error"}});
                    let _ = tx.send(web::Bytes::from(format!("data: {body}\n\n"))).await;
                    break;
                }
            }
        }
        let usage = usage.unwrap_or_else(|| estimate(&prepared, &text));
        let citations = cited(&prepared, &text);
        let finish = finish.unwrap_or_else(|| "stop".to_owned());
        let _ = tx.send(chunk(json!({}), Some(&finish), Some(json!({"citations": citations})))).await;
        if include_usage {
            let body = json!({"id": usage_id, "object": chunk_object, "created": now(), "model": prepared.generation.model, "choices": [], "usage": usage_json(usage)});
            let _ = tx.send(web::Bytes::from(format!("data: {body}\n\n"))).await;
        }
        let _ = tx.send(web::Bytes::from_static(b"data: [DONE]\n\n")).await;
        record(
            &ctx,
            &who,
            &prepared,
            &reservation,
            if chat { "chat.completions" } else { "completions" },
            usage,
            started,
        )
        .await;
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// OpenAI chat completions, streamed or not. Extensions: `knowledge_base` (an id or a list)
/// makes it a RAG call with `citations` in the message metadata; `assistant` names an assistant.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai", security(("bearer" = [])),
    responses((status = 200, description = "chat.completion, or chat.completion.chunk events"), (status = 400, description = "OpenAI error object")))]
pub async fn chat_completions(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    Json(request): Json<ChatCompletionRequest>,
) -> ApiResult<HttpResponse> {
    let (stream, include_usage) = (request.stream, request.stream_options.as_ref().is_some_and(|o| o.include_usage));
    let prepared = completions::prepare_chat(&ctx, &who, request).await?;
    respond(ctx, who, prepared, true, stream, include_usage).await
}

/// OpenAI legacy completions: the prompt is answered as one user message.
#[utoipa::path(post, path = "/v1/completions", tag = "openai", security(("bearer" = [])),
    responses((status = 200, description = "text_completion"), (status = 400, description = "OpenAI error object")))]
pub async fn text_completions(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    Json(request): Json<CompletionRequest>,
) -> ApiResult<HttpResponse> {
    let (stream, include_usage) = (request.stream, request.stream_options.as_ref().is_some_and(|o| o.include_usage));
    let prepared = completions::prepare_completion(&ctx, &who, request).await?;
    respond(ctx, who, prepared, false, stream, include_usage).await
}

/// Embeddings with the local model; `encoding_format` `float` or `base64` (little-endian f32).
#[utoipa::path(post, path = "/v1/embeddings", tag = "openai", security(("bearer" = [])),
    responses((status = 200, description = "OpenAI embedding list"), (status = 400, description = "OpenAI error object")))]
pub async fn embeddings(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    Json(request): Json<EmbeddingRequest>,
) -> ApiResult<HttpResponse> {
    let started = Instant::now();
    let estimated = llm::estimate_tokens(&request.input.to_string());
    let held = crate::billing::prices::Quantity { embed_tokens: i64::from(estimated), ..Default::default() };
    let reservation = meter::reserve(&ctx, &who, Operation::Embedding, None, &held).await?;
    let embedded = match completions::embed(&ctx, &who, &request).await {
        Ok(embedded) => embedded,
        Err(e) => {
            meter::settle(&ctx, &reservation, &Default::default()).await;
            return Err(e);
        }
    };
    let used = crate::billing::prices::Quantity { embed_tokens: i64::from(embedded.tokens), ..Default::default() };
    meter::settle(&ctx, &reservation, &used).await;
    let base64 = request.encoding_format.as_deref() == Some("base64");
    let data: Vec<Value> = embedded
        .vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let call = usage::Call {
        tenant_id: who.tenant_id()?,
        actor: usage::actor(&who),
        operation: "embeddings",
        model: &embedded.model,
        prompt_tokens: embedded.tokens,
        completion_tokens: 0,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    usage::record(&ctx.db, call).await?;
    Ok(HttpResponse::Ok().json(json!({
        "object": "list", "data": data, "model": embedded.model,
        "usage": {"prompt_tokens": embedded.tokens, "total_tokens": embedded.tokens},
    })))
}
