//! Reading a BEIR-format dataset: `corpus.jsonl`, `queries.jsonl`, `qrels/<split>.tsv`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use super::metrics::Judgements;

#[derive(Debug, Deserialize)]
pub struct CorpusDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub text: String,
}

impl CorpusDoc {
    /// The document's title in Lectern: the corpus title (cut to the 200-character limit), or
    /// the id where there is none.
    pub fn display_title(&self) -> String {
        let title = self.title.trim();
        if title.is_empty() {
            self.id.clone()
        } else {
            title.chars().take(200).collect()
        }
    }

    /// What is indexed: the title and the text, as BEIR's baselines index both.
    pub fn content(&self) -> String {
        if self.title.trim().is_empty() {
            self.text.clone()
        } else {
            format!("{}\n\n{}", self.title.trim(), self.text)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Query {
    #[serde(rename = "_id")]
    pub id: String,
    pub text: String,
}

pub struct Dataset {
    pub name: String,
    pub corpus: Vec<CorpusDoc>,
    /// Only the queries that have judgements in the split, in file order.
    pub queries: Vec<Query>,
    pub qrels: HashMap<String, Judgements>,
    /// Reference answers by query id (QA sets only, see `qa`).
    pub answers: HashMap<String, Vec<String>>,
}

fn jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), n + 1)))
        .collect()
}

/// Tab-separated `query-id corpus-id score`, with or without a header line, any line ending.
pub fn parse_qrels(text: &str) -> anyhow::Result<HashMap<String, Judgements>> {
    let mut qrels: HashMap<String, Judgements> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        if fields.len() < 3 || (n == 0 && fields[2].parse::<i64>().is_err()) {
            continue;
        }
        let score: i64 = fields[2].trim().parse().with_context(|| format!("qrels line {}: bad score", n + 1))?;
        qrels.entry(fields[0].to_owned()).or_default().insert(fields[1].to_owned(), u32::try_from(score).unwrap_or(0));
    }
    Ok(qrels)
}

pub fn load(dir: &Path, split: &str) -> anyhow::Result<Dataset> {
    let corpus: Vec<CorpusDoc> = jsonl(&dir.join("corpus.jsonl"))?;
    let all_queries: Vec<Query> = jsonl(&dir.join("queries.jsonl"))?;
    let qrels_path = dir.join("qrels").join(format!("{split}.tsv"));
    let qrels_text =
        std::fs::read_to_string(&qrels_path).with_context(|| format!("cannot read {}", qrels_path.display()))?;
    let qrels = parse_qrels(&qrels_text)?;
    let queries: Vec<Query> =
        all_queries.into_iter().filter(|q| qrels.get(&q.id).is_some_and(|j| j.values().any(|r| *r > 0))).collect();
    anyhow::ensure!(!corpus.is_empty(), "{} has no documents", dir.join("corpus.jsonl").display());
    anyhow::ensure!(!queries.is_empty(), "no query of queries.jsonl has judgements in {}", qrels_path.display());
    let name = dir.file_name().map_or_else(|| "dataset".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok(Dataset { name, corpus, queries, qrels, answers: HashMap::new() })
}

impl Dataset {
    /// No corpus and no queries: the documents are files given on their own.
    pub fn of_files(files: &[std::path::PathBuf]) -> Self {
        let first = files.first().and_then(|f| f.file_name()).map(|n| n.to_string_lossy().into_owned());
        let name = match (first, files.len()) {
            (Some(first), 1) => first,
            (Some(first), n) => format!("{first} and {} more files", n - 1),
            (None, _) => "files".to_owned(),
        };
        Self { name, corpus: Vec::new(), queries: Vec::new(), qrels: HashMap::new(), answers: HashMap::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qrels_with_a_header_and_crlf_endings_parse() {
        let qrels = parse_qrels("query-id\tcorpus-id\tscore\r\nq1\td1\t2\r\nq1\td2\t0\r\nq2\td3\t1\r\n").unwrap();
        assert_eq!(qrels["q1"]["d1"], 2);
        assert_eq!(qrels["q1"]["d2"], 0);
        assert_eq!(qrels["q2"].len(), 1);
        assert!(parse_qrels("q1\td1\tx\n").is_ok(), "a non-numeric first line is a header");
        assert!(parse_qrels("q1\td1\t1\nq2\td2\tx\n").is_err());
    }

    /// Stemming queries in more languages than their own must not cost English retrieval:
    /// NFCorpus (two of its 3,633 abstracts are German and French, so a knowledge base of it
    /// lists both) scored through tantivy with whole documents, English-only vs en+de+fr.
    #[test]
    fn extra_query_languages_cost_english_retrieval_nothing() {
        use crate::engines::fulltext::{ChunkText, FulltextIndex};
        use crate::platform::scope::SearchScope;
        let data = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/beir/nfcorpus"), "test").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let index = FulltextIndex::open(dir.path()).unwrap();
        let (tenant, kb) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let ids: Vec<uuid::Uuid> = data.corpus.iter().map(|_| uuid::Uuid::now_v7()).collect();
        let chunks: Vec<ChunkText> = data
            .corpus
            .iter()
            .zip(&ids)
            .map(|(doc, id)| ChunkText {
                chunk_id: *id,
                tenant_id: tenant,
                kb_id: kb,
                document_id: *id,
                text: doc.text.clone(),
                context: doc.title.clone(),
            })
            .collect();
        index.add(&chunks).unwrap();
        let corpus_id: HashMap<uuid::Uuid, &str> =
            ids.iter().copied().zip(data.corpus.iter().map(|d| d.id.as_str())).collect();
        let ndcg = |languages: &[&str]| {
            let scope = SearchScope {
                languages: languages.iter().map(|l| (*l).to_owned()).collect(),
                ..SearchScope::kbs(tenant, &[kb])
            };
            let total: f64 = data
                .queries
                .iter()
                .map(|q| {
                    let ranked: Vec<String> = index
                        .search(&scope, &q.text, 10)
                        .unwrap()
                        .iter()
                        .map(|h| corpus_id[&h.document_id].to_owned())
                        .collect();
                    super::super::metrics::ndcg_at(&ranked, &data.qrels[&q.id], 10)
                })
                .sum();
            total / data.queries.len() as f64
        };
        let (english, three) = (ndcg(&[]), ndcg(&["de", "fr"]));
        eprintln!("NFCorpus lexical nDCG@10, whole documents: English-only {english:.4}, en+de+fr {three:.4}");
        assert!(english > 0.3, "{english}");
        assert!((english - three).abs() <= 0.005, "English-only {english:.4} vs en+de+fr {three:.4}");
    }

    #[test]
    fn the_shared_nfcorpus_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/beir/nfcorpus");
        assert!(dir.exists(), "{}: the shared data sets sit beside the checkout", dir.display());
        let data = load(&dir, "test").unwrap();
        assert_eq!((data.name.as_str(), data.corpus.len(), data.queries.len()), ("nfcorpus", 3633, 323));
        assert!(data.corpus[0].content().starts_with("Statin Use and Breast Cancer Survival"));
    }
}
