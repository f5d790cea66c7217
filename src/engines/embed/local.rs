//! fastembed + ONNX Runtime on a dedicated worker thread.

use std::sync::mpsc;
use std::sync::OnceLock;

use async_trait::async_trait;
use fastembed::{
    InitOptionsUserDefined, Pooling, QuantizationMode, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use tokio::sync::oneshot;

use super::batching::{self, BatchLimits};
use super::{EmbedError, Embedder, ModelFiles};
use crate::engines::chunk::TokenCounter;

/// all-MiniLM-L6-v2 was trained on 256 tokens; fastembed would otherwise keep the tokenizer
/// file's 128.
const MAX_LENGTH: usize = 256;
/// Texts taken from waiting callers into one pass over the model, at most: enough to fill
/// several calls with the shortest texts, few enough that no caller waits long behind others.
const GATHER: usize = 512;

type Job = (Vec<String>, oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>);

/// How the local model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalOptions {
    pub limits: BatchLimits,
    /// ONNX Runtime's CPU memory arena (`LECTERN_EMBED_MEMORY_ARENA`): it keeps the largest
    /// call's buffers for reuse instead of returning them to the allocator.
    pub memory_arena: bool,
}

impl Default for LocalOptions {
    fn default() -> Self {
        Self { limits: BatchLimits::default(), memory_arena: true }
    }
}

pub struct LocalEmbedder {
    name: String,
    dimension: usize,
    jobs: mpsc::Sender<Job>,
    counter: TokenizerCounter,
}

/// Token counts from the model's own tokenizer, without truncation or special tokens.
pub struct TokenizerCounter(tokenizers::Tokenizer);

impl TokenCounter for TokenizerCounter {
    fn count(&self, text: &str) -> usize {
        self.0.encode(text, false).map(|e| e.len()).unwrap_or_else(|_| text.split_whitespace().count())
    }
}

/// ONNX Runtime is loaded once per process (one environment); later loads reuse it or its error.
static RUNTIME: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

pub(crate) fn load_runtime(files: &ModelFiles) -> Result<ort::environment::Environment, EmbedError> {
    RUNTIME
        .get_or_init(|| {
            ort::init_from(&files.runtime)
                .map_err(|e| describe_load_error(&e, files))
                .and_then(|builder| builder.with_name("lectern").build().map_err(|e| e.to_string()))
        })
        .clone()
        .map_err(EmbedError::Unavailable)
}

fn describe_load_error(error: &ort::LoadDynamicError, files: &ModelFiles) -> String {
    let reason = match error {
        ort::LoadDynamicError::Dlopen { error, .. } => {
            std::error::Error::source(error).map(|s| s.to_string()).unwrap_or_else(|| error.to_string())
        }
        other => other.to_string(),
    };
    format!(
        "cannot load ONNX Runtime from {} ({reason}); it needs ONNX Runtime >= 1.24: run `{}`",
        files.runtime.display(),
        super::SETUP_COMMAND
    )
}

impl LocalEmbedder {
    /// Loads the model (blocking, 0.3–1 s): call it off the async runtime.
    pub fn load(files: &ModelFiles) -> Result<Self, EmbedError> {
        Self::load_with(files, LocalOptions::default())
    }

    /// [`Self::load`] with the given options.
    pub fn load_with(files: &ModelFiles, options: LocalOptions) -> Result<Self, EmbedError> {
        if let Some(message) = files.missing_message() {
            return Err(EmbedError::Unavailable(message));
        }
        let environment = load_runtime(files)?;
        let read = |name: &str| {
            std::fs::read(files.dir.join(name))
                .map_err(|e| EmbedError::Unavailable(format!("{}: {e}", files.dir.join(name).display())))
        };
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let model = UserDefinedEmbeddingModel::new(read("model.onnx")?, tokenizer_files)
            .with_pooling(Pooling::Mean)
            .with_quantization(QuantizationMode::None);
        let mut embedding = TextEmbedding::try_new_from_user_defined(
            model,
            InitOptionsUserDefined::new()
                .with_max_length(MAX_LENGTH)
                .with_environment(environment)
                .with_execution_providers(vec![ort::ep::CPU::default()
                    .with_arena_allocator(options.memory_arena)
                    .build()]),
        )
        .map_err(|e| EmbedError::Unavailable(format!("cannot load the model in {}: {e}", files.dir.display())))?;
        let mut tokenizer = embedding.tokenizer.clone();
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| EmbedError::Unavailable(e.to_string()))?;
        let dimension = embedding
            .embed(["dimension probe"], None)
            .map_err(|e| EmbedError::Unavailable(e.to_string()))?
            .first()
            .map_or(0, Vec::len);

        let (jobs, inbox) = mpsc::channel::<Job>();
        let lengths = TokenizerCounter(tokenizer.clone());
        std::thread::Builder::new()
            .name("embedder".to_owned())
            .spawn(move || {
                let mut model = Model { embedding, lengths, limits: options.limits };
                while let Ok(first) = inbox.recv() {
                    let mut gathered = vec![first];
                    let mut count = gathered[0].0.len();
                    while count < GATHER {
                        let Ok(next) = inbox.try_recv() else { break };
                        count += next.0.len();
                        gathered.push(next);
                    }
                    model.answer(gathered);
                }
            })
            .map_err(|e| EmbedError::Unavailable(format!("cannot start the embedder thread: {e}")))?;
        Ok(Self { name: files.name.clone(), dimension, jobs, counter: TokenizerCounter(tokenizer) })
    }
}

/// The model on its thread: embeds what every caller sent meanwhile in shared, length-sorted calls.
struct Model {
    embedding: TextEmbedding,
    lengths: TokenizerCounter,
    limits: BatchLimits,
}

impl Model {
    /// Embeds the gathered callers' texts together and sends each caller its own vectors.
    fn answer(&mut self, gathered: Vec<Job>) {
        let texts: Vec<&str> = gathered.iter().flat_map(|(texts, _)| texts.iter().map(String::as_str)).collect();
        match self.embed(&texts) {
            Ok(vectors) => {
                let mut vectors = vectors.into_iter();
                for (texts, reply) in gathered {
                    let _ = reply.send(Ok(vectors.by_ref().take(texts.len()).collect()));
                }
            }
            // One caller's text must not fail the others: each is tried on its own.
            Err(_) if gathered.len() > 1 => {
                for (texts, reply) in gathered {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    let _ = reply.send(self.embed(&refs));
                }
            }
            Err(error) => {
                for (_, reply) in gathered {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }

    /// Vectors for `texts`, in their order, from calls planned by length.
    fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Special tokens count too; longer texts are truncated to MAX_LENGTH by the model.
        let lengths: Vec<usize> = texts.iter().map(|t| (self.lengths.count(t) + 2).min(MAX_LENGTH)).collect();
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for call in batching::plan(&lengths, self.limits) {
            let batch: Vec<&str> = call.iter().map(|&i| texts[i]).collect();
            let embedded =
                self.embedding.embed(&batch, Some(batch.len())).map_err(|e| EmbedError::Failed(e.to_string()))?;
            for (index, vector) in call.into_iter().zip(embedded) {
                vectors[index] = vector;
            }
        }
        Ok(vectors)
    }
}

#[async_trait]
impl Embedder for LocalEmbedder {
    fn model(&self) -> &str {
        &self.name
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn tokens(&self) -> &dyn TokenCounter {
        &self.counter
    }

    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        let (count, started) = (texts.len(), std::time::Instant::now());
        self.jobs.send((texts, reply)).map_err(|_| EmbedError::Failed("the embedder thread has stopped".to_owned()))?;
        let vectors = answer.await.map_err(|_| EmbedError::Failed("the embedder thread has stopped".to_owned()))?;
        crate::platform::telemetry::metrics::embed_batch(count, started.elapsed().as_secs_f64());
        vectors
    }
}
