//! The lexical index behind one trait: tantivy in the data dir (the embedded default), or
//! sparse BM25 vectors in a Qdrant server (with `QDRANT_URL`), so that every node of a
//! deployment searches the same index. Both score BM25 over the same analyzers' terms and take
//! the same scope; hits of either get snippets from the chunk text.

mod qdrant;
pub mod terms;

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

pub use crate::engines::fulltext::{ChunkText, FulltextError as LexicalError, FulltextIndex, LexicalHit};
use crate::platform::scope::SearchScope;
pub use qdrant::QdrantLexical;

#[async_trait]
pub trait LexicalIndex: Send + Sync {
    /// `tantivy` or `qdrant`.
    fn backend(&self) -> &'static str;
    /// Adds chunks; they are durable and searchable when this returns. Documents written at
    /// the same time share the commit.
    async fn add(&self, chunks: Vec<ChunkText>) -> Result<(), LexicalError>;
    /// Removes every chunk of a document (safe to repeat).
    async fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), LexicalError>;
    async fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), LexicalError>;
    /// Chunks indexed for a tenant (all tenants with None): for consistency checks.
    async fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, LexicalError>;
    async fn count_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<u64, LexicalError>;
    /// BM25 search within a scope for the words of `query` (any text is valid).
    async fn search(&self, scope: &SearchScope, query: &str, limit: usize) -> Result<Vec<LexicalHit>, LexicalError>;
    /// The index was recreated empty when opened (an older schema): refill it from chunk rows.
    fn recreated(&self) -> bool {
        false
    }
}

fn joined(e: tokio::task::JoinError) -> LexicalError {
    LexicalError::Commit(e.to_string())
}

/// Runs a blocking call on tantivy off the async threads.
async fn blocking<T: Send + 'static>(
    index: &Arc<FulltextIndex>,
    call: impl FnOnce(&FulltextIndex) -> Result<T, LexicalError> + Send + 'static,
) -> Result<T, LexicalError> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || call(&index)).await.map_err(joined)?
}

/// tantivy in the data dir.
#[async_trait]
impl LexicalIndex for Arc<FulltextIndex> {
    fn backend(&self) -> &'static str {
        "tantivy"
    }

    async fn add(&self, chunks: Vec<ChunkText>) -> Result<(), LexicalError> {
        blocking(self, move |index| index.add_uncommitted(&chunks)).await?;
        self.commit_shared().await
    }

    async fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), LexicalError> {
        blocking(self, move |index| index.delete_document(tenant_id, document_id)).await
    }

    async fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), LexicalError> {
        blocking(self, move |index| index.delete_kb(tenant_id, kb_id)).await
    }

    async fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, LexicalError> {
        blocking(self, move |index| index.count(tenant_id)).await
    }

    async fn count_document(&self, _tenant_id: Uuid, document_id: Uuid) -> Result<u64, LexicalError> {
        blocking(self, move |index| index.count_document(document_id)).await
    }

    async fn search(&self, scope: &SearchScope, query: &str, limit: usize) -> Result<Vec<LexicalHit>, LexicalError> {
        let (scope, query) = (scope.clone(), query.to_owned());
        blocking(self, move |index| index.search(&scope, &query, limit)).await
    }

    fn recreated(&self) -> bool {
        self.recreated
    }
}

#[cfg(test)]
mod conformance;
