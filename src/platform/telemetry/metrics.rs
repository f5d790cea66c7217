//! Prometheus metrics: recorded anywhere through the `metrics` facade, rendered by `/metrics`.
//! One recorder per process (the facade is global); the names below are the whole catalogue.

use std::sync::OnceLock;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: 1 ms to 60 s.
const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder once per process; None if another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS);
            let handle = builder.ok()?.install_recorder().ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("lectern_http_requests_total", "HTTP requests by method, route and status.");
    describe_histogram!("lectern_http_request_duration_seconds", "HTTP request latency by method, route and status.");
    describe_gauge!("lectern_jobs", "Background jobs by kind and status (queue depth: status=queued).");
    describe_histogram!("lectern_job_duration_seconds", "Time from a job's start to its end, by kind and outcome.");
    describe_counter!("lectern_ingested_pages_total", "Pages parsed by the ingestion pipeline.");
    describe_counter!("lectern_ingested_chunks_total", "Chunks indexed by the ingestion pipeline.");
    describe_histogram!("lectern_embed_batch_duration_seconds", "Time to embed one batch of texts.");
    describe_counter!("lectern_index_commits_total", "Durable commits of the full-text and vector indexes.");
    describe_counter!(
        "lectern_index_commit_writes_total",
        "Writes those commits answered (many per commit under load)."
    );
    describe_counter!("lectern_embedded_texts_total", "Texts embedded.");
    describe_histogram!("lectern_search_duration_seconds", "Knowledge-base search latency by mode.");
    describe_counter!("lectern_rerank_failures_total", "Reranker calls that failed (the search kept its fused order).");
    describe_counter!("lectern_llm_tokens_total", "Language-model tokens by model and kind (prompt, completion).");
    describe_histogram!("lectern_llm_request_duration_seconds", "Language-model call latency by model.");
    describe_counter!("lectern_credits_charged_micros_total", "Micro-credits charged for usage, by operation.");
    describe_counter!("lectern_webhook_deliveries_total", "Webhook delivery attempts by outcome.");
    describe_gauge!("lectern_webhook_deliveries_pending", "Webhook deliveries waiting to be sent.");
    describe_gauge!("lectern_db_pool_connections", "Database pool connections by state (open, idle).");
    describe_gauge!("lectern_uptime_seconds", "Seconds since the process started.");
}

/// The text exposition of every metric.
pub fn render() -> String {
    install()
        .map(|h| {
            h.run_upkeep();
            h.render()
        })
        .unwrap_or_default()
}

pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    let labels = [("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
    counter!("lectern_http_requests_total", &labels).increment(1);
    histogram!("lectern_http_request_duration_seconds", &labels).record(seconds);
}

pub fn job_finished(kind: &str, outcome: &'static str, seconds: f64) {
    histogram!("lectern_job_duration_seconds", "kind" => kind.to_owned(), "outcome" => outcome).record(seconds);
}

pub fn ingested(pages: u64, chunks: u64) {
    counter!("lectern_ingested_pages_total").increment(pages);
    counter!("lectern_ingested_chunks_total").increment(chunks);
}

pub fn embed_batch(texts: usize, seconds: f64) {
    histogram!("lectern_embed_batch_duration_seconds").record(seconds);
    counter!("lectern_embedded_texts_total").increment(texts as u64);
}

/// One commit of an index, answering `writes` writers (their ratio is the commits saved).
pub fn group_commit(index: &str, writes: usize) {
    counter!("lectern_index_commits_total", "index" => index.to_owned()).increment(1);
    counter!("lectern_index_commit_writes_total", "index" => index.to_owned()).increment(writes as u64);
}

pub fn search(mode: &str, seconds: f64) {
    histogram!("lectern_search_duration_seconds", "mode" => mode.to_owned()).record(seconds);
}

/// A reranker call that failed (the search went on in fused order).
pub fn rerank_failed() {
    counter!("lectern_rerank_failures_total").increment(1);
}

pub fn llm_call(model: &str, prompt_tokens: u64, completion_tokens: u64, seconds: f64) {
    counter!("lectern_llm_tokens_total", "model" => model.to_owned(), "kind" => "prompt").increment(prompt_tokens);
    counter!("lectern_llm_tokens_total", "model" => model.to_owned(), "kind" => "completion")
        .increment(completion_tokens);
    histogram!("lectern_llm_request_duration_seconds", "model" => model.to_owned()).record(seconds);
}

/// `micros` micro-credits charged for `operation` (1 credit = 1,000,000; counters are integers).
pub fn credits_charged(operation: &str, micros: i64) {
    if micros > 0 {
        counter!("lectern_credits_charged_micros_total", "operation" => operation.to_owned())
            .increment(micros.unsigned_abs());
    }
}

pub fn webhook_delivery(outcome: &'static str) {
    counter!("lectern_webhook_deliveries_total", "outcome" => outcome).increment(1);
}

pub fn set_gauge(name: &'static str, labels: &[(&'static str, String)], value: f64) {
    gauge!(name, labels).set(value);
}
