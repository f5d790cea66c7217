//! `lectern eval` on a slice of the shared BEIR NFCorpus set: the real binary ingests through the
//! real pipeline and searches through the API. On the whole set (README) hybrid beats both single
//! modes (nDCG@10 0.344 vs 0.302 and 0.320); a slice small enough for every CI run is too
//! noisy to rank modes that close, so here fusion must not lose to the better single mode by
//! more than a tenth, and every mode must find relevant documents.

use std::collections::HashSet;
use std::process::Command;

use serde_json::Value;

const QUERIES: usize = 12;
const DISTRACTORS: usize = 200;

/// The first judged test queries, every document judged for them, and the first corpus
/// documents as distractors.
fn slice(dir: &std::path::Path) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/beir/nfcorpus");
    let qrels = std::fs::read_to_string(root.join("qrels/test.tsv"))
        .unwrap_or_else(|e| panic!("{}: {e}; the shared data sets sit beside the checkout", root.display()));
    let mut order: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for line in qrels.lines().skip(1) {
        let f: Vec<&str> = line.trim_end().split('\t').collect();
        if !order.iter().any(|q| q == f[0]) {
            if order.len() == QUERIES {
                continue;
            }
            order.push(f[0].to_owned());
        }
        if order.iter().any(|q| q == f[0]) {
            lines.push(line.trim_end().to_owned());
        }
    }
    let judged: HashSet<String> = lines.iter().map(|l| l.split('\t').nth(1).unwrap().to_owned()).collect();
    let corpus: Vec<String> = std::fs::read_to_string(root.join("corpus.jsonl"))
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(i, l)| {
            *i < DISTRACTORS || judged.contains(serde_json::from_str::<Value>(l).unwrap()["_id"].as_str().unwrap())
        })
        .map(|(_, l)| l.to_owned())
        .collect();
    std::fs::create_dir_all(dir.join("qrels")).unwrap();
    std::fs::write(dir.join("corpus.jsonl"), corpus.join("\n")).unwrap();
    std::fs::copy(root.join("queries.jsonl"), dir.join("queries.jsonl")).unwrap();
    std::fs::write(dir.join("qrels/test.tsv"), format!("query-id\tcorpus-id\tscore\n{}\n", lines.join("\n"))).unwrap();
}

#[test]
fn lectern_eval_measures_every_mode_through_the_real_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nfcorpus-slice");
    slice(&data);
    let output = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .args(["eval", "--json", "--variant", "document-scoring", "--dataset"])
        .arg(&data)
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((report["queries"].as_u64(), report["failedDocuments"].as_u64()), (Some(QUERIES as u64), Some(0)));
    // The variant is measured in the modes it affects, on the same ingestion.
    for mode in ["lexical+document-scoring", "hybrid+document-scoring"] {
        assert!(report["modes"][mode]["ndcg@10"].as_f64().unwrap() > 0.15, "{report}");
    }
    assert!(report["modes"].get("semantic+document-scoring").is_none(), "{report}");
    let ndcg = |mode: &str| report["modes"][mode]["ndcg@10"].as_f64().unwrap();
    eprintln!("{report}");
    assert!(ndcg("lexical") > 0.15 && ndcg("semantic") > 0.15, "{report}");
    assert!(ndcg("hybrid") >= 0.9 * ndcg("lexical").max(ndcg("semantic")), "{report}");
    // Ingestion's rate and its ceiling, /v1/embeddings on the same texts, are both measured.
    let rate = |key: &str| report[key].as_f64().unwrap();
    assert!(rate("ingestChunksPerSecond") > 0.0 && rate("embedChunksPerSecond") > 0.0, "{report}");
    assert!(report["peakRssMb"].as_u64().unwrap() > 50, "{report}");
    for mode in ["lexical", "semantic", "hybrid"] {
        let m = &report["modes"][mode];
        assert!(m["recall@100"].as_f64().unwrap() >= m["ndcg@10"].as_f64().unwrap() * 0.5, "{report}");
        assert!(m["queryMsP50"].as_f64().unwrap() <= m["queryMsP99"].as_f64().unwrap());
    }
    // The throwaway server's data is gone.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("lectern-eval-"))
        .collect();
    assert!(left.is_empty(), "temporary data left: {left:?}");
}

/// The throughput mode on real files: a multi-page PDF uploaded as a user would, its chunks
/// exported with the vectors `/v1/embeddings` gave them, so other engines can be measured on
/// the very same texts.
#[test]
fn lectern_eval_ingests_files_and_exports_their_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pdfs/docling__multi_page.pdf");
    let export = dir.path().join("chunks.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .args(["eval", "--json", "--file"])
        .arg(&pdf)
        .arg("--export-chunks")
        .arg(&export)
        .env("TMPDIR", dir.path())
        .env("LECTERN_WORKERS", "3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((report["documents"].as_u64(), report["failedDocuments"].as_u64()), (Some(1), Some(0)), "{report}");
    assert_eq!((report["queries"].as_u64(), report["workers"].as_u64()), (Some(0), Some(3)), "{report}");
    assert_eq!(report["modes"], serde_json::json!({}), "no queries, no scores: {report}");
    let lines: Vec<Value> =
        std::fs::read_to_string(&export).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 1, "a multi-page PDF has several chunks: {report}");
    assert_eq!(lines.len() as u64, report["chunks"].as_u64().unwrap());
    assert!(lines.iter().all(|l| !l["text"].as_str().unwrap().trim().is_empty()));
    let vector: Vec<f64> = lines[0]["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let norm = vector.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert_eq!(vector.len(), 384);
    assert!((norm - 1.0).abs() < 1e-3, "vectors are normalised: {norm}");
}

/// Chinese and Japanese, written without spaces, are searchable by their words: each query
/// shares a word or two with one of 60 short documents (tests/fixtures/cjk), and lexical search
/// finds it (with whole-sentence tokens, as before, no query found anything).
#[tokio::test]
async fn chinese_and_japanese_text_is_found_by_lexical_search_on_either_backend() {
    let dataset = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cjk");
    let qdrant = crate::scale_out::shared_backends()
        .and_then(|b| b.into_iter().find(|(k, _)| *k == "QDRANT_URL").map(|(_, v)| v));
    for backend in std::iter::once(None).chain(qdrant.map(Some)) {
        let dir = tempfile::tempdir().unwrap();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_lectern"));
        command.args(["eval", "--json", "--mode", "lexical", "--dataset"]).arg(&dataset).env("TMPDIR", dir.path());
        if let Some(url) = &backend {
            command.args(["--qdrant-url", url]);
        }
        let output = command.output().await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!((report["queries"].as_u64(), report["failedDocuments"].as_u64()), (Some(60), Some(0)), "{report}");
        let lexical = &report["modes"]["lexical"];
        assert!(lexical["recall@10"].as_f64().unwrap() >= 0.8, "{backend:?}: {report}");
        assert!(lexical["mrr@10"].as_f64().unwrap() >= 0.6, "{backend:?}: {report}");
    }
}

/// QA mode on the shared SQuAD subset: paragraphs ingested, questions asked through the chat
/// API with the built-in extractive model, answers scored against the references.
#[test]
fn lectern_eval_scores_answers_from_the_chat_path() {
    let dir = tempfile::tempdir().unwrap();
    let squad =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/qa/squad_v2_dev_subset/small.json");
    let output = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .args(["eval", "--json", "--mode", "hybrid", "--queries", "40", "--model", "extractive", "--qa"])
        .arg(&squad)
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    eprintln!("{report}");
    assert_eq!((report["documents"].as_u64(), report["queries"].as_u64()), (Some(87), Some(40)), "{report}");
    let qa = &report["qa"];
    let share = |key: &str| qa[key].as_f64().unwrap();
    assert_eq!((qa["questions"].as_u64(), qa["model"].as_str()), (Some(40), Some("extractive")), "{report}");
    // The paragraph holding the answer is found and cited, and the answer quotes it.
    assert!(report["modes"]["hybrid"]["recall@10"].as_f64().unwrap() >= 0.8, "{report}");
    assert!(share("goldCited") >= 0.7, "{report}");
    assert!(share("answerContainsReference") >= 0.5, "{report}");
    // Quotes are whole sentences, not the short reference span: F1 is low but not zero.
    assert!(share("f1") > 0.0 && share("exactMatch") <= share("answerContainsReference"), "{report}");
    assert!(share("citationPrecision") >= 0.9, "extractive answers quote what they cite: {report}");
}

#[test]
fn lectern_eval_without_a_dataset_or_files_says_what_it_needs() {
    let output = Command::new(env!("CARGO_BIN_EXE_lectern")).args(["eval", "--json"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--dataset"), "{stderr}");
}

/// The same evaluation with vectors and lexical search on the Qdrant server: the scores hold
/// (the full set's comparison is in the README) and the run's collections are dropped after.
#[tokio::test]
async fn lectern_eval_on_a_qdrant_server_scores_alike_and_leaves_nothing() {
    let Some(backends) = crate::scale_out::shared_backends() else { return };
    let url = backends.iter().find(|(k, _)| *k == "QDRANT_URL").map(|(_, v)| v.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nfcorpus-slice");
    slice(&data);
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_lectern"))
        .args(["eval", "--json", "--qdrant-url", &url, "--dataset"])
        .arg(&data)
        .env("TMPDIR", dir.path())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["backend"], "qdrant server", "{report}");
    let ndcg = |mode: &str| report["modes"][mode]["ndcg@10"].as_f64().unwrap();
    assert!(ndcg("lexical") > 0.15 && ndcg("semantic") > 0.15, "{report}");
    assert!(ndcg("hybrid") >= 0.9 * ndcg("lexical").max(ndcg("semantic")), "{report}");
    let client = qdrant_client::Qdrant::from_url(&url).skip_compatibility_check().build().unwrap();
    let left: Vec<String> = client
        .list_collections()
        .await
        .unwrap()
        .collections
        .into_iter()
        .map(|c| c.name)
        .filter(|n| n.starts_with("lectern_eval_"))
        .collect();
    assert!(left.is_empty(), "throwaway collections left: {left:?}");
}
