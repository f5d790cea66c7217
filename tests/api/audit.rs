//! The audit log API: changes across areas are recorded with actor, request id and address,
//! filtered and exported; only admins read it, and only their tenant's.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app};

#[tokio::test]
async fn state_changes_are_listed_filtered_and_exported_for_admins_only() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Audited", "audit-owner@example.com").await;
    let site = app.create("/v1/sites", &tenant.owner, "", json!({"name": "Blog"})).await;
    let entry = app
        .create(&format!("/v1/sites/{site}/entries"), &tenant.owner, "", json!({"type": "post", "title": "Hi"}))
        .await;
    let published = app
        .client
        .post(app.url(&format!("/v1/sites/{site}/entries/{entry}/publish")))
        .bearer_auth(&tenant.owner)
        .header("X-Request-ID", "audit-trail-1")
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 200);
    app.create("/v1/knowledge-bases", &tenant.owner, "", json!({"name": "Docs"})).await;

    let list = |query: &str| {
        let path = format!("/v1/audit-events{query}");
        let token = tenant.owner.clone();
        let app = &app;
        async move { json(app.call(Method::GET, &path, &token, None, None).await).await }
    };
    let all = list("").await;
    let actions: Vec<&str> = all["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["site.create", "entry.create", "entry.publish", "kb.create"] {
        assert!(actions.iter().any(|a| a.starts_with(expected.split('.').next().unwrap())), "{expected}: {actions:?}");
    }
    let publish = list("?action=entry.publish").await;
    assert_eq!(publish["pagination"]["total"], 1, "{publish}");
    let event = &publish["data"][0];
    assert_eq!(event["requestId"], "audit-trail-1");
    assert_eq!(event["targetId"], entry.as_str());
    assert_eq!(event["actorKind"], "user");
    assert!(event["ip"].as_str().is_some_and(|ip| ip.contains("127.0.0.1")), "{event}");
    let entries = list("?action=entry.*").await;
    assert_eq!(entries["pagination"]["total"], 2);
    let by_target = list(&format!("?target=entry:{entry}")).await;
    assert_eq!(by_target["pagination"]["total"], 2);
    let none = list("?from=2020-01-01&to=2020-01-02").await;
    assert_eq!(none["pagination"]["total"], 0);
    let bad = app.call(Method::GET, "/v1/audit-events?from=yesterday", &tenant.owner, None, None).await;
    assert_eq!(bad.status(), 400);

    let csv = app.call(Method::GET, "/v1/audit-events.csv?action=entry.*", &tenant.owner, None, None).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("id,created_at,actor_kind"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");

    // Editors do not read the audit log; another tenant's events are not in this one's.
    let editor = app.add_member(&tenant, "audit-editor@example.com", "editor").await;
    assert_eq!(app.call(Method::GET, "/v1/audit-events", &editor, None, None).await.status(), 403);
    let other = app.tenant_with_owner(&superadmin, "Other", "other-owner@example.com").await;
    let theirs = json(app.call(Method::GET, "/v1/audit-events?action=entry.*", &other.owner, None, None).await).await;
    assert_eq!(theirs["pagination"]["total"], 0);
}
