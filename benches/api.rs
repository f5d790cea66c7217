#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark that fails should stop loudly

//! HTTP throughput of the API's hot paths, measured against a baseline in the same run:
//! `cargo bench --bench api` (release build, in-process server on the embedded SQLite store).
//!
//! Baseline: `GET /v1/roles` (no database, no authentication). Each other path is reported as
//! requests/s, p50/p99 latency and its throughput as a fraction of the baseline, so the cost of
//! authentication (JWT or API key plus tenant resolution) and of a tenant-scoped list shows.

use std::time::{Duration, Instant};

use lectern::app::{AppOptions, Application};
use lectern::platform::settings::{Overrides, Settings};
use serde_json::{json, Value};

const CONNECTIONS: usize = 32;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);

struct Result {
    name: &'static str,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn hammer(client: &reqwest::Client, url: &str, token: Option<&str>, duration: Duration) -> (usize, Vec<f64>) {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, token) = (client.clone(), url.to_owned(), token.map(str::to_owned));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let mut request = client.get(&url);
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.expect("request");
                assert!(response.status().is_success(), "{url}: {}", response.status());
                response.bytes().await.expect("body");
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    (all.len(), all)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

async fn measure(client: &reqwest::Client, name: &'static str, url: &str, token: Option<&str>) -> Result {
    hammer(client, url, token, WARMUP).await;
    let (count, mut latencies) = hammer(client, url, token, MEASURE).await;
    latencies.sort_by(f64::total_cmp);
    Result {
        name,
        rps: count as f64 / MEASURE.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    }
}

/// Starts a server with `LECTERN_RATE_LIMITS=limits`; returns its base URL and how to stop it.
async fn start(
    dir: &std::path::Path,
    limits: &str,
) -> anyhow::Result<(String, actix_web::dev::ServerHandle, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let vars = [
        ("LECTERN_ADDR", "127.0.0.1:0".to_owned()),
        ("LECTERN_DATA_DIR", dir.display().to_string()),
        ("RUST_LOG", "warn".to_owned()),
        ("LECTERN_RATE_LIMITS", limits.to_owned()),
    ];
    let settings =
        Settings::from_vars(&vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), &Overrides::default())?;
    let app = Application::build_with(settings, AppOptions::default()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    while client.get(format!("{base}/health/ready")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((base, handle, server))
}

/// Limits every request is counted against but none is refused.
const COUNTED: &str = "global=1000000000/min,auth=1000000000/min";
const UNLIMITED: &str = "global=off,auth=off,llm=off,rag=off,search=off,ingest=off,public=off";

/// The bench user with 20 sites: its access token and an API key.
async fn prepare(client: &reqwest::Client, base: &str) -> anyhow::Result<(String, String)> {
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    post("/v1/auth/setup", None, json!({"email": "bench@example.com", "name": "Bench", "password": "quiet lantern harbor", "tenant": {"name": "Bench"}})).await?.error_for_status()?;
    let login: Value =
        post("/v1/auth/login", None, json!({"email": "bench@example.com", "password": "quiet lantern harbor"}))
            .await?
            .error_for_status()?
            .json()
            .await?;
    let token = login["accessToken"].as_str().unwrap_or_default().to_owned();
    for i in 0..20 {
        post("/v1/sites", Some(&token), json!({"name": format!("Site {i}")})).await?.error_for_status()?;
    }
    let key: Value =
        post("/v1/api-keys", Some(&token), json!({"name": "bench"})).await?.error_for_status()?.json().await?;
    Ok((token, key["secret"].as_str().unwrap_or_default().to_owned()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build()?;
    let counted_dir = tempfile::tempdir()?;
    let (base, handle, server) = start(counted_dir.path(), COUNTED).await?;
    let (token, key) = prepare(&client, &base).await?;
    let mut results = vec![
        measure(&client, "GET /v1/roles (baseline: no db, no auth)", &format!("{base}/v1/roles"), None).await,
        measure(&client, "GET /v1/auth/test (access token)", &format!("{base}/v1/auth/test"), Some(&token)).await,
        measure(&client, "GET /v1/auth/test (API key)", &format!("{base}/v1/auth/test"), Some(&key)).await,
        measure(&client, "GET /v1/sites (token, 20 sites)", &format!("{base}/v1/sites"), Some(&token)).await,
    ];
    handle.stop(true).await;
    server.await??;
    // The same requests on a server without rate limiting: what counting every request costs.
    let unlimited_dir = tempfile::tempdir()?;
    let (base, handle, server) = start(unlimited_dir.path(), UNLIMITED).await?;
    let (token, key) = prepare(&client, &base).await?;
    results.push(
        measure(&client, "GET /v1/auth/test (token, limits off)", &format!("{base}/v1/auth/test"), Some(&token)).await,
    );
    results.push(
        measure(&client, "GET /v1/auth/test (API key, limits off)", &format!("{base}/v1/auth/test"), Some(&key)).await,
    );
    let baseline = results[0].rps;
    println!(
        "{CONNECTIONS} connections, {} s per path, SQLite, {} HTTP workers; rate limits counted except where off",
        MEASURE.as_secs(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("{:<44} {:>10} {:>9} {:>9} {:>12}", "path", "req/s", "p50 ms", "p99 ms", "vs baseline");
    for r in &results {
        println!("{:<44} {:>10.0} {:>9.2} {:>9.2} {:>11.2}x", r.name, r.rps, r.p50_ms, r.p99_ms, r.rps / baseline);
    }
    handle.stop(true).await;
    server.await??;
    Ok(())
}
