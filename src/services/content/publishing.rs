//! Publishing: publish now or at a time (a job publishes it then), unpublish, duplicate.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::entry;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::jobs::JobError;
use crate::platform::jobs::{self, JobKind};
use crate::services::audit::{self, Actor, Target};
use crate::services::content::entries::{self, EntryView, Status};
use crate::services::content::{hooks, save};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;
use crate::services::webhooks::events::{self, EntryPublishedV1};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishRequest {
    /// A future time schedules the entry; absent or past publishes now.
    pub publish_at: Option<DateTime<Utc>>,
}

/// The `publishAt` an entry created with `status` gets; publishing needs its permission.
pub fn check_status(
    principal: &Principal,
    status: Status,
    publish_at: Option<DateTime<Utc>>,
) -> ApiResult<Option<DateTime<Utc>>> {
    match status {
        Status::Draft | Status::Archived => Ok(None),
        Status::Published => principal.require(Permission::ContentPublish).map(|_| None),
        Status::Scheduled => {
            principal.require(Permission::ContentPublish)?;
            match publish_at {
                Some(at) if at > Utc::now() => Ok(Some(at)),
                Some(_) => Err(ApiError::invalid_field("publishAt", "must be in the future to schedule")),
                None => Err(ApiError::invalid_field("publishAt", "is required with status `scheduled`")),
            }
        }
    }
}

/// Queues the job that publishes a scheduled entry on time.
pub async fn schedule<C: ConnectionTrait>(conn: &C, e: &entry::Model) -> ApiResult<()> {
    if let (true, Some(at)) = (e.status == Status::Scheduled.as_str(), e.publish_at) {
        jobs::enqueue_at(conn, e.tenant_id, JobKind::PublishEntry, e.id, at).await?;
    }
    Ok(())
}

pub async fn publish(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    request: PublishRequest,
) -> ApiResult<EntryView> {
    let scope = principal.require(Permission::ContentPublish)?;
    let (_, found) = entries::find(ctx, scope, site_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let current = entries::lock(&txn, &found).await?;
    let now = Utc::now();
    let mut active: entry::ActiveModel = current.clone().into();
    let note = match request.publish_at.filter(|at| *at > now) {
        Some(at) => {
            active.status = Set(Status::Scheduled.as_str().to_owned());
            active.publish_at = Set(Some(at));
            format!("scheduled for {}", at.to_rfc3339())
        }
        None => {
            active.status = Set(Status::Published.as_str().to_owned());
            active.publish_at = Set(None);
            active.published_at = Set(Some(current.published_at.unwrap_or(now)));
            "published".to_owned()
        }
    };
    let (saved, siblings) =
        entries::save_change(&txn, principal, &current, active, current.data.clone(), Some(note)).await?;
    schedule(&txn, &saved).await?;
    audit::record(
        &txn,
        &principal.actor(),
        if saved.status == Status::Scheduled.as_str() { "entry.schedule" } else { "entry.publish" },
        Target::new("entry", id),
        json!({ "publishAt": saved.publish_at }),
    )
    .await?;
    if saved.status == Status::Published.as_str() {
        published_event(&txn, &saved).await?;
    }
    txn.commit().await?;
    crate::services::jobs::wake(ctx);
    let mut changed = vec![saved.clone()];
    changed.extend(siblings);
    hooks::entries_changed(ctx, &changed).await;
    Ok(saved.into())
}

async fn published_event<C: ConnectionTrait>(conn: &C, e: &entry::Model) -> ApiResult<()> {
    let event = EntryPublishedV1 {
        entry_id: e.id,
        site_id: e.site_id,
        r#type: e.type_api_id.clone(),
        locale: e.locale.clone(),
        slug: e.slug.clone(),
    };
    events::emit(conn, e.tenant_id, &event).await?;
    Ok(())
}

pub async fn unpublish(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<EntryView> {
    let scope = principal.require(Permission::ContentPublish)?;
    let (_, found) = entries::find(ctx, scope, site_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let current = entries::lock(&txn, &found).await?;
    if current.status != Status::Published.as_str() && current.status != Status::Scheduled.as_str() {
        return Err(ApiError::new(ErrorCode::Conflict, format!("the entry is {}, not published", current.status)));
    }
    let mut active: entry::ActiveModel = current.clone().into();
    active.status = Set(Status::Draft.as_str().to_owned());
    active.publish_at = Set(None);
    let (saved, _) =
        entries::save_change(&txn, principal, &current, active, current.data.clone(), Some("unpublished".to_owned()))
            .await?;
    audit::record(&txn, &principal.actor(), "entry.unpublish", Target::new("entry", id), serde_json::Value::Null)
        .await?;
    let event = events::EntryUnpublishedV1 {
        entry_id: saved.id,
        site_id: saved.site_id,
        r#type: saved.type_api_id.clone(),
        locale: saved.locale.clone(),
        slug: saved.slug.clone(),
    };
    events::emit(&txn, saved.tenant_id, &event).await?;
    txn.commit().await?;
    hooks::entries_changed(ctx, std::slice::from_ref(&saved)).await;
    Ok(saved.into())
}

/// A draft copy with a free slug (`slug-copy`, `slug-copy-2`, …) in a new translation group.
pub async fn duplicate(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<EntryView> {
    let (scope, _) = entries::write_access(principal)?;
    let (_, found) = entries::find(ctx, scope, site_id, id).await?;
    // The free slug is looked for inside the transaction: two copies at once get two slugs.
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let source = entries::lock(&txn, &found).await?;
    let base: String = format!("{}-copy", source.slug).chars().take(56).collect();
    let taken: Vec<String> = entry::Entity::find()
        .filter(entry::Column::SiteId.eq(site_id))
        .filter(entry::Column::ContentTypeId.eq(source.content_type_id))
        .filter(entry::Column::Locale.eq(source.locale.as_str()))
        .filter(entry::Column::Slug.starts_with(base.as_str()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| e.slug)
        .collect();
    let slug = std::iter::once(base.clone())
        .chain((2..).map(|n| format!("{base}-{n}")))
        .find(|s| !taken.contains(s))
        .unwrap_or(base);
    let title: String = format!("{} (copy)", source.title).chars().take(300).collect();
    let now = Utc::now();
    let copy = entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        translation_group: Set(Uuid::now_v7()),
        slug: Set(slug),
        title: Set(title),
        status: Set(Status::Draft.as_str().to_owned()),
        author_id: Set(principal.user_id),
        publish_at: Set(None),
        published_at: Set(None),
        revision: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..source.clone().into()
    };
    let copy = entry::Entity::insert(copy).exec_with_returning(&txn).await?;
    save::write_revision(&txn, None, &copy, &principal.actor(), Some(format!("duplicated from {id}"))).await?;
    let refs = entity::entry_ref::Entity::find().filter(entity::entry_ref::Column::EntryId.eq(id)).all(&txn).await?;
    for r in refs {
        entity::entry_ref::ActiveModel { id: Set(Uuid::now_v7()), entry_id: Set(copy.id), ..r.into() }
            .insert(&txn)
            .await?;
    }
    audit::record(&txn, &principal.actor(), "entry.duplicate", Target::new("entry", copy.id), json!({ "source": id }))
        .await?;
    txn.commit().await?;
    Ok(copy.into())
}

/// The `publish_entry` job: publishes the entry if it is still scheduled and due. A job left
/// over from an earlier schedule finds nothing to do.
pub async fn run_job(ctx: &AppContext, job: &entity::job::Model) -> Result<(), JobError> {
    let fail = |e: sea_orm::DbErr| JobError::transient(e);
    let Some(id) = job.target_id else { return Ok(()) };
    let txn = crate::engines::store::begin_write(&ctx.db).await.map_err(fail)?;
    let Some(current) = entry::Entity::find_by_id(id).lock_exclusive().one(&txn).await.map_err(fail)? else {
        return Ok(());
    };
    let due = current.publish_at.is_some_and(|at| at <= Utc::now());
    if current.status != Status::Scheduled.as_str() || !due {
        return Ok(());
    }
    let mut active: entry::ActiveModel = current.clone().into();
    active.status = Set(Status::Published.as_str().to_owned());
    active.publish_at = Set(None);
    active.published_at = Set(Some(current.published_at.unwrap_or_else(Utc::now)));
    active.revision = Set(current.revision + 1);
    active.updated_at = Set(Utc::now());
    let saved = active.update(&txn).await.map_err(fail)?;
    let system = Actor { tenant_id: Some(saved.tenant_id), ..Actor::system() };
    let write = async {
        save::write_revision(&txn, Some(&current), &saved, &system, Some("published on schedule".to_owned())).await?;
        audit::record(&txn, &system, "entry.publish", Target::new("entry", id), json!({ "scheduled": true })).await?;
        published_event(&txn, &saved).await
    };
    write.await.map_err(JobError::transient)?;
    txn.commit().await.map_err(fail)?;
    hooks::entries_changed(ctx, &[saved]).await;
    Ok(())
}
