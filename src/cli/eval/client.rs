//! The evaluation's HTTP client: it uses the public API exactly as an integrator would.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{stream, StreamExt};
use serde_json::{json, Value};
use uuid::Uuid;

use super::beir::CorpusDoc;
use crate::cli::retry::send_patiently;
use crate::services::search::{Mode, MAX_LIMIT};

const EMAIL: &str = "eval@lectern.invalid";
/// Uploads in flight at once.
const CONCURRENCY: usize = 8;
/// Texts whose `/v1/embeddings` vectors are kept for comparison with other runtimes.
const SAMPLE: usize = 256;
/// Texts `/v1/embeddings`' rate is measured on: enough for a steady rate, without embedding a
/// large corpus a second time.
const RATE_SAMPLE: usize = 2048;
/// The search API's longest query; longer queries (ArguAna's are whole arguments) are cut, as
/// the embedding model cuts its input.
const MAX_QUERY_CHARS: usize = 4000;

/// `/v1/embeddings` on the ingested texts.
pub struct EmbedRate {
    pub per_second: f64,
    /// Every chunk text, in the order they were embedded.
    pub texts: Vec<String>,
    /// The vectors of the first texts.
    pub sample: Vec<Vec<f32>>,
}

pub struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

/// One document to ingest.
pub enum Upload<'a> {
    /// A BEIR corpus document, added as text.
    Text(&'a CorpusDoc),
    /// A file, uploaded as a user would; its id is its path.
    File(&'a std::path::Path),
}

impl Upload<'_> {
    fn id(&self) -> String {
        match self {
            Upload::Text(doc) => doc.id.clone(),
            Upload::File(path) => path.display().to_string(),
        }
    }
}

/// A chat answer as the QA evaluation reads it.
pub struct ChatAnswer {
    pub content: String,
    pub model: String,
    /// The corpus ids of the cited documents.
    pub cited: Vec<String>,
    /// Cited sentences the citation check verified, and those it did not.
    pub supported: usize,
    pub unsupported: usize,
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

    async fn upload(&self, path: &str, file: &std::path::Path) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.file_name().map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
        let send = || {
            let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone());
            self.client
                .post(&url)
                .bearer_auth(&self.token)
                .multipart(reqwest::multipart::Form::new().part("file", part))
        };
        body(send_patiently(send).await?).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        body(send_patiently(|| self.client.get(&url).bearer_auth(&self.token)).await?).await
    }

    /// Adds every document (corpus texts, or files as uploads) and waits until the pipeline
    /// has processed them all.
    pub async fn ingest(&self, name: &str, uploads: &[Upload<'_>]) -> anyhow::Result<Ingested> {
        let kb = self.post("/v1/knowledge-bases", &json!({"name": format!("eval {name}")})).await?;
        let kb = kb["id"].as_str().context("no knowledge base id")?.to_owned();
        let path = format!("/v1/knowledge-bases/{kb}/documents?allowDuplicate=true");
        let mut added = stream::iter(uploads)
            .map(|upload| {
                let path = &path;
                async move {
                    let accepted = match upload {
                        // Documents are told apart by id, so the title can be the real one,
                        // which the lexical index attaches to every chunk.
                        Upload::Text(doc) => {
                            self.post(path, &json!({"title": doc.display_title(), "text": doc.content()})).await?
                        }
                        Upload::File(file) => self.upload(path, file).await?,
                    };
                    let id: Uuid = accepted["document"]["id"].as_str().context("no document id")?.parse()?;
                    anyhow::Ok((id, upload.id()))
                }
            })
            .buffer_unordered(CONCURRENCY);
        let mut corpus_ids = HashMap::new();
        while let Some(result) = added.next().await {
            let (id, corpus_id) = result?;
            corpus_ids.insert(id, corpus_id);
            if corpus_ids.len() % 1000 == 0 {
                eprintln!("eval: uploaded {}/{} documents", corpus_ids.len(), uploads.len());
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

    /// `/v1/embeddings`' rate on the ingested chunks' texts (up to 100 per document; the rate
    /// on the first [`RATE_SAMPLE`]): the embedder's own speed, the ceiling of ingestion. Batches of 64, two in flight, as a client
    /// that wants throughput sends them. The vectors of the first [`SAMPLE`] texts are kept, so
    /// that other runtimes can be checked against them.
    pub async fn embed_rate(&self, ingested: &Ingested, model: &str) -> anyhow::Result<EmbedRate> {
        let mut texts: Vec<String> = Vec::new();
        for id in ingested.corpus_ids.keys() {
            let page =
                self.get(&format!("/v1/knowledge-bases/{}/documents/{id}/chunks?limit=100", ingested.kb)).await?;
            let chunks = page["data"].as_array().into_iter().flatten();
            texts.extend(chunks.filter_map(|c| c["text"].as_str().map(str::to_owned)));
        }
        let started = std::time::Instant::now();
        let timed = &texts[..texts.len().min(RATE_SAMPLE)];
        let mut calls = stream::iter(timed.chunks(64).enumerate())
            .map(|(n, batch)| async move {
                let answer = self.post("/v1/embeddings", &json!({"model": model, "input": batch})).await?;
                anyhow::Ok((n, answer))
            })
            .buffer_unordered(2);
        let mut sample: Vec<(usize, Vec<f32>)> = Vec::new();
        while let Some(answer) = calls.next().await {
            let (n, answer) = answer?;
            for (i, item) in answer["data"].as_array().into_iter().flatten().enumerate() {
                let index = n * 64 + i;
                if index < SAMPLE {
                    let vector = item["embedding"].as_array().into_iter().flatten();
                    sample.push((index, vector.filter_map(Value::as_f64).map(|x| x as f32).collect()));
                }
            }
        }
        let per_second = timed.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
        drop(calls);
        sample.sort_by_key(|(index, _)| *index);
        Ok(EmbedRate { per_second, sample: sample.into_iter().map(|(_, v)| v).collect(), texts })
    }

    /// Asks a question about the ingested knowledge base in a new conversation (one JSON
    /// answer, not a stream).
    pub async fn ask(&self, ingested: &Ingested, question: &str, model: Option<&str>) -> anyhow::Result<ChatAnswer> {
        let mut payload = json!({"message": question, "knowledgeBases": [ingested.kb], "stream": false});
        if let Some(model) = model {
            payload["model"] = json!(model);
        }
        let answer = self.post("/v1/chat", &payload).await?;
        let count = |key: &str| answer["verification"][key].as_u64().and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        let cited = answer["citations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["documentId"].as_str()?.parse::<Uuid>().ok())
            .filter_map(|id| ingested.corpus_ids.get(&id).cloned())
            .collect();
        Ok(ChatAnswer {
            content: answer["content"].as_str().unwrap_or_default().to_owned(),
            model: answer["model"].as_str().unwrap_or_default().to_owned(),
            cited,
            supported: count("supported"),
            unsupported: count("unsupported"),
        })
    }

    /// The corpus ids of a search's hits, best first; `fields` are added to the request.
    pub async fn search(
        &self,
        ingested: &Ingested,
        query: &str,
        mode: Mode,
        fields: &serde_json::Value,
    ) -> anyhow::Result<Vec<String>> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let mut payload = json!({"query": query, "mode": mode, "limit": MAX_LIMIT});
        if let (Some(payload), Some(fields)) = (payload.as_object_mut(), fields.as_object()) {
            payload.extend(fields.clone());
        }
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
