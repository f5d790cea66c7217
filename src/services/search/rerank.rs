//! The reranking stage: the best fused candidates, read with the query by a cross-encoder and
//! reordered by its scores. A reranker that fails (an upstream down) costs the ordering, not the
//! search: the fused order stands and the failure is logged.

use crate::app::engines::Engines;
use crate::error::{ApiError, ApiResult};

use super::{SearchHit, SearchRequest};

/// How many candidates to rerank for a request, or None for no reranking: on by default
/// whenever a reranker is configured.
pub fn candidates(engines: &Engines, request: &SearchRequest, default: usize) -> ApiResult<Option<usize>> {
    if let Some(n) = request.rerank_candidates {
        if !(1..=200).contains(&n) {
            return Err(ApiError::invalid_field("rerankCandidates", "must be from 1 to 200"));
        }
    }
    match request.rerank {
        Some(false) => Ok(None),
        Some(true) if !engines.has_reranker() => Err(ApiError::invalid_field(
            "rerank",
            "no reranker is configured on this server (LECTERN_RERANK_MODEL or LECTERN_RERANK_URL)",
        )),
        _ if !engines.has_reranker() => Ok(None),
        _ => Ok(Some(request.rerank_candidates.unwrap_or(default))),
    }
}

/// What the cross-encoder reads of a hit: where it sits (title, headings), then its text.
fn passage(hit: &SearchHit) -> String {
    let mut context = vec![hit.document_title.as_str()];
    context.extend(hit.headings.iter().map(String::as_str));
    format!("{}\n{}", context.join(" > "), hit.text)
}

/// Reorders `hits` by the reranker's scores and keeps the best `limit`.
pub async fn apply(engines: &Engines, query: &str, mut hits: Vec<SearchHit>, limit: usize) -> Vec<SearchHit> {
    let Some(reranker) = engines.reranker().await else {
        hits.truncate(limit);
        return hits;
    };
    let scored = match reranker {
        Ok(reranker) => reranker.score(query, hits.iter().map(passage).collect()).await,
        Err(e) => Err(e),
    };
    match scored {
        Ok(scores) => {
            for (hit, score) in hits.iter_mut().zip(scores) {
                hit.scores.rerank = Some(score);
            }
            // Stable: equal scores keep the fused order.
            hits.sort_by(|a, b| b.scores.rerank.unwrap_or(f32::MIN).total_cmp(&a.scores.rerank.unwrap_or(f32::MIN)));
        }
        Err(error) => {
            tracing::warn!(%error, "reranking failed; the fused order stands");
            crate::platform::telemetry::metrics::rerank_failed();
        }
    }
    hits.truncate(limit);
    hits
}
