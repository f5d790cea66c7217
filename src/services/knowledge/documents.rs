//! Documents of a knowledge base: adding (bytes or text), listing, reading, deleting and
//! reindexing. Adding stores the blob and writes the document row and its ingest job in one
//! transaction; the work happens in the background (see `pipeline`).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::document::DocumentStatus;
use entity::{chunk, document};

use crate::app::context::AppContext;
use crate::engines::parse::{self, DocumentKind, ParseError};
pub use crate::engines::upload::{too_large, Upload};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::ids::{DocumentId, KnowledgeBaseId};
use crate::platform::jobs::{self, JobKind, JobView};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;
use crate::services::knowledge::bases;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentView {
    pub id: Uuid,
    pub knowledge_base_id: Uuid,
    pub title: String,
    /// `upload`, `url` or `text`.
    pub source_kind: String,
    pub source_name: Option<String>,
    pub kind: Option<String>,
    pub bytes: i64,
    pub sha256: String,
    pub status: DocumentStatus,
    /// Why it failed, in words a person can act on.
    pub error: Option<String>,
    pub pages: Option<i32>,
    pub chunk_count: i32,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// What parsing found besides text: pages read by OCR and their confidence, pages OCR
    /// could not read, tables. Null until the document is parsed.
    pub parse: Option<crate::engines::parse::ParseReport>,
    /// The latest ingestion job: stage, done of total, percent.
    pub progress: Option<DocumentProgress>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentProgress {
    pub job_id: Uuid,
    pub stage: String,
    pub done: i64,
    pub total: i64,
    /// 0–100.
    pub percent: u8,
}

impl From<JobView> for DocumentProgress {
    fn from(j: JobView) -> Self {
        Self { job_id: j.id, stage: j.stage, done: j.done, total: j.total, percent: j.progress }
    }
}

/// The newest ingestion job of each document.
async fn latest_jobs(ctx: &AppContext, ids: &[Uuid]) -> ApiResult<std::collections::HashMap<Uuid, JobView>> {
    let rows = entity::job::Entity::find()
        .filter(entity::job::Column::TargetId.is_in(ids.to_vec()))
        .filter(entity::job::Column::Kind.eq(JobKind::IngestDocument.as_str()))
        .order_by_asc(entity::job::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    Ok(rows.into_iter().filter_map(|j| Some((j.target_id?, JobView::from(j)))).collect())
}

/// Views with their progress filled in.
async fn with_progress(ctx: &AppContext, docs: Vec<document::Model>) -> ApiResult<Vec<DocumentView>> {
    let ids: Vec<Uuid> = docs.iter().map(|d| d.id).collect();
    let mut jobs = latest_jobs(ctx, &ids).await?;
    Ok(docs
        .into_iter()
        .map(|d| {
            let progress = jobs.remove(&d.id).map(DocumentProgress::from);
            DocumentView { progress, ..DocumentView::from(d) }
        })
        .collect())
}

impl From<document::Model> for DocumentView {
    fn from(d: document::Model) -> Self {
        Self {
            id: d.id,
            knowledge_base_id: d.kb_id,
            title: d.title,
            source_kind: d.source_kind,
            source_name: d.source_name,
            kind: d.kind,
            bytes: d.bytes,
            sha256: d.sha256,
            status: d.status,
            error: d.error,
            pages: d.pages,
            chunk_count: d.chunk_count,
            metadata: d.metadata,
            parse: d.parse.and_then(|p| serde_json::from_value(p).ok()),
            progress: None,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// What adding a document returns: the document and the job that ingests it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedDocument {
    pub document: DocumentView,
    pub job: JobView,
}

/// Checks size and type before anything is stored: 413 and 415 answer at once.
pub fn accept(limit: usize, upload: &Upload) -> ApiResult<DocumentKind> {
    if upload.over_limit || upload.bytes.len() > limit {
        return Err(too_large(limit));
    }
    if upload.bytes.is_empty() {
        return Err(ApiError::new(ErrorCode::UnprocessableEntity, "the file is empty")
            .with_details(serde_json::json!({ "file": upload.name })));
    }
    parse::detect(&upload.bytes, upload.name.as_deref(), upload.declared_type.as_deref()).map_err(|e| match e {
        ParseError::Unsupported { .. } => {
            ApiError::new(ErrorCode::UnsupportedMediaType, e.to_string()).with_details(serde_json::json!({
                "file": upload.name,
                "supported": DocumentKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            }))
        }
        other => ApiError::new(ErrorCode::UnprocessableEntity, other.to_string()),
    })
}

/// Stores an upload and queues its ingestion. The same bytes twice in one knowledge base are a
/// 409 naming the existing document, unless `allow_duplicate`.
pub async fn add(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    upload: Upload,
    source_kind: &str,
    title: Option<String>,
    allow_duplicate: bool,
) -> ApiResult<AcceptedDocument> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    bases::find(ctx, tenant_id, kb_id).await?;
    // Detection reads the whole file (decoding text, trying JSON): off the async runtime.
    let limit = ctx.settings.max_upload_bytes;
    let (upload, kind) = tokio::task::spawn_blocking(move || {
        let kind = accept(limit, &upload);
        (upload, kind)
    })
    .await
    .map_err(anyhow::Error::from)?;
    let kind = kind?;
    let engines = ctx.engines()?;
    let sha256 = crate::engines::blobs::BlobStore::sha256(&upload.bytes);
    let document_id = Uuid::now_v7();
    if !allow_duplicate {
        if let Some(existing) = document::Entity::find()
            .filter(document::Column::KbId.eq(kb_id))
            .filter(document::Column::Sha256.eq(&sha256))
            .one(&ctx.db)
            .await?
        {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("this file is already in the knowledge base as \"{}\"", existing.title),
            )
            .with_details(
                serde_json::json!({ "documentId": existing.id, "hint": "add ?allowDuplicate=true to add it again" }),
            ));
        }
    }
    use crate::services::billing::meter;
    let estimate = meter::ingest_estimate(upload.bytes.len());
    meter::reserve_as(ctx, principal, document_id, meter::Operation::Ingest, None, &estimate).await?;
    engines.blobs.put(&upload.bytes).await.map_err(anyhow::Error::from)?;
    let title = title
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .or_else(|| upload.name.clone())
        .unwrap_or_else(|| "Untitled".to_owned());
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let doc = document::ActiveModel {
        id: Set(document_id),
        tenant_id: Set(tenant_id),
        kb_id: Set(kb_id.uuid()),
        title: Set(title.chars().take(500).collect()),
        source_kind: Set(source_kind.to_owned()),
        source_name: Set(upload.name.clone()),
        kind: Set(Some(kind.as_str().to_owned())),
        bytes: Set(i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX)),
        sha256: Set(sha256),
        status: Set(DocumentStatus::Queued),
        error: Set(None),
        pages: Set(None),
        chunk_count: Set(0),
        parse: Set(None),
        metadata: Set(serde_json::json!({})),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let job = jobs::enqueue(&txn, tenant_id, JobKind::IngestDocument, doc.id).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "document.create",
        Target::new("document", doc.id),
        serde_json::json!({ "kb": kb_id, "title": doc.title }),
    )
    .await?;
    txn.commit().await?;
    crate::services::jobs::wake(ctx);
    Ok(AcceptedDocument { document: doc.into(), job: job.into() })
}

/// A document of a knowledge base the caller may read, else 404.
async fn find_readable(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    id: DocumentId,
) -> ApiResult<document::Model> {
    let scope = principal.require(Permission::KbRead)?;
    bases::find_readable(ctx, scope, kb_id).await?;
    find(ctx, scope.tenant_id, kb_id, id).await
}

pub async fn find(
    ctx: &AppContext,
    tenant_id: Uuid,
    kb_id: KnowledgeBaseId,
    id: DocumentId,
) -> ApiResult<document::Model> {
    by_id_in_tenant::<document::Entity>(tenant_id, id)
        .filter(document::Column::KbId.eq(kb_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("document"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DocumentFilter {
    /// `queued`, `processing`, `ready` or `failed`.
    pub status: Option<String>,
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    filter: DocumentFilter,
    params: &ListParams,
) -> ApiResult<Page<DocumentView>> {
    let scope = principal.require(Permission::KbRead)?;
    let tenant_id = scope.tenant_id;
    bases::find_readable(ctx, scope, kb_id).await?;
    let sort = params.sort_or(&["title", "createdAt", "status"], Sort::desc("createdAt"))?;
    let column = match sort.field.as_str() {
        "title" => document::Column::Title,
        "status" => document::Column::Status,
        _ => document::Column::CreatedAt,
    };
    let mut select = in_tenant::<document::Entity>(tenant_id).filter(document::Column::KbId.eq(kb_id));
    if let Some(status) = filter.status {
        let Some(status) = DocumentStatus::parse(&status) else {
            return Err(ApiError::invalid_field("status", "must be queued, processing, ready or failed"));
        };
        select = select.filter(document::Column::Status.eq(status));
    }
    let page = fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?;
    Ok(Page { data: with_progress(ctx, page.data).await?, pagination: page.pagination })
}

pub async fn get(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    id: DocumentId,
) -> ApiResult<DocumentView> {
    let doc = find_readable(ctx, principal, kb_id, id).await?;
    with_progress(ctx, vec![doc]).await?.pop().ok_or_else(|| ApiError::not_found("document"))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChunkView {
    pub id: Uuid,
    pub index: i32,
    pub text: String,
    pub pages: Vec<u32>,
    pub headings: Vec<String>,
    /// Character offsets in the document's extracted text.
    pub start: i32,
    pub end: i32,
    pub tokens: i32,
}

impl From<chunk::Model> for ChunkView {
    fn from(c: chunk::Model) -> Self {
        Self {
            id: c.id,
            index: c.idx,
            text: c.text,
            pages: serde_json::from_value(c.pages).unwrap_or_default(),
            headings: serde_json::from_value(c.headings).unwrap_or_default(),
            start: c.start_char,
            end: c.end_char,
            tokens: c.tokens,
        }
    }
}

pub async fn chunks(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    id: DocumentId,
    params: &ListParams,
) -> ApiResult<Page<ChunkView>> {
    let tenant_id = find_readable(ctx, principal, kb_id, id).await?.tenant_id;
    let select = in_tenant::<chunk::Entity>(tenant_id).filter(chunk::Column::DocumentId.eq(id));
    Ok(fetch_page(&ctx.db, select, params, Some((chunk::Column::Idx, sea_orm::Order::Asc))).await?.map(ChunkView::from))
}

/// The original bytes and their MIME type.
pub async fn content(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    id: DocumentId,
) -> ApiResult<(Vec<u8>, String, String)> {
    let doc = find_readable(ctx, principal, kb_id, id).await?;
    let bytes = ctx.engines()?.blobs.get(&doc.sha256).await.map_err(anyhow::Error::from)?;
    let mime = DocumentKind::ALL
        .iter()
        .find(|k| Some(k.as_str()) == doc.kind.as_deref())
        .map_or("application/octet-stream", |k| k.mime());
    Ok((bytes, mime.to_owned(), doc.source_name.unwrap_or(doc.title)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentPatch {
    pub title: Option<String>,
    /// Replaces the metadata tags (a JSON object).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    id: DocumentId,
    patch: DocumentPatch,
) -> ApiResult<DocumentView> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    let doc = find(ctx, tenant_id, kb_id, id).await?;
    let mut active: document::ActiveModel = doc.into();
    if let Some(title) = &patch.title {
        active.title = Set(crate::services::identity::accounts::parse_name("title", title)?);
    }
    if let Some(metadata) = patch.metadata {
        if !metadata.is_object() {
            return Err(ApiError::invalid_field("metadata", "must be a JSON object"));
        }
        active.metadata = Set(metadata);
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let doc = active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "document.update", Target::new("document", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    // Every chunk is searchable by its document's title: re-index the words of the new one.
    if patch.title.is_some() && doc.status == DocumentStatus::Ready {
        let engines = ctx.engines()?;
        crate::services::knowledge::repair::refresh_fulltext(ctx, engines, &doc).await?;
    }
    Ok(doc.into())
}

/// Removes a document from the database and both indexes.
pub async fn delete(ctx: &AppContext, principal: &Principal, kb_id: KnowledgeBaseId, id: DocumentId) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    let doc = find(ctx, tenant_id, kb_id, id).await?;
    let engines = ctx.engines()?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    chunk::Entity::delete_many().filter(chunk::Column::DocumentId.eq(id)).exec(&txn).await?;
    document::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "document.delete",
        Target::new("document", id),
        serde_json::json!({ "title": doc.title }),
    )
    .await?;
    txn.commit().await?;
    crate::services::knowledge::pipeline::remove_from_indexes(engines, tenant_id, id.uuid())
        .await
        .map_err(anyhow::Error::from)?;
    Ok(())
}

/// Queues a fresh ingestion of the document.
pub async fn reindex(
    ctx: &AppContext,
    principal: &Principal,
    kb_id: KnowledgeBaseId,
    id: DocumentId,
) -> ApiResult<JobView> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    find(ctx, tenant_id, kb_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let job = jobs::enqueue(&txn, tenant_id, JobKind::IngestDocument, id.uuid()).await?;
    audit::record(&txn, &principal.actor(), "document.reindex", Target::new("document", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    crate::services::jobs::wake(ctx);
    Ok(job.into())
}

/// Re-ingests every document of a knowledge base: one job that queues an ingestion per
/// document (their progress shows in the knowledge base's status summary).
pub async fn reindex_kb(ctx: &AppContext, principal: &Principal, kb_id: KnowledgeBaseId) -> ApiResult<JobView> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    bases::find(ctx, tenant_id, kb_id).await?;
    let docs = in_tenant::<document::Entity>(tenant_id).filter(document::Column::KbId.eq(kb_id)).all(&ctx.db).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let job = jobs::enqueue(&txn, tenant_id, JobKind::ReindexKb, kb_id.uuid()).await?;
    for doc in &docs {
        jobs::enqueue(&txn, tenant_id, JobKind::IngestDocument, doc.id).await?;
    }
    let total = i64::try_from(docs.len()).unwrap_or(i64::MAX);
    entity::job::Entity::update_many()
        .col_expr(entity::job::Column::Total, sea_orm::sea_query::Expr::value(total))
        .col_expr(entity::job::Column::Done, sea_orm::sea_query::Expr::value(total))
        .filter(entity::job::Column::Id.eq(job.id))
        .exec(&txn)
        .await?;
    jobs::succeed(&txn, job.id).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "kb.reindex",
        Target::new("knowledge_base", kb_id),
        serde_json::json!({ "documents": docs.len() }),
    )
    .await?;
    txn.commit().await?;
    crate::services::jobs::wake(ctx);
    crate::services::jobs::views::job(ctx, principal, job.id).await
}
