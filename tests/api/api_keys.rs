//! API keys: scopes, revocation, test mode, suspension.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app};

#[tokio::test]
async fn a_key_is_limited_to_its_scopes_and_scopes_never_exceed_the_creator() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Keys", "keys-owner@example.com").await;
    let admin = app.add_member(&tenant, "keys-admin@example.com", "admin").await;

    let too_wide = app
        .call(Method::POST, "/v1/api-keys", &admin, None, Some(json!({"name": "k", "scopes": ["billing.manage"]})))
        .await;
    assert_eq!(too_wide.status(), 400);
    assert_eq!(
        json(too_wide).await["details"],
        json!({"field": "scopes", "reason": "you do not hold `billing.manage` yourself"})
    );
    let unknown = app
        .call(Method::POST, "/v1/api-keys", &admin, None, Some(json!({"name": "k", "scopes": ["everything"]})))
        .await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(json(unknown).await["details"]["field"], "scopes[0]");

    let key = json(
        app.call(Method::POST, "/v1/api-keys", &admin, None, Some(json!({"name": "reader", "scopes": ["sites.read"]})))
            .await,
    )
    .await;
    let secret = key["secret"].as_str().unwrap();
    assert!(secret.starts_with("lk_live_"));
    assert_eq!(app.call(Method::GET, "/v1/sites", secret, None, None).await.status(), 200);
    let write = app.call(Method::POST, "/v1/sites", secret, None, Some(json!({"name": "Nope"}))).await;
    assert_eq!(write.status(), 403);
    assert_eq!(json(write).await["details"], json!({"permission": "sites.manage"}));

    let id = key["id"].as_str().unwrap();
    let widened = app
        .call(
            Method::PATCH,
            &format!("/v1/api-keys/{id}"),
            &admin,
            None,
            Some(json!({"scopes": ["sites.read", "sites.manage"], "name": "writer"})),
        )
        .await;
    assert_eq!(widened.status(), 200);
    assert_eq!(json(widened).await["name"], "writer");
    assert_eq!(app.call(Method::POST, "/v1/sites", secret, None, Some(json!({"name": "Now yes"}))).await.status(), 201);
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = spawn_app().await;
    let (_, tenant) = app.bootstrap().await;
    let key = json(
        app.call(Method::POST, "/v1/api-keys", &tenant.owner, Some(&tenant.id), Some(json!({"name": "short-lived"})))
            .await,
    )
    .await;
    let secret = key["secret"].as_str().unwrap();
    assert_eq!(app.call(Method::GET, "/v1/auth/test", secret, None, None).await.status(), 200);
    let id = key["id"].as_str().unwrap();
    assert_eq!(
        app.call(Method::DELETE, &format!("/v1/api-keys/{id}"), &tenant.owner, Some(&tenant.id), None).await.status(),
        204
    );
    let after = app.call(Method::GET, "/v1/auth/test", secret, None, None).await;
    assert_eq!(after.status(), 401);
    assert_eq!(json(after).await["message"], "the API key is invalid, revoked or expired");
    assert_eq!(
        app.call(Method::GET, &format!("/v1/api-keys/{id}"), &tenant.owner, Some(&tenant.id), None).await.status(),
        404
    );
    let past = app
        .call(
            Method::POST,
            "/v1/api-keys",
            &tenant.owner,
            Some(&tenant.id),
            Some(json!({"name": "old", "expiresAt": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(past.status(), 400);
}

#[tokio::test]
async fn a_suspended_tenant_locks_out_its_keys_and_members_until_resumed() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Sleepy", "sleepy-owner@example.com").await;
    let key = json(app.call(Method::POST, "/v1/api-keys", &tenant.owner, None, Some(json!({"name": "k"}))).await).await;
    let secret = key["secret"].as_str().unwrap().to_owned();

    let suspended =
        app.call(Method::POST, &format!("/v1/tenants/{}/suspend", tenant.id), &superadmin, None, None).await;
    assert_eq!(json(suspended).await["status"], "suspended");
    for token in [&secret, &tenant.owner] {
        let response = app.call(Method::GET, "/v1/sites", token, None, None).await;
        assert_eq!(response.status(), 403);
        assert_eq!(json(response).await["message"], "this tenant is suspended");
    }
    app.call(Method::POST, &format!("/v1/tenants/{}/resume", tenant.id), &superadmin, None, None).await;
    assert_eq!(app.call(Method::GET, "/v1/sites", &secret, None, None).await.status(), 200);
}

#[tokio::test]
async fn a_tenant_with_content_cannot_be_deleted_but_an_empty_one_can() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let full = app.tenant_with_owner(&superadmin, "Full", "full-owner@example.com").await;
    app.create("/v1/sites", &full.owner, &full.id, json!({"name": "Main"})).await;
    let refused = app.call(Method::DELETE, &format!("/v1/tenants/{}", full.id), &superadmin, None, None).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(json(refused).await["details"], json!({"sites": 1, "apiKeys": 0}));

    let empty =
        json(app.call(Method::POST, "/v1/tenants", &superadmin, None, Some(json!({"name": "Empty"}))).await).await;
    let id = empty["id"].as_str().unwrap();
    assert_eq!(app.call(Method::DELETE, &format!("/v1/tenants/{id}"), &superadmin, None, None).await.status(), 204);
    assert_eq!(app.call(Method::GET, &format!("/v1/tenants/{id}"), &superadmin, None, None).await.status(), 404);
    let dup = app.call(Method::POST, "/v1/tenants", &superadmin, None, Some(json!({"name": "Full"}))).await;
    assert_eq!(dup.status(), 409, "slugs are unique");
}
