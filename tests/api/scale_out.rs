//! One node on the scale-out backends: vectors and lexical search in a Qdrant server, blobs in
//! an S3-compatible bucket (both started by `.ci/test`). The searches users rely on behave as in
//! the embedded mode, and nothing is written to the node's data dir that another node would need.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app_env, TestApp};

/// The settings that put a node on this run's servers (its own collection, blob prefix and
/// nothing else in common with other tests), or None (the test returns early) outside `.ci/test`.
pub fn shared_backends() -> Option<Vec<(&'static str, String)>> {
    let url = |var: &str| {
        let value = std::env::var(var).ok().filter(|v| !v.is_empty());
        if value.is_none() {
            assert!(std::env::var("LECTERN_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"), "{var} is required");
            eprintln!("{var} is not set: the scale-out backends are not exercised in this run");
        }
        value
    };
    let (qdrant, s3, redis) =
        (url("LECTERN_TEST_QDRANT_URL")?, url("LECTERN_TEST_S3_ENDPOINT")?, url("LECTERN_TEST_REDIS_URL")?);
    let run = uuid::Uuid::now_v7().simple().to_string();
    Some(vec![
        ("QDRANT_URL", qdrant),
        ("QDRANT_COLLECTION", format!("t_{run}")),
        ("REDIS_URL", redis),
        ("LECTERN_BLOB_STORE", format!("s3://lectern-test/{run}")),
        ("LECTERN_S3_ENDPOINT", s3),
        ("LECTERN_S3_REGION", "us-east-1".to_owned()),
        ("LECTERN_S3_ACCESS_KEY_ID", "lectern".to_owned()),
        ("LECTERN_S3_SECRET_ACCESS_KEY", "lectern-secret".to_owned()),
    ])
}

pub fn as_pairs<'a>(owned: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    owned.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// One node on the shared backends.
async fn scale_out_node() -> Option<TestApp> {
    let backends = shared_backends()?;
    Some(spawn_app_env(&as_pairs(&backends)).await)
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
    })
}

#[tokio::test]
async fn health_names_the_server_backends() {
    let Some(app) = scale_out_node().await else { return };
    let health: Value = json(app.get("/health").await).await;
    let components = &health["components"];
    for name in ["fulltext", "vectors", "blobs"] {
        assert_eq!(components[name]["status"], "ok", "{name}: {health}");
    }
    assert!(components["fulltext"]["message"]
        .as_str()
        .unwrap()
        .starts_with("BM25 sparse vectors in the qdrant server"));
    assert!(components["blobs"]["message"].as_str().unwrap().starts_with("S3 bucket lectern-test"), "{health}");
    assert!(components["coordination"]["message"].as_str().unwrap().starts_with("redis at "), "{health}");
    let info: Value = json(app.get("/v1/info").await).await;
    assert_eq!((info["vectors"].as_str(), info["fulltext"].as_str()), (Some("qdrant"), Some("qdrant-sparse")));
}

#[tokio::test]
async fn each_search_mode_works_on_a_qdrant_server() {
    let Some(app) = scale_out_node().await else { return };
    crate::search::each_mode_finds_the_right_passage(&app).await;
}

#[tokio::test]
async fn searches_never_cross_tenants_on_a_qdrant_server() {
    let Some(app) = scale_out_node().await else { return };
    crate::search::searches_never_cross_tenants(&app).await;
}

#[tokio::test]
async fn originals_live_in_the_bucket_and_deleting_a_document_empties_both_indexes() {
    let Some(app) = scale_out_node().await else { return };
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Scale"})).await;
    let original = b"# Lighthouses\n\nThe keeper trims the lamp wick at dusk and logs the weather.\n".to_vec();
    let uploaded = json(app.upload(&token, &kb, vec![("keeper.md", original.clone())], "").await).await;
    let doc = uploaded["document"]["id"].as_str().unwrap_or_else(|| panic!("{uploaded}")).to_owned();
    let job = app.wait_for_job(&token, uploaded["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(files_under(&app.data_dir.path().join("blobs")), 0, "no blob on the node's disk");
    assert_eq!(files_under(&app.data_dir.path().join("search")), 0, "no tantivy index on the node's disk");

    let content =
        app.call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents/{doc}/content"), &token, None, None).await;
    assert_eq!(content.status(), 200);
    assert_eq!(content.bytes().await.unwrap().to_vec(), original, "the original, read back from the bucket");

    let search = |mode: &'static str| {
        let (app, token, kb) = (&app, &token, &kb);
        async move {
            let body = json!({"query": "keeper trims the wick", "mode": mode});
            let found =
                app.call(Method::POST, &format!("/v1/knowledge-bases/{kb}/search"), token, None, Some(body)).await;
            json(found).await["hits"].as_array().unwrap().len()
        }
    };
    assert_eq!(search("lexical").await, 1);
    let gone = app.call(Method::DELETE, &format!("/v1/knowledge-bases/{kb}/documents/{doc}"), &token, None, None).await;
    assert_eq!(gone.status(), 204);
    for mode in ["lexical", "semantic", "hybrid"] {
        assert_eq!(search(mode).await, 0, "{mode}: a deleted document is gone from the server's indexes");
    }
}
