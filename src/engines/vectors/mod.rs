//! The vector store behind one trait: [`EdgeStore`] (qdrant-edge, in-process, the default) and
//! [`QdrantStore`] (a Qdrant server through qdrant-client, when `QDRANT_URL` is set). Both use
//! one collection layout: a named dense vector `dense` (cosine) and the payload `tenant_id`,
//! `kb_id`, `document_id`, `chunk_id`, with `tenant_id` indexed as the tenant key. Every
//! search filters by tenant. Vectors are derived data, rebuilt from chunk rows on reindex.

mod edge;
mod qdrant;

use async_trait::async_trait;
use uuid::Uuid;

use crate::platform::scope::SearchScope;

pub use edge::EdgeStore;
pub use qdrant::QdrantStore;

pub const VECTOR_NAME: &str = "dense";

#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("the vector store cannot be opened: {0}")]
    Open(String),
    #[error("vector store error: {0}")]
    Store(String),
}

/// One chunk's vector with the ids that scope it. The point id is the chunk id, so writing
/// the same chunk again replaces it.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    pub chunk_id: Uuid,
    pub tenant_id: Uuid,
    pub kb_id: Uuid,
    pub document_id: Uuid,
    pub vector: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub score: f32,
}

#[async_trait]
pub trait VectorStore: Send + Sync {
    /// `qdrant-edge` or `qdrant`.
    fn backend(&self) -> &'static str;
    async fn upsert(&self, points: Vec<VectorPoint>) -> Result<(), VectorError>;
    /// Removes a document's vectors (safe to repeat).
    async fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), VectorError>;
    async fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), VectorError>;
    /// Nearest chunks within a scope (one tenant, its knowledge bases, optionally some documents).
    async fn search(&self, scope: &SearchScope, vector: Vec<f32>, limit: usize) -> Result<Vec<VectorHit>, VectorError>;
    /// Vectors stored for a tenant (all with None): for consistency checks.
    async fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, VectorError>;
    /// Vectors stored for one document.
    async fn count_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<u64, VectorError>;
    /// Builds search indexes (HNSW) for what was written since; true if anything changed.
    /// A Qdrant server does this itself.
    async fn optimize(&self) -> Result<bool, VectorError> {
        Ok(false)
    }
}

#[cfg(test)]
mod conformance;
