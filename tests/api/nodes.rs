//! Three real `lectern serve` processes of one deployment (one database, the Qdrant server,
//! Redis, the S3 bucket): they share ingestion without running a document twice, and when the
//! process holding a job is killed, another finishes it; the server's indexes then hold
//! exactly the chunk rows.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;

use crate::crash::{get, owner_with_kb, ready, settle_and_check_rows};
use crate::scale_out::{as_pairs, shared_backends};
use crate::support::app::fresh_database_url;
use crate::support::process::{serve, Server};

use lectern::engines::lexical::{LexicalIndex, QdrantLexical};
use lectern::engines::vectors::{QdrantStore, VectorStore};

fn setting<'a>(settings: &'a [(&'static str, String)], key: &str) -> &'a str {
    settings.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str()).unwrap()
}

/// The ids of the processes that claimed each ingestion job (`locked_by` is host-pid-worker).
async fn claimed_by(database_url: &str) -> Vec<u32> {
    let db = Database::connect(database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT locked_by FROM jobs WHERE kind = 'ingest_document' AND locked_by IS NOT NULL",
        ))
        .await
        .unwrap();
    rows.iter()
        .filter_map(|r| r.try_get::<String>("", "locked_by").ok())
        .filter_map(|by| by.rsplit('-').nth(1).and_then(|pid| pid.parse().ok()))
        .collect()
}

async fn server_counts(settings: &[(&'static str, String)]) -> (u64, u64) {
    let (url, collection) = (setting(settings, "QDRANT_URL"), setting(settings, "QDRANT_COLLECTION"));
    let dense = QdrantStore::connect(url, None, collection, 384).await.unwrap();
    let sparse = QdrantLexical::connect(url, None, &format!("{collection}_bm25")).await.unwrap();
    (dense.count(None).await.unwrap(), sparse.count(None).await.unwrap())
}

#[tokio::test]
async fn three_processes_share_ingestion_and_finish_the_job_of_a_killed_one() {
    let Some(backends) = shared_backends() else { return };
    let shared = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url()
        .await
        .unwrap_or_else(|| format!("sqlite://{}/shared.db?mode=rwc", shared.path().display()));
    let mut env = as_pairs(&backends);
    env.extend([
        ("DATABASE_URL", database_url.as_str()),
        ("LECTERN_JWT_SECRET", "cluster-test-secret-0123456789abcdef"),
        ("LECTERN_WORKERS", "4"),
        ("LECTERN_JOB_LEASE_SECS", "3"),
    ]);
    if database_url.starts_with("postgres") {
        // The mode real deployments use: every backend shared, checked at start.
        env.push(("LECTERN_NODE_MODE", "cluster"));
    }
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes: Vec<Server> = dirs.iter().map(|d| serve(d.path(), &env)).collect();
    let client = reqwest::Client::new();
    for node in &nodes {
        ready(&client, &node.base).await;
    }
    let (token, kb) = owner_with_kb(&client, &nodes[0].base).await;

    // 40 documents in one request to the first node: every node claims some.
    let corpus =
        std::fs::read_to_string(format!("{}/../shared/data/beir/nfcorpus/corpus.jsonl", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let mut form = Form::new();
    for (i, line) in corpus.lines().take(40).enumerate() {
        let doc: Value = serde_json::from_str(line).unwrap();
        let text = format!("# {}\n\n{}", doc["title"].as_str().unwrap(), doc["text"].as_str().unwrap());
        form = form.part("file", Part::bytes(text.into_bytes()).file_name(format!("doc-{i}.md")));
    }
    let uploaded: Value = client
        .post(format!("{}/v1/knowledge-bases/{kb}/documents?allowDuplicate=true", nodes[0].base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(uploaded["accepted"].as_array().map(Vec::len), Some(40), "{}", uploaded["rejected"]);
    let total = settle_and_check_rows(&client, &nodes[2].base, &token, &kb).await;
    let claimed = claimed_by(&database_url).await;
    assert_eq!(claimed.len(), 40, "each job claimed once: {claimed:?}");
    for node in &nodes {
        assert!(claimed.contains(&node.child.id()), "node {} ran none of {claimed:?}", node.child.id());
    }
    assert_eq!(server_counts(&backends).await, (total, total), "the server's indexes hold exactly the chunk rows");

    // A long document; kill whichever node runs it: another takes it over when its lease ends.
    let pdf = std::fs::read(format!("{}/../shared/data/pdfs/sf__GeoTopo-komprimiert.pdf", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let form = Form::new().part("file", Part::bytes(pdf).file_name("geotopo.pdf"));
    let accepted: Value = client
        .post(format!("{}/v1/knowledge-bases/{kb}/documents", nodes[1].base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = accepted["job"]["id"].as_str().unwrap_or_else(|| panic!("{accepted}")).to_owned();
    let running = crate::support::eventually("the document to be processed", Duration::from_secs(60), || async {
        let view = get(&client, format!("{}/v1/jobs/{job}", nodes[0].base), &token).await;
        (view["status"] == "running" && view["done"].as_i64() > Some(0)).then_some(())
    });
    running.await;
    let holder_pid = {
        use sea_orm::EntityTrait;
        let db = Database::connect(&database_url).await.unwrap();
        let id: uuid::Uuid = job.parse().unwrap();
        let running = entity::job::Entity::find_by_id(id).one(&db).await.unwrap().unwrap();
        running.locked_by.unwrap().rsplit('-').nth(1).unwrap().parse::<u32>().unwrap()
    };
    let holder = nodes.iter().position(|n| n.child.id() == holder_pid).expect("a node of this test runs the job");
    nodes[holder].kill();
    let survivor = &nodes[(holder + 1) % 3];
    let finished = crate::support::eventually("another node to finish the job", Duration::from_secs(300), || async {
        let view = get(&client, format!("{}/v1/jobs/{job}", survivor.base), &token).await;
        (view["status"] == "succeeded").then_some(view)
    })
    .await;
    assert!(finished["attempts"].as_i64().unwrap() >= 2, "{finished}");
    let total = settle_and_check_rows(&client, &survivor.base, &token, &kb).await;
    assert_eq!(server_counts(&backends).await, (total, total), "nothing orphaned by the killed node");
}
