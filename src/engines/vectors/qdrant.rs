//! A Qdrant server or cluster through qdrant-client (gRPC), for scale-out deployments.

use std::collections::HashMap;

use async_trait::async_trait;
use qdrant_client::qdrant::{
    point_id::PointIdOptions, Condition, CountPointsBuilder, CreateCollectionBuilder,
    CreateFieldIndexCollectionBuilder, DeletePointsBuilder, Distance, FieldType, Filter, KeywordIndexParamsBuilder,
    PointStruct, QueryPointsBuilder, UpsertPointsBuilder, VectorParamsBuilder, VectorsConfigBuilder,
};
use qdrant_client::{Payload, Qdrant};
use uuid::Uuid;

use crate::platform::scope::SearchScope;

use super::{VectorError, VectorHit, VectorPoint, VectorStore, VECTOR_NAME};

pub struct QdrantStore {
    client: Qdrant,
    collection: String,
}

fn store_error(e: impl std::fmt::Display) -> VectorError {
    VectorError::Store(e.to_string())
}

fn scope(tenant_id: Uuid, key: &str, id: Uuid) -> Filter {
    Filter::must([Condition::matches("tenant_id", tenant_id.to_string()), Condition::matches(key, id.to_string())])
}

impl QdrantStore {
    /// Connects and creates the collection (with the tenant payload index) if it is missing.
    pub async fn connect(
        url: &str,
        api_key: Option<String>,
        collection: &str,
        dimension: usize,
    ) -> Result<Self, VectorError> {
        let client =
            Qdrant::from_url(url).api_key(api_key).build().map_err(|e| VectorError::Open(format!("{url}: {e}")))?;
        let exists =
            client.collection_exists(collection).await.map_err(|e| VectorError::Open(format!("{url}: {e}")))?;
        if !exists {
            let mut vectors = VectorsConfigBuilder::default();
            vectors.add_named_vector_params(VECTOR_NAME, VectorParamsBuilder::new(dimension as u64, Distance::Cosine));
            client
                .create_collection(CreateCollectionBuilder::new(collection).vectors_config(vectors))
                .await
                .map_err(store_error)?;
            client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(collection, "tenant_id", FieldType::Keyword)
                        .field_index_params(KeywordIndexParamsBuilder::default().is_tenant(true))
                        .wait(true),
                )
                .await
                .map_err(store_error)?;
        }
        Ok(Self { client, collection: collection.to_owned() })
    }

    async fn delete_where(&self, filter: Filter) -> Result<(), VectorError> {
        self.client
            .delete_points(DeletePointsBuilder::new(&self.collection).points(filter).wait(true))
            .await
            .map_err(store_error)?;
        Ok(())
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
            let payload = Payload::try_from(serde_json::json!({
                "tenant_id": p.tenant_id.to_string(), "kb_id": p.kb_id.to_string(),
                "document_id": p.document_id.to_string(), "chunk_id": p.chunk_id.to_string(),
            }))
            .map_err(store_error)?;
            structs.push(PointStruct::new(
                p.chunk_id.to_string(),
                HashMap::from([(VECTOR_NAME.to_owned(), p.vector)]),
                payload,
            ));
        }
        self.client
            .upsert_points(UpsertPointsBuilder::new(&self.collection, structs).wait(true))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), VectorError> {
        self.delete_where(scope(tenant_id, "document_id", document_id)).await
    }

    async fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), VectorError> {
        self.delete_where(scope(tenant_id, "kb_id", kb_id)).await
    }

    async fn search(&self, scope: &SearchScope, vector: Vec<f32>, limit: usize) -> Result<Vec<VectorHit>, VectorError> {
        if scope.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let strings = |ids: &[Uuid]| ids.iter().map(Uuid::to_string).collect::<Vec<_>>();
        let mut conditions = vec![
            Condition::matches("tenant_id", scope.tenant_id.to_string()),
            Condition::matches("kb_id", strings(&scope.kb_ids)),
        ];
        if let Some(documents) = &scope.document_ids {
            conditions.push(Condition::matches("document_id", strings(documents)));
        }
        let filter = Filter::must(conditions);
        let response = self
            .client
            .query(
                QueryPointsBuilder::new(&self.collection)
                    .query(vector)
                    .using(VECTOR_NAME)
                    .filter(filter)
                    .limit(limit as u64)
                    .with_payload(true),
            )
            .await
            .map_err(store_error)?;
        Ok(response
            .result
            .into_iter()
            .filter_map(|p| {
                let chunk_id = match p.id?.point_id_options? {
                    PointIdOptions::Uuid(id) => id.parse().ok()?,
                    PointIdOptions::Num(_) => return None,
                };
                let document_id = p.payload.get("document_id")?.as_str()?.parse().ok()?;
                Some(VectorHit { chunk_id, document_id, score: p.score })
            })
            .collect())
    }

    async fn count_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<u64, VectorError> {
        let request =
            CountPointsBuilder::new(&self.collection).exact(true).filter(scope(tenant_id, "document_id", document_id));
        Ok(self.client.count(request).await.map_err(store_error)?.result.map_or(0, |r| r.count))
    }

    async fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, VectorError> {
        let mut request = CountPointsBuilder::new(&self.collection).exact(true);
        if let Some(t) = tenant_id {
            request = request.filter(Filter::must([Condition::matches("tenant_id", t.to_string())]));
        }
        let response = self.client.count(request).await.map_err(store_error)?;
        Ok(response.result.map_or(0, |r| r.count))
    }
}
