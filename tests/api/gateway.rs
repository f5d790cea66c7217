//! The OpenAI-compatible gateway, driven by the official `openai` Python SDK (installed by the
//! test command) against a real server with a fake upstream and a real knowledge base.

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::search::seeded;
use crate::support::app::{json, spawn_app_env};
use crate::support::fake_llm::{FakeLlm, KEY};

#[tokio::test]
async fn the_official_openai_sdk_lists_models_chats_streams_embeds_and_gets_typed_errors() {
    let llm = FakeLlm::start().await;
    let app = spawn_app_env(&[("LLM_BASE_URL", &llm.base), ("LLM_API_KEY", KEY), ("LLM_MODELS", "fake-model")]).await;
    let (token, _) = app.bootstrap().await;
    let (kb, _) = seeded(&app, &token, None).await;
    let key = json(app.call(Method::POST, "/v1/api-keys", &token, None, Some(json!({"name": "sdk"}))).await).await;
    let secret = key["secret"].as_str().unwrap().to_owned();

    let python = std::env::var("LECTERN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = format!("{}/tests/python/openai_sdk.py", env!("CARGO_MANIFEST_DIR"));
    let base = app.url("/v1");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .env("LECTERN_BASE", base)
            .env("LECTERN_KEY", secret)
            .env("LECTERN_KB", kb)
            .env("LECTERN_UPSTREAM_MODEL", "fake-model")
            .output()
            .expect("python runs (the test command installs the openai SDK)")
    })
    .await
    .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "openai SDK checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ok"), "{stdout}");

    let upstream_calls = llm.requests.lock().unwrap().len();
    assert!(upstream_calls >= 3, "{upstream_calls}");

    // Admins see the providers (never their keys); others may not.
    let providers = json(app.call(Method::GET, "/v1/providers", &token, None, None).await).await;
    assert_eq!(providers["defaultModel"], "fake-model");
    let upstream = &providers["data"][1];
    assert_eq!((upstream["name"].as_str(), upstream["hasApiKey"].as_bool()), (Some("default"), Some(true)));
    assert_eq!(upstream["models"], json!(["fake-model"]));
    assert!(!providers.to_string().contains(KEY), "the upstream key is never shown");
    let tenant = json(app.call(Method::GET, "/v1/tenants", &token, None, None).await).await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = app
        .add_member(
            &crate::support::identity::Tenant { id: tenant, owner: token.clone() },
            "viewer@example.com",
            "viewer",
        )
        .await;
    assert_eq!(app.call(Method::GET, "/v1/providers", &viewer, None, None).await.status(), 403);
}

#[tokio::test]
async fn gateway_errors_use_the_openai_error_object() {
    let app = spawn_app_env(&[]).await;
    let (token, _) = app.bootstrap().await;
    let anonymous = app.get("/v1/models").await;
    assert_eq!(anonymous.status(), 401);
    let body = json(anonymous).await;
    assert_eq!(body["error"]["type"], "authentication_error", "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let bad = app
        .call(
            Method::POST,
            "/v1/chat/completions",
            &token,
            None,
            Some(json!({"model": "extractive", "messages": [], "temperature": 9})),
        )
        .await;
    assert_eq!(bad.status(), 400);
    let body = json(bad).await;
    assert_eq!(
        (body["error"]["type"].as_str(), body["error"]["param"].as_str()),
        (Some("invalid_request_error"), Some("temperature"))
    );
    let wrong_input = app.call(Method::POST, "/v1/embeddings", &token, None, Some(json!({"input": [[1, 2, 3]]}))).await;
    assert_eq!(json(wrong_input).await["error"]["param"], "input");
    // Other routes keep Lectern's own error shape.
    let native = json(app.call(Method::POST, "/v1/chat", &token, None, Some(json!({"message": ""}))).await).await;
    assert_eq!(native["error"], "INVALID_REQUEST");
    // Without an upstream, the extractive model answers and says it needs documents.
    let plain = json(
        app.call(
            Method::POST,
            "/v1/chat/completions",
            &token,
            None,
            Some(json!({"messages": [{"role": "user", "content": "hi"}]})),
        )
        .await,
    )
    .await;
    assert_eq!(plain["model"], "extractive");
    assert!(
        plain["choices"][0]["message"]["content"].as_str().unwrap().contains("only answers from documents"),
        "{plain}"
    );
}
