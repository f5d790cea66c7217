//! Idempotency keys: byte-for-byte replay, a different request with the same key, concurrent
//! requests with one key (one effect), and a restart in between.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app, spawn_app_with, test_settings, TestApp};
use crate::support::identity::{ADMIN_EMAIL, PASSWORD};

async fn post_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.client.post(app.url(path)).bearer_auth(token).header("Idempotency-Key", key).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn the_first_response_is_replayed_byte_for_byte_and_a_changed_request_is_refused() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let first = post_with_key(&app, &token, "/v1/knowledge-bases", "kb-create-1", json!({"name": "Manuals"})).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.bytes().await.unwrap();
    let again = post_with_key(&app, &token, "/v1/knowledge-bases", "kb-create-1", json!({"name": "Manuals"})).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["content-type"], "application/json");
    assert_eq!(again.bytes().await.unwrap(), first_body, "byte for byte");
    let listed = json(app.call(Method::GET, "/v1/knowledge-bases", &token, None, None).await).await;
    assert_eq!(listed["pagination"]["total"], 1, "one effect");

    let changed = post_with_key(&app, &token, "/v1/knowledge-bases", "kb-create-1", json!({"name": "Other"})).await;
    assert_eq!(changed.status(), 409);
    assert_eq!(json(changed).await["error"], "CONFLICT");
    // The same key from another principal is another key.
    let key = json(app.call(Method::POST, "/v1/api-keys", &token, None, Some(json!({"name": "ci"}))).await).await;
    let other = post_with_key(
        &app,
        key["secret"].as_str().unwrap(),
        "/v1/knowledge-bases",
        "kb-create-1",
        json!({"name": "Manuals"}),
    )
    .await;
    assert_eq!(other.status(), 201);
    assert!(other.headers().get("idempotent-replayed").is_none());
    // A failed request is not stored: fixed and retried with the key, it runs.
    let bad = post_with_key(&app, &token, "/v1/sites", "site-1", json!({"name": ""})).await;
    assert_eq!(bad.status(), 400);
    let bad_again = post_with_key(&app, &token, "/v1/sites", "site-1", json!({"name": ""})).await;
    assert!(bad_again.headers().get("idempotent-replayed").is_none());
    let empty = app
        .client
        .post(app.url("/v1/sites"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_have_one_effect() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let calls = (0..8).map(|_| post_with_key(&app, &token, "/v1/sites", "one-site", json!({"name": "Once"})));
    let responses = futures_util::future::join_all(calls).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert!(statuses.contains(&201));
    let sites = json(app.call(Method::GET, "/v1/sites", &token, None, None).await).await;
    assert_eq!(sites["pagination"]["total"], 1, "{statuses:?}");
}

#[tokio::test]
async fn a_stored_response_survives_a_restart() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let first = post_with_key(&app, &token, "/v1/sites", "site-restart", json!({"name": "Durable"})).await;
    assert_eq!(first.status(), 201);
    let first_body = first.bytes().await.unwrap();
    app.handle.stop(true).await;
    // A new server process on the same database (its own data dir: the first one's indexes are
    // still open in this test process).
    let TestApp { data_dir: _first_dir, database_url, run, .. } = app;
    run.await.unwrap().unwrap();
    let second_dir = tempfile::tempdir().unwrap();
    let settings = test_settings(&second_dir, &[("DATABASE_URL", database_url.as_str())]).await;
    let app = spawn_app_with(second_dir, settings).await;
    // The same user signs in again (a new token, the same principal).
    let token = app.login(ADMIN_EMAIL, PASSWORD).await;
    let again = post_with_key(&app, &token, "/v1/sites", "site-restart", json!({"name": "Durable"})).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first_body);
}
