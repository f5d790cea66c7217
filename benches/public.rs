#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark that fails should stop loudly

//! Public delivery and public search, measured against a baseline in the same run:
//! `cargo bench --bench public` (release build, in-process server on the embedded SQLite store).
//!
//! Delivery: one published post fetched by type and slug at 64 connections, from the cache, and
//! with a distinct query string per request (every request a cache miss: the database path);
//! baseline `GET /v1/roles` (no database, no authentication). Uses `wrk` when it is on PATH
//! (Debian package `wrk`), else an in-process client (which shares the CPU with the server).
//!
//! Search: LECTERN_BENCH_ENTRIES (default 100000) published entries (NFCorpus text, cycled)
//! in the site index; every NFCorpus query through `GET /public/v1/sites/{site}/search` one at a
//! time, as typed, with a typo, and cut short (search-as-you-type), p50/p99.

use std::process::Command;
use std::time::{Duration, Instant};

use lectern::app::{AppOptions, Application};
use lectern::platform::settings::{Overrides, Settings};
use lectern::services::content::site_index::IndexedEntry;
use serde_json::{json, Value};
use uuid::Uuid;

const CONNECTIONS: usize = 64;
const MEASURE: Duration = Duration::from_secs(5);

struct Row {
    name: String,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

/// `wrk` at 64 connections; `unique` adds a fresh query parameter to every request.
fn wrk(name: &str, url: &str, unique: bool) -> Option<Row> {
    Command::new("wrk").arg("--version").output().ok()?;
    let script = std::env::temp_dir().join(format!("lectern-bench-{}.lua", std::process::id()));
    std::fs::write(&script, "local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, wrk.path .. \"?v=\" .. n .. \"-\" .. math.random(1e9))\nend\n").ok()?;
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{}s", MEASURE.as_secs()), "--latency"]);
    if unique {
        cmd.arg("-s").arg(&script);
    }
    let out = String::from_utf8(cmd.arg(url).output().ok()?.stdout).ok()?;
    let number = |line: &str| -> f64 {
        let v = line.split_whitespace().last().unwrap_or_default();
        let (digits, unit): (String, String) = v.chars().partition(|c| c.is_ascii_digit() || *c == '.');
        let n: f64 = digits.parse().unwrap_or(f64::NAN);
        match unit.as_str() {
            "us" => n / 1000.0,
            "s" => n * 1000.0,
            _ => n,
        }
    };
    let find = |prefix: &str| out.lines().find(|l| l.trim_start().starts_with(prefix)).map(number);
    Some(Row { name: name.to_owned(), rps: find("Requests/sec:")?, p50_ms: find("50%")?, p99_ms: find("99%")? })
}

/// The in-process fallback: CONNECTIONS tasks in a loop.
async fn hammer(client: &reqwest::Client, name: &str, url: &str, unique: bool) -> Row {
    let deadline = Instant::now() + MEASURE;
    let mut tasks = Vec::new();
    for t in 0..CONNECTIONS {
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let target = if unique { format!("{url}?v={t}-{n}") } else { url.clone() };
                let started = Instant::now();
                let response = client.get(&target).send().await.expect("request");
                assert!(response.status().is_success(), "{target}: {}", response.status());
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
    Row {
        name: name.to_owned(),
        rps: all.len() as f64 / MEASURE.as_secs_f64(),
        p50_ms: percentile(&all, 0.5),
        p99_ms: percentile(&all, 0.99),
    }
}

fn nfcorpus(file: &str, field: &str) -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/beir/nfcorpus");
    std::fs::read_to_string(format!("{root}/{file}"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()[field].as_str().unwrap().to_owned())
        .collect()
}

/// The query with its longest word's middle letters swapped (one typo).
fn with_typo(query: &str) -> String {
    let longest = query.split_whitespace().max_by_key(|w| w.len()).unwrap_or_default().to_owned();
    let mut chars: Vec<char> = longest.chars().collect();
    if chars.len() >= 5 {
        let mid = chars.len() / 2;
        chars.swap(mid, mid + 1);
    }
    query.replacen(&longest, &chars.into_iter().collect::<String>(), 1)
}

/// The query as typed so far: the last word cut to its first three letters.
fn typing(query: &str) -> String {
    let mut words: Vec<&str> = query.split_whitespace().collect();
    let last = words.pop().unwrap_or_default();
    let cut: String = last.chars().take(3).collect();
    format!("{} {cut}", words.join(" ")).trim().to_owned()
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // The runtime (and the server's tasks holding the stores) goes before the data dir does.
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(run(&dir));
    drop(runtime);
    drop(dir);
    result
}

async fn run(dir: &tempfile::TempDir) -> anyhow::Result<()> {
    let entries: usize = std::env::var("LECTERN_BENCH_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let vars = [
        ("LECTERN_ADDR", "127.0.0.1:0".to_owned()),
        ("LECTERN_DATA_DIR", dir.path().display().to_string()),
        // Throughput, not the limiter: every class unlimited.
        ("LECTERN_RATE_LIMITS", "global=off,auth=off,llm=off,rag=off,search=off,ingest=off,public=off".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let settings =
        Settings::from_vars(&vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), &Overrides::default())?;
    let app = Application::build_with(settings, AppOptions::default()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let (handle, ctx) = (app.handle(), app.context());
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
    let token = login["accessToken"].as_str().unwrap_or_default().to_owned();
    let site: Value =
        post("/v1/sites", Some(&token), json!({"name": "Bench site"})).await?.error_for_status()?.json().await?;
    let site = site["id"].as_str().unwrap().to_owned();
    let corpus = nfcorpus("corpus.jsonl", "text");
    let body = corpus[..3].join("\n\n");
    let entry: Value = post(
        &format!("/v1/sites/{site}/entries"),
        Some(&token),
        json!({"type": "post", "title": "Benchmark post", "tags": ["bench"], "data": {"body": body, "excerpt": "A post."}}),
    )
    .await?
    .error_for_status()?
    .json()
    .await?;
    post(&format!("/v1/sites/{site}/entries/{}/publish", entry["id"].as_str().unwrap()), Some(&token), json!({}))
        .await?
        .error_for_status()?;

    let roles = format!("{base}/v1/roles");
    let public = format!("{base}/public/v1/sites/{site}/entries/post/benchmark-post");
    let tool = if wrk("probe", &roles, false).is_some() { "wrk -t2 -c64" } else { "in-process client, 64 tasks" };
    let mut rows = Vec::new();
    for (name, url, unique) in [
        ("GET /v1/roles (baseline: no db, no auth)", &roles, false),
        ("GET public entry (cached)", &public, false),
        ("GET public entry (cache miss: db + render)", &public, true),
    ] {
        let row = match wrk(name, url, unique) {
            Some(row) => row,
            None => hammer(&client, name, url, unique).await,
        };
        rows.push(row);
    }
    println!(
        "Delivery: {tool}, {} s per path, SQLite, {} cores",
        MEASURE.as_secs(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("{:<46} {:>10} {:>9} {:>9} {:>12}", "path", "req/s", "p50 ms", "p99 ms", "vs baseline");
    let baseline = rows[0].rps;
    for r in &rows {
        println!("{:<46} {:>10.0} {:>9.2} {:>9.2} {:>11.2}x", r.name, r.rps, r.p50_ms, r.p99_ms, r.rps / baseline);
    }

    if entries > 0 {
        let site_id: Uuid = site.parse()?;
        let started = Instant::now();
        let index = ctx.engines().expect("engines").site_index.clone();
        let tenant = Uuid::now_v7();
        let tags = ["nutrition", "health", "research", "diet", "cancer", "heart"];
        for batch in (0..entries).collect::<Vec<_>>().chunks(10_000) {
            let docs: Vec<IndexedEntry> = batch
                .iter()
                .map(|&i| {
                    let text = &corpus[i % corpus.len()];
                    let title: String = text.split_whitespace().take(8).collect::<Vec<_>>().join(" ");
                    IndexedEntry {
                        entry_id: Uuid::now_v7(),
                        tenant_id: tenant,
                        site_id,
                        group: Uuid::now_v7(),
                        locales: vec!["en".to_owned()],
                        locale: "en".to_owned(),
                        kind: if i % 5 == 0 { "page" } else { "post" }.to_owned(),
                        slug: format!("entry-{i}"),
                        title,
                        body: text.clone(),
                        tags: vec![tags[i % tags.len()].to_owned()],
                        published_at: String::new(),
                    }
                })
                .collect();
            index.add(&docs)?;
        }
        index.commit()?;
        println!("\nSearch: {entries} entries indexed in {:.1} s", started.elapsed().as_secs_f64());
        let queries = nfcorpus("queries.jsonl", "text");
        println!("{:<28} {:>8} {:>9} {:>9} {:>10}", "queries", "count", "p50 ms", "p99 ms", "found");
        for (name, shape) in [
            ("as typed", (|q: &str| q.to_owned()) as fn(&str) -> String),
            ("one typo", with_typo),
            ("typing (last word cut)", typing),
        ] {
            let mut latencies = Vec::new();
            let mut hits = 0u64;
            for q in &queries {
                let url = reqwest::Url::parse_with_params(
                    &format!("{base}/public/v1/sites/{site}/search"),
                    &[("q", shape(q).as_str()), ("limit", "10")],
                )?;
                let started = Instant::now();
                let response: Value = client.get(url).send().await?.error_for_status()?.json().await?;
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                hits += response["total"].as_u64().unwrap_or(0).min(1);
            }
            latencies.sort_by(f64::total_cmp);
            println!(
                "{:<28} {:>8} {:>9.2} {:>9.2} {:>10.2}",
                name,
                queries.len(),
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99),
                hits as f64 / queries.len() as f64
            );
        }
    }
    handle.stop(true).await;
    server.await??;
    Ok(())
}
