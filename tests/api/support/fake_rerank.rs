//! A local `/rerank` upstream for tests, speaking Cohere's and Jina's wire format
//! (`{model, query, documents, top_n}` → `{results: [{index, relevance_score}]}`) on `/v1/rerank`
//! and Text Embeddings Inference's (`{query, texts}` → `[{index, score}]`) on `/rerank`. Its
//! "model" scores a passage by how many times it contains the query's longest word, so a test
//! can pick the winner; `/broken/rerank` answers 500.

use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

pub const KEY: &str = "rerank-key";

pub struct FakeRerank {
    pub base: String,
    /// Every request body received.
    pub requests: Arc<Mutex<Vec<Value>>>,
    _handle: ServerHandle,
}

fn score(query: &str, passage: &str) -> f64 {
    let word = query.split_whitespace().max_by_key(|w| w.len()).unwrap_or_default().to_lowercase();
    if word.is_empty() {
        return 0.0;
    }
    passage.to_lowercase().matches(&word).count() as f64
}

fn scored(query: &str, passages: &[Value]) -> Vec<(usize, f64)> {
    passages.iter().enumerate().map(|(i, p)| (i, score(query, p.as_str().unwrap_or_default()))).collect()
}

async fn cohere(req: HttpRequest, body: web::Json<Value>, seen: web::Data<Arc<Mutex<Vec<Value>>>>) -> HttpResponse {
    seen.lock().unwrap().push(body.0.clone());
    if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        return HttpResponse::Unauthorized().json(json!({"message": "invalid api token"}));
    }
    let (Some(query), Some(documents)) = (body["query"].as_str(), body["documents"].as_array()) else {
        return HttpResponse::BadRequest().json(json!({"message": "query and documents are required"}));
    };
    let mut results = scored(query, documents);
    results.sort_by(|a, b| b.1.total_cmp(&a.1));
    results.truncate(body["top_n"].as_u64().map_or(usize::MAX, |n| n as usize));
    let results: Vec<Value> = results.iter().map(|(i, s)| json!({"index": i, "relevance_score": s})).collect();
    HttpResponse::Ok().json(json!({"id": "fake", "results": results, "meta": {"billed_units": {"search_units": 1}}}))
}

async fn tei(body: web::Json<Value>, seen: web::Data<Arc<Mutex<Vec<Value>>>>) -> HttpResponse {
    seen.lock().unwrap().push(body.0.clone());
    let (Some(query), Some(texts)) = (body["query"].as_str(), body["texts"].as_array()) else {
        return HttpResponse::UnprocessableEntity().json(json!({"error": "query and texts are required"}));
    };
    let results: Vec<Value> = scored(query, texts).iter().map(|(i, s)| json!({"index": i, "score": s})).collect();
    HttpResponse::Ok().json(results)
}

async fn broken() -> HttpResponse {
    HttpResponse::InternalServerError().json(json!({"message": "model crashed"}))
}

impl FakeRerank {
    pub async fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let data = web::Data::new(requests.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v1/rerank", web::post().to(cohere))
                .route("/rerank", web::post().to(tei))
                .route("/broken/rerank", web::post().to(broken))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { base, requests, _handle: handle }
    }
}
