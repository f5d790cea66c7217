//! Analysis runs: a schema applied to documents by a background job, results stored per field
//! with their evidence, then reviewed (see `review`).

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::document::DocumentStatus;
use entity::{analysis_result, analysis_run, document, job};

use super::extract::{DocText, Extractor};
use super::llm::Llm;
use super::rules::Rules;
use super::schema::{self, Field};
use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::ids::KnowledgeBaseId;
use crate::platform::jobs::JobError;
use crate::platform::jobs::{self, JobKind, JobView};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::billing::meter::{self, Operation};
use crate::services::billing::prices::Quantity;
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;
use crate::services::knowledge::pipeline;

const MAX_DOCUMENTS: usize = 50;
/// Held per document for a model extraction, settled with the real use.
const PROMPT_ESTIMATE: i64 = 8_000;
const COMPLETION_ESTIMATE: i64 = 2_048;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRun {
    pub schema_id: Uuid,
    /// Documents of the tenant's knowledge bases (1–50); ones still being ingested are waited for.
    pub document_ids: Vec<Uuid>,
    /// `llm` (the default when a model upstream is configured) or `rules`.
    pub extractor: Option<String>,
    /// The model for `llm` (default: the server's default model).
    pub model: Option<String>,
    /// Approve values at least this confident and without errors without review (0–1; default: never).
    pub auto_approve_above: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResultView {
    pub id: Uuid,
    pub run_id: Uuid,
    pub document_id: Uuid,
    pub field: String,
    /// Typed and normalised; null when nothing was found.
    pub value: Option<Value>,
    pub confidence: f64,
    pub source: Option<super::extract::Source>,
    pub extractor: String,
    /// Validation errors against the schema.
    pub errors: Vec<String>,
    /// `pending`, `approved`, `corrected` or `rejected`.
    pub status: String,
    /// The reviewer's value of a `corrected` result.
    pub reviewed_value: Option<Value>,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<chrono::DateTime<Utc>>,
    pub comment: Option<String>,
}

impl From<analysis_result::Model> for ResultView {
    fn from(m: analysis_result::Model) -> Self {
        Self {
            id: m.id,
            run_id: m.run_id,
            document_id: m.document_id,
            field: m.field,
            value: m.value,
            confidence: m.confidence,
            source: m.source.and_then(|s| serde_json::from_value(s).ok()),
            extractor: m.extractor,
            errors: serde_json::from_value(m.errors).unwrap_or_default(),
            status: m.status,
            reviewed_value: m.reviewed_value,
            reviewer: m.reviewer,
            reviewed_at: m.reviewed_at,
            comment: m.comment,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub id: Uuid,
    pub schema_id: Uuid,
    pub schema_version: i32,
    /// `queued`, `running`, `review`, `completed` or `failed`.
    pub status: String,
    pub extractor: String,
    pub document_ids: Vec<Uuid>,
    pub auto_approve_above: Option<f64>,
    pub error: Option<String>,
    pub job: Option<JobView>,
    pub created_at: chrono::DateTime<Utc>,
    pub completed_at: Option<chrono::DateTime<Utc>>,
    /// Per document, its results in schema order (on `GET /v1/analysis/runs/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<DocumentResults>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentResults {
    pub document_id: Uuid,
    pub title: Option<String>,
    pub results: Vec<ResultView>,
}

fn view(run: analysis_run::Model, job: Option<job::Model>) -> RunView {
    RunView {
        id: run.id,
        schema_id: run.schema_id,
        schema_version: run.schema_version,
        status: run.status,
        extractor: run.extractor,
        document_ids: serde_json::from_value(run.document_ids).unwrap_or_default(),
        auto_approve_above: (run.auto_approve_above <= 1.0).then_some(run.auto_approve_above),
        error: run.error,
        job: job.map(JobView::from),
        created_at: run.created_at,
        completed_at: run.completed_at,
        documents: None,
    }
}

pub async fn create(ctx: &AppContext, principal: &Principal, new: NewRun) -> ApiResult<RunView> {
    let scope = principal.require(Permission::AnalysisRun)?;
    let tenant_id = scope.tenant_id;
    let schema = schema::find(ctx, tenant_id, new.schema_id).await?;
    let mut ids = new.document_ids.clone();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_DOCUMENTS {
        return Err(ApiError::invalid_field("documentIds", format!("1 to {MAX_DOCUMENTS} documents")));
    }
    let found = in_tenant::<document::Entity>(tenant_id)
        .filter(document::Column::Id.is_in(ids.clone()))
        // Only documents of knowledge bases the caller may read (private ones need kb.write).
        .filter(document::Column::KbId.is_in(crate::services::search::resolve_kbs(ctx, scope, None).await?))
        .all(&ctx.db)
        .await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|d| d.id == **id)) {
        return Err(ApiError::not_found("document").with_details(json!({ "documentId": missing })));
    }
    let has_model = ctx.llm.default_model() != crate::engines::llm::EXTRACTIVE;
    let extractor = match (new.extractor.as_deref(), has_model) {
        (Some("rules"), _) | (None, false) => "rules".to_owned(),
        (Some("llm") | None, true) => {
            let model = new.model.clone().unwrap_or_else(|| ctx.llm.default_model().to_owned());
            if model == crate::engines::llm::EXTRACTIVE || !ctx.llm.knows(&model) {
                return Err(ApiError::invalid_field("model", format!("`{model}` is not a configured model")));
            }
            format!("llm:{model}")
        }
        (Some("llm"), false) => {
            return Err(ApiError::invalid_field("extractor", "no language model is configured; use `rules`"))
        }
        (Some(other), _) => return Err(ApiError::invalid_field("extractor", format!("`{other}` is not llm or rules"))),
    };
    let threshold = match new.auto_approve_above {
        Some(t) if (0.0..=1.0).contains(&t) => t,
        Some(_) => return Err(ApiError::invalid_field("autoApproveAbove", "a confidence from 0 to 1")),
        None => 2.0,
    };
    let run_id = Uuid::now_v7();
    let docs = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    let model = extractor.strip_prefix("llm:");
    let estimate = Quantity {
        analysis_runs: docs,
        prompt_tokens: if model.is_some() { PROMPT_ESTIMATE * docs } else { 0 },
        completion_tokens: if model.is_some() { COMPLETION_ESTIMATE * docs } else { 0 },
        ..Default::default()
    };
    let _held = meter::reserve_as(ctx, principal, run_id, Operation::Analysis, model, &estimate).await?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let queued = jobs::enqueue(&txn, tenant_id, JobKind::AnalyzeRun, run_id).await?;
    let run = analysis_run::ActiveModel {
        id: Set(run_id),
        tenant_id: Set(tenant_id),
        schema_id: Set(schema.id),
        schema_version: Set(schema.version),
        status: Set("queued".to_owned()),
        extractor: Set(extractor),
        document_ids: Set(json!(ids)),
        job_id: Set(Some(queued.id)),
        auto_approve_above: Set(threshold),
        error: Set(None),
        created_by: Set(principal.actor().id),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let details = json!({ "schema": schema.id, "version": schema.version, "documents": ids.len() });
    audit::record(&txn, &principal.actor(), "analysis.run", Target::new("analysis_run", run_id), details).await?;
    txn.commit().await?;
    crate::services::jobs::wake(ctx);
    Ok(view(run, Some(queued)))
}

pub async fn find(ctx: &AppContext, tenant_id: Uuid, id: Uuid) -> ApiResult<analysis_run::Model> {
    by_id_in_tenant::<analysis_run::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("analysis run"))
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<RunView>> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let sort = params.sort_or(&["createdAt"], Sort::desc("createdAt"))?;
    let select = in_tenant::<analysis_run::Entity>(tenant_id);
    let page = fetch_page(&ctx.db, select, params, Some((analysis_run::Column::CreatedAt, sort.order()))).await?;
    Ok(page.map(|r| view(r, None)))
}

pub async fn results_of(ctx: &AppContext, run_id: Uuid) -> ApiResult<Vec<analysis_result::Model>> {
    Ok(analysis_result::Entity::find()
        .filter(analysis_result::Column::RunId.eq(run_id))
        .order_by_asc(analysis_result::Column::DocumentId)
        .order_by_asc(analysis_result::Column::Position)
        .all(&ctx.db)
        .await?)
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<RunView> {
    let tenant_id = principal.require(Permission::AnalysisRun)?.tenant_id;
    let run = find(ctx, tenant_id, id).await?;
    let job = match run.job_id {
        Some(j) => job::Entity::find_by_id(j).one(&ctx.db).await?,
        None => None,
    };
    let ids: Vec<Uuid> = serde_json::from_value(run.document_ids.clone()).unwrap_or_default();
    let titles: BTreeMap<Uuid, String> = document::Entity::find()
        .filter(document::Column::Id.is_in(ids.clone()))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.title))
        .collect();
    let mut by_doc: BTreeMap<Uuid, Vec<ResultView>> = BTreeMap::new();
    for r in results_of(ctx, run.id).await? {
        by_doc.entry(r.document_id).or_default().push(r.into());
    }
    let documents = ids
        .into_iter()
        .map(|id| DocumentResults {
            document_id: id,
            title: titles.get(&id).cloned(),
            results: by_doc.remove(&id).unwrap_or_default(),
        })
        .collect();
    Ok(RunView { documents: Some(documents), ..view(run, job) })
}

/// The job: extract every document, store the results, then wait for review (or finish).
pub async fn run_job(ctx: &AppContext, job: &job::Model) -> Result<(), JobError> {
    let Some(run_id) = job.target_id else { return Ok(()) };
    let Some(run) = analysis_run::Entity::find_by_id(run_id).one(&ctx.db).await? else { return Ok(()) };
    if matches!(run.status.as_str(), "review" | "completed" | "failed") {
        return Ok(());
    }
    set_status(ctx, run.id, "running", None).await?;
    let schema_row = entity::analysis_schema::Entity::find_by_id(run.schema_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| JobError::permanent("the schema was deleted"))?;
    let fields = schema::fields_of(ctx, &schema_row, run.schema_version)
        .await
        .map_err(|e| JobError::permanent(format!("the schema version is missing: {e:?}")))?;
    let llm;
    let rules = Rules;
    let extractor: &dyn Extractor = match run.extractor.strip_prefix("llm:") {
        Some(model) => {
            llm = Llm { gateway: &ctx.llm, model: model.to_owned() };
            &llm
        }
        None => &rules,
    };
    let engines = ctx.engines().map_err(|e| JobError::transient(format!("{e:?}")))?;
    let ids: Vec<Uuid> = serde_json::from_value(run.document_ids.clone()).unwrap_or_default();
    let mut used = Quantity { analysis_runs: i64::try_from(ids.len()).unwrap_or(0), ..Default::default() };
    for (done, id) in ids.iter().enumerate() {
        pipeline::report(ctx, job, "extracting", done, ids.len()).await?;
        let doc = by_id_in_tenant::<document::Entity>(run.tenant_id, *id)
            .one(&ctx.db)
            .await?
            .ok_or_else(|| JobError::permanent("a document of the run was deleted"))?;
        if matches!(doc.status, DocumentStatus::Queued | DocumentStatus::Processing) {
            // Waiting is not failing: however long ingestion takes, no attempt is spent.
            jobs::defer(&ctx.db, job.id, "waiting for ingestion", Utc::now() + chrono::Duration::seconds(1)).await?;
            return Err(JobError::Deferred(format!("`{}` is still being ingested", doc.title)));
        }
        let parsed = pipeline::parse_stored(ctx, engines, &doc, None).await?;
        let text = DocText::from_parsed(&parsed);
        let started = std::time::Instant::now();
        let (extracted, usage) = extractor.extract(&text, &fields).await.map_err(JobError::transient)?;
        used.prompt_tokens += i64::from(usage.prompt_tokens);
        used.completion_tokens += i64::from(usage.completion_tokens);
        if let Some(model) = run.extractor.strip_prefix("llm:") {
            record_usage(ctx, &run, model, usage, started.elapsed()).await;
        }
        save_results(ctx, &run, doc.id, &fields, extracted, &extractor.name()).await?;
    }
    pipeline::report(ctx, job, "review", ids.len(), ids.len()).await?;
    meter::settle_later(ctx, run.tenant_id, run.id, &used).await;
    super::review::finish_if_complete(ctx, run.id).await.map_err(|e| JobError::transient(format!("{e:?}")))?;
    let still_running =
        analysis_run::Entity::find_by_id(run.id).one(&ctx.db).await?.is_some_and(|r| r.status == "running");
    if still_running {
        set_status(ctx, run.id, "review", None).await?;
    }
    Ok(())
}

async fn record_usage(
    ctx: &AppContext,
    run: &analysis_run::Model,
    model: &str,
    usage: super::extract::Usage,
    took: std::time::Duration,
) {
    let call = crate::services::chat::usage::Call {
        tenant_id: run.tenant_id,
        actor: run.created_by.clone().map_or_else(|| "system".to_owned(), |a| format!("user:{a}")),
        operation: "analysis",
        model,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        latency_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
    };
    if let Err(error) = crate::services::chat::usage::record(&ctx.db, call).await {
        tracing::warn!(%error, "recording analysis usage failed");
    }
}

/// Replaces a document's results in the run (a retried job writes them again).
async fn save_results(
    ctx: &AppContext,
    run: &analysis_run::Model,
    document_id: Uuid,
    fields: &[Field],
    extracted: Vec<super::extract::Extracted>,
    extractor: &str,
) -> Result<(), JobError> {
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    analysis_result::Entity::delete_many()
        .filter(analysis_result::Column::RunId.eq(run.id))
        .filter(analysis_result::Column::DocumentId.eq(document_id))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    for e in extracted {
        let position = fields.iter().position(|f| f.name == e.field).unwrap_or(0);
        let auto = e.value.is_some() && e.errors.is_empty() && e.confidence >= run.auto_approve_above;
        analysis_result::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(run.tenant_id),
            run_id: Set(run.id),
            document_id: Set(document_id),
            field: Set(e.field),
            position: Set(i32::try_from(position).unwrap_or(0)),
            value: Set(e.value),
            confidence: Set(e.confidence),
            source: Set(e.source.map(|s| json!(s))),
            extractor: Set(extractor.to_owned()),
            errors: Set(json!(e.errors)),
            status: Set(if auto { "approved" } else { "pending" }.to_owned()),
            reviewed_value: Set(None),
            reviewer: Set(auto.then(|| "system:auto-approve".to_owned())),
            reviewed_at: Set(auto.then_some(now)),
            comment: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn set_status(ctx: &AppContext, id: Uuid, status: &str, error: Option<String>) -> Result<(), sea_orm::DbErr> {
    let Some(run) = analysis_run::Entity::find_by_id(id).one(&ctx.db).await? else { return Ok(()) };
    let mut active: analysis_run::ActiveModel = run.into();
    active.status = Set(status.to_owned());
    active.error = Set(error);
    active.updated_at = Set(Utc::now());
    if status == "completed" {
        active.completed_at = Set(Some(Utc::now()));
    }
    active.update(&ctx.db).await?;
    Ok(())
}

/// Where files sent with a run go when no knowledge base is named.
pub const UPLOADS_KB: &str = "Analysis uploads";

/// Files sent with a run: each goes through the ingestion pipeline into `kb` (default: the
/// tenant's "Analysis uploads" knowledge base); the run waits for them.
pub async fn upload(
    ctx: &AppContext,
    principal: &Principal,
    kb: Option<Uuid>,
    files: Vec<crate::services::knowledge::documents::Upload>,
) -> ApiResult<Vec<Uuid>> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    if files.is_empty() || files.len() > MAX_DOCUMENTS {
        return Err(ApiError::invalid_field("file", format!("send 1 to {MAX_DOCUMENTS} files")));
    }
    let kb = KnowledgeBaseId::new(match kb {
        Some(id) => id,
        None => uploads_kb(ctx, principal, tenant_id).await?,
    });
    let mut ids = Vec::new();
    for file in files {
        ids.push(
            crate::services::knowledge::documents::add(ctx, principal, kb, file, "upload", None, true)
                .await?
                .document
                .id,
        );
    }
    Ok(ids)
}

async fn uploads_kb(ctx: &AppContext, principal: &Principal, tenant_id: Uuid) -> ApiResult<Uuid> {
    let existing = in_tenant::<entity::knowledge_base::Entity>(tenant_id)
        .filter(entity::knowledge_base::Column::Name.eq(UPLOADS_KB))
        .one(&ctx.db)
        .await?;
    if let Some(kb) = existing {
        return Ok(kb.id);
    }
    let payload = crate::services::knowledge::bases::KbPayload {
        name: UPLOADS_KB.to_owned(),
        description: "Documents uploaded for analysis runs".to_owned(),
        chunk_max_tokens: None,
        chunk_overlap_tokens: None,
        visibility: Default::default(),
    };
    Ok(crate::services::knowledge::bases::create(ctx, principal, payload).await?.id)
}
