//! `lectern eval --qa FILE`: answers through the chat API, scored against reference answers.
//!
//! The file is in SQuAD's JSON format (`data[].paragraphs[].{context, qas[]}`), the format
//! most extractive-QA sets ship in. Every paragraph becomes a document and every answerable
//! question a query whose one relevant document is its paragraph, so the retrieval modes are
//! measured on it as on a BEIR set; then each question is asked through `POST /v1/chat` and the
//! answer is scored: exact match and token F1 as SQuAD's official script computes them, whether
//! a reference answer appears in the answer at all, how many cited sentences the citation check
//! verified, and how often the gold paragraph was among the citations.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::beir::{CorpusDoc, Dataset, Query};
use super::client::{Api, Ingested};
use super::metrics;

#[derive(Deserialize)]
struct SquadFile {
    data: Vec<Article>,
}

#[derive(Deserialize)]
struct Article {
    #[serde(default)]
    title: String,
    paragraphs: Vec<Paragraph>,
}

#[derive(Deserialize)]
struct Paragraph {
    context: String,
    qas: Vec<Question>,
}

#[derive(Deserialize)]
struct Question {
    id: String,
    question: String,
    #[serde(default)]
    answers: Vec<Answer>,
    #[serde(default)]
    is_impossible: bool,
}

#[derive(Deserialize)]
struct Answer {
    text: String,
}

/// A SQuAD-format file as a dataset: paragraphs are documents, answerable questions are the
/// queries, each judged relevant to its paragraph only; `answers` keeps the references.
pub fn load(path: &Path) -> anyhow::Result<Dataset> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: SquadFile =
        serde_json::from_str(&text).with_context(|| format!("{} is not a SQuAD-format file", path.display()))?;
    let mut dataset = Dataset {
        name: path.file_stem().map_or_else(|| "qa".to_owned(), |n| n.to_string_lossy().into_owned()),
        corpus: Vec::new(),
        queries: Vec::new(),
        qrels: HashMap::new(),
        answers: HashMap::new(),
    };
    for article in file.data {
        for (n, paragraph) in article.paragraphs.into_iter().enumerate() {
            let id = format!("{}#{}", article.title, n + 1);
            for q in paragraph.qas.into_iter().filter(|q| !q.is_impossible && !q.answers.is_empty()) {
                dataset.qrels.insert(q.id.clone(), HashMap::from([(id.clone(), 1)]));
                dataset.answers.insert(q.id.clone(), q.answers.into_iter().map(|a| a.text).collect());
                dataset.queries.push(Query { id: q.id, text: q.question });
            }
            let title = format!("{} ({})", article.title, n + 1);
            dataset.corpus.push(CorpusDoc { id, title, text: paragraph.context });
        }
    }
    anyhow::ensure!(!dataset.queries.is_empty(), "{} has no answerable question", path.display());
    Ok(dataset)
}

/// Lower case, no punctuation, no articles, single spaces: SQuAD's answer normalisation.
fn normalize(text: &str) -> Vec<String> {
    let lower: String = text.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    lower.split_whitespace().filter(|w| !matches!(*w, "a" | "an" | "the")).map(str::to_owned).collect()
}

fn f1(prediction: &[String], reference: &[String]) -> f64 {
    let mut left: HashMap<&str, usize> = HashMap::new();
    for word in reference {
        *left.entry(word).or_default() += 1;
    }
    let mut common = 0;
    for word in prediction {
        if let Some(n) = left.get_mut(word.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / prediction.len() as f64;
    let recall = common as f64 / reference.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// The answer without citation markers (`[1]`, `[2][3]`).
fn without_markers(answer: &str) -> String {
    let mut out = String::with_capacity(answer.len());
    let mut rest = answer;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].chars().all(|c| c.is_ascii_digit()) => {
                rest = &after[close + 1..]
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One answer against its references: (exact match, F1, a reference appears in it).
pub fn score_answer(answer: &str, references: &[String]) -> (bool, f64, bool) {
    let prediction = normalize(&without_markers(answer));
    let joined = format!(" {} ", prediction.join(" "));
    let (mut exact, mut best, mut contained) = (false, 0.0f64, false);
    for reference in references.iter().map(|r| normalize(r)).filter(|r| !r.is_empty()) {
        exact |= prediction == reference;
        best = best.max(f1(&prediction, &reference));
        contained |= joined.contains(&format!(" {} ", reference.join(" ")));
    }
    (exact, best, contained)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QaReport {
    /// The chat model that answered (the server's default when not chosen).
    pub model: String,
    pub questions: usize,
    pub exact_match: f64,
    pub f1: f64,
    /// Share of answers that contain a reference answer (what an extractive answer, which
    /// quotes whole sentences, can be judged by).
    pub answer_contains_reference: f64,
    /// Cited sentences the citation check verified, over all cited sentences.
    pub citation_precision: f64,
    /// Share of answers citing the question's own paragraph.
    pub gold_cited: f64,
    pub answer_ms_p50: f64,
    pub answer_ms_p99: f64,
}

/// Asks every question through the chat API and scores the answers.
pub async fn score(
    api: &Api,
    ingested: &Ingested,
    dataset: &Dataset,
    queries: &[&Query],
    model: Option<&str>,
) -> anyhow::Result<QaReport> {
    let (mut exact, mut f1_sum, mut contains, mut gold) = (0usize, 0.0, 0usize, 0usize);
    let (mut supported, mut checked) = (0usize, 0usize);
    let mut times = Vec::with_capacity(queries.len());
    let mut model_used = model.unwrap_or_default().to_owned();
    for (n, query) in queries.iter().enumerate() {
        let timer = Instant::now();
        let answer = api.ask(ingested, &query.text, model).await?;
        times.push(timer.elapsed().as_secs_f64() * 1000.0);
        let references = dataset.answers.get(&query.id).map(Vec::as_slice).unwrap_or_default();
        let (is_exact, f1, contained) = score_answer(&answer.content, references);
        exact += usize::from(is_exact);
        f1_sum += f1;
        contains += usize::from(contained);
        let judged = dataset.qrels.get(&query.id);
        gold += usize::from(answer.cited.iter().any(|id| judged.is_some_and(|j| j.contains_key(id))));
        supported += answer.supported;
        checked += answer.supported + answer.unsupported;
        if model_used.is_empty() {
            model_used = answer.model;
        }
        if (n + 1) % 50 == 0 {
            eprintln!("eval: answered {}/{} questions", n + 1, queries.len());
        }
    }
    let count = queries.len().max(1) as f64;
    Ok(QaReport {
        model: model_used,
        questions: queries.len(),
        exact_match: exact as f64 / count,
        f1: f1_sum / count,
        answer_contains_reference: contains as f64 / count,
        citation_precision: if checked == 0 { 0.0 } else { supported as f64 / checked as f64 },
        gold_cited: gold as f64 / count,
        answer_ms_p50: metrics::percentile(&times, 50.0),
        answer_ms_p99: metrics::percentile(&times, 99.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_scored_as_squad_scores_them() {
        let refs = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(score_answer("The Normans.", &refs(&["Normans"])), (true, 1.0, true), "articles, punctuation");
        let (exact, f1, contained) = score_answer("in France [1], in 911", &refs(&["France", "northern France"]));
        assert!(!exact && contained);
        // "in france in 911": the best reference is "France" (1 common word, P 1/4, R 1).
        assert!((f1 - 2.0 * 0.25 / 1.25).abs() < 1e-9, "{f1}");
        assert_eq!(score_answer("nothing", &refs(&["France"])), (false, 0.0, false));
        assert!(!score_answer("Frances", &refs(&["France"])).2, "whole words only");
        assert_eq!(without_markers("a [1][2] b [x] c [12]"), "a  b [x] c ");
    }

    #[test]
    fn the_shared_squad_subset_loads_answerable_questions_only() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/qa/squad_v2_dev_subset/small.json");
        let data = load(&path).unwrap();
        assert_eq!((data.corpus.len(), data.queries.len()), (87, 293));
        let first = &data.queries[0];
        assert_eq!(first.text, "In what country is Normandy located?");
        assert!(data.answers[&first.id].contains(&"France".to_owned()));
        let gold: Vec<&String> = data.qrels[&first.id].keys().collect();
        assert!(data.corpus.iter().any(|d| &d.id == gold[0] && d.text.contains("France")));
        assert!(load(Path::new("/nonexistent.json")).is_err());
    }
}
