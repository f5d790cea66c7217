//! `/metrics`: Prometheus text that a real parser accepts, with the platform's series, and
//! basic auth when configured.

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::support::app::{spawn_app, spawn_app_env};

/// Parses the exposition with the official Python client's parser; returns the family names.
fn parse_with_prometheus_client(text: &str) -> Vec<String> {
    let python = std::env::var("LECTERN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        for family in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   print(family.name, len(family.samples))";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "prometheus_client rejected /metrics (or is not installed: run the README test command):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).lines().map(|l| l.split(' ').next().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_cover_the_platform() {
    let app = spawn_app().await;
    let (_, t) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &t.owner, &t.id, json!({"name": "Metered"})).await;
    let path = format!("/v1/knowledge-bases/{kb}/search");
    let searched = app.call(Method::POST, &path, &t.owner, None, Some(json!({"query": "x", "mode": "lexical"}))).await;
    assert_eq!(searched.status(), 200);

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    let families = parse_with_prometheus_client(&text);
    for name in [
        "lectern_http_requests",
        "lectern_http_request_duration_seconds",
        "lectern_search_duration_seconds",
        "lectern_jobs",
        "lectern_db_pool_connections",
        "lectern_credits_charged_micros",
        "lectern_uptime_seconds",
    ] {
        assert!(families.iter().any(|f| f == name), "{name} missing from {families:?}");
    }
    // Routes are templates, not raw paths with ids.
    assert!(text.contains(r#"route="/v1/knowledge-bases/{id}/search""#), "{text}");
    assert!(!text.contains(&kb));
    assert!(text.contains(r#"lectern_search_duration_seconds_count{mode="lexical"}"#));
}

#[tokio::test]
async fn metrics_can_require_basic_auth() {
    let app =
        spawn_app_env(&[("LECTERN_METRICS_USER", "prometheus"), ("LECTERN_METRICS_PASSWORD", "scrape-secret")]).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = app.client.get(app.url("/metrics")).basic_auth("prometheus", Some("nope")).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right =
        app.client.get(app.url("/metrics")).basic_auth("prometheus", Some("scrape-secret")).send().await.unwrap();
    assert_eq!(right.status(), 200);
}
