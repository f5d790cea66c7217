//! What the dense store and the lexical store on a Qdrant server share: connecting, the
//! collection layout (payload indexes on the ids every search and delete filters by), scope
//! filters and reading hits back.

use qdrant_client::qdrant::{
    point_id::PointIdOptions, Condition, CountPointsBuilder, CreateCollectionBuilder,
    CreateFieldIndexCollectionBuilder, DeletePointsBuilder, FieldType, Filter, KeywordIndexParamsBuilder, ScoredPoint,
};
use qdrant_client::Qdrant;
use uuid::Uuid;

use crate::platform::scope::SearchScope;

/// A collection on a server, with its client.
pub struct Collection {
    pub client: Qdrant,
    pub name: String,
}

/// Connects and creates the collection when it is missing, with keyword indexes on
/// `tenant_id` (the tenant key: points are grouped per tenant), `kb_id` and `document_id`.
/// Two nodes starting at once may both try: a creation that lost the race is not an error.
pub async fn open(
    url: &str,
    api_key: Option<String>,
    name: &str,
    create: CreateCollectionBuilder,
) -> Result<Collection, String> {
    // The client's own version check prints to stdout; health reports the server's version.
    let client =
        Qdrant::from_url(url).api_key(api_key).skip_compatibility_check().build().map_err(|e| format!("{url}: {e}"))?;
    let exists = client.collection_exists(name).await.map_err(|e| format!("{url}: {e}"))?;
    if !exists {
        if let Err(e) = client.create_collection(create).await {
            if !client.collection_exists(name).await.unwrap_or(false) {
                return Err(format!("{url}: creating collection {name}: {e}"));
            }
        }
    }
    for (field, is_tenant) in [("tenant_id", true), ("kb_id", false), ("document_id", false)] {
        // Creating an index that exists is a no-op on the server.
        client
            .create_field_index(
                CreateFieldIndexCollectionBuilder::new(name, field, FieldType::Keyword)
                    .field_index_params(KeywordIndexParamsBuilder::default().is_tenant(is_tenant))
                    .wait(true),
            )
            .await
            .map_err(|e| format!("{url}: indexing {field} of {name}: {e}"))?;
    }
    Ok(Collection { client, name: name.to_owned() })
}

/// Removes collections (a throwaway run's); failures are only logged.
pub async fn drop_collections(url: &str, names: &[String]) {
    let Ok(client) = Qdrant::from_url(url).skip_compatibility_check().build() else { return };
    for name in names {
        if let Err(error) = client.delete_collection(name.as_str()).await {
            tracing::warn!(%error, collection = %name, "could not drop a throwaway collection");
        }
    }
}

/// The payload every point carries.
pub fn payload(
    tenant_id: Uuid,
    kb_id: Uuid,
    document_id: Uuid,
    chunk_id: Uuid,
) -> Result<qdrant_client::Payload, String> {
    qdrant_client::Payload::try_from(serde_json::json!({
        "tenant_id": tenant_id.to_string(), "kb_id": kb_id.to_string(),
        "document_id": document_id.to_string(), "chunk_id": chunk_id.to_string(),
    }))
    .map_err(|e| e.to_string())
}

/// One tenant's points with `key` = `id` (a document's, a knowledge base's).
pub fn owned_by(tenant_id: Uuid, key: &str, id: Uuid) -> Filter {
    Filter::must([Condition::matches("tenant_id", tenant_id.to_string()), Condition::matches(key, id.to_string())])
}

/// What a search may see, as a filter.
pub fn scope_filter(scope: &SearchScope) -> Filter {
    let strings = |ids: &[Uuid]| ids.iter().map(Uuid::to_string).collect::<Vec<_>>();
    let mut conditions = vec![
        Condition::matches("tenant_id", scope.tenant_id.to_string()),
        Condition::matches("kb_id", strings(&scope.kb_ids)),
    ];
    if let Some(documents) = &scope.document_ids {
        conditions.push(Condition::matches("document_id", strings(documents)));
    }
    Filter::must(conditions)
}

/// A scored point's chunk id (the point id) and document id (payload).
pub fn hit_ids(point: &ScoredPoint) -> Option<(Uuid, Uuid)> {
    let chunk_id = match point.id.as_ref()?.point_id_options.as_ref()? {
        PointIdOptions::Uuid(id) => id.parse().ok()?,
        PointIdOptions::Num(_) => return None,
    };
    let document_id = point.payload.get("document_id")?.as_str()?.parse().ok()?;
    Some((chunk_id, document_id))
}

impl Collection {
    pub async fn delete_where(&self, filter: Filter) -> Result<(), String> {
        self.client
            .delete_points(DeletePointsBuilder::new(&self.name).points(filter).wait(true))
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    pub async fn count_where(&self, filter: Option<Filter>) -> Result<u64, String> {
        let mut request = CountPointsBuilder::new(&self.name).exact(true);
        if let Some(filter) = filter {
            request = request.filter(filter);
        }
        let response = self.client.count(request).await.map_err(|e| e.to_string())?;
        Ok(response.result.map_or(0, |r| r.count))
    }
}
