#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark that fails should stop loudly

//! What metering costs: `cargo bench --bench billing` (release, in-process server, SQLite).
//!
//! The same search (an empty knowledge base, so the search itself is cheap and the ledger
//! dominates) with an access token: charged (a ledger row, the wallet update and an audit row
//! in one transaction), and with a test key (metered: the row is written, nothing charged).
//! Baseline: `GET /v1/knowledge-bases/{id}` (authentication and one read, no ledger).

use std::time::{Duration, Instant};

use lectern::app::{AppOptions, Application};
use lectern::platform::settings::{Overrides, Settings};
use serde_json::{json, Value};

const CONNECTIONS: usize = 32;
const MEASURE: Duration = Duration::from_secs(5);

async fn hammer(client: &reqwest::Client, url: &str, token: &str, body: Option<Value>) -> (f64, f64, f64) {
    let deadline = Instant::now() + MEASURE;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, token, body) = (client.clone(), url.to_owned(), token.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let request = match &body {
                    Some(b) => client.post(&url).json(b),
                    None => client.get(&url),
                };
                let response = request.bearer_auth(&token).send().await.expect("request");
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
    all.sort_by(f64::total_cmp);
    let at = |p: f64| all[((all.len() as f64 - 1.0) * p).round() as usize];
    (all.len() as f64 / MEASURE.as_secs_f64(), at(0.5), at(0.99))
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(run(&dir));
    drop(runtime);
    drop(dir);
    result
}

async fn run(dir: &tempfile::TempDir) -> anyhow::Result<()> {
    let vars = [
        ("LECTERN_ADDR", "127.0.0.1:0".to_owned()),
        ("LECTERN_DATA_DIR", dir.path().display().to_string()),
        // Throughput, not the limiter: every class unlimited.
        ("LECTERN_RATE_LIMITS", "global=off,auth=off,llm=off,rag=off,search=off,ingest=off,public=off".to_owned()),
        ("LECTERN_STARTER_CREDITS", "1000000".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let settings =
        Settings::from_vars(&vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), &Overrides::default())?;
    let app = Application::build_with(settings, AppOptions::default()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build()?;
    while client.get(format!("{base}/health/ready")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    let token = login["accessToken"].as_str().unwrap().to_owned();
    let kb: Value =
        post("/v1/knowledge-bases", Some(&token), json!({"name": "Empty"})).await?.error_for_status()?.json().await?;
    let kb = kb["id"].as_str().unwrap().to_owned();
    let key: Value = post("/v1/api-keys", Some(&token), json!({"name": "sandbox", "mode": "test"}))
        .await?
        .error_for_status()?
        .json()
        .await?;
    let key = key["secret"].as_str().unwrap().to_owned();
    let search = format!("{base}/v1/knowledge-bases/{kb}/search");
    let body = Some(json!({"query": "ledger", "mode": "lexical"}));
    let rows = [
        (
            "GET knowledge base (baseline: auth + read)",
            hammer(&client, &format!("{base}/v1/knowledge-bases/{kb}"), &token, None).await,
        ),
        ("POST search, charged", hammer(&client, &search, &token, body.clone()).await),
        ("POST search, test key (metered, not charged)", hammer(&client, &search, &key, body).await),
    ];
    println!("{CONNECTIONS} connections, {} s per path, SQLite", MEASURE.as_secs());
    println!("{:<48} {:>9} {:>9} {:>9} {:>12}", "path", "req/s", "p50 ms", "p99 ms", "vs baseline");
    for (name, (rps, p50, p99)) in &rows {
        println!("{name:<48} {rps:>9.0} {p50:>9.2} {p99:>9.2} {:>11.2}x", rps / rows[0].1 .0);
    }
    let balance: Value =
        client.get(format!("{base}/v1/billing/balance")).bearer_auth(&token).send().await?.json().await?;
    println!("balance after: {} (started at 1000000)", balance["balance"]);
    handle.stop(true).await;
    server.await??;
    Ok(())
}
