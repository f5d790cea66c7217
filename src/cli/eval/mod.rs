//! `lectern eval`: retrieval quality on a BEIR-format dataset, measured through the product
//! itself. A throwaway server (SQLite, tantivy, qdrant-edge and the local model in a temporary
//! directory) ingests the corpus through the real pipeline and answers every query through the
//! real search endpoint; the report gives nDCG@10, Recall@100 and MRR@10 per mode with timings.
//! With `--qa` (a SQuAD-format file) it also asks every question through the chat API and
//! scores the answers (see [`qa`]).

pub mod beir;
pub mod metrics;
pub mod qa;

mod client;

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::app::Application;
use crate::platform::settings::{Overrides, Settings};
use crate::services::search::Mode;

pub struct EvalOptions {
    /// The BEIR dataset's directory (unused when `files` are given).
    pub dataset: Option<PathBuf>,
    pub modes: Vec<Mode>,
    /// The qrels file: `qrels/<split>.tsv`.
    pub split: String,
    /// Evaluate only the first N judged queries (quick runs).
    pub max_queries: Option<usize>,
    /// Ingest only the first N corpus documents (quick throughput runs; retrieval scores then
    /// count the missing documents as never found).
    pub max_documents: Option<usize>,
    /// Ingest these files instead of the dataset's corpus (throughput of real documents, e.g.
    /// one large PDF; no queries are run).
    pub files: Vec<PathBuf>,
    /// Where to write the chunk texts (JSON lines, `{"text"}`, the first ones with the
    /// `/v1/embeddings` `vector`), so other engines can be measured on the same chunks.
    pub export_chunks: Option<PathBuf>,
    /// A Qdrant server for the run's vectors and lexical search (None: the embedded engines).
    pub qdrant_url: Option<String>,
    /// Retrieval settings measured beside the defaults, each in every mode it affects, on the
    /// same ingestion.
    pub variants: Vec<Variant>,
    /// A SQuAD-format QA file instead of a BEIR dataset: its paragraphs are ingested, the
    /// retrieval modes measured, and every answerable question asked through the chat API.
    pub qa: Option<PathBuf>,
    /// The chat model that answers in QA runs (None: the server's default).
    pub model: Option<String>,
}

/// A retrieval setting measured against the default in the same run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Lexical hits ranked by document (the default ranks chunks).
    DocumentScoring,
    /// Without the reranker (the default reranks when the server has one).
    NoRerank,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::DocumentScoring => "document-scoring",
            Variant::NoRerank => "no-rerank",
        }
    }

    fn applies_to(self, mode: Mode) -> bool {
        match self {
            Variant::DocumentScoring => mode != Mode::Semantic,
            Variant::NoRerank => true,
        }
    }

    /// The search request's fields that make the variant.
    fn fields(self) -> serde_json::Value {
        match self {
            Variant::DocumentScoring => serde_json::json!({"lexicalScoring": "document"}),
            Variant::NoRerank => serde_json::json!({"rerank": false}),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ModeReport {
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    #[serde(rename = "recall@10")]
    pub recall_10: f64,
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
    #[serde(rename = "queryMsP50")]
    pub query_ms_p50: f64,
    #[serde(rename = "queryMsP99")]
    pub query_ms_p99: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Modes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lexical: Option<ModeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic: Option<ModeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hybrid: Option<ModeReport>,
    /// Variants, as `<mode>+<variant>` (e.g. `lexical+document-scoring`).
    #[serde(flatten)]
    pub variants: std::collections::BTreeMap<String, ModeReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub dataset: String,
    pub documents: usize,
    /// Documents the pipeline could not ingest (counted as never found).
    pub failed_documents: usize,
    pub chunks: u64,
    pub queries: usize,
    pub ingest_seconds: f64,
    /// Chunks per second through the whole pipeline (upload to ready).
    pub ingest_chunks_per_second: f64,
    /// Chunks per second of `/v1/embeddings` on the same texts in the same run: the ceiling.
    pub embed_chunks_per_second: f64,
    /// The process's peak resident memory (the server runs in it), MB; 0 where unknown.
    pub peak_rss_mb: u64,
    /// Where vectors and lexical search lived: `qdrant-edge + tantivy` or `qdrant server`.
    pub backend: String,
    /// The settings that shape ingestion speed, as this run had them.
    pub workers: usize,
    pub embed_batch: usize,
    pub embed_token_budget: usize,
    pub embed_memory_arena: bool,
    pub modes: Modes,
    /// Answers scored against references (QA runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa: Option<qa::QaReport>,
}

/// Where the throwaway server keeps its data; removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the evaluation on its own runtime, which is shut down (stopping the job workers) before
/// the temporary directory is removed.
pub fn run(options: &EvalOptions) -> anyhow::Result<Report> {
    let dir = TempDir(std::env::temp_dir().join(format!("lectern-eval-{}", uuid::Uuid::now_v7().simple())));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(serve_and_evaluate(options, &dir));
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    drop(dir);
    result
}

async fn serve_and_evaluate(options: &EvalOptions, dir: &TempDir) -> anyhow::Result<Report> {
    let mut dataset = match (&options.qa, &options.dataset) {
        (Some(file), _) => qa::load(file)?,
        (None, Some(dir)) if options.files.is_empty() => beir::load(dir, &options.split)?,
        _ => beir::Dataset::of_files(&options.files),
    };
    if let Some(max) = options.max_documents {
        dataset.corpus.truncate(max);
    }
    let mut settings = Settings::load(&Overrides {
        addr: Some("127.0.0.1:0".to_owned()),
        data_dir: Some(dir.0.clone()),
        database_url: Some(format!("sqlite://{}?mode=rwc", dir.0.join("eval.db").display())),
        log_format: None,
    })?;
    // A configured Qdrant server is used only when asked for, in collections of this run's own.
    settings.qdrant_url.clone_from(&options.qdrant_url);
    settings.qdrant_collection = format!("lectern_eval_{}", uuid::Uuid::now_v7().simple());
    // Its own private server measures retrieval, not the limiter.
    settings.rate_limits = crate::platform::rate_limits::Limits::unlimited();
    let app = Application::build(settings).await?;
    let (port, handle, settings) = (app.port(), app.handle(), app.context().settings.clone());
    let server = tokio::spawn(app.run_until_stopped());
    let result = evaluate(&dataset, options, &format!("http://127.0.0.1:{port}"), &settings).await;
    handle.stop(true).await;
    server.await??;
    if let Some(url) = &settings.qdrant_url {
        let name = &settings.qdrant_collection;
        crate::engines::qdrant_server::drop_collections(url, &[name.clone(), format!("{name}_bm25")]).await;
    }
    result
}

async fn evaluate(
    dataset: &beir::Dataset,
    options: &EvalOptions,
    base: &str,
    settings: &Settings,
) -> anyhow::Result<Report> {
    let api = client::Api::connect(base).await?;
    let started = Instant::now();
    let uploads: Vec<client::Upload<'_>> = if options.files.is_empty() {
        dataset.corpus.iter().map(client::Upload::Text).collect()
    } else {
        options.files.iter().map(|path| client::Upload::File(path)).collect()
    };
    let ingested = api.ingest(&dataset.name, &uploads).await?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    let embedded = api.embed_rate(&ingested, &settings.embedding_model).await?;
    if let Some(path) = &options.export_chunks {
        export_chunks(path, &embedded)?;
    }
    let queries: Vec<&beir::Query> = dataset.queries.iter().take(options.max_queries.unwrap_or(usize::MAX)).collect();
    let mut modes = Modes::default();
    let mut runs: Vec<(Mode, Option<Variant>)> = options.modes.iter().map(|mode| (*mode, None)).collect();
    for variant in &options.variants {
        runs.extend(options.modes.iter().filter(|mode| variant.applies_to(**mode)).map(|mode| (*mode, Some(*variant))));
    }
    // Without queries (throughput runs) there is nothing to score.
    for (mode, variant) in runs.into_iter().filter(|_| !queries.is_empty()) {
        let fields = variant.map_or(serde_json::Value::Null, Variant::fields);
        let report = score(&api, &ingested, dataset, &queries, mode, &fields).await?;
        match (mode, variant) {
            (_, Some(variant)) => {
                modes.variants.insert(format!("{}+{}", mode.as_str(), variant.name()), report);
            }
            (Mode::Lexical, None) => modes.lexical = Some(report),
            (Mode::Semantic, None) => modes.semantic = Some(report),
            (Mode::Hybrid, None) => modes.hybrid = Some(report),
        }
    }
    let qa = match &options.qa {
        Some(_) => Some(qa::score(&api, &ingested, dataset, &queries, options.model.as_deref()).await?),
        None => None,
    };
    Ok(Report {
        dataset: dataset.name.clone(),
        documents: uploads.len(),
        failed_documents: ingested.failed,
        chunks: ingested.chunks,
        queries: queries.len(),
        ingest_seconds,
        ingest_chunks_per_second: ingested.chunks as f64 / ingest_seconds.max(1e-9),
        embed_chunks_per_second: embedded.per_second,
        peak_rss_mb: peak_rss_mb(),
        backend: if settings.qdrant_url.is_some() { "qdrant server" } else { "qdrant-edge + tantivy" }.to_owned(),
        workers: settings.workers,
        embed_batch: settings.embed_batch,
        embed_token_budget: settings.embed_token_budget,
        embed_memory_arena: settings.embed_memory_arena,
        modes,
        qa,
    })
}

/// Runs every query in one mode (with a variant's request fields) and scores the rankings.
async fn score(
    api: &client::Api,
    ingested: &client::Ingested,
    dataset: &beir::Dataset,
    queries: &[&beir::Query],
    mode: Mode,
    fields: &serde_json::Value,
) -> anyhow::Result<ModeReport> {
    let (mut ndcg, mut recall_10, mut recall, mut mrr) = (0.0, 0.0, 0.0, 0.0);
    let mut times = Vec::with_capacity(queries.len());
    for (n, query) in queries.iter().enumerate() {
        let timer = Instant::now();
        let mut ranked = api.search(ingested, &query.text, mode, fields).await?;
        // As BEIR scores (`ignore_identical_ids`): where queries are corpus passages too
        // (ArguAna), finding the query itself is not a hit.
        ranked.retain(|id| *id != query.id);
        times.push(timer.elapsed().as_secs_f64() * 1000.0);
        let judged = dataset.qrels.get(&query.id).cloned().unwrap_or_default();
        ndcg += metrics::ndcg_at(&ranked, &judged, 10);
        recall_10 += metrics::recall_at(&ranked, &judged, 10);
        recall += metrics::recall_at(&ranked, &judged, 100);
        mrr += metrics::mrr_at(&ranked, &judged, 10);
        if (n + 1) % 100 == 0 {
            eprintln!("eval: {} {}/{} queries", mode.as_str(), n + 1, queries.len());
        }
    }
    let count = queries.len().max(1) as f64;
    Ok(ModeReport {
        ndcg_10: ndcg / count,
        recall_10: recall_10 / count,
        recall_100: recall / count,
        mrr_10: mrr / count,
        query_ms_p50: metrics::percentile(&times, 50.0),
        query_ms_p99: metrics::percentile(&times, 99.0),
    })
}

fn export_chunks(path: &std::path::Path, embedded: &client::EmbedRate) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
    );
    for (n, text) in embedded.texts.iter().enumerate() {
        let line = match embedded.sample.get(n) {
            Some(vector) => serde_json::json!({"text": text, "vector": vector}),
            None => serde_json::json!({"text": text}),
        };
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

/// VmHWM from /proc (Linux): the peak resident set of this process.
fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).map_or(0, |kb| kb / 1024)
}

/// The human-readable table.
pub fn render(report: &Report) -> String {
    let mut out = format!(
        "{}: {} documents ({} chunks, {} failed) ingested in {:.1} s ({:.1} chunks/s; /v1/embeddings on the same \
         texts: {:.1} chunks/s, ratio {:.2}; peak RSS {} MB; {} workers, batch {}, budget {}, arena {}); {} queries; \
         {}\n",
        report.dataset,
        report.documents,
        report.chunks,
        report.failed_documents,
        report.ingest_seconds,
        report.ingest_chunks_per_second,
        report.embed_chunks_per_second,
        report.ingest_chunks_per_second / report.embed_chunks_per_second.max(1e-9),
        report.peak_rss_mb,
        report.workers,
        report.embed_batch,
        report.embed_token_budget,
        if report.embed_memory_arena { "on" } else { "off" },
        report.queries,
        report.backend,
    );
    let mut modes: Vec<(&str, &ModeReport)> =
        [("lexical", &report.modes.lexical), ("semantic", &report.modes.semantic), ("hybrid", &report.modes.hybrid)]
            .into_iter()
            .filter_map(|(name, m)| m.as_ref().map(|m| (name, m)))
            .collect();
    modes.extend(report.modes.variants.iter().map(|(name, m)| (name.as_str(), m)));
    if let Some(qa) = &report.qa {
        out.push_str(&format!(
            "answers ({} questions, model {}): exact match {:.4}, F1 {:.4}, contains a reference {:.4}, citation \
             precision {:.4}, gold paragraph cited {:.4}, p50 {:.1} ms, p99 {:.1} ms\n",
            qa.questions,
            qa.model,
            qa.exact_match,
            qa.f1,
            qa.answer_contains_reference,
            qa.citation_precision,
            qa.gold_cited,
            qa.answer_ms_p50,
            qa.answer_ms_p99
        ));
    }
    if modes.is_empty() {
        return out;
    }
    let width = modes.iter().map(|(name, _)| name.len()).max().unwrap_or(4).max(4);
    out.push_str(&format!(
        "\n{:<width$} {:>8} {:>10} {:>11} {:>8} {:>8} {:>8}\n",
        "mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "p50 ms", "p99 ms"
    ));
    for (name, m) in modes {
        out.push_str(&format!(
            "{name:<width$} {:>8.4} {:>10.4} {:>11.4} {:>8.4} {:>8.1} {:>8.1}\n",
            m.ndcg_10, m.recall_10, m.recall_100, m.mrr_10, m.query_ms_p50, m.query_ms_p99
        ));
    }
    out
}
