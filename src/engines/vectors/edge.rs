//! qdrant-edge: the vector index inside the process, on disk under the data dir.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use qdrant_edge::{
    AnyVariants, Condition, CountRequest, CreateIndex, Distance, EdgeConfigBuilder, EdgeShard, EdgeVectorParamsBuilder,
    FieldCondition, FieldIndexOperations, Filter, JsonPath, KeywordIndexParams, Match, NamedQuery, PayloadFieldSchema,
    PayloadSchemaParams, PointId, PointInsertOperations, PointOperations, PointStructPersisted, QueryEnum,
    QueryRequest, ScoringQuery, UpdateOperation, ValueVariants, VectorInternal, VectorPersisted, VectorStructPersisted,
    WithPayloadInterface, WithVector,
};
use uuid::Uuid;

use crate::engines::group_commit::GroupCommit;
use crate::platform::scope::SearchScope;

use super::{VectorError, VectorHit, VectorPoint, VectorStore, VECTOR_NAME};

pub struct EdgeStore {
    /// Always Some until drop (see the Drop impl).
    shard: Option<Arc<EdgeShard>>,
    /// qdrant-edge's flush panics when an update holds its WAL lock: updates and flushes take
    /// turns on this lock.
    turns: Arc<Mutex<()>>,
    /// Flushes shared by the documents being ingested at once.
    flushes: GroupCommit,
}

fn store_error(e: impl std::fmt::Display) -> VectorError {
    VectorError::Store(e.to_string())
}

fn path(key: &str) -> Result<JsonPath, VectorError> {
    key.parse().map_err(|_| VectorError::Store(format!("bad payload key {key}")))
}

fn equals(key: &str, id: Uuid) -> Result<Condition, VectorError> {
    Ok(Condition::Field(FieldCondition::new_match(path(key)?, Match::new_value(ValueVariants::String(id.to_string())))))
}

fn any_of(key: &str, ids: &[Uuid]) -> Result<Condition, VectorError> {
    let values = ids.iter().map(Uuid::to_string).collect();
    Ok(Condition::Field(FieldCondition::new_match(path(key)?, Match::new_any(AnyVariants::Strings(values)))))
}

fn all_of(conditions: Vec<Condition>) -> Filter {
    Filter { must: Some(conditions), ..Filter::default() }
}

impl EdgeStore {
    /// Opens the shard in `dir`, creating it (with the tenant payload index) on first use.
    /// Blocking: call off the async runtime.
    pub fn open(dir: &Path, dimension: usize) -> Result<Self, VectorError> {
        let open = |e: &dyn std::fmt::Display| VectorError::Open(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(|e| open(&e))?;
        let existing = dir.join("edge_config.json").exists();
        let shard = if existing {
            EdgeShard::load(dir, None).map_err(|e| open(&e))?
        } else {
            let config = EdgeConfigBuilder::new()
                .vector(VECTOR_NAME, EdgeVectorParamsBuilder::new(dimension, Distance::Cosine).build())
                .build();
            let shard = EdgeShard::new(dir, config).map_err(|e| open(&e))?;
            let tenant_key = KeywordIndexParams { is_tenant: Some(true), ..KeywordIndexParams::default() };
            shard
                .update(UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(CreateIndex {
                    field_name: path("tenant_id")?,
                    field_schema: Some(PayloadFieldSchema::FieldParams(PayloadSchemaParams::Keyword(tenant_key))),
                })))
                .map_err(|e| open(&e))?;
            shard
        };
        let shard = Arc::new(shard);
        let turns = Arc::new(Mutex::new(()));
        let (flushing, turn) = (Arc::downgrade(&shard), turns.clone());
        let flushes = GroupCommit::start("vectors-flush", move || {
            let Some(shard) = flushing.upgrade() else { return Ok(()) };
            let _turn = turn.lock().unwrap_or_else(|p| p.into_inner());
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shard.flush()))
                .map_err(|_| "flushing the vector store failed".to_owned())
        })
        .map_err(|e| open(&e))?;
        Ok(Self { shard: Some(shard), turns, flushes })
    }

    /// An update of the shard, in turn with flushes.
    async fn update(&self, operation: UpdateOperation) -> Result<(), VectorError> {
        let turns = self.turns.clone();
        self.blocking(move |shard| {
            let _turn = turns.lock().unwrap_or_else(|p| p.into_inner());
            shard.update(operation).map_err(store_error)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&EdgeShard) -> Result<T, VectorError> + Send + 'static,
    ) -> Result<T, VectorError> {
        let shard = self.shard.clone().ok_or_else(|| VectorError::Store("the vector store is closing".to_owned()))?;
        tokio::task::spawn_blocking(move || work(&shard)).await.map_err(store_error)?
    }

    async fn delete_where(&self, filter: Filter) -> Result<(), VectorError> {
        self.update(UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter))).await
    }
}

/// qdrant-edge flushes in its own Drop and panics if that fails (e.g. the data dir was removed
/// first). A panic in a destructor can abort the process, so the last reference is dropped
/// inside `catch_unwind`: a failed final flush is logged, and the WAL replays on next open.
impl Drop for EdgeStore {
    fn drop(&mut self) {
        if let Some(shard) = self.shard.take() {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(shard))).is_err() {
                tracing::warn!("the vector store could not flush on close; its write-ahead log will be replayed");
            }
        }
    }
}

#[async_trait]
impl VectorStore for EdgeStore {
    fn backend(&self) -> &'static str {
        "qdrant-edge"
    }

    async fn upsert(&self, points: Vec<VectorPoint>) -> Result<(), VectorError> {
        if points.is_empty() {
            return Ok(());
        }
        let points: Vec<PointStructPersisted> = points
            .into_iter()
            .map(|p| {
                let payload = serde_json::json!({
                    "tenant_id": p.tenant_id.to_string(), "kb_id": p.kb_id.to_string(),
                    "document_id": p.document_id.to_string(), "chunk_id": p.chunk_id.to_string(),
                });
                let payload = match payload {
                    serde_json::Value::Object(map) => Some(map.into()),
                    _ => None,
                };
                PointStructPersisted {
                    id: PointId::Uuid(p.chunk_id),
                    vector: VectorStructPersisted::Named(HashMap::from([(
                        VECTOR_NAME.to_owned(),
                        VectorPersisted::Dense(p.vector),
                    )])),
                    payload,
                }
            })
            .collect();
        self.update(UpdateOperation::PointOperation(PointOperations::UpsertPoints(PointInsertOperations::PointsList(
            points,
        ))))
        .await?;
        // The WAL holds the points once `update` returns (a killed process replays it); the
        // flush makes them durable against power loss too, shared with concurrent writers.
        self.flushes.commit().await.map_err(VectorError::Store)
    }

    async fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), VectorError> {
        self.delete_where(all_of(vec![equals("tenant_id", tenant_id)?, equals("document_id", document_id)?])).await
    }

    async fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), VectorError> {
        self.delete_where(all_of(vec![equals("tenant_id", tenant_id)?, equals("kb_id", kb_id)?])).await
    }

    async fn search(&self, scope: &SearchScope, vector: Vec<f32>, limit: usize) -> Result<Vec<VectorHit>, VectorError> {
        if scope.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut conditions = vec![equals("tenant_id", scope.tenant_id)?, any_of("kb_id", &scope.kb_ids)?];
        if let Some(documents) = &scope.document_ids {
            conditions.push(any_of("document_id", documents)?);
        }
        let filter = all_of(conditions);
        let request = QueryRequest {
            prefetches: Vec::new(),
            query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery {
                query: VectorInternal::from(vector),
                using: Some(VECTOR_NAME.to_owned()),
            }))),
            filter: Some(filter),
            score_threshold: None,
            limit,
            offset: 0,
            params: None,
            with_vector: WithVector::Bool(false),
            with_payload: WithPayloadInterface::Bool(true),
        };
        let points = self.blocking(move |shard| shard.query(request).map_err(store_error)).await?;
        Ok(points
            .into_iter()
            .filter_map(|p| {
                let chunk_id = match p.id {
                    PointId::Uuid(id) => id,
                    PointId::NumId(_) => return None,
                };
                let document_id = p.payload.as_ref()?.0.get("document_id")?.as_str()?.parse().ok()?;
                Some(VectorHit { chunk_id, document_id, score: p.score })
            })
            .collect())
    }

    async fn count_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<u64, VectorError> {
        let filter = Some(all_of(vec![equals("tenant_id", tenant_id)?, equals("document_id", document_id)?]));
        let count =
            self.blocking(move |shard| shard.count(CountRequest { filter, exact: true }).map_err(store_error)).await?;
        Ok(count as u64)
    }

    /// Plain segments are searched exhaustively; past the indexing threshold this turns them
    /// into HNSW-indexed ones (blocking, seconds per 10k vectors), else it does nothing.
    async fn optimize(&self) -> Result<bool, VectorError> {
        self.blocking(|shard| shard.optimize().map_err(store_error)).await
    }

    async fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, VectorError> {
        let filter = tenant_id.map(|t| equals("tenant_id", t)).transpose()?.map(|c| all_of(vec![c]));
        let count =
            self.blocking(move |shard| shard.count(CountRequest { filter, exact: true }).map_err(store_error)).await?;
        Ok(count as u64)
    }
}
