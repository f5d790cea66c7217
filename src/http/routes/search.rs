//! `POST /v1/knowledge-bases/{id}/search`, `POST /v1/search` and `POST /v1/knowledge-bases/{id}/query`.

use actix_web::web::{self, Data, Path};
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::services::identity::permissions::require::KbRead;
use crate::services::search::{self, QueryResponse, SearchRequest, SearchResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/knowledge-bases/{id}/search").route(web::post().to(search_kb)))
        .service(web::resource("/v1/knowledge-bases/{id}/query").route(web::post().to(query_kb)))
        .service(web::resource("/v1/search").route(web::post().to(search_all)));
}

/// Searches one knowledge base: lexical, semantic or hybrid (default), with filters.
#[utoipa::path(post, path = "/v1/knowledge-bases/{id}/search", tag = "search", security(("bearer" = [])), request_body = SearchRequest,
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Semantic search needs the embedding model", body = ErrorBody)))]
pub async fn search_kb(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    id: Path<Uuid>,
    Json(request): Json<SearchRequest>,
) -> ApiResult<web::Json<SearchResponse>> {
    Ok(web::Json(search::search(&ctx, &who, Some(*id), request).await?))
}

/// Searches several knowledge bases (`knowledgeBases`, default all of the tenant's) at once.
#[utoipa::path(post, path = "/v1/search", tag = "search", security(("bearer" = [])), request_body = SearchRequest,
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn search_all(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    Json(request): Json<SearchRequest>,
) -> ApiResult<web::Json<SearchResponse>> {
    Ok(web::Json(search::search(&ctx, &who, None, request).await?))
}

/// The best passages as a numbered context block within `maxTokens`, for your own model.
#[utoipa::path(post, path = "/v1/knowledge-bases/{id}/query", tag = "search", security(("bearer" = [])), request_body = SearchRequest,
    responses((status = 200, body = QueryResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn query_kb(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbRead>,
    id: Path<Uuid>,
    Json(request): Json<SearchRequest>,
) -> ApiResult<web::Json<QueryResponse>> {
    Ok(web::Json(search::query(&ctx, &who, *id, request).await?))
}
