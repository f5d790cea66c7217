//! Knowledge bases: CRUD with document, chunk and byte counts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Select, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::document::DocumentStatus;
use entity::{document, knowledge_base};

use crate::app::context::AppContext;
use crate::engines::store::sum_i64;
use crate::error::{ApiError, ApiResult};
use crate::platform::ids::KnowledgeBaseId;
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::by_id_in_tenant;
use crate::services::audit::{self, Target};
use crate::services::identity::accounts::parse_name;
use crate::services::identity::permissions::Permission;
use crate::services::identity::{Principal, TenantScope};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Only those who may change knowledge bases (`kb.write`: editors, admins, owners).
    #[default]
    Private,
    /// Everyone in the tenant.
    Tenant,
    /// Anyone, through public endpoints.
    Public,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KbPayload {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Most tokens per chunk (32–512, default 200).
    pub chunk_max_tokens: Option<i32>,
    /// Tokens repeated between chunks (0–half the chunk, default 32).
    pub chunk_overlap_tokens: Option<i32>,
    #[serde(default)]
    pub visibility: Visibility,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KbPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub chunk_max_tokens: Option<i32>,
    pub chunk_overlap_tokens: Option<i32>,
    pub visibility: Option<Visibility>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct StatusSummary {
    pub queued: u64,
    pub processing: u64,
    pub ready: u64,
    pub failed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KbView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub embedding_model: String,
    pub chunk_max_tokens: i32,
    pub chunk_overlap_tokens: i32,
    pub visibility: Visibility,
    /// Languages its text is stemmed in (ISO 639-1, detected per chunk; English always).
    pub languages: Vec<String>,
    pub documents: u64,
    pub chunks: u64,
    pub bytes: u64,
    pub status: StatusSummary,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn visibility(text: &str) -> Visibility {
    match text {
        "tenant" => Visibility::Tenant,
        "public" => Visibility::Public,
        _ => Visibility::Private,
    }
}

fn visibility_str(v: Visibility) -> &'static str {
    match v {
        Visibility::Private => "private",
        Visibility::Tenant => "tenant",
        Visibility::Public => "public",
    }
}

fn check_chunking(max: i32, overlap: i32) -> ApiResult<()> {
    if !(32..=512).contains(&max) {
        return Err(ApiError::invalid_field("chunkMaxTokens", "must be from 32 to 512"));
    }
    if overlap < 0 || overlap > max / 2 {
        return Err(ApiError::invalid_field(
            "chunkOverlapTokens",
            format!("must be from 0 to {} (half a chunk)", max / 2),
        ));
    }
    Ok(())
}

/// A knowledge base of the caller's tenant, else 404.
pub async fn find(ctx: &AppContext, tenant_id: Uuid, id: KnowledgeBaseId) -> ApiResult<knowledge_base::Model> {
    by_id_in_tenant::<knowledge_base::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("knowledge base"))
}

/// Whether the caller sees private knowledge bases: those who may change them do.
fn sees_private(scope: &TenantScope) -> bool {
    scope.permissions.contains(&Permission::KbWrite)
}

/// The knowledge bases the caller may read: the tenant's, less the private ones for callers
/// without `kb.write`. Every read path starts here so that none forgets visibility.
pub fn readable(scope: &TenantScope) -> Select<knowledge_base::Entity> {
    let mut condition = Condition::all().add(knowledge_base::Column::TenantId.eq(scope.tenant_id));
    if !sees_private(scope) {
        condition = condition.add(knowledge_base::Column::Visibility.ne(visibility_str(Visibility::Private)));
    }
    knowledge_base::Entity::find().filter(condition)
}

/// A knowledge base the caller may read, else 404 (a private one is not admitted to exist).
pub async fn find_readable(
    ctx: &AppContext,
    scope: &TenantScope,
    id: KnowledgeBaseId,
) -> ApiResult<knowledge_base::Model> {
    readable(scope)
        .filter(knowledge_base::Column::Id.eq(id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("knowledge base"))
}

/// Documents, chunks and bytes of one knowledge base, by status.
#[derive(Default)]
struct Counts {
    status: StatusSummary,
    documents: u64,
    chunks: u64,
    bytes: u64,
}

/// The counts of these knowledge bases, added up by the database (one query for a whole page,
/// however many documents they hold).
async fn counts(ctx: &AppContext, kb_ids: Vec<Uuid>) -> ApiResult<HashMap<Uuid, Counts>> {
    // (knowledge base, status, documents, chunks, bytes)
    type Row = (Uuid, DocumentStatus, i64, Option<i64>, Option<i64>);
    let rows: Vec<Row> = document::Entity::find()
        .select_only()
        .column(document::Column::KbId)
        .column(document::Column::Status)
        .column_as(document::Column::Id.count(), "documents")
        .column_as(sum_i64(document::Column::ChunkCount), "chunks")
        .column_as(sum_i64(document::Column::Bytes), "bytes")
        .filter(document::Column::KbId.is_in(kb_ids))
        .group_by(document::Column::KbId)
        .group_by(document::Column::Status)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let mut counts: HashMap<Uuid, Counts> = HashMap::new();
    for (kb, status, documents, chunks, bytes) in rows {
        let c = counts.entry(kb).or_default();
        let documents = u64::try_from(documents).unwrap_or(0);
        match status {
            DocumentStatus::Queued => c.status.queued += documents,
            DocumentStatus::Processing => c.status.processing += documents,
            DocumentStatus::Ready => c.status.ready += documents,
            DocumentStatus::Failed => c.status.failed += documents,
        }
        c.documents += documents;
        c.chunks += u64::try_from(chunks.unwrap_or(0)).unwrap_or(0);
        c.bytes += u64::try_from(bytes.unwrap_or(0)).unwrap_or(0);
    }
    Ok(counts)
}

async fn views(ctx: &AppContext, kbs: Vec<knowledge_base::Model>) -> ApiResult<Vec<KbView>> {
    let mut counts = counts(ctx, kbs.iter().map(|kb| kb.id).collect()).await?;
    Ok(kbs
        .into_iter()
        .map(|kb| {
            let c = counts.remove(&kb.id).unwrap_or_default();
            let languages = super::languages::of_kb(&kb).into_iter().map(str::to_owned).collect();
            KbView {
                id: kb.id,
                name: kb.name,
                description: kb.description,
                embedding_model: kb.embedding_model,
                chunk_max_tokens: kb.chunk_max_tokens,
                chunk_overlap_tokens: kb.chunk_overlap_tokens,
                visibility: visibility(&kb.visibility),
                languages,
                documents: c.documents,
                chunks: c.chunks,
                bytes: c.bytes,
                status: c.status,
                created_at: kb.created_at,
                updated_at: kb.updated_at,
            }
        })
        .collect())
}

async fn view(ctx: &AppContext, kb: knowledge_base::Model) -> ApiResult<KbView> {
    views(ctx, vec![kb]).await?.pop().ok_or_else(|| ApiError::not_found("knowledge base"))
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: KbPayload) -> ApiResult<KbView> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    let name = parse_name("name", &payload.name)?;
    let max = payload.chunk_max_tokens.unwrap_or(200);
    let overlap = payload.chunk_overlap_tokens.unwrap_or(32);
    check_chunking(max, overlap)?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let kb = knowledge_base::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        name: Set(name),
        description: Set(payload.description.trim().to_owned()),
        embedding_model: Set(ctx.settings.embedding_model.clone()),
        chunk_max_tokens: Set(max),
        chunk_overlap_tokens: Set(overlap),
        visibility: Set(visibility_str(payload.visibility).to_owned()),
        languages: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "kb.create",
        Target::new("knowledge_base", kb.id),
        serde_json::json!({ "name": kb.name }),
    )
    .await?;
    txn.commit().await?;
    view(ctx, kb).await
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<KbView>> {
    let scope = principal.require(Permission::KbRead)?;
    let sort = params.sort_or(&["name", "createdAt"], Sort::asc("name"))?;
    let column =
        if sort.field == "createdAt" { knowledge_base::Column::CreatedAt } else { knowledge_base::Column::Name };
    let page = fetch_page(&ctx.db, readable(scope), params, Some((column, sort.order()))).await?;
    Ok(Page { data: views(ctx, page.data).await?, pagination: page.pagination })
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: KnowledgeBaseId) -> ApiResult<KbView> {
    let scope = principal.require(Permission::KbRead)?;
    view(ctx, find_readable(ctx, scope, id).await?).await
}

pub async fn update(ctx: &AppContext, principal: &Principal, id: KnowledgeBaseId, patch: KbPatch) -> ApiResult<KbView> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    let kb = find(ctx, tenant_id, id).await?;
    check_chunking(
        patch.chunk_max_tokens.unwrap_or(kb.chunk_max_tokens),
        patch.chunk_overlap_tokens.unwrap_or(kb.chunk_overlap_tokens),
    )?;
    let mut active: knowledge_base::ActiveModel = kb.into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_name("name", name)?);
    }
    if let Some(description) = &patch.description {
        active.description = Set(description.trim().to_owned());
    }
    if let Some(max) = patch.chunk_max_tokens {
        active.chunk_max_tokens = Set(max);
    }
    if let Some(overlap) = patch.chunk_overlap_tokens {
        active.chunk_overlap_tokens = Set(overlap);
    }
    if let Some(v) = patch.visibility {
        active.visibility = Set(visibility_str(v).to_owned());
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let kb = active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "kb.update", Target::new("knowledge_base", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    view(ctx, kb).await
}

/// Deletes the knowledge base with its documents, chunks and index entries.
pub async fn delete(ctx: &AppContext, principal: &Principal, id: KnowledgeBaseId) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    let kb = find(ctx, tenant_id, id).await?;
    let engines = ctx.engines()?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    entity::chunk::Entity::delete_many().filter(entity::chunk::Column::KbId.eq(id)).exec(&txn).await?;
    document::Entity::delete_many().filter(document::Column::KbId.eq(id)).exec(&txn).await?;
    knowledge_base::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "kb.delete",
        Target::new("knowledge_base", id),
        serde_json::json!({ "name": kb.name }),
    )
    .await?;
    txn.commit().await?;
    // The rows are gone; the derived indexes follow (a failure here leaves orphans that the
    // next reindex removes, never visible results: searches join back to chunk rows).
    engines.lexical.delete_kb(tenant_id, id.uuid()).await.map_err(anyhow::Error::from)?;
    engines.vectors.delete_kb(tenant_id, id.uuid()).await.map_err(anyhow::Error::from)?;
    Ok(())
}
