//! A context block for a language model: the top passages, numbered `[n]` with their source,
//! within a token budget. Used by `POST /v1/knowledge-bases/{id}/query` (for integrators who
//! bring their own model) and by chat to build its prompts.

use serde::Serialize;
use utoipa::ToSchema;

use super::SearchHit;

pub const DEFAULT_MAX_TOKENS: usize = 2000;

pub use crate::engines::llm::ContextSource;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextBlock {
    /// Ready to paste into a prompt.
    pub context: String,
    pub sources: Vec<ContextSource>,
    /// Estimated tokens of `context`.
    pub tokens: usize,
    /// Passages left out because the budget was full.
    pub omitted: usize,
    /// Each source's header line, as in `context`.
    #[serde(skip)]
    heads: Vec<String>,
}

impl ContextBlock {
    /// The prompt text of the sources as they are now.
    pub fn render(&self) -> String {
        let parts: Vec<String> =
            self.heads.iter().zip(&self.sources).map(|(head, source)| format!("{head}\n{}", source.text)).collect();
        parts.join("\n\n")
    }
}

/// The header line of a source: `[n] Title, p. 3–4 (Section > Subsection)`.
pub fn header(n: usize, hit: &SearchHit) -> String {
    let mut line = format!("[{n}] {}", if hit.document_title.is_empty() { "Untitled" } else { &hit.document_title });
    match hit.pages.as_slice() {
        [] => {}
        [page] => line.push_str(&format!(", p. {page}")),
        [first, .., last] => line.push_str(&format!(", pp. {first}–{last}")),
    }
    if !hit.headings.is_empty() {
        line.push_str(&format!(" ({})", hit.headings.join(" > ")));
    }
    line
}

/// A rough token count for text we did not tokenize (headers): ~4 characters per token.
pub fn estimate(text: &str) -> usize {
    text.chars().count().div_ceil(4) + 1
}

/// Takes hits in rank order while they fit in `max_tokens`; one that does not fit is skipped
/// (a later, shorter one may). If not even the best fits, its start is included, cut to size.
pub fn build(hits: &[SearchHit], max_tokens: usize) -> ContextBlock {
    let mut sources = Vec::new();
    let mut heads = Vec::new();
    let mut used = 0;
    for hit in hits {
        let n = sources.len() + 1;
        let head = header(n, hit);
        let cost = estimate(&head) + hit.tokens.max(estimate(&hit.text) / 2);
        let text = if used + cost <= max_tokens {
            hit.text.clone()
        } else if sources.is_empty() {
            let room = max_tokens.saturating_sub(estimate(&head) + 2) * 4;
            let cut: String = hit.text.chars().take(room).collect();
            format!("{}…", cut.trim_end())
        } else {
            continue;
        };
        used += estimate(&head) + estimate(&text).min(cost);
        heads.push(head);
        sources.push(ContextSource {
            n,
            chunk_id: hit.chunk_id,
            document_id: hit.document_id,
            document_title: hit.document_title.clone(),
            knowledge_base_id: hit.knowledge_base_id,
            pages: hit.pages.clone(),
            snippet: hit.snippet.clone(),
            score: hit.score,
            text,
        });
    }
    let omitted = hits.len() - sources.len();
    let mut block = ContextBlock { context: String::new(), sources, tokens: used, omitted, heads };
    block.context = block.render();
    block
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::services::search::SourceScores;
    use uuid::Uuid;

    pub(crate) fn hit(title: &str, text: &str, pages: Vec<u32>, tokens: usize) -> SearchHit {
        SearchHit {
            chunk_id: Uuid::now_v7(),
            document_id: Uuid::now_v7(),
            document_title: title.to_owned(),
            knowledge_base_id: Uuid::now_v7(),
            text: text.to_owned(),
            snippet: String::new(),
            pages,
            headings: vec!["Terms".to_owned(), "Refunds".to_owned()],
            score: 1.0,
            scores: SourceScores {
                lexical: None,
                semantic: None,
                fused: None,
                rerank: None,
                document: None,
                lexical_rank: None,
                semantic_rank: None,
            },
            tokens,
        }
    }

    #[test]
    fn numbers_sources_with_pages_and_headings() {
        let block =
            build(&[hit("Policy", "Refunds within 30 days.", vec![3], 6), hit("FAQ", "Ask us.", vec![1, 2], 3)], 500);
        assert_eq!(
            block.context,
            "[1] Policy, p. 3 (Terms > Refunds)\nRefunds within 30 days.\n\n[2] FAQ, pp. 1–2 (Terms > Refunds)\nAsk us."
        );
        assert_eq!(block.sources.iter().map(|s| s.n).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(block.omitted, 0);
        assert!(block.tokens > 9 && block.tokens < 40, "{}", block.tokens);
    }

    #[test]
    fn the_budget_skips_what_does_not_fit_and_cuts_an_oversized_first_passage() {
        let long = "word ".repeat(400);
        let block =
            build(&[hit("A", "short", vec![], 2), hit("B", &long, vec![], 400), hit("C", "tiny", vec![], 2)], 60);
        assert_eq!(block.sources.iter().map(|s| s.document_title.as_str()).collect::<Vec<_>>(), ["A", "C"]);
        assert_eq!(block.sources[1].n, 2, "numbers stay consecutive");
        assert_eq!(block.omitted, 1);
        let cut = build(&[hit("B", &long, vec![], 400)], 60);
        assert_eq!(cut.sources.len(), 1);
        assert!(cut.context.ends_with('…') && cut.context.len() < long.len());
        assert!(cut.tokens <= 60, "{}", cut.tokens);
    }
}
