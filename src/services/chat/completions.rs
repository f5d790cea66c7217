//! The OpenAI-compatible gateway: `/v1/chat/completions`, `/v1/completions` and
//! `/v1/embeddings` requests, turned into generations (with retrieval when the
//! `knowledge_base` extension names knowledge bases) and metered like every model call.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::conversations::Citation;
use crate::app::context::AppContext;
use crate::engines::llm::{ChatMessage, Generation};
use crate::error::{ApiError, ApiResult};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;
use crate::services::search::prompt_context as context_block;
use crate::services::search::{self, SearchRequest};

/// A string or a list of strings (OpenAI accepts both for `stop`, `input`, `prompt`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IncomingMessage {
    pub role: String,
    /// A string, or a list of content parts of which the text parts are used.
    pub content: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatCompletionRequest {
    pub model: Option<String>,
    pub messages: Vec<IncomingMessage>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    pub stop: Option<OneOrMany>,
    #[serde(default)]
    pub stream: bool,
    pub stream_options: Option<StreamOptions>,
    /// Lectern extension: retrieve from these knowledge bases and cite them.
    pub knowledge_base: Option<OneOrMany>,
    /// Lectern extension: use an assistant's instructions, model and knowledge bases.
    pub assistant: Option<Uuid>,
    pub user: Option<String>,
    pub n: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletionRequest {
    pub model: Option<String>,
    pub prompt: OneOrMany,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub stop: Option<OneOrMany>,
    #[serde(default)]
    pub stream: bool,
    pub stream_options: Option<StreamOptions>,
    pub knowledge_base: Option<OneOrMany>,
    pub user: Option<String>,
}

fn text_of(content: &Value) -> ApiResult<String> {
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => Ok(parts
            .iter()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")),
        Value::Null => Ok(String::new()),
        _ => Err(ApiError::invalid_field("messages.content", "must be a string or a list of content parts")),
    }
}

fn parse_kbs(value: Option<OneOrMany>) -> ApiResult<Vec<Uuid>> {
    value
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .map(|s| s.parse::<Uuid>().map_err(|_| ApiError::invalid_field("knowledge_base", "must be knowledge base ids")))
        .collect()
}

/// A generation ready to run, with the citations its `[n]` markers may refer to.
pub struct Prepared {
    pub generation: Generation,
    pub citations: Vec<Citation>,
    pub tenant_id: Uuid,
}

async fn prepare(
    ctx: &AppContext,
    principal: &Principal,
    model: Option<String>,
    mut messages: Vec<ChatMessage>,
    mut kb_ids: Vec<Uuid>,
    assistant: Option<Uuid>,
) -> ApiResult<Prepared> {
    let scope = principal.require(Permission::ChatUse)?;
    let tenant_id = scope.tenant_id;
    if !messages.iter().any(|m| m.role == "user") {
        return Err(ApiError::invalid_field("messages", "must contain at least one user message"));
    }
    let mut model = model.filter(|m| !m.is_empty());
    let named = !kb_ids.is_empty();
    if let Some(id) = assistant {
        let settings = super::assistants::settings(&super::assistants::find(ctx, tenant_id, id).await?);
        model = model.or(settings.model);
        if kb_ids.is_empty() {
            kb_ids = settings.knowledge_bases;
        }
        if !settings.instructions.trim().is_empty() {
            messages.insert(0, ChatMessage::new("system", settings.instructions));
        }
    }
    let model = model.unwrap_or_else(|| ctx.llm.default_model().to_owned());
    if !ctx.llm.knows(&model) {
        return Err(crate::engines::llm::LlmError::UnknownModel(model).into());
    }
    let mut generation = Generation { model, messages, ..Default::default() };
    let mut citations = Vec::new();
    if !kb_ids.is_empty() {
        let kb_ids = if named {
            search::resolve_kbs(ctx, scope, Some(&kb_ids)).await?
        } else {
            search::still_readable(ctx, scope, &kb_ids).await?
        };
        let request = SearchRequest { query: generation.question().to_owned(), limit: Some(8), ..Default::default() };
        let hits = search::retrieve(ctx, tenant_id, &kb_ids, &request).await?;
        generation.sources = context_block::build(&hits, 3000).sources;
        citations = generation.sources.iter().map(super::turn::citation).collect();
    }
    Ok(Prepared { generation, citations, tenant_id })
}

fn check_sampling(temperature: Option<f32>, n: Option<u32>) -> ApiResult<()> {
    if temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(ApiError::invalid_field("temperature", "must be from 0 to 2"));
    }
    if n.is_some_and(|n| n != 1) {
        return Err(ApiError::invalid_field("n", "only n = 1 is supported"));
    }
    Ok(())
}

pub async fn prepare_chat(
    ctx: &AppContext,
    principal: &Principal,
    request: ChatCompletionRequest,
) -> ApiResult<Prepared> {
    check_sampling(request.temperature, request.n)?;
    if request.messages.is_empty() {
        return Err(ApiError::invalid_field("messages", "must not be empty"));
    }
    let mut messages = Vec::with_capacity(request.messages.len());
    for m in &request.messages {
        let role = match m.role.as_str() {
            "system" | "developer" => "system",
            "user" => "user",
            "assistant" => "assistant",
            "tool" | "function" => continue,
            other => return Err(ApiError::invalid_field("messages.role", format!("unknown role `{other}`"))),
        };
        messages.push(ChatMessage::new(role, text_of(&m.content)?));
    }
    let kbs = parse_kbs(request.knowledge_base)?;
    let mut prepared = prepare(ctx, principal, request.model, messages, kbs, request.assistant).await?;
    prepared.generation.temperature = request.temperature;
    prepared.generation.max_tokens = request.max_completion_tokens.or(request.max_tokens);
    prepared.generation.stop = request.stop.map(OneOrMany::into_vec).unwrap_or_default();
    Ok(prepared)
}

pub async fn prepare_completion(
    ctx: &AppContext,
    principal: &Principal,
    request: CompletionRequest,
) -> ApiResult<Prepared> {
    check_sampling(request.temperature, None)?;
    let prompt = request.prompt.into_vec();
    if prompt.len() != 1 {
        return Err(ApiError::invalid_field("prompt", "must be one string"));
    }
    let messages = prompt.into_iter().map(|p| ChatMessage::new("user", p)).collect();
    let kbs = parse_kbs(request.knowledge_base)?;
    let mut prepared = prepare(ctx, principal, request.model, messages, kbs, None).await?;
    prepared.generation.temperature = request.temperature;
    prepared.generation.max_tokens = request.max_tokens;
    prepared.generation.stop = request.stop.map(OneOrMany::into_vec).unwrap_or_default();
    Ok(prepared)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmbeddingRequest {
    /// A string or a list of strings.
    #[schema(value_type = OneOrMany)]
    pub input: Value,
    pub model: Option<String>,
    pub encoding_format: Option<String>,
    pub dimensions: Option<usize>,
    pub user: Option<String>,
}

pub struct Embedded {
    pub model: String,
    pub vectors: Vec<Vec<f32>>,
    pub tokens: u32,
}

/// Embeds with the local model (the one the knowledge bases use).
pub async fn embed(ctx: &AppContext, principal: &Principal, request: &EmbeddingRequest) -> ApiResult<Embedded> {
    principal.require(Permission::ChatUse)?;
    let inputs: Vec<String> = match &request.input {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
        }
        _ => {
            return Err(ApiError::invalid_field(
                "input",
                "must be a string or a list of strings (token arrays are not supported)",
            ))
        }
    };
    if inputs.is_empty() || inputs.len() > 2048 || inputs.iter().any(String::is_empty) {
        return Err(ApiError::invalid_field("input", "must hold 1 to 2048 non-empty strings"));
    }
    if let Some(format) = &request.encoding_format {
        if format != "float" && format != "base64" {
            return Err(ApiError::invalid_field("encoding_format", "must be `float` or `base64`"));
        }
    }
    let engines = ctx.engines()?;
    let embedder = engines.embedder().await.map_err(|e| {
        ApiError::new(crate::error::ErrorCode::ServiceUnavailable, format!("the embedding model is unavailable: {e}"))
    })?;
    if let Some(model) = request.model.as_deref().filter(|m| !m.is_empty() && *m != embedder.model()) {
        return Err(crate::engines::llm::LlmError::UnknownModel(model.to_owned()).into());
    }
    if request.dimensions.is_some_and(|d| d != embedder.dimension()) {
        return Err(ApiError::invalid_field(
            "dimensions",
            format!("this model has {} dimensions", embedder.dimension()),
        ));
    }
    let tokens: usize = inputs.iter().map(|t| embedder.tokens().count(t)).sum();
    let vectors =
        embedder.embed(inputs).await.map_err(|e| ApiError::Internal(anyhow::anyhow!("embedding failed: {e}")))?;
    Ok(Embedded { model: embedder.model().to_owned(), vectors, tokens: u32::try_from(tokens).unwrap_or(u32::MAX) })
}
