//! `/v1/analysis/*`: extraction schemas, runs, the review queue and exports.

use actix_web::web::{self, Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::platform::paging::{ListParams, Page};
use crate::services::analysis::review::{self, QueueFilter, Record, Review};
use crate::services::analysis::runs::{self, NewRun, ResultView, RunView};
use crate::services::analysis::schema::{self, SchemaPatch, SchemaPayload, SchemaView};
use crate::services::identity::permissions::require::AnalysisRun;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/analysis/schemas").route(web::get().to(list_schemas)).route(web::post().to(create_schema)),
    )
    .service(
        web::resource("/v1/analysis/schemas/{id}")
            .route(web::get().to(get_schema))
            .route(web::patch().to(update_schema))
            .route(web::delete().to(delete_schema)),
    )
    .service(web::resource("/v1/analysis/runs").route(web::get().to(list_runs)).route(web::post().to(create_run)))
    .service(web::resource("/v1/analysis/runs/upload").route(web::post().to(upload_and_run)))
    .service(web::resource("/v1/analysis/runs/{id}").route(web::get().to(get_run)))
    .service(web::resource("/v1/analysis/runs/{id}/export.json").route(web::get().to(export_json)))
    .service(web::resource("/v1/analysis/runs/{id}/export.csv").route(web::get().to(export_csv)))
    .service(web::resource("/v1/analysis/review").route(web::get().to(review_queue)))
    .service(web::resource("/v1/analysis/results/{id}/review").route(web::post().to(review_result)));
}

#[utoipa::path(get, path = "/v1/analysis/schemas", tag = "analysis", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<SchemaView>), (status = 403, body = ErrorBody)))]
pub async fn list_schemas(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    params: ListParams,
) -> ApiResult<web::Json<Page<SchemaView>>> {
    Ok(web::Json(schema::list(&ctx, &who, &params).await?))
}

/// A schema: fields with a type, instructions and rules (errors name each field).
#[utoipa::path(post, path = "/v1/analysis/schemas", tag = "analysis", security(("bearer" = [])), request_body = SchemaPayload,
    responses((status = 201, body = SchemaView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_schema(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    Json(payload): Json<SchemaPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(schema::create(&ctx, &who, payload).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQuery {
    /// An earlier version of the fields.
    pub version: Option<i32>,
}

#[utoipa::path(get, path = "/v1/analysis/schemas/{id}", tag = "analysis", security(("bearer" = [])), params(VersionQuery),
    responses((status = 200, body = SchemaView), (status = 404, body = ErrorBody)))]
pub async fn get_schema(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    id: Path<Uuid>,
    query: Query<VersionQuery>,
) -> ApiResult<web::Json<SchemaView>> {
    Ok(web::Json(schema::get(&ctx, &who, *id, query.version).await?))
}

/// Changing the fields makes a new version; runs keep the version they used.
#[utoipa::path(patch, path = "/v1/analysis/schemas/{id}", tag = "analysis", security(("bearer" = [])), request_body = SchemaPatch,
    responses((status = 200, body = SchemaView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_schema(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    id: Path<Uuid>,
    Json(patch): Json<SchemaPatch>,
) -> ApiResult<web::Json<SchemaView>> {
    Ok(web::Json(schema::update(&ctx, &who, *id, patch).await?))
}

#[utoipa::path(delete, path = "/v1/analysis/schemas/{id}", tag = "analysis", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_schema(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    schema::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Starts extracting: 202 with the run and its job (progress at `/v1/jobs/{id}`).
#[utoipa::path(post, path = "/v1/analysis/runs", tag = "analysis", security(("bearer" = [])), request_body = NewRun,
    responses((status = 202, body = RunView), (status = 400, body = ErrorBody), (status = 402, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_run(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    Json(new): Json<NewRun>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Accepted().json(runs::create(&ctx, &who, new).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct UploadRun {
    pub schema_id: Uuid,
    /// Where the files go (default: the tenant's "Analysis uploads" knowledge base).
    pub knowledge_base_id: Option<Uuid>,
    /// `llm` or `rules`.
    pub extractor: Option<String>,
    pub model: Option<String>,
    pub auto_approve_above: Option<f64>,
}

/// Fresh files (multipart `file` parts) go through the ingestion pipeline, then one run covers
/// them all: 202 with the run; it starts once the files are ingested.
#[utoipa::path(post, path = "/v1/analysis/runs/upload", tag = "analysis", security(("bearer" = [])), params(UploadRun),
    request_body(content = crate::http::extract::uploads::FileUpload, content_type = "multipart/form-data"),
    responses((status = 202, body = RunView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload_and_run(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    Query(q): Query<UploadRun>,
    req: HttpRequest,
    body: Payload,
) -> ApiResult<HttpResponse> {
    // The schema first: nothing is uploaded for a run that cannot start.
    schema::get(&ctx, &who, q.schema_id, None).await?;
    let files = crate::http::extract::uploads::read_multipart_files(&req, body, ctx.settings.max_upload_bytes).await?;
    let document_ids = runs::upload(&ctx, &who, q.knowledge_base_id, files).await?;
    let new = NewRun {
        schema_id: q.schema_id,
        document_ids,
        extractor: q.extractor,
        model: q.model,
        auto_approve_above: q.auto_approve_above,
    };
    Ok(HttpResponse::Accepted().json(runs::create(&ctx, &who, new).await?))
}

#[utoipa::path(get, path = "/v1/analysis/runs", tag = "analysis", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<RunView>)))]
pub async fn list_runs(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    params: ListParams,
) -> ApiResult<web::Json<Page<RunView>>> {
    Ok(web::Json(runs::list(&ctx, &who, &params).await?))
}

/// The run with each document's values, confidence, evidence and review state.
#[utoipa::path(get, path = "/v1/analysis/runs/{id}", tag = "analysis", security(("bearer" = [])),
    responses((status = 200, body = RunView), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<RunView>> {
    Ok(web::Json(runs::get(&ctx, &who, *id).await?))
}

/// Approved and corrected values, one record per document.
#[utoipa::path(get, path = "/v1/analysis/runs/{id}/export.json", tag = "analysis", security(("bearer" = [])),
    responses((status = 200, body = Vec<Record>), (status = 404, body = ErrorBody)))]
pub async fn export_json(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<Vec<Record>>> {
    Ok(web::Json(review::records(&ctx, &who, *id).await?.1))
}

#[utoipa::path(get, path = "/v1/analysis/runs/{id}/export.csv", tag = "analysis", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn export_csv(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let csv = review::csv(&ctx, &who, *id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"analysis-{id}.csv\"")))
        .body(csv))
}

/// Values waiting for a person: failing validation first, then the least confident.
#[utoipa::path(get, path = "/v1/analysis/review", tag = "analysis", security(("bearer" = [])), params(QueueFilter, ListParams),
    responses((status = 200, body = Page<ResultView>), (status = 400, body = ErrorBody)))]
pub async fn review_queue(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    filter: Query<QueueFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<ResultView>>> {
    Ok(web::Json(review::queue(&ctx, &who, &filter, &params).await?))
}

/// Approve, correct (with the right value) or reject one value; recorded in the audit log.
#[utoipa::path(post, path = "/v1/analysis/results/{id}/review", tag = "analysis", security(("bearer" = [])), request_body = Review,
    responses((status = 200, body = ResultView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review_result(
    ctx: Data<AppContext>,
    Require(who, _): Require<AnalysisRun>,
    id: Path<Uuid>,
    Json(body): Json<Review>,
) -> ApiResult<web::Json<ResultView>> {
    Ok(web::Json(review::review(&ctx, &who, *id, body).await?))
}
