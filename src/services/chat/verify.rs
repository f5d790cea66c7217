//! Verified citations: after an answer is generated, every sentence that cites `[n]` is checked
//! against the passage it cites. A sentence is supported when the passage quotes it (a quoted
//! span found verbatim) or when one or two consecutive sentences of the passage carry most of
//! its words and every one of its numbers; the supporting quote is kept with its offsets in the
//! passage. Lexical alignment only: no second model call, so it costs microseconds and runs on
//! every answer. It cannot tell a paraphrase that inverts a claim ("did not rise") from the
//! claim; it does catch the common failure, a citation pointing at a passage about something
//! else, and a number that is not in the source.

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engines::analysis;
use crate::engines::highlight;
use crate::engines::llm::source::ContextSource;

/// Share of a sentence's content words a passage must carry to support it.
const SUPPORTED: f32 = 0.6;

/// The check of an answer's citations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// `lexical` (the sentence's words aligned with the cited passage) or `extractive` (the
    /// built-in model quotes passages verbatim: supported by construction, and checked alike).
    pub method: String,
    /// Cited sentences whose citation holds.
    pub supported: usize,
    /// Cited sentences that no cited passage supports.
    pub unsupported: usize,
    /// Every cited sentence, in answer order.
    pub sentences: Vec<CheckedSentence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SentenceStatus {
    Supported,
    Unsupported,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckedSentence {
    /// The sentence as the answer has it, markers included.
    pub text: String,
    /// Character offsets of the sentence in the answer.
    pub start: usize,
    pub end: usize,
    /// The source numbers it cites.
    pub cites: Vec<usize>,
    pub status: SentenceStatus,
    /// The best evidence found (also for an unsupported sentence, when some words matched).
    pub support: Option<Support>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Support {
    /// The cited source the quote is from.
    pub n: usize,
    pub chunk_id: Uuid,
    /// The passage's words that support the sentence.
    pub quote: String,
    /// Character offsets of the quote in the chunk's text.
    pub start: usize,
    pub end: usize,
    pub page: Option<u32>,
    /// Share of the sentence's content words (0–1) the quote carries.
    pub coverage: f32,
}

/// Checks every cited sentence of `answer` against the sources it cites.
pub fn check(answer: &str, sources: &[ContextSource], extractive: bool) -> Verification {
    let mut sentences = Vec::new();
    for (start, end) in sentences_of(answer) {
        let text = &answer[start..end];
        let cites = crate::services::chat::events::cited_numbers(text);
        let cited: Vec<&ContextSource> = cites.iter().filter_map(|n| sources.iter().find(|s| s.n == *n)).collect();
        if cites.is_empty() {
            continue;
        }
        let claim = without_markers(text);
        let terms = claim_terms(&claim);
        let support = cited
            .iter()
            .filter_map(|source| best_support(&claim, &terms, source))
            .max_by(|a, b| a.coverage.total_cmp(&b.coverage));
        let status = match &support {
            Some(s) if s.coverage >= SUPPORTED => SentenceStatus::Supported,
            _ => SentenceStatus::Unsupported,
        };
        sentences.push(CheckedSentence {
            text: text.to_owned(),
            start: answer[..start].chars().count(),
            end: answer[..end].chars().count(),
            cites,
            status,
            support,
        });
    }
    let supported = sentences.iter().filter(|s| s.status == SentenceStatus::Supported).count();
    Verification {
        method: if extractive { "extractive" } else { "lexical" }.to_owned(),
        supported,
        unsupported: sentences.len() - supported,
        sentences,
    }
}

/// Byte spans of the answer's sentences. Markers after a full stop (`… rose. [2] Next`) belong
/// to the sentence before them, and Markdown quote marks are left out.
fn sentences_of(answer: &str) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (start, sentence) in answer.split_sentence_bound_indices() {
        let mut start = start;
        let mut text = sentence;
        let lead = leading_markers(text);
        if lead > 0 {
            if let Some(last) = spans.last_mut() {
                last.1 = start + text[..lead].trim_end().len();
                start += lead;
                text = &text[lead..];
            }
        }
        let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '>');
        let start = start + (text.len() - trimmed.len());
        let trimmed = trimmed.trim_end();
        if !trimmed.is_empty() {
            spans.push((start, start + trimmed.len()));
        }
    }
    spans
}

/// Bytes taken by `[n]` markers (and the spaces between them) at the start of `text`.
fn leading_markers(text: &str) -> usize {
    let mut taken = 0;
    loop {
        let rest = &text[taken..];
        let spaces = rest.len() - rest.trim_start().len();
        let after = &rest[spaces..];
        let Some(inner) = after.strip_prefix('[') else { return taken };
        let digits = inner.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 || !inner[digits..].starts_with(']') {
            return taken;
        }
        taken += spaces + digits + 2;
    }
}

/// The sentence without its `[n]` markers.
fn without_markers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(']') {
            rest = &after[digits + 1..];
        } else {
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn is_number(term: &str) -> bool {
    term.chars().all(|c| c.is_ascii_digit())
}

/// The words that carry a sentence's claim: numbers, CJK bigrams and words of three letters or
/// more that are not stopwords.
fn claim_terms(text: &str) -> Vec<String> {
    let mut terms = tokens(text);
    terms.retain(|t| is_number(t) || !t.is_ascii() || (t.len() >= 3 && !highlight::is_stopword(t)));
    terms.sort();
    terms.dedup();
    terms
}

fn tokens(text: &str) -> Vec<String> {
    let mut analyzer = analysis::analyzer(analysis::PLAIN);
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Share of `terms` found among `words`; 0 when a number of the claim is missing (a figure
/// the source does not give is never supported).
fn coverage(terms: &[String], words: &[String]) -> f32 {
    if terms.is_empty() {
        return 0.0;
    }
    let mut found = 0;
    for term in terms {
        let hit = if is_number(term) || !term.is_ascii() {
            words.iter().any(|w| w == term)
        } else {
            highlight::matches(term, words)
        };
        if hit {
            found += 1;
        } else if is_number(term) {
            return 0.0;
        }
    }
    found as f32 / terms.len() as f32
}

/// The one or two consecutive sentences of a source that best support a claim.
fn best_support(claim: &str, terms: &[String], source: &ContextSource) -> Option<Support> {
    let text = &source.text;
    let support = |start: usize, end: usize, coverage: f32| Support {
        n: source.n,
        chunk_id: source.chunk_id,
        quote: text[start..end].to_owned(),
        start: text[..start].chars().count(),
        end: text[..end].chars().count(),
        page: source.pages.first().copied(),
        coverage,
    };
    // A span the sentence puts in quotation marks, found verbatim.
    for quoted in quotations(claim) {
        if let Some(at) = text.find(quoted) {
            return Some(support(at, at + quoted.len(), 1.0));
        }
    }
    let spans: Vec<(usize, usize)> = text
        .split_sentence_bound_indices()
        .map(|(start, s)| (start, start + s.trim_end().len()))
        .filter(|(start, end)| end > start)
        .collect();
    let words: Vec<Vec<String>> = spans.iter().map(|(s, e)| tokens(&text[*s..*e])).collect();
    let mut best: Option<(f32, usize, usize)> = None;
    for i in 0..spans.len() {
        for j in i..spans.len().min(i + 2) {
            let window: Vec<String> = words[i..=j].concat();
            let (score, start, end) = (coverage(terms, &window), spans[i].0, spans[j].1);
            // Ties go to the shorter window.
            if best.is_none_or(|(b, s, e)| score > b || (score == b && end - start < e - s)) {
                best = Some((score, start, end));
            }
        }
    }
    let (score, start, end) = best.filter(|(score, _, _)| *score > 0.0)?;
    Some(support(start, end, score))
}

/// Spans of at least three words between quotation marks.
fn quotations(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (open, close) in [('"', '"'), ('\u{201c}', '\u{201d}'), ('\u{300c}', '\u{300d}')] {
        let mut rest = text;
        while let Some(at) = rest.find(open) {
            let after = &rest[at + open.len_utf8()..];
            let Some(end) = after.find(close) else { break };
            let quoted = after[..end].trim();
            if quoted.split_whitespace().count() >= 3 || quoted.chars().count() >= 8 {
                out.push(quoted);
            }
            rest = &after[end + close.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(n: usize, text: &str) -> ContextSource {
        ContextSource {
            n,
            chunk_id: Uuid::from_u128(n as u128),
            document_id: Uuid::nil(),
            document_title: String::new(),
            knowledge_base_id: Uuid::nil(),
            pages: vec![n as u32 + 1],
            snippet: String::new(),
            score: 1.0,
            text: text.to_owned(),
        }
    }

    fn sources() -> Vec<ContextSource> {
        vec![
            source(
                1,
                "The company was founded in 1998. Revenue grew 12 percent in fiscal 2023, driven by subscriptions.",
            ),
            source(2, "Employees get 25 days of paid leave per year. Unused days expire in March."),
        ]
    }

    #[test]
    fn a_sentence_citing_the_passage_that_says_it_is_supported_with_the_quote() {
        let answer = "Subscriptions drove revenue growth of 12 percent in fiscal 2023 [1].";
        let v = check(answer, &sources(), false);
        assert_eq!((v.supported, v.unsupported), (1, 0));
        let support = v.sentences[0].support.as_ref().unwrap();
        assert_eq!(support.n, 1);
        assert_eq!(support.quote, "Revenue grew 12 percent in fiscal 2023, driven by subscriptions.");
        let text = &sources()[0].text;
        assert_eq!(
            text.chars().skip(support.start).take(support.end - support.start).collect::<String>(),
            support.quote
        );
        assert_eq!(support.page, Some(2));
    }

    #[test]
    fn a_citation_of_the_wrong_passage_or_a_wrong_number_is_unsupported() {
        let wrong_source = "Revenue grew 12 percent in fiscal 2023 [2].";
        let v = check(wrong_source, &sources(), false);
        assert_eq!((v.supported, v.unsupported), (0, 1));
        let wrong_number = "Employees get 30 days of paid leave per year [2].";
        assert_eq!(check(wrong_number, &sources(), false).unsupported, 1);
        let right = "Employees get 25 days of paid leave per year [2].";
        assert_eq!(check(right, &sources(), false).supported, 1);
    }

    #[test]
    fn sentences_without_markers_are_not_checked_and_trailing_markers_belong_to_their_sentence() {
        let answer = "Here is what I found. The company was founded in 1998. [1] Leave expires in March [2].";
        let v = check(answer, &sources(), false);
        assert_eq!(v.sentences.len(), 2, "{v:?}");
        assert_eq!(v.sentences[0].text, "The company was founded in 1998. [1]");
        assert_eq!((v.supported, v.unsupported), (2, 0));
        let (start, end) = (v.sentences[1].start, v.sentences[1].end);
        assert_eq!(answer.chars().skip(start).take(end - start).collect::<String>(), "Leave expires in March [2].");
        assert!(check("No citations here at all.", &sources(), false).sentences.is_empty());
    }

    #[test]
    fn a_quoted_span_must_be_in_the_passage_verbatim() {
        let quoted = "The handbook says \"Unused days expire in March\" [2].";
        let v = check(quoted, &sources(), false);
        assert_eq!(v.supported, 1);
        assert_eq!(v.sentences[0].support.as_ref().unwrap().quote, "Unused days expire in March");
    }

    #[test]
    fn extractive_quotes_verify_by_construction_and_cjk_sentences_are_checked_too() {
        let answer = "Extractive answer:\n\n> Revenue grew 12 percent in fiscal 2023, driven by subscriptions. [1]";
        let v = check(answer, &sources(), true);
        assert_eq!((v.method.as_str(), v.supported, v.unsupported), ("extractive", 1, 0));
        let zh = vec![source(1, "长城是中国古代修建的军事防御工程，总长度超过两万公里。")];
        assert_eq!(check("长城的总长度超过两万公里[1]。", &zh, false).supported, 1);
        assert_eq!(check("黄河因泥沙而呈现黄色[1]。", &zh, false).unsupported, 1);
    }
}
