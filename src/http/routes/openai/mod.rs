//! The OpenAI-compatible surface: `/v1/models`, `/v1/chat/completions`, `/v1/completions`,
//! `/v1/embeddings` (and `/v1/providers` for admins). Errors on these paths use OpenAI's error
//! object (see the request-context middleware), so SDKs surface them.

use actix_web::web::{self, Data};
use actix_web::HttpResponse;
use base64::Engine as _;
use futures_util::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::engines::llm::{self, Delta};
use crate::error::{ApiResult, ErrorBody, OpenAiError, OpenAiErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::services::billing::meter::{self, Operation};
use crate::services::billing::model_calls::{BilledCall, CallSpec, Pricing, Tokens};
use crate::services::chat::completions::{self, ChatCompletionRequest, CompletionRequest, EmbeddingRequest, Prepared};
use crate::services::chat::events::cited_numbers;
use crate::services::identity::permissions::require::{ChatUse, TenantManage};
use crate::services::identity::Principal;

mod wire;

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
    let models = ctx.llm.models();
    let mut data: Vec<wire::Model> =
        models.iter().map(|m| wire::Model::new(&m.id, &m.provider, m.capabilities.clone())).collect();
    data.push(wire::Model::new(&ctx.settings.embedding_model, "lectern", vec!["embeddings"]));
    HttpResponse::Ok().json(wire::ModelList { object: "list", data })
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

/// The citation check of a RAG answer (None without retrieved passages).
fn verify(prepared: &Prepared, text: &str) -> Option<crate::services::chat::verify::Verification> {
    let sources = &prepared.generation.sources;
    (!sources.is_empty())
        .then(|| crate::services::chat::verify::check(text, sources, prepared.generation.model == llm::EXTRACTIVE))
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
    let (prompt, _) = estimate(&prepared, "");
    let most =
        Tokens { prompt, completion: prepared.generation.max_tokens.unwrap_or(meter::DEFAULT_COMPLETION_RESERVE) };
    let (operation, usage_operation) =
        if chat { (Operation::Chat, "chat.completions") } else { (Operation::Completion, "completions") };
    let pricing = Pricing::Generation { retrieved: !prepared.generation.sources.is_empty() };
    let spec = CallSpec::for_principal(&who, operation, usage_operation, &prepared.generation.model, pricing)?;
    let call = BilledCall::hold(&ctx, spec, most).await?;
    let deltas = match ctx.llm.generate(prepared.generation.clone()).await {
        Ok(deltas) => deltas,
        Err(e) => {
            call.release(&ctx).await;
            return Err(e.into());
        }
    };
    let id = format!("{}-{}", if chat { "chatcmpl" } else { "cmpl" }, Uuid::now_v7().simple());
    if stream {
        Ok(respond_streaming(ctx, call, prepared, deltas, id, chat, include_usage))
    } else {
        respond_once(&ctx, call, &prepared, deltas, &id, chat).await
    }
}

/// The whole answer as one `chat.completion` or `text_completion`.
async fn respond_once(
    ctx: &AppContext,
    call: BilledCall,
    prepared: &Prepared,
    deltas: llm::DeltaStream,
    id: &str,
    chat: bool,
) -> ApiResult<HttpResponse> {
    let collected = match llm::collect(deltas).await {
        Ok(collected) => collected,
        Err(e) => {
            call.release(ctx).await;
            return Err(e.into());
        }
    };
    let usage = collected.usage.unwrap_or_else(|| estimate(prepared, &collected.text));
    call.finish(ctx, Tokens { prompt: usage.0, completion: usage.1 }).await;
    let citations = cited(prepared, &collected.text);
    let finish = collected.finish_reason.unwrap_or_else(|| "stop".to_owned());
    let choice = if chat {
        let verification = verify(prepared, &collected.text);
        let metadata = wire::Metadata { citations: &citations, verification };
        let message = wire::Message { role: "assistant", content: &collected.text, metadata };
        wire::Choice::Chat { index: 0, message, finish_reason: &finish, logprobs: None }
    } else {
        wire::Choice::Text { index: 0, text: &collected.text, finish_reason: &finish, logprobs: None }
    };
    Ok(HttpResponse::Ok().json(wire::Completion {
        id,
        object: if chat { "chat.completion" } else { "text_completion" },
        created: now(),
        model: &prepared.generation.model,
        choices: [choice],
        usage: wire::Usage::new(usage),
        citations: &citations,
    }))
}

/// The answer as `data:` chunks while it is generated; the call is settled when it ends.
fn respond_streaming(
    ctx: Data<AppContext>,
    call: BilledCall,
    prepared: Prepared,
    mut deltas: llm::DeltaStream,
    id: String,
    chat: bool,
    include_usage: bool,
) -> HttpResponse {
    let object = if chat { "chat.completion.chunk" } else { "text_completion" };
    let chunks = wire::Chunks { id, object, model: prepared.generation.model.clone(), chat, created: now() };
    let (tx, rx) = tokio::sync::mpsc::channel::<web::Bytes>(64);
    tokio::spawn(async move {
        let (mut text, mut usage, mut finish) = (String::new(), None, None);
        let opening = wire::Delta { role: Some("assistant"), content: Some("") };
        let _ = tx.send(chunks.delta(opening)).await;
        while let Some(delta) = deltas.next().await {
            match delta {
                Ok(Delta::Text(t)) => {
                    text.push_str(&t);
                    let _ = tx.send(chunks.delta(wire::Delta { role: None, content: Some(&t) })).await;
                }
                Ok(Delta::Usage { prompt_tokens, completion_tokens }) => {
                    usage = Some((prompt_tokens, completion_tokens))
                }
                Ok(Delta::Finish(reason)) => finish = Some(reason),
                Err(error) => {
                    let error = OpenAiError {
                        message: error.to_string(),
                        kind: "server_error".to_owned(),
                        param: None,
                        code: "upstream_error".to_owned(),
                    };
                    let _ = tx.send(wire::event(&OpenAiErrorBody { error })).await;
                    break;
                }
            }
        }
        let usage = usage.unwrap_or_else(|| estimate(&prepared, &text));
        let citations = cited(&prepared, &text);
        let finish = finish.unwrap_or_else(|| "stop".to_owned());
        let verification = if chat { verify(&prepared, &text) } else { None };
        let _ = tx.send(chunks.closing(&finish, &citations, verification.as_ref())).await;
        if include_usage {
            let _ = tx.send(chunks.usage(wire::Usage::new(usage))).await;
        }
        let _ = tx.send(web::Bytes::from_static(b"data: [DONE]\n\n")).await;
        call.finish(&ctx, Tokens { prompt: usage.0, completion: usage.1 }).await;
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
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
    let most = Tokens { prompt: llm::estimate_tokens(&request.input.to_string()), completion: 0 };
    let spec = CallSpec::for_principal(
        &who,
        Operation::Embedding,
        "embeddings",
        &ctx.settings.embedding_model,
        Pricing::Embedding,
    )?;
    let call = BilledCall::hold(&ctx, spec, most).await?;
    let embedded = match completions::embed(&ctx, &who, &request).await {
        Ok(embedded) => embedded,
        Err(e) => {
            call.release(&ctx).await;
            return Err(e);
        }
    };
    call.finish(&ctx, Tokens { prompt: embedded.tokens, completion: 0 }).await;
    let base64 = request.encoding_format.as_deref() == Some("base64");
    let data = embedded
        .vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                wire::Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                wire::Vector::Float(v)
            };
            wire::Embedding { object: "embedding", index, embedding }
        })
        .collect();
    Ok(HttpResponse::Ok().json(wire::EmbeddingList {
        object: "list",
        data,
        model: &embedded.model,
        usage: wire::EmbeddingUsage { prompt_tokens: embedded.tokens, total_tokens: embedded.tokens },
    }))
}
