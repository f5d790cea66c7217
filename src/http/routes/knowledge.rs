//! `/v1/knowledge-bases/*`.

use actix_web::web::{self, Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::uploads::{self, Incoming, TextDocumentPayload};
use crate::http::extract::{Json, Query};
use crate::platform::ids::{DocumentId, KnowledgeBaseId};
use crate::platform::jobs::JobView;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::permissions::require::{KbRead, KbWrite};
use crate::services::knowledge::bases::{self, KbPatch, KbPayload, KbView};
use crate::services::knowledge::documents::{
    self, AcceptedDocument, ChunkView, DocumentFilter, DocumentPatch, DocumentView, Upload,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/knowledge-bases").route(web::get().to(list_kbs)).route(web::post().to(create_kb)))
        .service(
            web::resource("/v1/knowledge-bases/{id}")
                .route(web::get().to(get_kb))
                .route(web::patch().to(update_kb))
                .route(web::delete().to(delete_kb)),
        )
        .service(
            web::resource("/v1/knowledge-bases/{id}/documents")
                .route(web::get().to(list_documents))
                .route(web::post().to(add_documents)),
        )
        .service(web::resource("/v1/knowledge-bases/{id}/reindex").route(web::post().to(reindex_kb)))
        .service(
            web::resource("/v1/knowledge-bases/{id}/documents/{doc}")
                .route(web::get().to(get_document))
                .route(web::patch().to(update_document))
                .route(web::delete().to(delete_document)),
        )
        .service(web::resource("/v1/knowledge-bases/{id}/documents/{doc}/chunks").route(web::get().to(list_chunks)))
        .service(web::resource("/v1/knowledge-bases/{id}/documents/{doc}/content").route(web::get().to(get_content)))
        .service(
            web::resource("/v1/knowledge-bases/{id}/documents/{doc}/reindex").route(web::post().to(reindex_document)),
        );
}

/// Knowledge bases of the tenant with counts. Sort: `name`, `createdAt`.
#[utoipa::path(get, path = "/v1/knowledge-bases", tag = "knowledge", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<KbView>), (status = 403, body = ErrorBody)))]
pub async fn list_kbs(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    params: ListParams,
) -> ApiResult<web::Json<Page<KbView>>> {
    Ok(web::Json(bases::list(&ctx, &who, &params).await?))
}

#[utoipa::path(post, path = "/v1/knowledge-bases", tag = "knowledge", security(("bearer" = [])), request_body = KbPayload,
    responses((status = 201, body = KbView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_kb(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    Json(payload): Json<KbPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(bases::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/knowledge-bases/{id}", tag = "knowledge", security(("bearer" = [])),
    responses((status = 200, body = KbView), (status = 404, body = ErrorBody)))]
pub async fn get_kb(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<KbView>> {
    Ok(web::Json(bases::get(&ctx, &who, kb(&id)).await?))
}

#[utoipa::path(patch, path = "/v1/knowledge-bases/{id}", tag = "knowledge", security(("bearer" = [])), request_body = KbPatch,
    responses((status = 200, body = KbView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_kb(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    id: Path<Uuid>,
    Json(patch): Json<KbPatch>,
) -> ApiResult<web::Json<KbView>> {
    Ok(web::Json(bases::update(&ctx, &who, kb(&id), patch).await?))
}

/// Deletes the knowledge base, its documents, chunks and index entries.
#[utoipa::path(delete, path = "/v1/knowledge-bases/{id}", tag = "knowledge", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_kb(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    bases::delete(&ctx, &who, kb(&id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Documents of a knowledge base. Filter `?status=`; sort `title`, `createdAt`, `status`.
#[utoipa::path(get, path = "/v1/knowledge-bases/{id}/documents", tag = "knowledge", security(("bearer" = [])), params(ListParams, DocumentFilter),
    responses((status = 200, body = Page<DocumentView>), (status = 404, body = ErrorBody)))]
pub async fn list_documents(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    id: Path<Uuid>,
    Query(filter): Query<DocumentFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<DocumentView>>> {
    Ok(web::Json(documents::list(&ctx, &who, kb(&id), filter, &params).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AddParams {
    /// Add a file even if the same bytes are already in the knowledge base.
    #[serde(default)]
    pub allow_duplicate: bool,
}

/// The outcome of a multi-file upload: each file is accepted or rejected on its own.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadResults {
    pub accepted: Vec<AcceptedDocument>,
    pub rejected: Vec<RejectedFile>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedFile {
    pub file: Option<String>,
    pub error: String,
    pub message: String,
    pub status: u16,
}

/// Adds documents: `multipart/form-data` with one or more files, or JSON `{"text", "title"}`.
/// One file answers 202 with its document and job (or its error); several answer 202 with a
/// result per file, so one bad file does not stop the others.
#[utoipa::path(post, path = "/v1/knowledge-bases/{id}/documents", tag = "knowledge", security(("bearer" = [])), params(AddParams),
    request_body(description = "JSON text or a URL, or multipart/form-data files",
        content((TextDocumentPayload = "application/json"), (crate::http::extract::uploads::FileUpload = "multipart/form-data"))),
    responses((status = 202, body = AcceptedDocument), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Same bytes already in the knowledge base", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, description = "Unsupported file type", body = ErrorBody), (status = 422, description = "Empty file", body = ErrorBody)))]
pub async fn add_documents(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    id: Path<Uuid>,
    Query(params): Query<AddParams>,
    req: HttpRequest,
    body: Payload,
) -> ApiResult<HttpResponse> {
    let incoming = uploads::read(&req, body, ctx.settings.max_upload_bytes, ctx.settings.max_json_bytes).await?;
    let (files, title, source) = match incoming {
        Incoming::Text(TextDocumentPayload { text: Some(text), url: None, title }) => {
            let name = title.clone().map(|t| if t.ends_with(".md") { t } else { format!("{t}.txt") });
            (vec![Upload { name, declared_type: None, bytes: text.into_bytes(), over_limit: false }], title, "text")
        }
        Incoming::Text(TextDocumentPayload { text: None, url: Some(url), title }) => {
            let page = crate::engines::net::fetch(&url, ctx.settings.max_upload_bytes, ctx.settings.allow_private_urls)
                .await?;
            (vec![page], title, "url")
        }
        Incoming::Text(_) => return Err(crate::error::ApiError::invalid("send exactly one of `text` or `url`")),
        Incoming::Files(files) => (files, None, "upload"),
    };
    let mut files = files;
    if files.len() == 1 {
        if let Some(file) = files.pop() {
            return Ok(HttpResponse::Accepted()
                .json(documents::add(&ctx, &who, kb(&id), file, source, title, params.allow_duplicate).await?));
        }
    }
    let mut results = UploadResults { accepted: Vec::new(), rejected: Vec::new() };
    for file in files {
        let name = file.name.clone();
        match documents::add(&ctx, &who, kb(&id), file, source, None, params.allow_duplicate).await {
            Ok(accepted) => results.accepted.push(accepted),
            Err(error) => {
                let (message, _) = error.public_parts();
                results.rejected.push(RejectedFile {
                    file: name,
                    error: error.code().as_str().to_owned(),
                    message,
                    status: error.code().status().as_u16(),
                });
            }
        }
    }
    Ok(HttpResponse::Accepted().json(results))
}

#[utoipa::path(get, path = "/v1/knowledge-bases/{id}/documents/{doc}", tag = "knowledge", security(("bearer" = [])),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)))]
pub async fn get_document(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<DocumentView>> {
    let (kb, doc) = kb_doc(&path);
    Ok(web::Json(documents::get(&ctx, &who, kb, doc).await?))
}

#[utoipa::path(patch, path = "/v1/knowledge-bases/{id}/documents/{doc}", tag = "knowledge", security(("bearer" = [])), request_body = DocumentPatch,
    responses((status = 200, body = DocumentView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_document(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    path: Path<(Uuid, Uuid)>,
    Json(patch): Json<DocumentPatch>,
) -> ApiResult<web::Json<DocumentView>> {
    let (kb, doc) = kb_doc(&path);
    Ok(web::Json(documents::update(&ctx, &who, kb, doc, patch).await?))
}

/// Deletes the document from the database and both indexes.
#[utoipa::path(delete, path = "/v1/knowledge-bases/{id}/documents/{doc}", tag = "knowledge", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_document(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (kb, doc) = kb_doc(&path);
    documents::delete(&ctx, &who, kb, doc).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The document's chunks in order, with pages, headings and offsets.
#[utoipa::path(get, path = "/v1/knowledge-bases/{id}/documents/{doc}/chunks", tag = "knowledge", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<ChunkView>), (status = 404, body = ErrorBody)))]
pub async fn list_chunks(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    path: Path<(Uuid, Uuid)>,
    params: ListParams,
) -> ApiResult<web::Json<Page<ChunkView>>> {
    let (kb, doc) = kb_doc(&path);
    Ok(web::Json(documents::chunks(&ctx, &who, kb, doc, &params).await?))
}

/// The original file.
#[utoipa::path(get, path = "/v1/knowledge-bases/{id}/documents/{doc}/content", tag = "knowledge", security(("bearer" = [])),
    responses((status = 200, description = "The original bytes, with the uploaded file's type (text/plain, application/pdf, …)", content_type = "*/*"), (status = 404, body = ErrorBody)))]
pub async fn get_content(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (kb, doc) = kb_doc(&path);
    let (bytes, mime, name) = documents::content(&ctx, &who, kb, doc).await?;
    let safe_name: String = name.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').collect();
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{safe_name}\"")))
        .body(bytes))
}

/// Queues a fresh ingestion of the document.
#[utoipa::path(post, path = "/v1/knowledge-bases/{id}/documents/{doc}/reindex", tag = "knowledge", security(("bearer" = [])),
    responses((status = 202, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn reindex_document(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (kb, doc) = kb_doc(&path);
    Ok(HttpResponse::Accepted().json(documents::reindex(&ctx, &who, kb, doc).await?))
}

/// Re-ingests every document of the knowledge base (queued as jobs).
#[utoipa::path(post, path = "/v1/knowledge-bases/{id}/reindex", tag = "knowledge", security(("bearer" = [])),
    responses((status = 202, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn reindex_kb(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Accepted().json(documents::reindex_kb(&ctx, &who, kb(&id)).await?))
}

/// `{id}`: the path names a knowledge base.
fn kb(id: &Path<Uuid>) -> KnowledgeBaseId {
    KnowledgeBaseId::new(**id)
}

/// `{id}/documents/{doc}`: a knowledge base, then one of its documents.
fn kb_doc(path: &Path<(Uuid, Uuid)>) -> (KnowledgeBaseId, DocumentId) {
    (KnowledgeBaseId::new(path.0), DocumentId::new(path.1))
}
