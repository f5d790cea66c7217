//! Several nodes of one deployment (one database, one Qdrant server, one Redis, one S3 bucket):
//! any node serves any request and sees what another node wrote; limits are counted once; a
//! chat turn is cancelled through any node.

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use crate::chat::parse_events;
use crate::scale_out::{as_pairs, shared_backends};
use crate::search::seeded;
use crate::support::app::{json, spawn_nodes, TestApp};
use crate::support::fake_llm::{FakeLlm, KEY};

async fn cluster(extra: &[(&'static str, &str)]) -> Option<(Vec<TestApp>, tempfile::TempDir)> {
    let backends = shared_backends()?;
    let mut settings = as_pairs(&backends);
    settings.extend_from_slice(extra);
    Some(spawn_nodes(3, &settings).await)
}

async fn search(node: &TestApp, token: &str, kb: &str, mode: &str) -> Vec<(String, String)> {
    let body = json!({"query": "how fast is express parcel delivery", "mode": mode});
    let found = node.call(Method::POST, &format!("/v1/knowledge-bases/{kb}/search"), token, None, Some(body)).await;
    assert_eq!(found.status(), 200);
    let found: Value = json(found).await;
    found["hits"].as_array().unwrap().iter().map(|h| (h["chunkId"].to_string(), h["score"].to_string())).collect()
}

#[tokio::test]
async fn what_one_node_ingests_every_node_finds_and_serves() {
    let Some((nodes, _shared)) = cluster(&[]).await else { return };
    let (token, _) = nodes[0].bootstrap().await;
    let (kb, ids) = seeded(&nodes[0], &token, None).await;
    for mode in ["lexical", "semantic", "hybrid"] {
        let first = search(&nodes[0], &token, &kb, mode).await;
        assert!(!first.is_empty(), "{mode}");
        for node in &nodes[1..] {
            assert_eq!(search(node, &token, &kb, mode).await, first, "{mode}: the same hits and scores on every node");
        }
    }
    let content = nodes[2]
        .call(Method::GET, &format!("/v1/knowledge-bases/{kb}/documents/{}/content", ids[1]), &token, None, None)
        .await;
    assert_eq!(content.status(), 200, "the original is served by a node that did not receive it");
    assert!(String::from_utf8(content.bytes().await.unwrap().to_vec()).unwrap().contains("Rotterdam"));
}

#[tokio::test]
async fn a_limit_is_counted_once_across_nodes() {
    let Some((nodes, _shared)) =
        cluster(&[("LECTERN_RATE_LIMITS", "search=5/min,global=1000/min,auth=1000/min")]).await
    else {
        return;
    };
    let (_, tenant) = nodes[0].bootstrap().await;
    let kb = nodes[0].create("/v1/knowledge-bases", &tenant.owner, &tenant.id, json!({"name": "Limited"})).await;
    let key =
        nodes[1].call(Method::POST, "/v1/api-keys", &tenant.owner, Some(&tenant.id), Some(json!({"name": "ci"}))).await;
    let key = json(key).await["secret"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    for i in 0..9 {
        let body = json!({"query": "anything", "mode": "lexical"});
        let r =
            nodes[i % 3].call(Method::POST, &format!("/v1/knowledge-bases/{kb}/search"), &key, None, Some(body)).await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    assert_eq!(statuses[5..], [429, 429, 429, 429], "{statuses:?}");
}

#[tokio::test]
async fn a_chat_turn_is_cancelled_through_another_node() {
    let llm = FakeLlm::start().await;
    let upstream = [("LLM_BASE_URL", llm.base.as_str()), ("LLM_API_KEY", KEY), ("LLM_MODELS", "fake-model")];
    let Some((nodes, _shared)) = cluster(&upstream).await else { return };
    let (token, _) = nodes[0].bootstrap().await;
    let response = nodes[0]
        .call(Method::POST, "/v1/chat", &token, None, Some(json!({"message": "go SLOW please", "model": "fake-model"})))
        .await;
    let mut body = response.bytes_stream();
    let (mut seen, mut cancelled) = (String::new(), false);
    while let Some(chunk) = body.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if !cancelled && seen.contains("word3 ") {
            let id = parse_events(&seen).iter().find(|(n, _)| n == "start").unwrap().1["messageId"]
                .as_str()
                .unwrap()
                .to_owned();
            let stop = nodes[2].call(Method::POST, &format!("/v1/chat/{id}/cancel"), &token, None, None).await;
            assert_eq!(stop.status(), 202);
            assert_eq!(json(stop).await["status"], "cancelling", "the node running the turn confirmed");
            cancelled = true;
        }
    }
    let events = parse_events(&seen);
    let done = events.iter().find(|(n, _)| n == "done").unwrap();
    assert_eq!(done.1["status"], "cancelled");
    let tokens = events.iter().filter(|(n, _)| n == "token").count();
    assert!(tokens > 3 && tokens < 100, "stopped early: {tokens} tokens");
}

/// Polls `check` on a node for up to `within` and returns how long it took.
async fn within<F, Fut>(within: std::time::Duration, mut check: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "not seen within {within:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_page_published_on_one_node_is_served_and_found_on_the_others_within_a_second() {
    use crate::content::{public, Site};
    let Some((nodes, _shared)) = cluster(&[]).await else { return };
    let (token, tenant) = nodes[0].bootstrap().await;
    let id = nodes[0].create("/v1/sites", &token, &tenant.id, json!({"name": "Blog"})).await;
    let site = Site { id, token, tenant: tenant.id };
    // Node 0 serves (and caches) the empty list and search before anything is published.
    let titles = |body: Value, key: &str| -> Vec<String> {
        body[key].as_array().map_or(Vec::new(), |a| a.iter().map(|h| h["title"].to_string()).collect())
    };
    assert!(titles(json(public(&nodes[0], &site, "/entries?type=post").await).await, "data").is_empty());
    assert!(titles(json(public(&nodes[0], &site, "/search?q=lighthouse").await).await, "hits").is_empty());

    let entry =
        site.entry(&nodes[1], json!({"type": "post", "title": "Lighthouse keepers", "data": {"body": "Dusk"}})).await;
    site.publish(&nodes[1], entry["id"].as_str().unwrap()).await;
    let second = std::time::Duration::from_secs(1);
    for node in [&nodes[0], &nodes[2]] {
        within(second, || async {
            titles(json(public(node, &site, "/entries?type=post").await).await, "data").len() == 1
        })
        .await;
        within(second, || async {
            titles(json(public(node, &site, "/search?q=lighthuose").await).await, "hits").len() == 1
        })
        .await;
    }
}

#[tokio::test]
async fn a_node_that_joins_later_serves_what_was_published_before() {
    use crate::content::{public, Site};
    let Some(backends) = shared_backends() else { return };
    let (mut nodes, _shared) = spawn_nodes(1, &as_pairs(&backends)).await;
    let (token, tenant) = nodes[0].bootstrap().await;
    let id = nodes[0].create("/v1/sites", &token, &tenant.id, json!({"name": "Blog"})).await;
    let site = Site { id, token, tenant: tenant.id };
    let entry = site.entry(&nodes[0], json!({"type": "post", "title": "Harbour tides", "data": {"body": "Ebb"}})).await;
    site.publish(&nodes[0], entry["id"].as_str().unwrap()).await;
    // A second node on the same database starts afterwards: its site index is built at start.
    let mut settings = as_pairs(&backends);
    let database = nodes[0].database_url.clone();
    settings.push(("DATABASE_URL", database.as_str()));
    settings.push(("LECTERN_JWT_SECRET", "cluster-test-secret-0123456789abcdef"));
    nodes.push(crate::support::app::spawn_app_env(&settings).await);
    within(std::time::Duration::from_secs(5), || async {
        let found: Value = json(public(&nodes[1], &site, "/search?q=harbour").await).await;
        found["hits"].as_array().is_some_and(|h| h.len() == 1)
    })
    .await;
}

#[tokio::test]
async fn a_key_revoked_on_one_node_is_refused_at_once_on_the_others() {
    let Some((nodes, _shared)) = cluster(&[]).await else { return };
    let (token, tenant) = nodes[0].bootstrap().await;
    let created =
        nodes[0].call(Method::POST, "/v1/api-keys", &token, Some(&tenant.id), Some(json!({"name": "ci"}))).await;
    let created = json(created).await;
    let (key, id) = (created["secret"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap().to_owned());
    for node in &nodes {
        // Each node resolves the key and keeps it in its principal cache.
        assert_eq!(node.call(Method::GET, "/v1/auth/test", &key, None, None).await.status(), 200);
        assert_eq!(node.call(Method::GET, "/v1/auth/test", &key, None, None).await.status(), 200);
    }
    let revoked = nodes[1].call(Method::DELETE, &format!("/v1/api-keys/{id}"), &token, Some(&tenant.id), None).await;
    assert_eq!(revoked.status(), 204);
    for node in [&nodes[0], &nodes[2]] {
        within(std::time::Duration::from_secs(1), || async {
            node.call(Method::GET, "/v1/auth/test", &key, None, None).await.status() == 401
        })
        .await;
    }
    // A logout on one node ends the session on every node too.
    assert_eq!(nodes[2].call(Method::GET, "/v1/auth/me", &token, None, None).await.status(), 200);
    assert_eq!(nodes[0].call(Method::POST, "/v1/auth/logout", &token, None, None).await.status(), 204);
    within(std::time::Duration::from_secs(1), || async {
        nodes[2].call(Method::GET, "/v1/auth/me", &token, None, None).await.status() == 401
    })
    .await;
}
