//! Liveness, readiness before and after migrations, and component status.

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

use crate::support::app::{backend, json, spawn_app, spawn_held_app};

#[tokio::test]
async fn health_reports_version_uptime_and_every_component() {
    let app = spawn_app().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptimeSeconds"].is_u64());
    assert_eq!(body["stage"], "ready");
    let components = body["components"].as_object().unwrap();
    let names: Vec<&str> = components.keys().map(String::as_str).collect();
    assert_eq!(names, ["blobs", "coordination", "database", "embedder", "fulltext", "llm", "vectors"]);
    assert_eq!(components["database"], json!({"status": "ok", "message": backend()}));
    assert_eq!(components["fulltext"]["status"], "ok");
    assert_eq!(components["vectors"]["status"], "ok");
    assert!(components["vectors"]["message"].as_str().unwrap().starts_with("qdrant-edge"));
    assert_eq!(components["blobs"]["status"], "ok");
    assert!(components["blobs"]["message"].as_str().unwrap().starts_with("local blob store at "));
    assert_eq!(components["coordination"], json!({"status": "ok", "message": "in-process (one node)"}));
    // The test command installs the model into the shared cache.
    assert_eq!(components["embedder"]["status"], "ok", "{}", components["embedder"]);
    assert!(components["embedder"]["message"].as_str().unwrap().starts_with("all-minilm-l6-v2 at "));
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn a_missing_model_makes_health_degraded_and_names_the_fix() {
    let app = crate::support::app::spawn_app_env(&[("LECTERN_MODELS_DIR", "/nonexistent/models")]).await;
    let body = json(app.get("/health").await).await;
    assert_eq!(body["status"], "degraded");
    let message = body["components"]["embedder"]["message"].as_str().unwrap();
    assert!(
        message.contains("/nonexistent/models/all-minilm-l6-v2/model.onnx") && message.contains(".ci/setup-model"),
        "{message}"
    );
}

#[tokio::test]
async fn before_migrations_readiness_and_the_api_answer_503_and_after_them_200() {
    let mut app = spawn_held_app().await;

    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.headers()["retry-after"], "1");
    let body = json(ready).await;
    assert_eq!(body["error"], "SERVICE_UNAVAILABLE");
    assert_eq!(body["message"], "not ready: waiting to start");
    assert_eq!(body["details"]["stage"], "waiting to start");

    let api = app.get("/v1/info").await;
    assert_eq!(api.status(), 503);
    assert_eq!(json(api).await["message"], "server is not ready: waiting to start");
    let live = app.get("/health").await;
    assert_eq!(live.status(), 200, "liveness answers while starting");
    assert_eq!(json(live).await["stage"], "waiting to start");
    assert!(!audit_table_exists(&app.database_url).await, "nothing migrated yet");

    app.release_startup().await;
    assert_eq!(json(app.get("/health/ready").await).await, json!({"status": "ready"}));
    assert_eq!(app.get("/v1/info").await.status(), 200);
    assert!(audit_table_exists(&app.database_url).await, "migrations ran");
}

async fn audit_table_exists(database_url: &str) -> bool {
    let db = Database::connect(database_url).await.unwrap();
    let sql = match backend() {
        "postgres" => "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'audit_events'",
        _ => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'",
    };
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    db.close().await.ok();
    n == 1
}

#[tokio::test]
async fn info_names_the_backends_in_use() {
    let app = spawn_app().await;
    let body = json(app.get("/v1/info").await).await;
    assert_eq!(body["name"], "lectern");
    assert_eq!(body["database"], backend());
    assert_eq!(body["vectors"], "qdrant-edge");
    assert_eq!(body["llm"], "extractive");
}
