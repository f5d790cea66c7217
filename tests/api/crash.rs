//! SIGKILL in the middle of ingesting a batch, then a restart: every document ends ready or
//! failed with a reason, no chunk is duplicated, and both indexes hold exactly the chunk rows.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::support::app::fresh_database_url;
use crate::support::eventually;

use crate::support::process::{serve, Server};

fn start(dir: &Path, database_url: &str) -> Server {
    start_with_workers(dir, database_url, 1)
}

fn start_with_workers(dir: &Path, database_url: &str, workers: usize) -> Server {
    start_with(dir, database_url, workers, 2)
}

fn start_with(dir: &Path, database_url: &str, workers: usize, lease_secs: u32) -> Server {
    let (workers, lease_secs) = (workers.to_string(), lease_secs.to_string());
    serve(
        dir,
        &[("DATABASE_URL", database_url), ("LECTERN_JOB_LEASE_SECS", &lease_secs), ("LECTERN_WORKERS", &workers)],
    )
}

pub async fn ready(client: &reqwest::Client, base: &str) {
    eventually("the server to be ready", Duration::from_secs(10), || async {
        client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == 200).then_some(())
    })
    .await;
}

pub async fn get(client: &reqwest::Client, url: String, token: &str) -> Value {
    client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// Sets the platform up over HTTP; returns the owner's token and a new knowledge base's id.
pub async fn owner_with_kb(client: &reqwest::Client, base: &str) -> (String, String) {
    let setup = json!({"email": "ops@example.com", "name": "Ops", "password": "quiet lantern harbor", "tenant": {"name": "Ops"}});
    client.post(format!("{base}/v1/auth/setup")).json(&setup).send().await.unwrap();
    let login: Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": "ops@example.com", "password": "quiet lantern harbor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["accessToken"].as_str().unwrap().to_owned();
    let kb: Value = client
        .post(format!("{base}/v1/knowledge-bases"))
        .bearer_auth(&token)
        .json(&json!({"name": "Batch"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (token, kb["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_killed_server_finishes_every_document_on_restart_without_duplicates_or_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let database_url =
        fresh_database_url().await.unwrap_or_else(|| format!("sqlite://{}/lectern.db?mode=rwc", dir.path().display()));
    let client = reqwest::Client::new();
    let first = start(dir.path(), &database_url);
    ready(&client, &first.base).await;

    let (token, kb) = owner_with_kb(&client, &first.base).await;

    let mut form = Form::new();
    for name in [
        "sf__GeoTopo-komprimiert.pdf",
        "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf",
        "sf__pdflatex-4-pages.pdf",
        "sf__multicolumn.pdf",
        "pypdf__crazyones.pdf",
        "sf__mistitled_outlines_example.pdf",
    ] {
        let bytes = std::fs::read(format!("{}/../shared/data/pdfs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        form = form.part("file", Part::bytes(bytes).file_name(name.to_owned()));
    }
    let uploaded: Value = client
        .post(format!("{}/v1/knowledge-bases/{kb}/documents", first.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(uploaded["accepted"].as_array().unwrap().len(), 6, "{uploaded}");

    // Kill it while a document is being embedded.
    let mut killed_mid_embedding = false;
    for _ in 0..600 {
        let running = get(&client, format!("{}/v1/jobs?status=running", first.base), &token).await;
        if running["data"]
            .as_array()
            .is_some_and(|jobs| jobs.iter().any(|j| j["stage"] == "embedding" && j["done"].as_i64() > Some(0)))
        {
            killed_mid_embedding = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(killed_mid_embedding, "caught a job mid-embedding");
    let mut first = first;
    Command::new("kill").args(["-KILL", &first.child.id().to_string()]).status().unwrap();
    first.child.wait().unwrap();

    let second = start(dir.path(), &database_url);
    ready(&client, &second.base).await;
    let total_chunks = settle_and_check_rows(&client, &second.base, &token, &kb).await;
    assert!(total_chunks > 100, "{total_chunks} chunks");
    stop(second);
    assert_indexes_hold(dir.path(), total_chunks).await;
}

/// Many short documents in flight at once share embedding calls and index commits: a kill in
/// the middle still leaves every document ready exactly once, after the restart.
#[tokio::test]
async fn a_killed_server_with_many_small_documents_in_flight_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database_url =
        fresh_database_url().await.unwrap_or_else(|| format!("sqlite://{}/lectern.db?mode=rwc", dir.path().display()));
    let client = reqwest::Client::new();
    let first = start_with_workers(dir.path(), &database_url, 6);
    ready(&client, &first.base).await;
    let (token, kb) = owner_with_kb(&client, &first.base).await;
    let corpus =
        std::fs::read_to_string(format!("{}/../shared/data/beir/nfcorpus/corpus.jsonl", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let documents: Vec<Value> = corpus.lines().take(120).map(|line| serde_json::from_str(line).unwrap()).collect();
    for doc in &documents {
        let payload = json!({"title": doc["title"], "text": doc["text"]});
        let added = client
            .post(format!("{}/v1/knowledge-bases/{kb}/documents?allowDuplicate=true", first.base))
            .bearer_auth(&token)
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 202);
    }

    // Kill it once some documents are done and many are still queued or in progress.
    let mut killed_midway = false;
    for _ in 0..1200 {
        let view = get(&client, format!("{}/v1/knowledge-bases/{kb}", first.base), &token).await;
        let pending = view["status"]["queued"].as_u64().unwrap() + view["status"]["processing"].as_u64().unwrap();
        if view["status"]["ready"].as_u64().unwrap() > 0 && pending >= 20 {
            killed_midway = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(killed_midway, "caught the batch midway");
    let mut first = first;
    Command::new("kill").args(["-KILL", &first.child.id().to_string()]).status().unwrap();
    first.child.wait().unwrap();

    let second = start_with_workers(dir.path(), &database_url, 6);
    ready(&client, &second.base).await;
    let total_chunks = settle_and_check_rows(&client, &second.base, &token, &kb).await;
    let view = get(&client, format!("{}/v1/knowledge-bases/{kb}", second.base), &token).await;
    assert_eq!(view["status"]["ready"].as_u64(), Some(documents.len() as u64), "every short document ends ready");
    stop(second);
    assert_indexes_hold(dir.path(), total_chunks).await;
}

/// 64 documents in flight on a 5-second lease: a document's embedding request waits behind the
/// others' texts longer than the lease, yet its worker keeps the job (the lease is renewed while
/// it waits), so every job runs exactly once. (5 s, not the 2 s of the crash tests: renewals
/// must get through on a machine also running the rest of the suite.)
#[tokio::test]
async fn jobs_waiting_for_the_shared_embedder_keep_their_lease() {
    let dir = tempfile::tempdir().unwrap();
    let database_url =
        fresh_database_url().await.unwrap_or_else(|| format!("sqlite://{}/lectern.db?mode=rwc", dir.path().display()));
    let client = reqwest::Client::new();
    let server = start_with(dir.path(), &database_url, 64, 5);
    ready(&client, &server.base).await;
    let (token, kb) = owner_with_kb(&client, &server.base).await;
    let corpus =
        std::fs::read_to_string(format!("{}/../shared/data/beir/nfcorpus/corpus.jsonl", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let documents: Vec<Value> = corpus.lines().skip(500).take(150).map(|l| serde_json::from_str(l).unwrap()).collect();
    for doc in &documents {
        let payload = json!({"title": doc["title"], "text": doc["text"]});
        let url = format!("{}/v1/knowledge-bases/{kb}/documents?allowDuplicate=true", server.base);
        assert_eq!(client.post(url).bearer_auth(&token).json(&payload).send().await.unwrap().status(), 202);
    }
    let total_chunks = settle_and_check_rows(&client, &server.base, &token, &kb).await;
    let mut jobs = Vec::new();
    for page in 1..=2 {
        let listed = get(&client, format!("{}/v1/jobs?limit=100&page={page}", server.base), &token).await;
        jobs.extend(listed["data"].as_array().unwrap().iter().filter(|j| j["kind"] == "ingest_document").cloned());
    }
    assert_eq!(jobs.len(), documents.len());
    let view = get(&client, format!("{}/v1/knowledge-bases/{kb}", server.base), &token).await;
    let failed: Vec<&Value> = jobs.iter().filter(|j| j["status"] != "succeeded").collect();
    assert_eq!(view["status"]["ready"].as_u64(), Some(documents.len() as u64), "failed jobs: {failed:?}");
    let retried: Vec<&Value> = jobs.iter().filter(|j| j["attempts"] != 1 || j["status"] != "succeeded").collect();
    assert!(retried.is_empty(), "{} jobs were taken over or failed: {:?}", retried.len(), retried.first());
    stop(server);
    assert_indexes_hold(dir.path(), total_chunks).await;
}

/// Waits until no document of `kb` is pending, checks that every one is ready (or failed with a
/// reason) with exactly its chunk rows, and returns the number of chunks.
pub async fn settle_and_check_rows(client: &reqwest::Client, base: &str, token: &str, kb: &str) -> u64 {
    // A job whose attempt failed while the process died backs off before its next try (5 s,
    // 25 s, 125 s): give the restart the time of the whole retry schedule.
    let mut settled = false;
    for _ in 0..4000 {
        let pending = get(client, format!("{base}/v1/knowledge-bases/{kb}"), token).await;
        if pending["status"]["queued"] == 0 && pending["status"]["processing"] == 0 {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(settled, "every document settles after the restart");

    let mut total_chunks = 0;
    for page in 1.. {
        let documents =
            get(client, format!("{base}/v1/knowledge-bases/{kb}/documents?limit=100&page={page}"), token).await;
        let listed = documents["data"].as_array().unwrap();
        if listed.is_empty() {
            break;
        }
        for doc in listed {
            let status = doc["status"].as_str().unwrap();
            assert!(status == "ready" || (status == "failed" && doc["error"].is_string()), "{doc}");
            if status != "ready" {
                continue;
            }
            let id = doc["id"].as_str().unwrap();
            let chunks =
                get(client, format!("{base}/v1/knowledge-bases/{kb}/documents/{id}/chunks?limit=100"), token).await;
            let count = doc["chunkCount"].as_u64().unwrap();
            assert_eq!(chunks["pagination"]["total"].as_u64(), Some(count), "no duplicated chunk rows: {doc}");
            let first_page: Vec<u64> =
                chunks["data"].as_array().unwrap().iter().map(|c| c["index"].as_u64().unwrap()).collect();
            assert_eq!(first_page, (0..first_page.len() as u64).collect::<Vec<_>>());
            total_chunks += count;
        }
    }
    total_chunks
}

/// Both derived indexes hold exactly the chunk rows: nothing orphaned, nothing missing.
async fn assert_indexes_hold(dir: &Path, total_chunks: u64) {
    let fulltext = lectern::engines::fulltext::FulltextIndex::open(&dir.join("search")).unwrap();
    assert_eq!(fulltext.count(None).unwrap(), total_chunks, "tantivy");
    let vectors = lectern::engines::vectors::EdgeStore::open(&dir.join("vectors/chunks"), 384).unwrap();
    use lectern::engines::vectors::VectorStore;
    assert_eq!(vectors.count(None).await.unwrap(), total_chunks, "qdrant-edge");
}

fn lectern_command(dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lectern"));
    command.env_clear();
    for key in ["PATH", "HOME", "LECTERN_MODELS_DIR", "ORT_DYLIB_PATH"] {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    command.env("DATABASE_URL", database_url).arg("--data-dir").arg(dir);
    command
}

fn stop(mut server: Server) {
    Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test]
async fn lost_indexes_are_rebuilt_by_the_cli_and_repaired_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let database_url =
        fresh_database_url().await.unwrap_or_else(|| format!("sqlite://{}/lectern.db?mode=rwc", dir.path().display()));
    let client = reqwest::Client::new();
    let server = start(dir.path(), &database_url);
    ready(&client, &server.base).await;
    let (token, kb) = owner_with_kb(&client, &server.base).await;
    let pdf =
        std::fs::read(format!("{}/../shared/data/pdfs/sf__pdflatex-4-pages.pdf", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let form = Form::new().part("file", Part::bytes(pdf).file_name("four.pdf"));
    let added: Value = client
        .post(format!("{}/v1/knowledge-bases/{kb}/documents", server.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = added["job"]["id"].as_str().unwrap().to_owned();
    eventually("the ingestion job to succeed", Duration::from_secs(60), || async {
        (get(&client, format!("{}/v1/jobs/{job}", server.base), &token).await["status"] == "succeeded").then_some(())
    })
    .await;
    let chunks =
        get(&client, format!("{}/v1/knowledge-bases/{kb}", server.base), &token).await["chunks"].as_u64().unwrap();
    assert!(chunks > 5);

    // While it runs, the CLI refuses: the indexes are locked.
    let locked = lectern_command(dir.path(), &database_url).arg("reindex").output().unwrap();
    assert!(!locked.status.success());
    assert!(
        String::from_utf8_lossy(&locked.stderr).contains("stop it first"),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    stop(server);

    // Both indexes lost: the CLI rebuilds them from the chunk rows.
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    std::fs::remove_dir_all(dir.path().join("vectors")).unwrap();
    let rebuilt = lectern_command(dir.path(), &database_url).arg("reindex").output().unwrap();
    assert!(rebuilt.status.success(), "{}", String::from_utf8_lossy(&rebuilt.stderr));
    let summary = String::from_utf8(rebuilt.stdout).unwrap();
    assert_eq!(summary.trim(), format!("rebuilt {chunks} chunks; the database holds {chunks}, the full-text index {chunks}, the vector store {chunks}"));

    // Only the full-text index lost: the server notices at startup and re-ingests.
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let server = start(dir.path(), &database_url);
    ready(&client, &server.base).await;
    eventually("a repair job to run", Duration::from_secs(60), || async {
        let running = get(&client, format!("{}/v1/jobs?status=running", server.base), &token).await;
        let queued = get(&client, format!("{}/v1/jobs?status=queued", server.base), &token).await;
        let succeeded = get(&client, format!("{}/v1/jobs?status=succeeded", server.base), &token).await;
        (running["pagination"]["total"] == 0
            && queued["pagination"]["total"] == 0
            && succeeded["pagination"]["total"] == 2)
            .then_some(())
    })
    .await;
    stop(server);
    let fulltext = lectern::engines::fulltext::FulltextIndex::open(&dir.path().join("search")).unwrap();
    assert_eq!(fulltext.count(None).unwrap(), chunks);
}
