//! Search filters on documents (ids, metadata, file type, date), resolved to the set of
//! document ids both indexes are then restricted to.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::document;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchFilters {
    /// Only these documents.
    pub document_ids: Option<Vec<Uuid>>,
    /// Metadata each document must have: every key equal to the value, or, where the document's
    /// value is a list, containing it.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Documents whose `metadata.tags` list contains every one of these.
    pub tags: Option<Vec<String>>,
    /// Detected file types: `pdf`, `docx`, `html`, `markdown`, `text`, `csv`, `json`.
    pub file_types: Option<Vec<String>>,
    /// Added at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Added before this time.
    pub created_before: Option<DateTime<Utc>>,
}

impl SearchFilters {
    fn is_empty(&self) -> bool {
        self.document_ids.is_none()
            && self.metadata.as_ref().is_none_or(Map::is_empty)
            && self.tags.as_ref().is_none_or(Vec::is_empty)
            && self.file_types.is_none()
            && self.created_after.is_none()
            && self.created_before.is_none()
    }
}

fn value_matches(have: Option<&Value>, want: &Value) -> bool {
    match have {
        Some(Value::Array(items)) if !want.is_array() => items.contains(want),
        Some(have) => have == want,
        None => false,
    }
}

/// Whether a document's metadata passes the metadata and tag filters.
pub fn metadata_matches(metadata: &Value, filters: &SearchFilters) -> bool {
    let all_keys = filters.metadata.iter().flatten().all(|(key, want)| value_matches(metadata.get(key), want));
    let all_tags =
        filters.tags.iter().flatten().all(|tag| value_matches(metadata.get("tags"), &Value::String(tag.clone())));
    all_keys && all_tags
}

/// None when there is no filter (every document); otherwise the matching documents' ids
/// (possibly none).
pub async fn document_ids(
    ctx: &AppContext,
    tenant_id: Uuid,
    kb_ids: &[Uuid],
    filters: &SearchFilters,
) -> ApiResult<Option<Vec<Uuid>>> {
    if filters.is_empty() {
        return Ok(None);
    }
    if let (Some(after), Some(before)) = (filters.created_after, filters.created_before) {
        if after >= before {
            return Err(ApiError::invalid_field("filters.createdAfter", "must be before createdBefore"));
        }
    }
    let mut query = document::Entity::find()
        .select_only()
        .columns([document::Column::Id, document::Column::Metadata])
        .filter(document::Column::TenantId.eq(tenant_id))
        .filter(document::Column::KbId.is_in(kb_ids.to_vec()));
    if let Some(ids) = &filters.document_ids {
        query = query.filter(document::Column::Id.is_in(ids.clone()));
    }
    if let Some(types) = &filters.file_types {
        query = query.filter(document::Column::Kind.is_in(types.iter().map(|t| t.to_ascii_lowercase())));
    }
    if let Some(after) = filters.created_after {
        query = query.filter(document::Column::CreatedAt.gte(after));
    }
    if let Some(before) = filters.created_before {
        query = query.filter(document::Column::CreatedAt.lt(before));
    }
    let rows: Vec<(Uuid, Value)> = query.into_tuple().all(&ctx.db).await?;
    Ok(Some(rows.into_iter().filter(|(_, metadata)| metadata_matches(metadata, filters)).map(|(id, _)| id).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filters(value: Value) -> SearchFilters {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn metadata_keys_match_values_or_list_members_and_tags_must_all_be_present() {
        let doc = json!({"team": "legal", "tags": ["contract", "2024"], "year": 2024});
        assert!(metadata_matches(&doc, &filters(json!({"metadata": {"team": "legal", "year": 2024}}))));
        assert!(metadata_matches(&doc, &filters(json!({"metadata": {"tags": "contract"}}))));
        assert!(!metadata_matches(&doc, &filters(json!({"metadata": {"team": "sales"}}))));
        assert!(!metadata_matches(&doc, &filters(json!({"metadata": {"missing": 1}}))));
        assert!(metadata_matches(&doc, &filters(json!({"tags": ["contract", "2024"]}))));
        assert!(!metadata_matches(&doc, &filters(json!({"tags": ["contract", "invoice"]}))));
        assert!(metadata_matches(&json!({}), &filters(json!({"fileTypes": ["pdf"]}))));
        assert!(filters(json!({"tags": []})).is_empty());
    }
}
