//! Lexical search in a Qdrant server: one point per chunk with a sparse vector of its BM25
//! term weights ([`super::terms`]) under the `idf` modifier, in a collection of its own beside
//! the dense one. Keeping it apart makes it a drop-in for tantivy: hybrid search fuses the two
//! lists in Lectern as in the embedded mode, with the per-source scores and ranks the API
//! reports.

use std::collections::HashMap;

use async_trait::async_trait;
use qdrant_client::qdrant::{
    Condition, CreateCollectionBuilder, Filter, Modifier, PointStruct, QueryPointsBuilder, SparseVectorParamsBuilder,
    SparseVectorsConfigBuilder, UpsertPointsBuilder, Vector,
};
use uuid::Uuid;

use crate::engines::qdrant_server::{self, Collection};
use crate::platform::scope::SearchScope;

use super::{terms, ChunkText, LexicalError, LexicalHit, LexicalIndex};

const SPARSE_NAME: &str = "bm25";

pub struct QdrantLexical {
    collection: Collection,
}

fn store_error(e: impl std::fmt::Display) -> LexicalError {
    LexicalError::Commit(e.to_string())
}

impl QdrantLexical {
    pub async fn connect(url: &str, api_key: Option<String>, collection: &str) -> Result<Self, LexicalError> {
        let mut sparse = SparseVectorsConfigBuilder::default();
        sparse.add_named_vector_params(SPARSE_NAME, SparseVectorParamsBuilder::default().modifier(Modifier::Idf));
        let create = CreateCollectionBuilder::new(collection).sparse_vectors_config(sparse);
        let collection = qdrant_server::open(url, api_key, collection, create)
            .await
            .map_err(|reason| LexicalError::Open { path: url.to_owned(), reason })?;
        Ok(Self { collection })
    }
}

#[async_trait]
impl LexicalIndex for QdrantLexical {
    fn backend(&self) -> &'static str {
        "qdrant"
    }

    async fn add(&self, chunks: Vec<ChunkText>) -> Result<(), LexicalError> {
        if chunks.is_empty() {
            return Ok(());
        }
        // Analysing is CPU work: off the async threads.
        let points = tokio::task::spawn_blocking(move || {
            chunks
                .iter()
                .map(|c| {
                    let payload = qdrant_server::payload(c.tenant_id, c.kb_id, c.document_id, c.chunk_id)?;
                    let vector = Vector::from(terms::document(&c.text, &c.context));
                    Ok(PointStruct::new(
                        c.chunk_id.to_string(),
                        HashMap::from([(SPARSE_NAME.to_owned(), vector)]),
                        payload,
                    ))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .await
        .map_err(store_error)?
        .map_err(store_error)?;
        let c = &self.collection;
        c.client.upsert_points(UpsertPointsBuilder::new(&c.name, points).wait(true)).await.map_err(store_error)?;
        Ok(())
    }

    async fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), LexicalError> {
        self.collection
            .delete_where(qdrant_server::owned_by(tenant_id, "document_id", document_id))
            .await
            .map_err(store_error)
    }

    async fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), LexicalError> {
        self.collection.delete_where(qdrant_server::owned_by(tenant_id, "kb_id", kb_id)).await.map_err(store_error)
    }

    async fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, LexicalError> {
        let filter = tenant_id.map(|t| Filter::must([Condition::matches("tenant_id", t.to_string())]));
        self.collection.count_where(filter).await.map_err(store_error)
    }

    async fn count_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<u64, LexicalError> {
        let filter = qdrant_server::owned_by(tenant_id, "document_id", document_id);
        self.collection.count_where(Some(filter)).await.map_err(store_error)
    }

    async fn search(&self, scope: &SearchScope, query: &str, limit: usize) -> Result<Vec<LexicalHit>, LexicalError> {
        let vector = terms::query(query, &scope.query_languages(query));
        if scope.is_empty() || vector.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let c = &self.collection;
        let response = c
            .client
            .query(
                QueryPointsBuilder::new(&c.name)
                    .query(vector)
                    .using(SPARSE_NAME)
                    .filter(qdrant_server::scope_filter(scope))
                    .limit(limit as u64)
                    .with_payload(true),
            )
            .await
            .map_err(store_error)?;
        Ok(response
            .result
            .iter()
            .filter_map(|p| {
                let (chunk_id, document_id) = qdrant_server::hit_ids(p)?;
                // The snippet is made from the chunk text when the hit is shown.
                Some(LexicalHit { chunk_id, document_id, score: p.score, snippet: String::new() })
            })
            .collect())
    }
}
