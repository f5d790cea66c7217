//! The language-model gateway: OpenAI-compatible upstreams from settings, and the built-in
//! `extractive` model that needs none. Every generation is a stream of [`Delta`]s; non-streaming
//! callers collect it.

pub mod config;
pub mod extractive;
pub mod openai;
pub mod prompt;
pub mod source;

pub use source::ContextSource;
use std::time::Duration;

use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
pub use config::ProviderConfig;

pub const EXTRACTIVE: &str = "extractive";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self { role: role.to_owned(), content: content.into() }
    }
}

/// What to generate: the conversation so far (ending with the user's turn) and, for RAG, the
/// numbered sources the answer may cite.
#[derive(Debug, Clone, Default)]
pub struct Generation {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub sources: Vec<ContextSource>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
}

impl Generation {
    /// The user's last message: what retrieval and the extractive model answer.
    pub fn question(&self) -> &str {
        self.messages.iter().rev().find(|m| m.role == "user").map_or("", |m| m.content.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    Text(String),
    Usage { prompt_tokens: u32, completion_tokens: u32 },
    Finish(String),
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("unknown model `{0}`; GET /v1/models lists the available ones")]
    UnknownModel(String),
    #[error("the model upstream `{provider}` answered {status}: {message}")]
    Upstream { provider: String, status: u16, message: String },
    #[error("the model upstream `{provider}` cannot be reached: {message}")]
    Unreachable { provider: String, message: String },
    #[error("the model upstream `{0}` did not answer in time")]
    Timeout(String),
}

impl From<LlmError> for ApiError {
    fn from(error: LlmError) -> Self {
        let message = error.to_string();
        match error {
            LlmError::UnknownModel(model) => ApiError::new(ErrorCode::InvalidRequest, message)
                .with_details(serde_json::json!({"field": "model", "model": model})),
            LlmError::Upstream { status, provider, .. } => ApiError::new(ErrorCode::UpstreamError, message)
                .with_details(serde_json::json!({"provider": provider, "status": status})),
            LlmError::Unreachable { provider, .. } => {
                ApiError::new(ErrorCode::UpstreamError, message).with_details(serde_json::json!({"provider": provider}))
            }
            LlmError::Timeout(provider) => ApiError::new(ErrorCode::UpstreamTimeout, message)
                .with_details(serde_json::json!({"provider": provider})),
        }
    }
}

pub type DeltaStream = BoxStream<'static, Result<Delta, LlmError>>;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub id: String,
    /// `lectern` for the built-in model, else the provider's name.
    pub provider: String,
    /// `chat`, `completions`, `embeddings`, `rag`.
    pub capabilities: Vec<&'static str>,
}

/// Routes a model name to the provider that serves it.
pub struct Gateway {
    providers: Vec<ProviderConfig>,
    client: reqwest::Client,
    default_model: String,
}

impl Gateway {
    pub fn new(providers: Vec<ProviderConfig>, default_model: Option<String>) -> Self {
        let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).build().unwrap_or_default();
        let default_model = default_model
            .or_else(|| providers.iter().find_map(|p| p.models.first().cloned()))
            .unwrap_or_else(|| EXTRACTIVE.to_owned());
        Self { providers, client, default_model }
    }

    pub fn default_model(&self) -> &str {
        &self.default_model
    }

    pub fn providers(&self) -> &[ProviderConfig] {
        &self.providers
    }

    /// The provider of a model: one listing it, else the one that takes any model.
    fn route(&self, model: &str) -> Option<&ProviderConfig> {
        self.providers
            .iter()
            .find(|p| p.models.iter().any(|m| m == model))
            .or_else(|| self.providers.iter().find(|p| p.models.is_empty()))
    }

    /// Every model by name: the built-in one and each provider's configured list.
    pub fn models(&self) -> Vec<ModelInfo> {
        let mut models = vec![ModelInfo {
            id: EXTRACTIVE.to_owned(),
            provider: "lectern".to_owned(),
            capabilities: vec!["chat", "completions", "rag"],
        }];
        for p in &self.providers {
            for m in &p.models {
                models.push(ModelInfo {
                    id: m.clone(),
                    provider: p.name.clone(),
                    capabilities: vec!["chat", "completions", "rag"],
                });
            }
        }
        models
    }

    pub fn knows(&self, model: &str) -> bool {
        model == EXTRACTIVE || self.route(model).is_some()
    }

    /// Starts generating. Errors before the first token (unknown model, upstream refusal)
    /// come back here, so an API can still answer with a proper status.
    pub async fn generate(&self, generation: Generation) -> Result<DeltaStream, LlmError> {
        if generation.model == EXTRACTIVE {
            return Ok(extractive::answer(&generation));
        }
        let provider = self.route(&generation.model).ok_or_else(|| LlmError::UnknownModel(generation.model.clone()))?;
        openai::stream(&self.client, provider, &generation).await
    }
}

/// A rough token count (~4 characters per token) where no tokenizer of the model is at hand.
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(4)).unwrap_or(u32::MAX)
}

/// A whole generation, gathered from its stream.
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub text: String,
    pub usage: Option<(u32, u32)>,
    pub finish_reason: Option<String>,
}

pub async fn collect(mut stream: DeltaStream) -> Result<Collected, LlmError> {
    use futures_util::StreamExt;
    let mut out = Collected::default();
    while let Some(delta) = stream.next().await {
        match delta? {
            Delta::Text(t) => out.text.push_str(&t),
            Delta::Usage { prompt_tokens, completion_tokens } => out.usage = Some((prompt_tokens, completion_tokens)),
            Delta::Finish(reason) => out.finish_reason = Some(reason),
        }
    }
    Ok(out)
}
