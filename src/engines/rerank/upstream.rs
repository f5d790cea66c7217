//! A `/rerank` upstream. Cohere and Jina take `{model, query, documents, top_n}` and answer
//! `{results: [{index, relevance_score}]}`; Text Embeddings Inference takes `{query, texts}`
//! and answers `[{index, score}]`. Either answer shape is understood whatever the request format.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{RerankError, Reranker};
use crate::platform::settings::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFormat {
    /// Cohere's and Jina's `documents` request.
    Cohere,
    /// Text Embeddings Inference's `texts` request.
    Tei,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamConfig {
    /// The endpoint itself, e.g. `https://api.cohere.com/v2/rerank` or `http://tei:8080/rerank`.
    pub url: String,
    pub api_key: Option<Secret<String>>,
    pub model: Option<String>,
    pub format: UpstreamFormat,
    pub timeout: Duration,
}

pub struct UpstreamReranker {
    config: UpstreamConfig,
    client: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Answer {
    Cohere { results: Vec<Scored> },
    Tei(Vec<Scored>),
}

#[derive(Deserialize)]
struct Scored {
    index: usize,
    #[serde(alias = "relevance_score")]
    score: f32,
}

impl UpstreamReranker {
    pub fn new(config: UpstreamConfig) -> Result<Self, RerankError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| RerankError::Unavailable(e.to_string()))?;
        Ok(Self { config, client })
    }
}

#[async_trait]
impl Reranker for UpstreamReranker {
    fn describe(&self) -> String {
        let model = self.config.model.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
        format!("rerank upstream {}{model}", self.config.url)
    }

    async fn score(&self, query: &str, documents: Vec<String>) -> Result<Vec<f32>, RerankError> {
        if documents.is_empty() {
            return Ok(Vec::new());
        }
        let count = documents.len();
        let body = match self.config.format {
            UpstreamFormat::Cohere => {
                let mut body = json!({"query": query, "documents": documents, "top_n": count});
                if let Some(model) = &self.config.model {
                    body["model"] = json!(model);
                }
                body
            }
            UpstreamFormat::Tei => json!({"query": query, "texts": documents, "truncate": true}),
        };
        let mut request = self.client.post(&self.config.url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| RerankError::Unavailable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(RerankError::Failed(format!("{status}: {}", text.chars().take(300).collect::<String>())));
        }
        let answer: Answer =
            response.json().await.map_err(|e| RerankError::Failed(format!("unexpected answer: {e}")))?;
        let scored = match answer {
            Answer::Cohere { results } | Answer::Tei(results) => results,
        };
        let mut scores = vec![f32::NEG_INFINITY; count];
        for s in scored {
            if let Some(slot) = scores.get_mut(s.index) {
                *slot = s.score;
            }
        }
        Ok(scores)
    }
}
