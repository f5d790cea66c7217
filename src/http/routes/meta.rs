//! `GET /v1/info` (what this server is and runs on) and `GET /v1/errors` (the error code table).

use actix_web::web::{self, Data, Json};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody, ErrorCode};
use crate::platform::paging::{ListParams, Page, Sort};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/info").route(web::get().to(get_info)))
        .service(web::resource("/v1/errors").route(web::get().to(list_error_codes)));
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InfoView {
    pub name: String,
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// `qdrant-edge` (in-process) or `qdrant` (server).
    pub vectors: String,
    /// `tantivy` (in the data dir) or `qdrant-sparse` (BM25 sparse vectors in the Qdrant server).
    pub fulltext: String,
    /// `extractive` or `openai-compatible`.
    pub llm: String,
    /// `none`, `local` (a cross-encoder on this server) or `upstream` (a `/rerank` service):
    /// searches rerank by default unless `none`.
    pub reranker: String,
    /// Feature areas this build serves.
    pub features: Vec<String>,
}

/// Server name, version, backends in use and enabled features.
#[utoipa::path(get, path = "/v1/info", tag = "meta",
    responses((status = 200, body = InfoView), (status = 503, description = "Starting", body = ErrorBody)))]
pub async fn get_info(ctx: Data<AppContext>) -> Json<InfoView> {
    let s = &ctx.settings;
    Json(InfoView {
        name: "lectern".to_owned(),
        version: crate::VERSION.to_owned(),
        database: s.database_backend.name().to_owned(),
        vectors: if s.qdrant_url.is_some() { "qdrant" } else { "qdrant-edge" }.to_owned(),
        fulltext: if s.qdrant_url.is_some() { "qdrant-sparse" } else { "tantivy" }.to_owned(),
        llm: if !s.llm_providers.is_empty() { "openai-compatible" } else { "extractive" }.to_owned(),
        reranker: match &s.rerank {
            None => "none",
            Some(crate::engines::rerank::RerankConfig::Local(_)) => "local",
            Some(crate::engines::rerank::RerankConfig::Upstream(_)) => "upstream",
        }
        .to_owned(),
        features: crate::FEATURES.iter().map(|f| (*f).to_owned()).collect(),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorCodeView {
    #[schema(example = "NOT_FOUND")]
    pub code: String,
    #[schema(example = 404)]
    pub status: u16,
    pub description: String,
}

/// Every error code the API can return, with its HTTP status and meaning.
#[utoipa::path(get, path = "/v1/errors", tag = "meta", params(ListParams),
    responses(
        (status = 200, description = "Sortable by `code` or `status`", body = Page<ErrorCodeView>),
        (status = 400, description = "Bad paging or sort parameter", body = ErrorBody),
    ))]
pub async fn list_error_codes(params: ListParams) -> ApiResult<Json<Page<ErrorCodeView>>> {
    let sort = params.sort_or(&["code", "status"], Sort::asc("status"))?;
    let mut codes: Vec<ErrorCodeView> = ErrorCode::ALL
        .into_iter()
        .map(|c| ErrorCodeView {
            code: c.as_str().to_owned(),
            status: c.status().as_u16(),
            description: c.description().to_owned(),
        })
        .collect();
    codes.sort_by(|a, b| match sort.field.as_str() {
        "code" => a.code.cmp(&b.code),
        _ => a.status.cmp(&b.status).then_with(|| a.code.cmp(&b.code)),
    });
    if sort.descending {
        codes.reverse();
    }
    Ok(Json(Page::from_vec(codes, &params)))
}
