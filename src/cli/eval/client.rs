//! The evaluation's HTTP client: it uses the public API exactly as an integrator would.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{stream, StreamExt};
use serde_json::{json, Value};
use uuid::Uuid;

use super::beir::Dataset;
use crate::cli::retry::send_patiently;
use crate::services::search::{Mode, MAX_LIMIT};

const EMAIL: &str = "eval@lectern.invalid";
/// Uploads in flight at once.
const CONCURRENCY: usize = 8;

pub struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

/// What the ingestion left: the knowledge base and which document is which corpus id.
pub struct Ingested {
    kb: String,
    corpus_ids: HashMap<Uuid, String>,
    pub failed: usize,
    pub chunks: u64,
}

async fn body(response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let value: Value = response.json().await.context("the server's answer is not JSON")?;
    if !status.is_success() {
        bail!("the server answered {status}: {value}");
    }
    Ok(value)
}

impl Api {
    /// Waits for the server to be ready, creates the platform's first user and logs in.
    pub async fn connect(base: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?;
        for _ in 0..600 {
            if client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let password = format!("k-{}", Uuid::now_v7().simple());
        let setup =
            json!({"email": EMAIL, "name": "Evaluation", "password": password, "tenant": {"name": "Evaluation"}});
        body(client.post(format!("{base}/v1/auth/setup")).json(&setup).send().await?).await?;
        let login = json!({"email": EMAIL, "password": password});
        let session = body(client.post(format!("{base}/v1/auth/login")).json(&login).send().await?).await?;
        let token = session["accessToken"].as_str().context("no access token")?;
        // An API key: access tokens expire long before a big corpus is ingested.
        let key = client
            .post(format!("{base}/v1/api-keys"))
            .bearer_auth(token)
            .json(&json!({"name": "evaluation"}))
            .send()
            .await?;
        let key = body(key).await?;
        let token = key["secret"].as_str().context("no API key secret")?.to_owned();
        Ok(Self { client, base: base.to_owned(), token })
    }

    async fn post(&self, path: &str, payload: &Value) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        body(send_patiently(|| self.client.post(&url).bearer_auth(&self.token).json(payload)).await?).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        body(send_patiently(|| self.client.get(&url).bearer_auth(&self.token)).await?).await
    }

    /// Adds every corpus document as text and waits until the pipeline has processed them all.
    pub async fn ingest(&self, dataset: &Dataset) -> anyhow::Result<Ingested> {
        let kb = self.post("/v1/knowledge-bases", &json!({"name": format!("eval {}", dataset.name)})).await?;
        let kb = kb["id"].as_str().context("no knowledge base id")?.to_owned();
        let path = format!("/v1/knowledge-bases/{kb}/documents?allowDuplicate=true");
        let mut added = stream::iter(&dataset.corpus)
            .map(|doc| {
                let path = &path;
                async move {
                    // Documents are told apart by id, so the title can be the real one, which
                    // the lexical index attaches to every chunk.
                    let payload = json!({"title": doc.display_title(), "text": doc.content()});
                    let accepted = self.post(path, &payload).await?;
                    let id: Uuid = accepted["document"]["id"].as_str().context("no document id")?.parse()?;
                    anyhow::Ok((id, doc.id.clone()))
                }
            })
            .buffer_unordered(CONCURRENCY);
        let mut corpus_ids = HashMap::new();
        while let Some(result) = added.next().await {
            let (id, corpus_id) = result?;
            corpus_ids.insert(id, corpus_id);
            if corpus_ids.len() % 1000 == 0 {
                eprintln!("eval: uploaded {}/{} documents", corpus_ids.len(), dataset.corpus.len());
            }
        }
        let mut last = String::new();
        loop {
            let view = self.get(&format!("/v1/knowledge-bases/{kb}")).await?;
            let status = &view["status"];
            let (ready, failed) = (status["ready"].as_u64().unwrap_or(0), status["failed"].as_u64().unwrap_or(0));
            let pending = status["queued"].as_u64().unwrap_or(0) + status["processing"].as_u64().unwrap_or(0);
            let line = format!("eval: ingested {ready} ready, {failed} failed, {pending} pending");
            if line != last {
                eprintln!("{line}");
                last = line;
            }
            if pending == 0 {
                let failed = usize::try_from(failed).unwrap_or(usize::MAX);
                return Ok(Ingested { kb, corpus_ids, failed, chunks: view["chunks"].as_u64().unwrap_or(0) });
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// `/v1/embeddings`' rate on the ingested chunks' texts (up to 100 per document): the
    /// embedder's own speed, the ceiling of ingestion. Batches of 64, two in flight, as a client
    /// that wants throughput sends them. Returns the texts embedded and chunks per second.
    pub async fn embed_rate(&self, ingested: &Ingested, model: &str) -> anyhow::Result<(usize, f64)> {
        let mut texts: Vec<String> = Vec::new();
        for id in ingested.corpus_ids.keys() {
            let page =
                self.get(&format!("/v1/knowledge-bases/{}/documents/{id}/chunks?limit=100", ingested.kb)).await?;
            let chunks = page["data"].as_array().into_iter().flatten();
            texts.extend(chunks.filter_map(|c| c["text"].as_str().map(str::to_owned)));
        }
        let started = std::time::Instant::now();
        let mut calls = stream::iter(texts.chunks(64))
            .map(|batch| async move { self.post("/v1/embeddings", &json!({"model": model, "input": batch})).await })
            .buffer_unordered(2);
        while let Some(answer) = calls.next().await {
            answer?;
        }
        Ok((texts.len(), texts.len() as f64 / started.elapsed().as_secs_f64().max(1e-9)))
    }

    /// The corpus ids of the best documents for a query, best first, each once.
    pub async fn search(&self, ingested: &Ingested, query: &str, mode: Mode) -> anyhow::Result<Vec<String>> {
        let payload = json!({"query": query, "mode": mode, "limit": MAX_LIMIT});
        let found = self.post(&format!("/v1/knowledge-bases/{}/search", ingested.kb), &payload).await?;
        let mut ranked: Vec<String> = Vec::new();
        for hit in found["hits"].as_array().into_iter().flatten() {
            let Some(id) = hit["documentId"].as_str().and_then(|s| s.parse::<Uuid>().ok()) else { continue };
            if let Some(corpus_id) = ingested.corpus_ids.get(&id) {
                if !ranked.contains(corpus_id) {
                    ranked.push(corpus_id.clone());
                }
            }
        }
        Ok(ranked)
    }
}
