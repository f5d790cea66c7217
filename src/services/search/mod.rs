//! Knowledge-base search: lexical (BM25 in tantivy or a Qdrant server), semantic (dense vectors) or hybrid
//! (reciprocal rank fusion of both), with filters, per-source scores and snippets. Chat, the
//! OpenAI-compatible gateway and `lectern eval` all retrieve through [`retrieve`].

pub mod documents;
pub mod filters;
pub mod fusion;
pub mod neighbours;
pub use crate::engines::highlight;
pub mod prompt_context;
pub mod rerank;

use std::collections::HashMap;
use std::time::Instant;

use sea_orm::{ColumnTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::document::DocumentStatus;
use entity::{chunk, document, knowledge_base};

use crate::app::context::AppContext;
use crate::engines::embed::EmbedError;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::scope::SearchScope;
use crate::platform::tenancy::in_tenant;
use crate::services::billing::meter::{self, Operation};
use crate::services::identity::permissions::Permission;
use crate::services::identity::{Principal, TenantScope};
use crate::services::knowledge::bases;

pub use documents::LexicalScoring;
pub use filters::SearchFilters;
use fusion::{Ranked, RRF_K};

pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 200;
const SNIPPET_CHARS: usize = 240;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// BM25 over the words of the chunks.
    Lexical,
    /// Nearest chunks by the embedding model.
    Semantic,
    /// Reciprocal rank fusion (k = 60) of both.
    #[default]
    Hybrid,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Lexical, Mode::Semantic, Mode::Hybrid];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Lexical => "lexical",
            Mode::Semantic => "semantic",
            Mode::Hybrid => "hybrid",
        }
    }
}

/// How much each source counts in hybrid fusion (default 1 and 1).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Weights {
    #[serde(default = "one")]
    pub lexical: f32,
    #[serde(default = "one")]
    pub semantic: f32,
}

fn one() -> f32 {
    1.0
}

impl Default for Weights {
    fn default() -> Self {
        Self { lexical: 1.0, semantic: 1.0 }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchRequest {
    pub query: String,
    #[serde(default)]
    pub mode: Mode,
    /// Results to return, 1–200 (default 10).
    pub limit: Option<usize>,
    #[serde(default)]
    pub filters: SearchFilters,
    /// Drop hits scoring below this, in the mode's own scale: BM25 for lexical, cosine for
    /// semantic, and for hybrid the fused score normalised to 0–1 (1 = ranked first by both).
    pub min_score: Option<f32>,
    pub weights: Option<Weights>,
    /// How lexical hits are ranked (lexical and hybrid modes): `chunk` (default) by each chunk's
    /// own BM25 score; `document` ranks documents by their best chunk plus a damped sum of their
    /// other matching chunks, then lists the best chunk of each document before any document's
    /// second.
    #[serde(default)]
    pub lexical_scoring: LexicalScoring,
    /// Reorder the best candidates with the reranker (a cross-encoder reading query and passage
    /// together). Default: on when the server has one (`GET /v1/info` says); `true` without one
    /// is a 400.
    pub rerank: Option<bool>,
    /// Candidates the reranker reorders, 1–200 (default: the server's `LECTERN_RERANK_CANDIDATES`).
    pub rerank_candidates: Option<usize>,
    /// Only for `POST /v1/search`: the knowledge bases to search (default: all of the tenant's).
    pub knowledge_bases: Option<Vec<Uuid>>,
    /// Only for `POST /v1/knowledge-bases/{id}/query`: the context's token budget (default 2000).
    pub max_tokens: Option<usize>,
    /// Only for `POST /v1/knowledge-bases/{id}/query`: with budget left, grow each passage with
    /// the chunks around it in the same section (default true).
    pub expand_context: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceScores {
    /// BM25 score, where the lexical source found the chunk.
    pub lexical: Option<f32>,
    /// Cosine similarity, where the dense source found the chunk.
    pub semantic: Option<f32>,
    /// The normalised fused score (hybrid only).
    pub fused: Option<f32>,
    /// The reranker's score, where the hit was reranked.
    pub rerank: Option<f32>,
    /// The chunk's document's lexical score: its best chunk plus a damped sum of its other
    /// matching chunks (document lexical scoring only).
    pub document: Option<f32>,
    pub lexical_rank: Option<usize>,
    pub semantic_rank: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub document_title: String,
    pub knowledge_base_id: Uuid,
    /// The chunk's text.
    pub text: String,
    /// The best passage of the text, HTML-escaped, with query words in `<b>…</b>`.
    pub snippet: String,
    pub pages: Vec<u32>,
    /// Headings above the chunk, outermost first.
    pub headings: Vec<String>,
    /// The score `minScore` applies to (see the request).
    pub score: f32,
    pub scores: SourceScores,
    /// Tokens in the chunk (for context budgets).
    #[serde(skip)]
    pub tokens: usize,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    pub query: String,
    pub mode: Mode,
    pub hits: Vec<SearchHit>,
    /// Documents of these knowledge bases not yet searchable (queued or processing).
    pub indexing_documents: u64,
    pub took_ms: u64,
}

/// The knowledge bases a request may search: the named ones, each readable by the caller (else
/// 404), or all the caller may read.
pub async fn resolve_kbs(ctx: &AppContext, scope: &TenantScope, named: Option<&[Uuid]>) -> ApiResult<Vec<Uuid>> {
    let query = bases::readable(scope);
    let Some(named) = named else {
        return Ok(query.all(&ctx.db).await?.into_iter().map(|kb| kb.id).collect());
    };
    let mut wanted = named.to_vec();
    wanted.sort();
    wanted.dedup();
    let found = query.filter(knowledge_base::Column::Id.is_in(wanted.clone())).all(&ctx.db).await?;
    if found.len() != wanted.len() {
        return Err(ApiError::not_found("knowledge base"));
    }
    Ok(wanted)
}

/// Of remembered knowledge bases (a conversation's, an assistant's), those that still exist and
/// the caller may read now: one deleted or made private since is left out, not an error.
pub async fn still_readable(ctx: &AppContext, scope: &TenantScope, ids: &[Uuid]) -> ApiResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = bases::readable(scope).filter(knowledge_base::Column::Id.is_in(ids.to_vec())).all(&ctx.db).await?;
    Ok(ids.iter().copied().filter(|id| found.iter().any(|kb| kb.id == *id)).collect())
}

/// `POST /v1/knowledge-bases/{id}/search` and `POST /v1/search`.
pub async fn search(
    ctx: &AppContext,
    principal: &Principal,
    kb: Option<Uuid>,
    request: SearchRequest,
) -> ApiResult<SearchResponse> {
    let scope = principal.require(Permission::KbRead)?;
    let tenant_id = scope.tenant_id;
    let kb_ids = match (kb, &request.knowledge_bases) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "knowledgeBases",
                "use POST /v1/search to search several knowledge bases",
            ))
        }
        (Some(kb), None) => resolve_kbs(ctx, scope, Some(&[kb])).await?,
        (None, named) => resolve_kbs(ctx, scope, named.as_deref()).await?,
    };
    if request.max_tokens.is_some() {
        return Err(ApiError::invalid_field("maxTokens", "only the query endpoint takes a token budget"));
    }
    if request.expand_context.is_some() {
        return Err(ApiError::invalid_field("expandContext", "only the query endpoint builds a context"));
    }
    meter::charge(ctx, principal, Operation::Search, None, &meter::one_search()).await?;
    let started = Instant::now();
    let hits = retrieve(ctx, tenant_id, &kb_ids, &request).await?;
    let indexing_documents = indexing(ctx, tenant_id, &kb_ids).await?;
    Ok(SearchResponse {
        query: request.query,
        mode: request.mode,
        hits,
        indexing_documents,
        took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Documents of the knowledge bases that are queued or being processed.
pub async fn indexing(ctx: &AppContext, tenant_id: Uuid, kb_ids: &[Uuid]) -> ApiResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(in_tenant::<document::Entity>(tenant_id)
        .filter(document::Column::KbId.is_in(kb_ids.to_vec()))
        .filter(document::Column::Status.is_in([DocumentStatus::Queued, DocumentStatus::Processing]))
        .count(&ctx.db)
        .await?)
}

fn validate(request: &SearchRequest) -> ApiResult<(usize, Weights)> {
    if request.query.trim().is_empty() {
        return Err(ApiError::invalid_field("query", "must not be empty"));
    }
    if request.query.chars().count() > 4000 {
        return Err(ApiError::invalid_field("query", "must be at most 4000 characters"));
    }
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field("limit", format!("must be from 1 to {MAX_LIMIT}")));
    }
    let weights = request.weights.unwrap_or_default();
    let valid = |w: f32| w.is_finite() && (0.0..=100.0).contains(&w);
    if !valid(weights.lexical) || !valid(weights.semantic) || weights.lexical + weights.semantic <= 0.0 {
        return Err(ApiError::invalid_field("weights", "each must be from 0 to 100, and not both 0"));
    }
    if request.min_score.is_some_and(|s| !s.is_finite()) {
        return Err(ApiError::invalid_field("minScore", "must be a number"));
    }
    Ok((limit, weights))
}

fn embed_error(e: EmbedError) -> ApiError {
    match e {
        EmbedError::Unavailable(reason) => ApiError::new(
            ErrorCode::ServiceUnavailable,
            format!("semantic search needs the embedding model, which is unavailable: {reason}"),
        ),
        EmbedError::Failed(reason) => ApiError::Internal(anyhow::anyhow!("embedding the query failed: {reason}")),
    }
}

/// Runs a search over knowledge bases already checked to be the tenant's.
pub async fn retrieve(
    ctx: &AppContext,
    tenant_id: Uuid,
    kb_ids: &[Uuid],
    request: &SearchRequest,
) -> ApiResult<Vec<SearchHit>> {
    let (limit, weights) = validate(request)?;
    let started = Instant::now();
    let hits = retrieve_checked(ctx, tenant_id, kb_ids, request, limit, weights).await;
    crate::platform::telemetry::metrics::search(request.mode.as_str(), started.elapsed().as_secs_f64());
    hits
}

async fn retrieve_checked(
    ctx: &AppContext,
    tenant_id: Uuid,
    kb_ids: &[Uuid],
    request: &SearchRequest,
    limit: usize,
    weights: Weights,
) -> ApiResult<Vec<SearchHit>> {
    let engines = ctx.engines()?;
    let scope = SearchScope {
        tenant_id,
        kb_ids: kb_ids.to_vec(),
        document_ids: filters::document_ids(ctx, tenant_id, kb_ids, &request.filters).await?,
        languages: crate::services::knowledge::languages::of_kbs(&ctx.db, tenant_id, kb_ids).await?,
    };
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    // Fusion needs more candidates than it returns: a chunk ranked 40th by one source may be
    // first overall.
    let reranked = rerank::candidates(engines, request, ctx.settings.rerank_candidates)?;
    let candidates = if request.mode == Mode::Hybrid { (limit * 3).clamp(30, 300) } else { limit };
    let candidates = candidates.max(reranked.unwrap_or(0));
    let by_document = request.lexical_scoring == LexicalScoring::Document;
    let lexical = async {
        if request.mode == Mode::Semantic {
            return Ok((Vec::new(), HashMap::new()));
        }
        // Ranking documents needs their other matching chunks too.
        let wanted = if by_document { (candidates * 3).clamp(50, 900) } else { candidates };
        let hits =
            engines.lexical.search(&scope, &request.query, wanted).await.map_err(|e| ApiError::Internal(e.into()))?;
        Ok(if by_document { documents::rank(hits) } else { (hits, HashMap::new()) })
    };
    let semantic = async {
        if request.mode == Mode::Lexical {
            return Ok(Vec::new());
        }
        let embedder = engines.embedder().await.map_err(embed_error)?;
        let vector = embedder.embed(vec![request.query.clone()]).await.map_err(embed_error)?;
        let vector = vector.into_iter().next().unwrap_or_default();
        engines.vectors.search(&scope, vector, candidates).await.map_err(|e| ApiError::Internal(e.into()))
    };
    let ((lexical, document_scores), semantic) = tokio::try_join!(lexical, semantic)?;
    let mut snippets: HashMap<Uuid, String> = HashMap::new();
    let mut documents: HashMap<Uuid, Uuid> = HashMap::new();
    let fused = fusion::rrf(
        &[
            Ranked {
                weight: weights.lexical,
                items: lexical
                    .into_iter()
                    .map(|h| {
                        snippets.insert(h.chunk_id, h.snippet);
                        documents.insert(h.chunk_id, h.document_id);
                        (h.chunk_id, h.score)
                    })
                    .collect(),
            },
            Ranked { weight: weights.semantic, items: semantic.into_iter().map(|h| (h.chunk_id, h.score)).collect() },
        ],
        RRF_K,
    );
    let mut ranked: Vec<(Uuid, f32, SourceScores)> = fused
        .into_iter()
        .map(|f| {
            let (lex, sem) = (f.sources[0], f.sources[1]);
            let score = match request.mode {
                Mode::Lexical => lex.map_or(0.0, |s| s.1),
                Mode::Semantic => sem.map_or(0.0, |s| s.1),
                Mode::Hybrid => f.score,
            };
            let scores = SourceScores {
                lexical: lex.map(|s| s.1),
                semantic: sem.map(|s| s.1),
                fused: (request.mode == Mode::Hybrid).then_some(f.score),
                rerank: None,
                document: documents.get(&f.item).and_then(|d| document_scores.get(d)).copied(),
                lexical_rank: lex.map(|s| s.0),
                semantic_rank: sem.map(|s| s.0),
            };
            (f.item, score, scores)
        })
        .filter(|(_, score, _)| request.min_score.is_none_or(|min| *score >= min))
        .collect();
    let Some(reranked) = reranked else {
        ranked.truncate(limit);
        return hydrate(ctx, tenant_id, ranked, &request.query, snippets).await;
    };
    ranked.truncate(reranked.max(limit));
    let hits = hydrate(ctx, tenant_id, ranked, &request.query, snippets).await?;
    Ok(rerank::apply(engines, &request.query, hits, limit).await)
}

/// Loads the chunk rows and document titles of ranked ids, keeping the order.
async fn hydrate(
    ctx: &AppContext,
    tenant_id: Uuid,
    ranked: Vec<(Uuid, f32, SourceScores)>,
    query: &str,
    mut snippets: HashMap<Uuid, String>,
) -> ApiResult<Vec<SearchHit>> {
    if ranked.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = ranked.iter().map(|r| r.0).collect();
    let chunks: HashMap<Uuid, chunk::Model> = in_tenant::<chunk::Entity>(tenant_id)
        .filter(chunk::Column::Id.is_in(ids))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut document_ids: Vec<Uuid> = chunks.values().map(|c| c.document_id).collect();
    document_ids.sort();
    document_ids.dedup();
    let titles: HashMap<Uuid, String> = in_tenant::<document::Entity>(tenant_id)
        .filter(document::Column::Id.is_in(document_ids))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.title))
        .collect();
    // A chunk deleted between the index read and now is skipped, not an error.
    Ok(ranked
        .into_iter()
        .filter_map(|(id, score, scores)| {
            let c = chunks.get(&id)?;
            let snippet = snippets
                .remove(&id)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| highlight::snippet(&c.text, query, SNIPPET_CHARS));
            Some(SearchHit {
                chunk_id: id,
                document_id: c.document_id,
                document_title: titles.get(&c.document_id).cloned().unwrap_or_default(),
                knowledge_base_id: c.kb_id,
                text: c.text.clone(),
                snippet,
                pages: serde_json::from_value(c.pages.clone()).unwrap_or_default(),
                headings: serde_json::from_value(c.headings.clone()).unwrap_or_default(),
                score,
                scores,
                tokens: usize::try_from(c.tokens).unwrap_or(0),
            })
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    pub query: String,
    #[serde(flatten)]
    pub block: prompt_context::ContextBlock,
    pub indexing_documents: u64,
}

/// `POST /v1/knowledge-bases/{id}/query`: the best passages as a context block.
pub async fn query(
    ctx: &AppContext,
    principal: &Principal,
    kb: Uuid,
    mut request: SearchRequest,
) -> ApiResult<QueryResponse> {
    let scope = principal.require(Permission::KbRead)?;
    let tenant_id = scope.tenant_id;
    if request.knowledge_bases.is_some() {
        return Err(ApiError::invalid_field("knowledgeBases", "the knowledge base is in the path"));
    }
    let kb_ids = resolve_kbs(ctx, scope, Some(&[kb])).await?;
    let max_tokens = request.max_tokens.unwrap_or(prompt_context::DEFAULT_MAX_TOKENS);
    if !(50..=100_000).contains(&max_tokens) {
        return Err(ApiError::invalid_field("maxTokens", "must be from 50 to 100000"));
    }
    request.limit = Some(request.limit.unwrap_or(20));
    meter::charge(ctx, principal, Operation::Search, None, &meter::one_search()).await?;
    let hits = retrieve(ctx, tenant_id, &kb_ids, &request).await?;
    let mut block = prompt_context::build(&hits, max_tokens);
    if request.expand_context.unwrap_or(true) {
        neighbours::expand(ctx, tenant_id, &mut block, max_tokens).await?;
    }
    Ok(QueryResponse { query: request.query, block, indexing_documents: indexing(ctx, tenant_id, &kb_ids).await? })
}
