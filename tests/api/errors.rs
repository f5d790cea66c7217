//! Every failure has the same JSON body, with the request id, and the right status.

use serde_json::{json, Value};

use crate::support::app::{json, spawn_app};

/// The body without its request id (checked in request_id.rs), for exact comparison.
async fn body_without_id(response: reqwest::Response) -> Value {
    assert_eq!(response.headers()["content-type"], "application/json");
    let echoed = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let mut body = json(response).await;
    assert_eq!(body["requestId"], json!(echoed), "body and header carry the same request id");
    body.as_object_mut().unwrap().remove("requestId");
    body
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let response = app.get("/v1/no-such-thing").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        body_without_id(response).await,
        json!({"error": "NOT_FOUND", "message": "no route for GET /v1/no-such-thing", "details": null})
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_with_the_allowed_methods() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(
        body_without_id(response).await,
        json!({"error": "METHOD_NOT_ALLOWED", "message": "method DELETE is not allowed on /health; allowed: GET", "details": null})
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_with_line_and_column() {
    let app = spawn_app().await;
    let response = app.post_json("/__test/echo", "{\"name\": \"x\",\n \"count\": }").await;
    assert_eq!(response.status(), 400);
    let body = body_without_id(response).await;
    assert_eq!(body["error"], "INVALID_REQUEST");
    assert!(body["message"].as_str().unwrap().starts_with("request body is not valid JSON: expected value"), "{body}");
    assert_eq!(body["details"], json!({"line": 2, "column": 11}));
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let response = app.post_json("/__test/echo", r#"{"name": "x", "count": -3}"#).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        body_without_id(response).await,
        json!({
            "error": "INVALID_REQUEST",
            "message": "invalid `count`: invalid value: integer `-3`, expected u32",
            "details": {"field": "count", "reason": "invalid value: integer `-3`, expected u32"}
        })
    );
    let nested = app.post_json("/__test/echo", r#"{"name": "x", "count": 1, "tags": ["a", 7]}"#).await;
    assert_eq!(json(nested).await["details"]["field"], "tags[1]");
}

#[tokio::test]
async fn a_missing_field_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let response = app.post_json("/__test/echo", r#"{"count": 2}"#).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        body_without_id(response).await,
        json!({
            "error": "INVALID_REQUEST",
            "message": "invalid `name`: missing field `name`",
            "details": {"field": "name", "reason": "missing field `name`"}
        })
    );
}

#[tokio::test]
async fn a_valid_body_passes_through() {
    let app = spawn_app().await;
    let response = app.post_json("/__test/echo", r#"{"name": "x", "count": 2, "tags": ["a"]}"#).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await, json!({"name": "x", "count": 2, "tags": ["a"]}));
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/__test/echo"))
        .header("Content-Type", "text/plain")
        .body(r#"{"name": "x", "count": 2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(
        body_without_id(response).await,
        json!({
            "error": "UNSUPPORTED_MEDIA_TYPE",
            "message": "Content-Type must be application/json",
            "details": {"expected": "application/json"}
        })
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_with_the_limit() {
    let app = spawn_app().await; // LECTERN_MAX_JSON_BYTES=4096 in test settings
    let big = format!(r#"{{"name": "{}", "count": 1}}"#, "x".repeat(5000));
    let response = app.post_json("/__test/echo", &big).await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        body_without_id(response).await,
        json!({
            "error": "PAYLOAD_TOO_LARGE",
            "message": "request body is over the limit of 4096 bytes",
            "details": {"limitBytes": 4096}
        })
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_a_413_too() {
    let app = spawn_app().await;
    let chunks: Vec<Result<String, std::io::Error>> = (0..10).map(|_| Ok("x".repeat(1000))).collect();
    let response = app
        .client
        .post(app.url("/__test/echo"))
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(json(response).await["error"], "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn bad_query_parameters_are_a_400_naming_the_parameter() {
    let app = spawn_app().await;
    let response = app.get("/__test/search?q=rust&limit=many").await;
    assert_eq!(response.status(), 400);
    let body = body_without_id(response).await;
    assert_eq!(body["error"], "INVALID_REQUEST");
    assert_eq!(body["details"]["field"], "limit");
    let missing = app.get("/__test/search").await;
    assert_eq!(json(missing).await["details"]["field"], "q");
}

#[tokio::test]
async fn a_malformed_path_id_is_a_400() {
    let app = spawn_app().await;
    let response = app.get("/__test/items/not-a-uuid").await;
    assert_eq!(response.status(), 400);
    let body = body_without_id(response).await;
    assert_eq!(body["error"], "INVALID_REQUEST");
    assert!(body["message"].as_str().unwrap().starts_with("invalid path: "), "{body}");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let response = app.get("/__test/panic").await;
        assert_eq!(response.status(), 500);
        assert_eq!(
            body_without_id(response).await,
            json!({"error": "INTERNAL_ERROR", "message": "internal server error", "details": null})
        );
    }
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn the_error_code_table_is_published() {
    let app = spawn_app().await;
    let body = json(app.get("/v1/errors?limit=100").await).await;
    let codes: Vec<(&str, u64)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e["status"].as_u64().unwrap()))
        .collect();
    for expected in
        [("INVALID_REQUEST", 400), ("NOT_FOUND", 404), ("INSUFFICIENT_BALANCE", 402), ("RATE_LIMIT_EXCEEDED", 429)]
    {
        assert!(codes.contains(&expected), "{expected:?} in {codes:?}");
    }
}

#[tokio::test]
async fn cors_for_the_api_follows_the_setting() {
    let app = crate::support::app::spawn_app_env(&[("LECTERN_CORS_ORIGINS", "https://admin.example.com")]).await;
    let get = |origin: &'static str| app.client.get(app.url("/v1/roles")).header("Origin", origin).send();
    let allowed = get("https://admin.example.com").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://admin.example.com");
    let other = get("https://evil.example.net").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/knowledge-bases"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, idempotency-key")
            .send()
    };
    let ok = preflight("https://admin.example.com").await.unwrap();
    assert_eq!(ok.status(), 204);
    let headers = ok.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(headers.contains("authorization") && headers.contains("idempotency-key"), "{headers}");
    assert_eq!(preflight("https://evil.example.net").await.unwrap().status(), 403);

    let closed = crate::support::app::spawn_app().await;
    let plain =
        closed.client.get(closed.url("/v1/roles")).header("Origin", "https://admin.example.com").send().await.unwrap();
    assert!(plain.headers().get("access-control-allow-origin").is_none(), "no origins by default");
}
