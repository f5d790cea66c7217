//! Revisions of an entry: every save is one. List them, view one with its differences from the
//! current entry, restore one (which is itself a new save).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{entry, entry_revision};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::services::audit::{self, Target};
use crate::services::content::entries::{self, split_tags, EntryView};
use crate::services::content::{hooks, save};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSummary {
    pub number: i32,
    pub title: String,
    pub status: String,
    /// `user:<id>`, `api_key:<id>` or `system`.
    pub actor: String,
    pub note: Option<String>,
    /// What this save changed: `created`, `title`, `slug`, `tags`, `status` or field names.
    pub changed: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<entry_revision::Model> for RevisionSummary {
    fn from(r: entry_revision::Model) -> Self {
        Self {
            number: r.number,
            title: r.title,
            status: r.status,
            actor: r.actor,
            note: r.note,
            changed: serde_json::from_value(r.changed).unwrap_or_default(),
            created_at: r.created_at,
        }
    }
}

/// One difference between a revision and the current entry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldDiff {
    pub field: String,
    /// The revision's value (null when the field was empty).
    pub revision: Value,
    /// The current value.
    pub current: Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionView {
    #[serde(flatten)]
    pub summary: RevisionSummary,
    pub slug: String,
    pub data: Value,
    pub tags: Vec<String>,
    /// How the current entry differs from this revision.
    pub diff: Vec<FieldDiff>,
}

async fn load(ctx: &AppContext, entry_id: Uuid, number: i32) -> ApiResult<entry_revision::Model> {
    entry_revision::Entity::find()
        .filter(entry_revision::Column::EntryId.eq(entry_id))
        .filter(entry_revision::Column::Number.eq(number))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("revision"))
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    params: &ListParams,
) -> ApiResult<Page<RevisionSummary>> {
    let scope = principal.require(Permission::ContentRead)?;
    entries::find(ctx, scope, site_id, id).await?;
    let sort = params.sort_or(&["number"], Sort::desc("number"))?;
    let select = entry_revision::Entity::find().filter(entry_revision::Column::EntryId.eq(id));
    Ok(fetch_page(&ctx.db, select, params, Some((entry_revision::Column::Number, sort.order())))
        .await?
        .map(RevisionSummary::from))
}

fn as_entry(r: &entry_revision::Model, current: &entry::Model) -> entry::Model {
    entry::Model {
        title: r.title.clone(),
        slug: r.slug.clone(),
        status: r.status.clone(),
        data: r.data.clone(),
        tags: r.tags.clone(),
        ..current.clone()
    }
}

pub async fn get(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    number: i32,
) -> ApiResult<RevisionView> {
    let scope = principal.require(Permission::ContentRead)?;
    let (_, current) = entries::find(ctx, scope, site_id, id).await?;
    let revision = load(ctx, id, number).await?;
    let old = as_entry(&revision, &current);
    let diff = save::changes(Some(&old), &current)
        .into_iter()
        .map(|field| {
            let pick = |e: &entry::Model| match field.as_str() {
                "title" => json!(e.title),
                "slug" => json!(e.slug),
                "status" => json!(e.status),
                "tags" => json!(split_tags(&e.tags)),
                name => e.data.get(name).cloned().unwrap_or(Value::Null),
            };
            FieldDiff { revision: pick(&old), current: pick(&current), field }
        })
        .collect();
    Ok(RevisionView {
        slug: revision.slug.clone(),
        data: revision.data.clone(),
        tags: split_tags(&revision.tags),
        diff,
        summary: revision.into(),
    })
}

/// Brings back a revision's title, slug, tags and data as a new save; the status stays.
pub async fn restore(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    number: i32,
) -> ApiResult<EntryView> {
    let (scope, access) = entries::write_access(principal)?;
    let (_, current) = entries::find(ctx, scope, site_id, id).await?;
    entries::check_editable(access, &current)?;
    let revision = load(ctx, id, number).await?;
    let mut active: entry::ActiveModel = current.clone().into();
    active.title = Set(revision.title.clone());
    active.slug = Set(revision.slug.clone());
    active.tags = Set(revision.tags.clone());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let note = Some(format!("restored from revision {number}"));
    let (saved, siblings) =
        entries::save_change(&txn, principal, &current, active, revision.data.clone(), note).await?;
    audit::record(&txn, &principal.actor(), "entry.restore", Target::new("entry", id), json!({ "revision": number }))
        .await?;
    txn.commit().await?;
    let mut changed = vec![saved.clone()];
    changed.extend(siblings);
    hooks::entries_changed(ctx, &changed).await;
    Ok(saved.into())
}
