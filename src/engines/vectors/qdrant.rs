//! A Qdrant server or cluster through qdrant-client (gRPC), for scale-out deployments.

use std::collections::HashMap;

use async_trait::async_trait;
use qdrant_client::qdrant::{
    CreateCollectionBuilder, Distance, Filter, PointStruct, QueryPointsBuilder, UpsertPointsBuilder,
    VectorParamsBuilder, VectorsConfigBuilder,
};
use uuid::Uuid;

use crate::engines::qdrant_server::{self, Collection};
use crate::platform::scope::SearchScope;

use super::{VectorError, VectorHit, VectorPoint, VectorStore, VECTOR_NAME};

pub struct QdrantStore {
    collection: Collection,
}

fn store_error(e: impl std::fmt::Display) -> VectorError {
    VectorError::Store(e.to_string())
}

impl QdrantStore {
    /// Connects and creates the collection (with its payload indexes) if it is missing.
    pub async fn connect(
        url: &str,
        api_key: Option<String>,
        collection: &str,
        dimension: usize,
    ) -> Result<Self, VectorError> {
        let mut vectors = VectorsConfigBuilder::default();
        vectors.add_named_vector_params(VECTOR_NAME, VectorParamsBuilder::new(dimension as u64, Distance::Cosine));
        let create = CreateCollectionBuilder::new(collection).vectors_config(vectors);
        let collection = qdrant_server::open(url, api_key, collection, create).await.map_err(VectorError::Open)?;
        Ok(Self { collection })
    }
}

#[async_trait]
impl VectorStore for QdrantStore {
    fn backend(&self) -> &'static str {
        "qdrant"
    }

    async fn upsert(&self, points: Vec<VectorPoint>) -> Result<(), VectorError> {
        if points.is_empty() {
            return Ok(());
        }
        let mut structs = Vec::with_capacity(points.len());
        for p in points {
            let payload =
                qdrant_server::payload(p.tenant_id, p.kb_id, p.document_id, p.chunk_id).map_err(store_error)?;
            structs.push(PointStruct::new(
                p.chunk_id.to_string(),
                HashMap::from([(VECTOR_NAME.to_owned(), p.vector)]),
                payload,
            ));
        }
        let c = &self.collection;
        c.client.upsert_points(UpsertPointsBuilder::new(&c.name, structs).wait(true)).await.map_err(store_error)?;
        Ok(())
    }

    async fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), VectorError> {
        self.collection
            .delete_where(qdrant_server::owned_by(tenant_id, "document_id", document_id))
            .await
            .map_err(VectorError::Store)
    }

    async fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), VectorError> {
        self.collection
            .delete_where(qdrant_server::owned_by(tenant_id, "kb_id", kb_id))
            .await
            .map_err(VectorError::Store)
    }

    async fn search(&self, scope: &SearchScope, vector: Vec<f32>, limit: usize) -> Result<Vec<VectorHit>, VectorError> {
        if scope.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let c = &self.collection;
        let response = c
            .client
            .query(
                QueryPointsBuilder::new(&c.name)
                    .query(vector)
                    .using(VECTOR_NAME)
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
                Some(VectorHit { chunk_id, document_id, score: p.score })
            })
            .collect())
    }

    async fn count_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<u64, VectorError> {
        let filter = qdrant_server::owned_by(tenant_id, "document_id", document_id);
        self.collection.count_where(Some(filter)).await.map_err(VectorError::Store)
    }

    async fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, VectorError> {
        let filter =
            tenant_id.map(|t| Filter::must([qdrant_client::qdrant::Condition::matches("tenant_id", t.to_string())]));
        self.collection.count_where(filter).await.map_err(VectorError::Store)
    }
}
