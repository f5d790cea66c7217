//! Search latency on a large knowledge base and the gateway's streaming overhead:
//! `cargo bench --bench search` (LECTERN_BENCH_CHUNKS, default 100000; 0 = gateway only;
//! LECTERN_BENCH_QDRANT_URL: also on a Qdrant server, with the ratios to the in-process store).
//!
//! Search: a KB of N chunks (NFCorpus text, cycled; vectors from the real model for the first
//! 2000 passages, the rest those vectors with small noise, since embedding 100k chunks takes
//! ~40 min here) in SQLite, tantivy and qdrant-edge; then NFCorpus queries through the real
//! `search::retrieve` path, query embedding included, per mode, before and after the vector
//! index is optimized. Gateway: time to first token of a streamed chat completion through
//! Lectern against the same local upstream called directly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that fails should stop loudly

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use lectern::app::context::AppContext;
use lectern::app::engines::Engines;
use lectern::engines::lexical::ChunkText;
use lectern::engines::vectors::VectorPoint;
use lectern::platform::settings::{Overrides, Settings};
use lectern::services::search::{self, Mode, SearchRequest};
use migration::MigratorTrait;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

const REAL_VECTORS: usize = 2000;

fn nfcorpus() -> (Vec<String>, Vec<String>) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/beir/nfcorpus");
    let read = |file: &str, field: &str| -> Vec<String> {
        std::fs::read_to_string(format!("{root}/{file}"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()[field].as_str().unwrap().to_owned())
            .collect()
    };
    (read("corpus.jsonl", "text"), read("queries.jsonl", "text"))
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((p / 100.0 * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1]
}

/// Deterministic small noise, so the vectors are distinct but realistic.
fn jitter(v: &[f32], seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out: Vec<f32> = v
        .iter()
        .map(|x| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            x + ((state >> 33) as f32 / u32::MAX as f32 - 0.25) * 0.08
        })
        .collect();
    let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    out.iter_mut().for_each(|x| *x /= norm);
    out
}

async fn context(dir: &std::path::Path, extra: &[(&str, &str)]) -> Arc<AppContext> {
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    vars.insert("LECTERN_DATA_DIR".into(), dir.display().to_string());
    vars.remove("DATABASE_URL");
    vars.remove("QDRANT_URL");
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    let settings = Settings::from_vars(&vars, &Overrides::default()).unwrap();
    let db = lectern::engines::store::connect(&settings).await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    let jwt = lectern::services::identity::keys::load_jwt_keys(&settings).unwrap();
    let mailer = lectern::app::context::mailer_from(&settings).unwrap();
    let engines = Engines::open(&settings).await.unwrap();
    let ctx = AppContext::new(Arc::new(settings), db, jwt, mailer).unwrap();
    let _ = ctx.engines.set(engines);
    Arc::new(ctx)
}

async fn build_kb(ctx: &AppContext, chunks: usize, corpus: &[String]) -> (Uuid, Uuid) {
    let (tenant, kb) = (Uuid::now_v7(), Uuid::now_v7());
    let now = Utc::now();
    entity::tenant::ActiveModel {
        id: Set(tenant),
        name: Set("Bench".into()),
        slug: Set("bench".into()),
        status: Set("active".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    entity::knowledge_base::ActiveModel {
        id: Set(kb),
        tenant_id: Set(tenant),
        name: Set("Bench".into()),
        description: Set(String::new()),
        embedding_model: Set("all-minilm-l6-v2".into()),
        chunk_max_tokens: Set(200),
        chunk_overlap_tokens: Set(32),
        languages: Set(String::new()),
        visibility: Set("tenant".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    let engines = ctx.engines().unwrap();
    let embedder = engines.embedder().await.expect("run .ci/setup-model first");
    let t = Instant::now();
    let mut real = Vec::new();
    for batch in corpus[..REAL_VECTORS].chunks(32) {
        real.extend(embedder.embed(batch.to_vec()).await.unwrap());
    }
    println!("embedded {REAL_VECTORS} passages for real in {:.1} s", t.elapsed().as_secs_f64());
    let per_document = 100;
    let t = Instant::now();
    for start in (0..chunks).step_by(1000) {
        let end = (start + 1000).min(chunks);
        let (mut rows, mut texts, mut points) = (Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            let document = Uuid::from_u128(i as u128 / per_document as u128 + 1);
            if i % per_document == 0 {
                entity::document::ActiveModel {
                    id: Set(document),
                    tenant_id: Set(tenant),
                    kb_id: Set(kb),
                    title: Set(format!("Document {}", i / per_document)),
                    source_kind: Set("text".into()),
                    source_name: Set(None),
                    kind: Set(Some("text".into())),
                    bytes: Set(0),
                    sha256: Set(format!("{i:064}")),
                    status: Set(entity::document::DocumentStatus::Ready),
                    error: Set(None),
                    pages: Set(None),
                    chunk_count: Set(per_document as i32),
                    metadata: Set(serde_json::json!({})),
                    parse: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&ctx.db)
                .await
                .unwrap();
            }
            let id = Uuid::now_v7();
            let text = format!("{} (part {i})", corpus[i % corpus.len()]);
            rows.push(entity::chunk::ActiveModel {
                id: Set(id),
                tenant_id: Set(tenant),
                kb_id: Set(kb),
                document_id: Set(document),
                idx: Set((i % per_document) as i32),
                text: Set(text.clone()),
                pages: Set(serde_json::json!([])),
                headings: Set(serde_json::json!([])),
                start_char: Set(0),
                end_char: Set(text.len() as i32),
                tokens: Set(text.len() as i32 / 4),
                created_at: Set(now),
            });
            let context = format!("Document {}", i / per_document);
            texts.push(ChunkText { chunk_id: id, tenant_id: tenant, kb_id: kb, document_id: document, text, context });
            let vector = if i < REAL_VECTORS { real[i].clone() } else { jitter(&real[i % REAL_VECTORS], i as u64) };
            points.push(VectorPoint { chunk_id: id, tenant_id: tenant, kb_id: kb, document_id: document, vector });
        }
        for part in rows.chunks(500) {
            entity::chunk::Entity::insert_many(part.to_vec()).exec(&ctx.db).await.unwrap();
        }
        engines.lexical.add(texts).await.unwrap();
        engines.vectors.upsert(points).await.unwrap();
    }
    println!("wrote {chunks} chunks (rows, tantivy, qdrant-edge) in {:.1} s", t.elapsed().as_secs_f64());
    (tenant, kb)
}

async fn measure(ctx: &AppContext, tenant: Uuid, kb: Uuid, queries: &[String], mode: Mode) -> (f64, f64) {
    let mut samples = Vec::new();
    for q in queries {
        let request = SearchRequest { query: q.clone(), mode, limit: Some(10), ..Default::default() };
        let t = Instant::now();
        let hits = search::retrieve(ctx, tenant, &[kb], &request).await.unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!hits.is_empty() || mode == Mode::Lexical);
    }
    (percentile(&mut samples, 50.0), percentile(&mut samples, 99.0))
}

/// p50/p99 per mode on the optimized index (edge: after `optimize`; a server optimizes itself).
type Latencies = Vec<(Mode, (f64, f64))>;

async fn search_bench(chunks: usize, label: &str, extra: &[(&str, &str)]) -> Latencies {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), extra).await;
    let (corpus, queries) = nfcorpus();
    let (tenant, kb) = build_kb(&ctx, chunks, &corpus).await;
    let queries: Vec<String> = queries.into_iter().take(300).collect();
    // Warm the model and caches.
    measure(&ctx, tenant, kb, &queries[..20], Mode::Hybrid).await;
    let report = |stage: &str, rows: &Latencies| {
        let lexical = rows[0].1 .0;
        for (mode, (p50, p99)) in rows {
            println!(
                "{label:<12} {stage:<16} {:<9} p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  ({:.2}x lexical p50)",
                mode.as_str(),
                p50 / lexical
            );
        }
    };
    let mut before = Vec::new();
    for mode in Mode::ALL {
        before.push((mode, measure(&ctx, tenant, kb, &queries, mode).await));
    }
    report("plain segments", &before);
    let t = Instant::now();
    if ctx.engines().unwrap().vectors.optimize().await.unwrap() {
        println!("optimize (HNSW) of {chunks} vectors: {:.1} s", t.elapsed().as_secs_f64());
    } else {
        // A server builds its indexes in the background: give it time to finish.
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    let mut after = Vec::new();
    for mode in Mode::ALL {
        after.push((mode, measure(&ctx, tenant, kb, &queries, mode).await));
    }
    report("optimized", &after);
    drop(ctx);
    after
}

/// A minimal OpenAI-compatible upstream streaming 20 tokens at once.
async fn fake_upstream() -> String {
    use actix_web::{web, App, HttpResponse, HttpServer};
    async fn chat() -> HttpResponse {
        let mut body = String::new();
        for i in 0..20 {
            body.push_str(&format!(
                "data: {}\n\n",
                serde_json::json!({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [{"index": 0, "delta": {"content": format!("t{i} ")}, "finish_reason": null}]})
            ));
        }
        body.push_str("data: [DONE]\n\n");
        HttpResponse::Ok().content_type("text/event-stream").body(body)
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}/v1", listener.local_addr().unwrap().port());
    let server = HttpServer::new(|| App::new().route("/v1/chat/completions", web::post().to(chat)))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    tokio::spawn(server);
    base
}

async fn first_token(client: &reqwest::Client, url: &str, key: Option<&str>) -> f64 {
    use futures_util::StreamExt;
    let body = serde_json::json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let mut request = client.post(url).json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let t = Instant::now();
    let mut stream = request.send().await.unwrap().bytes_stream();
    let mut seen = String::new();
    while let Some(chunk) = stream.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if seen.contains("\"t0 \"") {
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            while stream.next().await.is_some() {}
            return ms;
        }
    }
    panic!("no first token in {seen}");
}

async fn gateway_bench() {
    let upstream = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    vars.extend([
        ("LECTERN_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("LECTERN_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("LLM_BASE_URL".to_owned(), upstream.clone()),
        ("LLM_MODELS".to_owned(), "m".to_owned()),
        ("RUST_LOG".to_owned(), "warn".to_owned()),
        ("LECTERN_RATE_LIMITS".to_owned(), "global=off,llm=off".to_owned()),
    ]);
    vars.remove("DATABASE_URL");
    let settings = Settings::from_vars(&vars, &Overrides::default()).unwrap();
    let app = lectern::app::Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let setup = serde_json::json!({"email": "bench@example.com", "name": "Bench", "password": "correct horse battery staple", "tenant": {"name": "Bench"}});
    client.post(format!("{base}/v1/auth/setup")).json(&setup).send().await.unwrap();
    let login = serde_json::json!({"email": "bench@example.com", "password": "correct horse battery staple"});
    let session: serde_json::Value =
        client.post(format!("{base}/v1/auth/login")).json(&login).send().await.unwrap().json().await.unwrap();
    let token = session["accessToken"].as_str().unwrap().to_owned();
    let key: serde_json::Value = client
        .post(format!("{base}/v1/api-keys"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["secret"].as_str().unwrap().to_owned();
    let (mut direct, mut through) = (Vec::new(), Vec::new());
    for i in 0..220 {
        let d = first_token(&client, &format!("{upstream}/chat/completions"), None).await;
        let l = first_token(&client, &format!("{base}/v1/chat/completions"), Some(&key)).await;
        if i >= 20 {
            direct.push(d);
            through.push(l);
        }
    }
    let (d50, d99) = (percentile(&mut direct, 50.0), percentile(&mut direct, 99.0));
    let (l50, l99) = (percentile(&mut through, 50.0), percentile(&mut through, 99.0));
    println!("time to first token, direct to the upstream: p50 {d50:.2} ms  p99 {d99:.2} ms");
    println!(
        "time to first token, through Lectern:       p50 {l50:.2} ms  p99 {l99:.2} ms  (overhead p50 {:.2} ms, {:.2}x direct)",
        l50 - d50,
        l50 / d50
    );
}

#[tokio::main]
async fn main() {
    let chunks: usize = std::env::var("LECTERN_BENCH_CHUNKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    gateway_bench().await;
    if chunks == 0 {
        return;
    }
    let edge = search_bench(chunks, "qdrant-edge", &[]).await;
    // The same knowledge base on a Qdrant server (vectors and BM25 sparse vectors), when one is
    // given: `.ci/qdrant-serve DIR` starts one.
    let Ok(url) = std::env::var("LECTERN_BENCH_QDRANT_URL") else { return };
    let collection = format!("bench_{}", Uuid::now_v7().simple());
    let server = search_bench(chunks, "qdrant", &[("QDRANT_URL", &url), ("QDRANT_COLLECTION", &collection)]).await;
    for ((mode, (e50, e99)), (_, (s50, s99))) in edge.iter().zip(&server) {
        println!("server vs in-process, {:<9} p50 {:.2}x  p99 {:.2}x", mode.as_str(), s50 / e50, s99 / e99);
    }
}
