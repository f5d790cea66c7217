//! Outbound webhooks: signed deliveries of real domain events, retries after a failure, replay,
//! test events, switching off after repeated failure, and the SSRF guard on URLs.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app_env, TestApp};
use crate::support::identity::Tenant;
use crate::support::webhook_receiver::{verify_with_python, Receiver};

const FAST: &[(&str, &str)] = &[("LECTERN_ALLOW_PRIVATE_URLS", "true"), ("LECTERN_WEBHOOK_RETRY_BASE_MS", "100")];

async fn endpoint(app: &TestApp, t: &Tenant, url: &str, events: Value) -> Value {
    let created = app
        .call(Method::POST, "/v1/webhooks", &t.owner, Some(&t.id), Some(json!({"url": url, "events": events})))
        .await;
    assert_eq!(created.status(), 201);
    json(created).await
}

async fn deliveries(app: &TestApp, t: &Tenant, hook: &str) -> Vec<Value> {
    let path = format!("/v1/webhooks/{hook}/deliveries");
    json(app.call(Method::GET, &path, &t.owner, Some(&t.id), None).await).await["data"].as_array().unwrap().clone()
}

async fn wait_until(mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "condition not reached in 20 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn events_arrive_signed_are_retried_after_a_500_and_can_be_replayed() {
    let app = spawn_app_env(FAST).await;
    let (_, t) = app.bootstrap().await;
    let receiver = Receiver::start(&[500], 200).await;
    let hook = endpoint(&app, &t, &receiver.url, json!(["conversation.created"])).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let id = hook["id"].as_str().unwrap().to_owned();
    let shown = json(app.call(Method::GET, &format!("/v1/webhooks/{id}"), &t.owner, Some(&t.id), None).await).await;
    assert!(shown.get("secret").is_none(), "the secret is shown once: {shown}");

    let conversation = app.create("/v1/conversations", &t.owner, &t.id, json!({})).await;
    let got = receiver.wait_for(2).await;
    let (first, second) = (&got[0], &got[1]);
    assert_eq!(first.headers["lectern-event-id"], second.headers["lectern-event-id"], "a retry is the same event");
    assert_eq!(first.body, second.body);
    assert!(verify_with_python(&secret, &second.headers["lectern-signature"], &second.body));
    assert!(!verify_with_python("whsec_wrong", &second.headers["lectern-signature"], &second.body));
    let body: Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(body["type"], "conversation.created");
    assert_eq!(body["version"], 1);
    assert_eq!(body["data"]["conversationId"], conversation.as_str());
    assert_eq!(body["id"], second.headers["lectern-event-id"].as_str());

    let mut list = Vec::new();
    wait_until(async || {
        list = deliveries(&app, &t, &id).await;
        list.first().is_some_and(|d| d["status"] == "succeeded")
    })
    .await;
    assert_eq!(list.len(), 1);
    let delivery = &list[0];
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["responseStatus"], 200);
    assert!(delivery["latencyMs"].is_number());

    // Replay: the same event again, as a new delivery.
    let path = format!("/v1/webhooks/{id}/deliveries/{}/replay", delivery["id"].as_str().unwrap());
    let replay = app.call(Method::POST, &path, &t.owner, Some(&t.id), None).await;
    assert_eq!(replay.status(), 202);
    let got = receiver.wait_for(3).await;
    assert_eq!(got[2].body, second.body);
    assert_eq!(got[2].headers["lectern-event-id"], second.headers["lectern-event-id"]);
    assert!(verify_with_python(&secret, &got[2].headers["lectern-signature"], &got[2].body));
    let list = deliveries(&app, &t, &id).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["replayOf"], delivery["id"]);

    // A test event goes to this endpoint only; a rotated secret signs from then on.
    let rotated =
        json(app.call(Method::POST, &format!("/v1/webhooks/{id}/rotate-secret"), &t.owner, Some(&t.id), None).await)
            .await;
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let test = app.call(Method::POST, &format!("/v1/webhooks/{id}/test"), &t.owner, Some(&t.id), None).await;
    assert_eq!(test.status(), 202);
    let got = receiver.wait_for(4).await;
    assert_eq!(serde_json::from_str::<Value>(&got[3].body).unwrap()["type"], "webhook.test");
    assert!(verify_with_python(new_secret, &got[3].headers["lectern-signature"], &got[3].body));

    // Every change is in the audit log with who, from where and which request.
    let audit = app.call(Method::GET, "/v1/audit-events?action=webhook.*", &t.owner, Some(&t.id), None).await;
    let audit = json(audit).await;
    let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["webhook.create", "webhook.replay", "webhook.rotate_secret", "webhook.test"] {
        assert!(actions.contains(&expected), "{actions:?}");
    }
    for event in audit["data"].as_array().unwrap() {
        assert_eq!(event["ip"], "127.0.0.1", "{event}");
        assert!(event["requestId"].as_str().is_some_and(|r| !r.is_empty()), "{event}");
        assert_eq!(event["targetId"], id.as_str());
    }

    // Unsubscribed events are not sent.
    app.create("/v1/knowledge-bases", &t.owner, &t.id, json!({"name": "Quiet"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_switched_off_and_the_tenant_told() {
    let mut env = FAST.to_vec();
    env.push(("LECTERN_WEBHOOK_MAX_ATTEMPTS", "3"));
    let app = spawn_app_env(&env).await;
    let (_, t) = app.bootstrap().await;
    let broken = Receiver::start(&[], 500).await;
    let watcher = Receiver::start(&[], 204).await;
    let hook = endpoint(&app, &t, &broken.url, json!(["*"])).await;
    let id = hook["id"].as_str().unwrap().to_owned();
    endpoint(&app, &t, &watcher.url, json!(["webhook.disabled"])).await;

    app.create("/v1/conversations", &t.owner, &t.id, json!({})).await;
    let got = watcher.wait_for(1).await;
    let disabled: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(disabled["type"], "webhook.disabled");
    assert_eq!(disabled["data"]["endpointId"], id.as_str());
    assert_eq!(broken.received().len(), 3, "three attempts, then no more");

    let shown = json(app.call(Method::GET, &format!("/v1/webhooks/{id}"), &t.owner, Some(&t.id), None).await).await;
    assert_eq!(shown["active"], false);
    assert!(shown["disabledReason"].as_str().unwrap().contains("3 times"), "{shown}");
    let list = deliveries(&app, &t, &id).await;
    assert_eq!(list[0]["status"], "failed");
    assert_eq!(list[0]["attempts"], 3);
    assert_eq!(list[0]["responseStatus"], 500);
    let mail = app.mail.message_to(crate::support::identity::ADMIN_EMAIL).await;
    assert!(mail.data.contains(&broken.url), "{}", mail.data);
    let audit =
        json(app.call(Method::GET, "/v1/audit-events?action=webhook.disable", &t.owner, Some(&t.id), None).await).await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);

    // Switched back on, it receives new events again.
    let on = app
        .call(Method::PATCH, &format!("/v1/webhooks/{id}"), &t.owner, Some(&t.id), Some(json!({"active": true})))
        .await;
    let on = json(on).await;
    assert_eq!(on["active"], true);
    assert_eq!(on["consecutiveFailures"], 0);
    assert!(on["disabledReason"].is_null());
    app.create("/v1/conversations", &t.owner, &t.id, json!({})).await;
    broken.wait_for(4).await;
}

#[tokio::test]
async fn urls_to_private_addresses_and_unknown_events_are_refused() {
    let app = spawn_app_env(&[]).await;
    let (_, t) = app.bootstrap().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/x",
        "http://[::1]/x",
        "ftp://example.com/x",
        "not a url",
    ] {
        let r = app
            .call(Method::POST, "/v1/webhooks", &t.owner, Some(&t.id), Some(json!({"url": url, "events": ["*"]})))
            .await;
        assert_eq!(r.status(), 400, "{url}");
        assert_eq!(json(r).await["details"]["field"], "url", "{url}");
    }
    let r = app
        .call(
            Method::POST,
            "/v1/webhooks",
            &t.owner,
            Some(&t.id),
            Some(json!({"url": "http://127.0.0.1/", "events": ["document.exploded"]})),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["details"]["field"], "events");
    let types = json(app.call(Method::GET, "/v1/webhooks/event-types", &t.owner, Some(&t.id), None).await).await;
    let names: Vec<&str> = types.as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect();
    for expected in ["document.ingested", "document.failed", "job.completed", "entry.published", "credits.low"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    // Each payload schema is in the OpenAPI document.
    let spec = json(app.get("/openapi.json").await).await;
    for t in types.as_array().unwrap() {
        let schema = t["schema"].as_str().unwrap();
        assert!(spec["components"]["schemas"].get(schema).is_some(), "{schema} missing from OpenAPI");
    }
}

#[tokio::test]
async fn a_document_ingested_event_reaches_the_endpoint() {
    let app = spawn_app_env(FAST).await;
    let (_, t) = app.bootstrap().await;
    let receiver = Receiver::start(&[], 200).await;
    endpoint(&app, &t, &receiver.url, json!(["document.ingested", "job.completed"])).await;
    let kb = app.create("/v1/knowledge-bases", &t.owner, &t.id, json!({"name": "Hooks"})).await;
    let uploaded = app
        .upload(&t.owner, &kb, vec![("hooks.md", b"# Webhooks\n\nLectern signs every delivery.".to_vec())], "")
        .await;
    assert_eq!(uploaded.status(), 202);
    let got = receiver.wait_for(2).await;
    let mut types: Vec<String> = got
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["document.ingested", "job.completed"]);
    let ingested: Value = got
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .find(|b| b["type"] == "document.ingested")
        .unwrap();
    assert_eq!(ingested["data"]["knowledgeBaseId"], kb.as_str());
    assert!(ingested["data"]["chunks"].as_u64().unwrap() >= 1);
}
