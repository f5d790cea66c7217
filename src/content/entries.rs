//! Entries of a site: list with filters, read, create, update, delete. Editors change any
//! entry; authors create entries and change their own drafts; publishing is its own permission
//! (see `publishing`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{entry, entry_ref, site};

use crate::audit::{self, Target};
use crate::content::{hooks, save, types};
use crate::context::AppContext;
use crate::error::{conflict_on_unique, ApiError, ApiResult, ErrorCode};
use crate::identity::permissions::Permission;
use crate::identity::sites::{parse_locale, visible, SiteView};
use crate::identity::tenants::{parse_slug, slugify};
use crate::identity::{Principal, TenantScope};
use crate::list::{fetch_page, ListParams, Page, Sort};

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
    crate::identity::accounts::parse_line("title", raw, 300)
}

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
    let found = entry::Entity::find_by_id(id)
        .filter(entry::Column::TenantId.eq(scope.tenant_id))
        .filter(entry::Column::SiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("entry"))?;
    Ok((site, found))
}

/// `found` read again inside a write transaction and locked for it, so that a change computed
/// from it (the next revision number, merged fields) cannot be lost to a concurrent one.
pub async fn lock<C: sea_orm::ConnectionTrait>(conn: &C, found: &entry::Model) -> ApiResult<entry::Model> {
    entry::Entity::find_by_id(found.id)
        .filter(entry::Column::TenantId.eq(found.tenant_id))
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
    let mut select = entry::Entity::find()
        .filter(entry::Column::TenantId.eq(scope.tenant_id))
        .filter(entry::Column::SiteId.eq(site_id));
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
    let publish_at = crate::content::publishing::check_status(principal, status, payload.publish_at)?;
    let defs = types::defs(&content_type);
    let txn = crate::store::begin_write(&ctx.db).await?;
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
    crate::content::publishing::schedule(&txn, &created).await?;
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
    crate::knowledge::worker::wake(ctx);
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
    let txn = crate::store::begin_write(&ctx.db).await?;
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
    let ids: Vec<Uuid> = entry_ref::Entity::find()
        .filter(entry_ref::Column::TenantId.eq(tenant_id))
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
    let txn = crate::store::begin_write(&ctx.db).await?;
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
