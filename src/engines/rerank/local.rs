//! A local cross-encoder: fastembed's `TextRerank` on ONNX Runtime (the embedder's runtime), one
//! call at a time on a blocking thread.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fastembed::{RerankInitOptionsUserDefined, TextRerank, TokenizerFiles, UserDefinedRerankingModel};

use super::{RerankError, Reranker};
use crate::engines::embed::{load_runtime, ModelFiles};

/// Query and passage together: cross-encoders are trained on up to 512 tokens.
const MAX_LENGTH: usize = 512;
/// Pairs per model pass.
const BATCH: usize = 16;

pub struct LocalReranker {
    name: String,
    model: Arc<Mutex<TextRerank>>,
}

impl LocalReranker {
    /// Loads the model (blocking).
    pub fn load(files: &ModelFiles) -> Result<Self, RerankError> {
        if let Some(message) = files.missing_message() {
            return Err(RerankError::Unavailable(message));
        }
        let environment = load_runtime(files).map_err(|e| RerankError::Unavailable(e.to_string()))?;
        let read = |name: &str| {
            std::fs::read(files.dir.join(name))
                .map_err(|e| RerankError::Unavailable(format!("{}: {e}", files.dir.join(name).display())))
        };
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let model = UserDefinedRerankingModel::new(read("model.onnx")?, tokenizer_files);
        let options = RerankInitOptionsUserDefined::new().with_max_length(MAX_LENGTH).with_environment(environment);
        let model = TextRerank::try_new_from_user_defined(model, options).map_err(|e| {
            RerankError::Unavailable(format!("cannot load the reranker in {}: {e}", files.dir.display()))
        })?;
        Ok(Self { name: files.name.clone(), model: Arc::new(Mutex::new(model)) })
    }
}

#[async_trait]
impl Reranker for LocalReranker {
    fn describe(&self) -> String {
        format!("local cross-encoder {}", self.name)
    }

    async fn score(&self, query: &str, documents: Vec<String>) -> Result<Vec<f32>, RerankError> {
        if documents.is_empty() {
            return Ok(Vec::new());
        }
        let (model, query, count) = (self.model.clone(), query.to_owned(), documents.len());
        let ranked = tokio::task::spawn_blocking(move || {
            let mut model = model.lock().unwrap_or_else(|p| p.into_inner());
            let texts: Vec<&str> = documents.iter().map(String::as_str).collect();
            model.rerank(query.as_str(), texts.as_slice(), false, Some(BATCH))
        })
        .await
        .map_err(|e| RerankError::Failed(e.to_string()))?
        .map_err(|e| RerankError::Failed(e.to_string()))?;
        let mut scores = vec![f32::NEG_INFINITY; count];
        for result in ranked {
            if let Some(slot) = scores.get_mut(result.index) {
                *slot = result.score;
            }
        }
        Ok(scores)
    }
}
