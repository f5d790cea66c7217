//! `X-Request-ID`: taken from the client when valid, generated otherwise, echoed always.

use crate::support::app::{json, spawn_app};

#[tokio::test]
async fn a_valid_client_request_id_is_echoed_on_success_and_error() {
    let app = spawn_app().await;
    for path in ["/health", "/v1/nope"] {
        let response = app.client.get(app.url(path)).header("X-Request-ID", "client-id.42").send().await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "client-id.42", "{path}");
    }
    let response = app.client.get(app.url("/v1/nope")).header("X-Request-ID", "client-id.42").send().await.unwrap();
    assert_eq!(json(response).await["requestId"], "client-id.42");
}

#[tokio::test]
async fn an_invalid_client_request_id_is_replaced_by_a_generated_one() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/health")).header("X-Request-ID", "bad id <x>").send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id <x>");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn every_request_without_an_id_gets_a_distinct_one() {
    let app = spawn_app().await;
    let a = app.get("/health").await.headers()["x-request-id"].to_str().unwrap().to_owned();
    let b = app.get("/health").await.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(a, b);
    assert!(uuid::Uuid::parse_str(&a).is_ok());
}
