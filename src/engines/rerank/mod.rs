//! Rerankers: a cross-encoder reads the query and each candidate passage together, which ranks
//! better than comparing two separately made vectors (or counting shared words), at the price
//! of one model pass per candidate; so it reorders only the top candidates of fusion. Either a
//! local ONNX cross-encoder run by fastembed (`LECTERN_RERANK_MODEL`, files like the embedding
//! model's) or a `/rerank` upstream in the Cohere/Jina or Text Embeddings Inference wire format
//! (`LECTERN_RERANK_URL`).

mod local;
mod upstream;

use async_trait::async_trait;

use crate::engines::embed::ModelFiles;
pub use local::LocalReranker;
pub use upstream::{UpstreamFormat, UpstreamReranker};

#[derive(Debug, thiserror::Error)]
pub enum RerankError {
    /// Not installed or not reachable: searches go on without reranking.
    #[error("the reranker is unavailable: {0}")]
    Unavailable(String),
    #[error("reranking failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait Reranker: Send + Sync {
    /// What runs, for `/v1/info` and logs.
    fn describe(&self) -> String;
    /// A relevance score per document, in the documents' order (higher is more relevant).
    async fn score(&self, query: &str, documents: Vec<String>) -> Result<Vec<f32>, RerankError>;
}

/// Where the reranker comes from (`LECTERN_RERANK_MODEL` or `LECTERN_RERANK_URL`).
#[derive(Debug, Clone, PartialEq)]
pub enum RerankConfig {
    Local(ModelFiles),
    Upstream(upstream::UpstreamConfig),
}

pub use upstream::UpstreamConfig;

/// Opens the configured reranker (a local model loads here: call it off the async threads).
pub fn open(config: &RerankConfig) -> Result<Box<dyn Reranker>, RerankError> {
    Ok(match config {
        RerankConfig::Local(files) => Box::new(LocalReranker::load(files)?),
        RerankConfig::Upstream(config) => Box::new(UpstreamReranker::new(config.clone())?),
    })
}
