//! The shapes of entries at the API: status, the view, create and patch payloads, list
//! filters, and the parsing of titles and tags they share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::entry;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = EntryStatus)]
pub enum Status {
    Draft,
    Scheduled,
    Published,
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    pub id: Uuid,
    pub site_id: Uuid,
    /// The content type's api id.
    #[serde(rename = "type")]
    pub kind: String,
    pub locale: String,
    pub translation_group: Uuid,
    pub slug: String,
    pub title: String,
    /// `draft`, `scheduled`, `published` or `archived`.
    pub status: String,
    pub data: Value,
    pub tags: Vec<String>,
    pub author_id: Option<Uuid>,
    pub publish_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// Number of the latest revision.
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entry::Model> for EntryView {
    fn from(e: entry::Model) -> Self {
        Self {
            id: e.id,
            site_id: e.site_id,
            kind: e.type_api_id,
            locale: e.locale,
            translation_group: e.translation_group,
            slug: e.slug,
            title: e.title,
            status: e.status,
            data: e.data,
            tags: split_tags(&e.tags),
            author_id: e.author_id,
            publish_at: e.publish_at,
            published_at: e.published_at,
            revision: e.revision,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryPayload {
    /// Content type api id (`post`, `page`, or one of the tenant's).
    #[serde(rename = "type")]
    pub kind: String,
    /// One of the site's locales; the site's default when absent.
    pub locale: Option<String>,
    pub title: String,
    /// Unique per site, type and locale; from the title when absent.
    pub slug: Option<String>,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub tags: Vec<String>,
    /// `draft` (default), or `published` / `scheduled` with the publish permission.
    pub status: Option<Status>,
    /// With `status: scheduled`: when the entry goes live.
    pub publish_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryPatch {
    pub title: Option<String>,
    pub slug: Option<String>,
    /// Merged into the current data: a key set to `null` clears that field.
    pub data: Option<serde_json::Map<String, Value>>,
    pub tags: Option<Vec<String>>,
    /// `draft` or `archived` (publishing has its own endpoints).
    pub status: Option<Status>,
}

/// Filters of the entry list (with `page`, `limit` and `sort`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EntryFilter {
    /// Content type api id.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<Status>,
    pub locale: Option<String>,
    /// Author user id.
    pub author: Option<Uuid>,
    pub tag: Option<String>,
    /// Words in the title or slug.
    pub q: Option<String>,
}

pub fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// Tags as stored: trimmed, unique, `,a,b,`.
pub fn join_tags(tags: &[String]) -> ApiResult<String> {
    let mut clean: Vec<String> = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > 50 || tag.contains(',') {
            return Err(ApiError::invalid_field(&format!("tags[{i}]"), "must be 1–50 characters without commas"));
        }
        if !clean.iter().any(|t| t == tag) {
            clean.push(tag.to_owned());
        }
    }
    if clean.len() > 30 {
        return Err(ApiError::invalid_field("tags", "at most 30 tags"));
    }
    Ok(if clean.is_empty() { String::new() } else { format!(",{},", clean.join(",")) })
}

pub fn parse_title(raw: &str) -> ApiResult<String> {
    crate::services::identity::accounts::parse_line("title", raw, 300)
}
