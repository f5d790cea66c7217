//! Groups give their members a role and site limits on top of their own membership.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app};

#[tokio::test]
async fn a_group_role_adds_to_its_members_access_and_leaving_takes_it_away() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Teams", "teams-owner@example.com").await;
    let viewer = app.add_member(&tenant, "viewer@example.com", "viewer").await;
    let viewer_id = json(app.call(Method::GET, "/v1/auth/me", &viewer, None, None).await).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let denied = app.call(Method::POST, "/v1/sites", &viewer, None, Some(json!({"name": "Before"}))).await;
    assert_eq!(denied.status(), 403);

    let group =
        app.create("/v1/groups", &tenant.owner, &tenant.id, json!({"name": "Site admins", "role": "admin"})).await;
    let added = app
        .call(
            Method::POST,
            &format!("/v1/groups/{group}/members"),
            &tenant.owner,
            None,
            Some(json!({"userId": viewer_id})),
        )
        .await;
    assert_eq!(added.status(), 200);
    assert_eq!(json(added).await["memberIds"], json!([viewer_id]));

    let perms = json(app.call(Method::GET, "/v1/auth/my-permissions", &viewer, None, None).await).await;
    assert_eq!(perms["role"], "viewer", "the own role is unchanged");
    assert_eq!(perms["groups"], json!([group]));
    assert_eq!(perms["tenants"][0]["tenantId"], tenant.id.as_str(), "the tenants the caller can act in");
    assert_eq!(perms["tenants"][0]["tenantName"], "Teams");
    assert!(perms["permissions"].as_array().unwrap().contains(&json!("sites.manage")));
    assert_eq!(app.call(Method::POST, "/v1/sites", &viewer, None, Some(json!({"name": "Now"}))).await.status(), 201);

    let removed =
        app.call(Method::DELETE, &format!("/v1/groups/{group}/members/{viewer_id}"), &tenant.owner, None, None).await;
    assert_eq!(removed.status(), 204);
    assert_eq!(app.call(Method::POST, "/v1/sites", &viewer, None, Some(json!({"name": "After"}))).await.status(), 403);
}

#[tokio::test]
async fn groups_are_validated_and_scoped_to_the_tenant() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let a = app.tenant_with_owner(&superadmin, "A", "a-owner@example.com").await;
    let b = app.tenant_with_owner(&superadmin, "B", "b-owner@example.com").await;
    let admin = app.add_member(&a, "a-admin@example.com", "admin").await;
    let b_user = app.add_member(&b, "b-user@example.com", "viewer").await;
    let b_user_id = json(app.call(Method::GET, "/v1/auth/me", &b_user, None, None).await).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let owners =
        app.call(Method::POST, "/v1/groups", &admin, None, Some(json!({"name": "Owners", "role": "owner"}))).await;
    assert_eq!(owners.status(), 403, "an admin cannot make a group of owners");
    let group = app.create("/v1/groups", &a.owner, &a.id, json!({"name": "Editors", "role": "editor"})).await;
    let dup =
        app.call(Method::POST, "/v1/groups", &a.owner, None, Some(json!({"name": "Editors", "role": "viewer"}))).await;
    assert_eq!(dup.status(), 409);
    let outsider = app
        .call(Method::POST, &format!("/v1/groups/{group}/members"), &a.owner, None, Some(json!({"userId": b_user_id})))
        .await;
    assert_eq!(outsider.status(), 404, "someone of another tenant cannot join");
    assert_eq!(app.call(Method::GET, &format!("/v1/groups/{group}"), &b.owner, None, None).await.status(), 404);
    assert_eq!(app.call(Method::DELETE, &format!("/v1/groups/{group}"), &b.owner, None, None).await.status(), 404);

    let renamed = app
        .call(
            Method::PATCH,
            &format!("/v1/groups/{group}"),
            &a.owner,
            None,
            Some(json!({"name": "Writers", "role": "author"})),
        )
        .await;
    assert_eq!(json(renamed).await["role"], "author");
    let listed = json(app.call(Method::GET, "/v1/groups", &a.owner, None, None).await).await;
    assert_eq!(listed["data"][0]["name"], "Writers");
    assert_eq!(app.call(Method::DELETE, &format!("/v1/groups/{group}"), &a.owner, None, None).await.status(), 204);
}
