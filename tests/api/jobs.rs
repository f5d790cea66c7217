//! `/v1/jobs`: every kind of job is seen and cancelled with the permissions of its own area.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app};

async fn key(app: &crate::support::app::TestApp, owner: &str, scopes: Value) -> String {
    let created =
        app.call(Method::POST, "/v1/api-keys", owner, None, Some(json!({"name": "k", "scopes": scopes}))).await;
    assert_eq!(created.status(), 201);
    json(created).await["secret"].as_str().unwrap().to_owned()
}

async fn kinds(app: &crate::support::app::TestApp, token: &str) -> Vec<String> {
    let listed = json(app.call(Method::GET, "/v1/jobs", token, None, None).await).await;
    let mut kinds: Vec<String> =
        listed["data"].as_array().unwrap().iter().map(|j| j["kind"].as_str().unwrap().to_owned()).collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn each_job_kind_is_visible_and_cancellable_only_with_its_areas_permissions() {
    let app = spawn_app().await;
    let (owner, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &owner, "", json!({"name": "Manuals"})).await;
    let added = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &owner,
            None,
            Some(json!({"text": "# Runbook\n\nRestart with care.", "title": "runbook.md"})),
        )
        .await;
    assert_eq!(added.status(), 202);
    let ingest = json(added).await["job"]["id"].as_str().unwrap().to_owned();
    let site = app.create("/v1/sites", &owner, "", json!({"name": "Docs"})).await;
    let reindex = app.call(Method::POST, &format!("/v1/sites/{site}/search/reindex"), &owner, None, None).await;
    assert_eq!(reindex.status(), 202);
    let reindex = json(reindex).await["id"].as_str().unwrap().to_owned();

    assert_eq!(kinds(&app, &owner).await, ["ingest_document", "reindex_site"], "the owner sees every kind");

    let sites_reader = key(&app, &owner, json!(["sites.read"])).await;
    assert_eq!(kinds(&app, &sites_reader).await, ["reindex_site"]);
    assert_eq!(app.call(Method::GET, &format!("/v1/jobs/{reindex}"), &sites_reader, None, None).await.status(), 200);
    let hidden = app.call(Method::GET, &format!("/v1/jobs/{ingest}"), &sites_reader, None, None).await;
    assert_eq!(hidden.status(), 403);
    assert_eq!(json(hidden).await["details"], json!({"permission": "kb.read"}));

    let kb_reader = key(&app, &owner, json!(["kb.read"])).await;
    assert_eq!(kinds(&app, &kb_reader).await, ["ingest_document"]);
    let cancel = app.call(Method::POST, &format!("/v1/jobs/{ingest}/cancel"), &kb_reader, None, None).await;
    assert_eq!(cancel.status(), 403, "reading is not cancelling");
    assert_eq!(json(cancel).await["details"], json!({"permission": "kb.write"}));
    let cancel = app.call(Method::POST, &format!("/v1/jobs/{reindex}/cancel"), &sites_reader, None, None).await;
    assert_eq!(json(cancel).await["details"], json!({"permission": "sites.manage"}));

    let billing_only = key(&app, &owner, json!(["billing.read"])).await;
    let refused = app.call(Method::GET, "/v1/jobs", &billing_only, None, None).await;
    assert_eq!(refused.status(), 403, "no kind of job is visible with billing.read alone");
}
