//! The media library of a site: upload (content-addressed: the same bytes are stored once),
//! list and search, alt text and captions per locale, move between folders, replace the file
//! keeping the id, where-used, delete (refused while entries use it), and public serving with
//! image variants.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::{document, media};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::content::entries::{self, EntryView};
use crate::services::content::hooks;
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::{parse_locale, visible};
use crate::services::identity::{Principal, TenantScope};
use crate::services::knowledge::documents::{too_large, Upload};
use crate::services::media::{folders, sniff, variants};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaView {
    pub id: Uuid,
    pub site_id: Uuid,
    pub folder_id: Option<Uuid>,
    pub name: String,
    pub sha256: String,
    /// Sniffed from the bytes.
    pub mime: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Alt text per locale.
    pub alt: Value,
    /// Caption per locale.
    pub caption: Value,
    /// Public URL (add `?w=&h=&fit=` for image variants).
    pub url: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<media::Model> for MediaView {
    fn from(m: media::Model) -> Self {
        Self {
            url: format!("/public/v1/sites/{}/media/{}", m.site_id, m.id),
            id: m.id,
            site_id: m.site_id,
            folder_id: m.folder_id,
            name: m.name,
            sha256: m.sha256,
            mime: m.mime,
            size: m.size,
            width: m.width,
            height: m.height,
            alt: m.alt,
            caption: m.caption,
            uploaded_by: m.uploaded_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MediaFilter {
    /// Only this folder's files (`root` for files outside any folder).
    pub folder_id: Option<String>,
    /// Words in the name or alt text.
    pub q: Option<String>,
    /// MIME type or prefix, e.g. `image/`.
    pub mime: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UploadTarget {
    /// Folder to put the files in.
    pub folder_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaPatch {
    pub name: Option<String>,
    /// Alt text per locale, merged: `{"en": "A red bicycle", "de": null}` sets en, clears de.
    #[schema(value_type = Option<Object>)]
    pub alt: Option<Map<String, Value>>,
    /// Caption per locale, merged like `alt`.
    #[schema(value_type = Option<Object>)]
    pub caption: Option<Map<String, Value>>,
    /// `null` moves the file out of any folder.
    #[serde(default, deserialize_with = "crate::platform::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub folder_id: Option<Option<Uuid>>,
}

fn who(principal: &Principal) -> String {
    let actor = principal.actor();
    format!("{}:{}", actor.kind.as_str(), actor.id.unwrap_or_default())
}

fn parse_file_name(raw: &str) -> ApiResult<String> {
    let name = raw.trim().rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field("name", "must be 1 to 255 characters without control characters"));
    }
    Ok(name.to_owned())
}

/// `{"en": "…"}` merged with `patch`: locales validated, null removes, text up to 1000 chars.
fn merge_texts(field: &str, current: &Value, patch: Map<String, Value>) -> ApiResult<Value> {
    let mut out = current.as_object().cloned().unwrap_or_default();
    for (locale, value) in patch {
        let locale = parse_locale(&format!("{field}.{locale}"), &locale)?;
        match value {
            Value::Null => {
                out.remove(&locale);
            }
            Value::String(text) if text.chars().count() <= 1000 => {
                out.insert(locale, Value::String(text.trim().to_owned()));
            }
            _ => {
                return Err(ApiError::invalid_field(
                    &format!("{field}.{locale}"),
                    "must be text of at most 1000 characters",
                ))
            }
        }
    }
    Ok(Value::Object(out))
}

pub async fn find(ctx: &AppContext, scope: &TenantScope, site_id: Uuid, id: Uuid) -> ApiResult<media::Model> {
    visible(ctx, scope, site_id).await?;
    by_id_in_tenant::<media::Entity>(scope.tenant_id, id)
        .filter(media::Column::SiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("media"))
}

/// Checks, sniffs, measures and stores the bytes of one upload.
async fn store(ctx: &AppContext, upload: &Upload) -> ApiResult<(String, String, Option<(u32, u32)>)> {
    let limit = ctx.settings.max_media_bytes;
    if upload.over_limit || upload.bytes.len() > limit {
        return Err(too_large(limit));
    }
    if upload.bytes.is_empty() {
        return Err(ApiError::invalid_field("file", "the file is empty"));
    }
    let bytes = upload.bytes.clone();
    let (mime, dims) = tokio::task::spawn_blocking(move || {
        let mime = sniff::mime(&bytes);
        let dims = sniff::dimensions(&bytes, &mime);
        (mime, dims)
    })
    .await
    .map_err(anyhow::Error::from)?;
    let sha256 = ctx.engines()?.blobs.put(&upload.bytes).await.map_err(anyhow::Error::from)?;
    Ok((sha256, mime, dims))
}

fn pixels(dims: Option<(u32, u32)>) -> (Option<i32>, Option<i32>) {
    let to_i32 = |v: u32| i32::try_from(v).ok();
    (dims.and_then(|d| to_i32(d.0)), dims.and_then(|d| to_i32(d.1)))
}

pub async fn upload(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    target: &UploadTarget,
    uploads: Vec<Upload>,
) -> ApiResult<Vec<MediaView>> {
    let scope = principal.require(Permission::MediaWrite)?;
    visible(ctx, scope, site_id).await?;
    if let Some(folder) = target.folder_id {
        folders::find(ctx, scope, site_id, folder).await?;
    }
    // Every file is checked before any row is written: one bad file fails the request whole.
    let mut stored = Vec::with_capacity(uploads.len());
    for upload in &uploads {
        let name = parse_file_name(upload.name.as_deref().unwrap_or("file"))?;
        stored.push((name, store(ctx, upload).await?, upload.bytes.len()));
    }
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let mut created = Vec::with_capacity(stored.len());
    for (name, (sha256, mime, dims), size) in stored {
        let (width, height) = pixels(dims);
        let row = media::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(scope.tenant_id),
            site_id: Set(site_id),
            folder_id: Set(target.folder_id),
            name: Set(name),
            sha256: Set(sha256),
            mime: Set(mime),
            size: Set(i64::try_from(size).unwrap_or(i64::MAX)),
            width: Set(width),
            height: Set(height),
            alt: Set(json!({})),
            caption: Set(json!({})),
            uploaded_by: Set(who(principal)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &principal.actor(),
            "media.upload",
            Target::new("media", row.id),
            json!({ "siteId": site_id, "name": row.name, "size": row.size }),
        )
        .await?;
        created.push(row.into());
    }
    txn.commit().await?;
    Ok(created)
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    filter: &MediaFilter,
    params: &ListParams,
) -> ApiResult<Page<MediaView>> {
    let scope = principal.require(Permission::MediaRead)?;
    visible(ctx, scope, site_id).await?;
    let sort = params.sort_or(&["createdAt", "name", "size"], Sort::desc("createdAt"))?;
    let column = match sort.field.as_str() {
        "name" => media::Column::Name,
        "size" => media::Column::Size,
        _ => media::Column::CreatedAt,
    };
    let mut select = in_tenant::<media::Entity>(scope.tenant_id).filter(media::Column::SiteId.eq(site_id));
    match filter.folder_id.as_deref() {
        None => {}
        Some("root") => select = select.filter(media::Column::FolderId.is_null()),
        Some(raw) => {
            let id = Uuid::parse_str(raw)
                .map_err(|_| ApiError::invalid_field("folderId", "must be a folder id or `root`"))?;
            select = select.filter(media::Column::FolderId.eq(id));
        }
    }
    if let Some(mime) = filter.mime.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        select = select.filter(media::Column::Mime.starts_with(mime));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        for word in q.split_whitespace().take(8) {
            let pattern = format!("%{}%", word.to_lowercase().replace(['%', '_'], ""));
            select = select.filter(
                Condition::any()
                    .add(Expr::expr(Func::lower(Expr::col(media::Column::Name))).like(pattern.clone()))
                    .add(Expr::expr(Func::lower(Expr::col(media::Column::Alt).cast_as("text"))).like(pattern)),
            );
        }
    }
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(MediaView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<MediaView> {
    let scope = principal.require(Permission::MediaRead)?;
    Ok(find(ctx, scope, site_id, id).await?.into())
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    patch: MediaPatch,
) -> ApiResult<MediaView> {
    let scope = principal.require(Permission::MediaWrite)?;
    let current = find(ctx, scope, site_id, id).await?;
    let mut active: media::ActiveModel = current.clone().into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_file_name(name)?);
    }
    if let Some(alt) = patch.alt {
        active.alt = Set(merge_texts("alt", &current.alt, alt)?);
    }
    if let Some(caption) = patch.caption {
        active.caption = Set(merge_texts("caption", &current.caption, caption)?);
    }
    if let Some(folder) = patch.folder_id {
        if let Some(folder) = folder {
            folders::find(ctx, scope, site_id, folder).await?;
        }
        active.folder_id = Set(folder);
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "media.update", Target::new("media", id), Value::Null).await?;
    txn.commit().await?;
    hooks::site_changed(ctx, site_id).await;
    Ok(saved.into())
}

/// New bytes under the same id: entries that use the file show the new one.
pub async fn replace(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    mut uploads: Vec<Upload>,
) -> ApiResult<MediaView> {
    let scope = principal.require(Permission::MediaWrite)?;
    let current = find(ctx, scope, site_id, id).await?;
    if uploads.len() != 1 {
        return Err(ApiError::invalid_field("file", "send exactly one file to replace this one"));
    }
    let upload = uploads.remove(0);
    let (sha256, mime, dims) = store(ctx, &upload).await?;
    let (width, height) = pixels(dims);
    let old_sha = current.sha256.clone();
    let mut active: media::ActiveModel = current.into();
    if let Some(name) = upload.name.as_deref() {
        active.name = Set(parse_file_name(name)?);
    }
    active.sha256 = Set(sha256);
    active.mime = Set(mime);
    active.size = Set(i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX));
    active.width = Set(width);
    active.height = Set(height);
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "media.replace", Target::new("media", id), json!({ "previous": old_sha }))
        .await?;
    txn.commit().await?;
    hooks::site_changed(ctx, site_id).await;
    Ok(saved.into())
}

pub async fn usage(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<Vec<EntryView>> {
    let scope = principal.require(Permission::MediaRead)?;
    find(ctx, scope, site_id, id).await?;
    Ok(entries::referrers(&ctx.db, scope.tenant_id, id).await?.into_iter().map(EntryView::from).collect())
}

pub async fn delete(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<()> {
    let scope = principal.require(Permission::MediaWrite)?;
    let current = find(ctx, scope, site_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let users = entries::referrers(&txn, scope.tenant_id, id).await?;
    if !users.is_empty() {
        return Err(entries::in_use("this file", &users));
    }
    media::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(&txn, &principal.actor(), "media.delete", Target::new("media", id), json!({ "name": current.name }))
        .await?;
    txn.commit().await?;
    // The bytes go when nothing else (another media row, a document) has the same digest.
    let others = media::Entity::find().filter(media::Column::Sha256.eq(current.sha256.as_str())).count(&ctx.db).await?
        + document::Entity::find().filter(document::Column::Sha256.eq(current.sha256.as_str())).count(&ctx.db).await?;
    if others == 0 {
        if let Err(error) = ctx.engines()?.blobs.remove(&current.sha256).await {
            tracing::warn!(%error, "removing an unused blob failed");
        }
    }
    hooks::site_changed(ctx, site_id).await;
    Ok(())
}

/// A public file (or image variant): bytes, MIME type and a strong ETag.
pub struct Served {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub etag: String,
    pub name: String,
}

pub async fn serve(ctx: &AppContext, site_id: Uuid, id: Uuid, params: &variants::VariantParams) -> ApiResult<Served> {
    let variant = variants::parse(params, &ctx.settings.image_sizes)?;
    let found = media::Entity::find_by_id(id)
        .filter(media::Column::SiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("media"))?;
    let blobs = &ctx.engines()?.blobs;
    let Some(variant) = variant else {
        let bytes = blobs.get(&found.sha256).await.map_err(|_| ApiError::not_found("media file"))?;
        return Ok(Served { bytes, etag: format!("\"{}\"", found.sha256), mime: found.mime, name: found.name });
    };
    if !sniff::is_raster(&found.mime) {
        return Err(ApiError::new(ErrorCode::InvalidRequest, format!("{} files have no size variants", found.mime)));
    }
    let (_, ext, mime) = variants::output_format(&found.mime);
    let path = variants::path(&ctx.settings.data_dir.join("variants"), &found.sha256, &variant, ext);
    let etag = format!("\"{}-{}\"", found.sha256, variant.key());
    if let Ok(bytes) = tokio::fs::read(&path).await {
        return Ok(Served { bytes, etag, mime: mime.to_owned(), name: found.name });
    }
    let original = blobs.get(&found.sha256).await.map_err(|_| ApiError::not_found("media file"))?;
    let source_mime = found.mime.clone();
    let bytes = tokio::task::spawn_blocking(move || variants::render(&original, &source_mime, &variant))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|e| ApiError::new(ErrorCode::UnprocessableEntity, format!("the image could not be resized: {e}")))?;
    if let Some(dir) = path.parent() {
        let temp = path.with_extension(format!("tmp-{}", Uuid::now_v7().simple()));
        let written = async {
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::write(&temp, &bytes).await?;
            tokio::fs::rename(&temp, &path).await
        };
        if let Err(error) = written.await {
            tracing::warn!(%error, "caching an image variant failed");
        }
    }
    Ok(Served { bytes, etag, mime: mime.to_owned(), name: found.name })
}
