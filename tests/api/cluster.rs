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
