//! Entries of a site: list with filters, read, create, update, delete. Editors change any
//! entry; authors create entries and change their own drafts; publishing is its own permission
//! (see `publishing`).

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set};
use serde_json::{json, Value};

use uuid::Uuid;

use entity::{entry, entry_ref, site};

use crate::app::context::AppContext;
use crate::error::{conflict_on_unique, ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::content::{hooks, save, types};
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::{parse_locale, visible, SiteView};
use crate::services::identity::tenants::{parse_slug, slugify};
use crate::services::identity::{Principal, TenantScope};

pub use super::entry_shapes::{
    join_tags, parse_title, split_tags, EntryFilter, EntryPatch, EntryPayload, EntryView, Status,
};

/// Who may write what: editors any entry, authors only their own drafts.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    Any,
    Own(Uuid),
}

pub fn write_access(principal: &Principal) -> ApiResult<(&TenantScope, Access)> {
    let scope = principal.scope()?;
    if scope.permissions.contains(&Permission::ContentWrite) {
        return Ok((scope, Access::Any));
    }
    match principal.user_id {
        Some(user) if scope.permissions.contains(&Permission::ContentWriteOwn) => Ok((scope, Access::Own(user))),
        _ => principal.require(Permission::ContentWrite).map(|s| (s, Access::Any)),
    }
}

pub fn check_editable(access: Access, e: &entry::Model) -> ApiResult<()> {
    match access {
        Access::Any => Ok(()),
        Access::Own(user) if e.author_id == Some(user) && e.status == Status::Draft.as_str() => Ok(()),
        Access::Own(_) => Err(ApiError::new(ErrorCode::Forbidden, "authors may change only their own drafts")
            .with_details(json!({ "permission": Permission::ContentWrite.as_str() }))),
    }
}

/// An entry of a visible site of the caller's tenant; else 404.
pub async fn find(
    ctx: &AppContext,
    scope: &TenantScope,
    site_id: Uuid,
    id: Uuid,
) -> ApiResult<(site::Model, entry::Model)> {
    let site = visible(ctx, scope, site_id).await?;
    let found = by_id_in_tenant::<entry::Entity>(scope.tenant_id, id)
        .filter(entry::Column::SiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("entry"))?;
    Ok((site, found))
}

/// `found` read again inside a write transaction and locked for it, so that a change computed
/// from it (the next revision number, merged fields) cannot be lost to a concurrent one.
pub async fn lock<C: sea_orm::ConnectionTrait>(conn: &C, found: &entry::Model) -> ApiResult<entry::Model> {
    by_id_in_tenant::<entry::Entity>(found.tenant_id, found.id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("entry"))
}

/// A locale the site offers.
pub fn site_locale(site: &site::Model, raw: Option<&str>) -> ApiResult<String> {
    let view = SiteView::from(site.clone());
    let Some(raw) = raw else { return Ok(view.default_locale) };
    let locale = parse_locale("locale", raw)?;
    if view.locales.contains(&locale) {
        Ok(locale)
    } else {
        Err(ApiError::invalid_field("locale", format!("the site's locales are {}", view.locales.join(", "))))
    }
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    filter: &EntryFilter,
    params: &ListParams,
) -> ApiResult<Page<EntryView>> {
    let scope = principal.require(Permission::ContentRead)?;
    visible(ctx, scope, site_id).await?;
    let sort = params.sort_or(&["updatedAt", "createdAt", "title", "publishedAt", "slug"], Sort::desc("updatedAt"))?;
    let column = match sort.field.as_str() {
        "createdAt" => entry::Column::CreatedAt,
        "title" => entry::Column::Title,
        "publishedAt" => entry::Column::PublishedAt,
        "slug" => entry::Column::Slug,
        _ => entry::Column::UpdatedAt,
    };
    let mut select = in_tenant::<entry::Entity>(scope.tenant_id).filter(entry::Column::SiteId.eq(site_id));
    if let Some(kind) = &filter.kind {
        select = select.filter(entry::Column::TypeApiId.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        select = select.filter(entry::Column::Status.eq(status.as_str()));
    }
    if let Some(locale) = &filter.locale {
        select = select.filter(entry::Column::Locale.eq(locale.as_str()));
    }
    if let Some(author) = filter.author {
        select = select.filter(entry::Column::AuthorId.eq(author));
    }
    if let Some(tag) = filter.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        select = select.filter(entry::Column::Tags.contains(format!(",{tag},")));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        for word in q.split_whitespace().take(8) {
            let pattern = format!("%{}%", word.to_lowercase().replace(['%', '_'], ""));
            select = select.filter(
                sea_orm::Condition::any()
                    .add(Expr::expr(Func::lower(Expr::col(entry::Column::Title))).like(pattern.clone()))
                    .add(Expr::col(entry::Column::Slug).like(pattern)),
            );
        }
    }
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(EntryView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<EntryView> {
    let scope = principal.require(Permission::ContentRead)?;
    Ok(find(ctx, scope, site_id, id).await?.1.into())
}

fn slug_taken(e: sea_orm::DbErr) -> ApiError {
    conflict_on_unique(e, "an entry with this slug (or this locale of it) already exists for the type")
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    payload: EntryPayload,
) -> ApiResult<EntryView> {
    let (scope, _) = write_access(principal)?;
    let site = visible(ctx, scope, site_id).await?;
    let content_type = types::by_api_id(ctx, scope.tenant_id, payload.kind.trim()).await?;
    let locale = site_locale(&site, payload.locale.as_deref())?;
    let title = parse_title(&payload.title)?;
    let slug = match &payload.slug {
        Some(slug) => parse_slug("slug", slug)?,
        None => slugify(&title),
    };
    let tags = join_tags(&payload.tags)?;
    let status = payload.status.unwrap_or(Status::Draft);
    let publish_at = crate::services::content::publishing::check_status(principal, status, payload.publish_at)?;
    let defs = types::defs(&content_type);
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let checked =
        save::check(&txn, scope.tenant_id, site_id, content_type.id, &locale, None, &defs, &payload.data).await?;
    let now = Utc::now();
    let created = entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(scope.tenant_id),
        site_id: Set(site_id),
        content_type_id: Set(content_type.id),
        type_api_id: Set(content_type.api_id.clone()),
        translation_group: Set(Uuid::now_v7()),
        locale: Set(locale),
        slug: Set(slug),
        title: Set(title),
        status: Set(status.as_str().to_owned()),
        data: Set(Value::Object(checked.data.clone())),
        tags: Set(tags),
        author_id: Set(principal.user_id),
        publish_at: Set(publish_at),
        published_at: Set((status == Status::Published).then_some(now)),
        revision: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(slug_taken)?;
    save::write_revision(&txn, None, &created, &principal.actor(), None).await?;
    save::replace_refs(&txn, &created, &checked).await?;
    crate::services::content::publishing::schedule(&txn, &created).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "entry.create",
        Target::new("entry", created.id),
        json!({ "siteId": site_id, "type": created.type_api_id, "status": created.status }),
    )
    .await?;
    txn.commit().await?;
    hooks::entries_changed(ctx, std::slice::from_ref(&created)).await;
    crate::services::jobs::wake(ctx);
    Ok(created.into())
}

/// Applies a change to an entry inside `txn`: validation, revision, references, shared fields.
/// Returns the saved entry and the locale variants whose shared fields changed.
pub async fn save_change<C: sea_orm::ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    before: &entry::Model,
    mut active: entry::ActiveModel,
    data: Value,
    note: Option<String>,
) -> ApiResult<(entry::Model, Vec<entry::Model>)> {
    let content_type = entity::content_type::Entity::find_by_id(before.content_type_id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("content type"))?;
    let defs = types::defs(&content_type);
    let checked = save::check(
        conn,
        before.tenant_id,
        before.site_id,
        before.content_type_id,
        &before.locale,
        Some(before.id),
        &defs,
        &data,
    )
    .await?;
    active.data = Set(Value::Object(checked.data.clone()));
    active.revision = Set(before.revision + 1);
    active.updated_at = Set(Utc::now());
    let saved = active.update(conn).await.map_err(slug_taken)?;
    save::write_revision(conn, Some(before), &saved, &principal.actor(), note).await?;
    save::replace_refs(conn, &saved, &checked).await?;
    let siblings = save::share_unlocalized(conn, &saved, &defs).await?;
    Ok((saved, siblings))
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    patch: EntryPatch,
) -> ApiResult<EntryView> {
    let (scope, access) = write_access(principal)?;
    let (_, found) = find(ctx, scope, site_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let current = lock(&txn, &found).await?;
    check_editable(access, &current)?;
    let mut active: entry::ActiveModel = current.clone().into();
    if let Some(title) = &patch.title {
        active.title = Set(parse_title(title)?);
    }
    if let Some(slug) = &patch.slug {
        active.slug = Set(parse_slug("slug", slug)?);
    }
    if let Some(tags) = &patch.tags {
        active.tags = Set(join_tags(tags)?);
    }
    if let Some(status) = patch.status {
        match status {
            Status::Draft | Status::Archived => {
                if current.status != status.as_str() && current.status != Status::Draft.as_str() {
                    principal.require(Permission::ContentPublish)?;
                }
                active.status = Set(status.as_str().to_owned());
                active.publish_at = Set(None);
            }
            _ => {
                return Err(ApiError::invalid_field(
                    "status",
                    "use POST …/publish to publish or schedule; PATCH sets draft or archived",
                ))
            }
        }
    }
    let mut data = current.data.as_object().cloned().unwrap_or_default();
    for (key, value) in patch.data.unwrap_or_default() {
        if Value::is_null(&value) {
            data.remove(&key);
        } else {
            data.insert(key, value);
        }
    }
    let (saved, siblings) = save_change(&txn, principal, &current, active, Value::Object(data), None).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "entry.update",
        Target::new("entry", id),
        json!({ "revision": saved.revision }),
    )
    .await?;
    txn.commit().await?;
    let mut changed = vec![saved.clone()];
    changed.extend(siblings);
    hooks::entries_changed(ctx, &changed).await;
    Ok(saved.into())
}

/// Entries that point at `target` (an entry, media or element), for where-used and delete checks.
pub async fn referrers<C: sea_orm::ConnectionTrait>(
    conn: &C,
    tenant_id: Uuid,
    target: Uuid,
) -> ApiResult<Vec<entry::Model>> {
    let ids: Vec<Uuid> = in_tenant::<entry_ref::Entity>(tenant_id)
        .filter(entry_ref::Column::TargetId.eq(target))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.entry_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(entry::Entity::find().filter(entry::Column::Id.is_in(ids)).all(conn).await?)
}

/// The 409 for deleting something still in use.
pub fn in_use(what: &str, users: &[entry::Model]) -> ApiError {
    let listed: Vec<Value> = users
        .iter()
        .take(50)
        .map(|e| json!({ "id": e.id, "title": e.title, "type": e.type_api_id, "locale": e.locale }))
        .collect();
    ApiError::new(
        ErrorCode::Conflict,
        format!("{what} is used by {} entr{}", users.len(), if users.len() == 1 { "y" } else { "ies" }),
    )
    .with_details(json!({ "count": users.len(), "entries": listed }))
}

pub async fn delete(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<()> {
    let (scope, access) = write_access(principal)?;
    let (_, current) = find(ctx, scope, site_id, id).await?;
    check_editable(access, &current)?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let users: Vec<entry::Model> =
        referrers(&txn, scope.tenant_id, id).await?.into_iter().filter(|e| e.id != id).collect();
    if !users.is_empty() {
        return Err(in_use("this entry", &users));
    }
    entry::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "entry.delete",
        Target::new("entry", id),
        json!({ "siteId": site_id, "slug": current.slug, "type": current.type_api_id }),
    )
    .await?;
    txn.commit().await?;
    hooks::entry_deleted(ctx, &current).await;
    Ok(())
}

/// How many entries of a site there are (for statistics).
pub async fn count(ctx: &AppContext, site_id: Uuid, status: Status) -> ApiResult<u64> {
    Ok(entry::Entity::find()
        .filter(entry::Column::SiteId.eq(site_id))
        .filter(entry::Column::Status.eq(status.as_str()))
        .count(&ctx.db)
        .await?)
}
