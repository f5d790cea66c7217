//! The role matrix: each role against each guarded endpoint. The expectations are the product's
//! published role table, written out here on purpose rather than derived from the code.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app};

const ROLES: [&str; 5] = ["owner", "admin", "editor", "author", "viewer"];

#[tokio::test]
async fn each_role_gets_exactly_the_access_the_role_table_promises() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Matrix", "matrix-owner@example.com").await;
    let mut tokens = vec![("owner", tenant.owner.clone())];
    for role in &ROLES[1..] {
        tokens.push((role, app.add_member(&tenant, &format!("{role}@example.com"), role).await));
    }

    // (method, path, body, roles that may) — everything else must get 403.
    let tenant_path = format!("/v1/tenants/{}", tenant.id);
    let suspend_path = format!("{tenant_path}/suspend");
    let matrix: Vec<(Method, &str, Option<serde_json::Value>, &[&str])> = vec![
        (Method::GET, "/v1/sites", None, &ROLES),
        (Method::POST, "/v1/sites", Some(json!({"name": "Site"})), &["owner", "admin"]),
        (Method::GET, "/v1/members", None, &["owner", "admin", "editor"]),
        (Method::GET, "/v1/invites", None, &["owner", "admin"]),
        (Method::POST, "/v1/invites", Some(json!({"email": "new@example.com", "role": "viewer"})), &["owner", "admin"]),
        (Method::GET, "/v1/api-keys", None, &["owner", "admin"]),
        (Method::GET, "/v1/billing/balance", None, &["owner", "admin"]),
        (Method::GET, "/v1/billing/transactions", None, &["owner", "admin"]),
        (Method::POST, "/v1/api-keys", Some(json!({"name": "k"})), &["owner", "admin"]),
        (Method::GET, "/v1/webhooks", None, &["owner", "admin"]),
        (Method::GET, "/v1/webhooks/event-types", None, &["owner", "admin"]),
        (Method::GET, "/v1/audit-events", None, &["owner", "admin"]),
        (Method::GET, "/v1/analysis/schemas", None, &["owner", "admin", "editor"]),
        (Method::GET, "/v1/analysis/review", None, &["owner", "admin", "editor"]),
        (Method::PATCH, &tenant_path, Some(json!({"name": "Matrix"})), &["owner"]),
        (Method::POST, "/v1/tenants", Some(json!({"name": "Another"})), &[]),
        (Method::POST, &suspend_path, None, &[]),
    ];

    for (method, path, body, allowed) in &matrix {
        for (role, token) in &tokens {
            // A fresh email per call so repeated invites do not conflict.
            let body = body.clone().map(|mut b| {
                if b.get("email").is_some() {
                    b["email"] = json!(format!("new-{role}@example.com"));
                }
                if path.ends_with("/v1/sites") && b.get("name").is_some() {
                    b["name"] = json!(format!("Site of {role}"));
                }
                b
            });
            let response = app.call(method.clone(), path, token, None, body).await;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            if allowed.contains(role) {
                assert!((200..300).contains(&status), "{role} may {method} {path}, got {status}: {text}");
            } else {
                assert_eq!(status, 403, "{role} may not {method} {path}: {text}");
                let body: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(body["error"], "FORBIDDEN");
            }
        }
    }
}

#[tokio::test]
async fn nobody_grants_a_role_above_their_own_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Ranks", "ranks-owner@example.com").await;
    let admin = app.add_member(&tenant, "ranks-admin@example.com", "admin").await;

    let invite_owner = app
        .call(Method::POST, "/v1/invites", &admin, None, Some(json!({"email": "x@example.com", "role": "owner"})))
        .await;
    assert_eq!(invite_owner.status(), 403);
    assert_eq!(json(invite_owner).await["message"], "you cannot grant the `owner` role");

    let members = json(app.call(Method::GET, "/v1/members", &tenant.owner, None, None).await).await;
    let owner_id = members["data"].as_array().unwrap().iter().find(|m| m["role"] == "owner").unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let demote = app
        .call(Method::PATCH, &format!("/v1/members/{owner_id}"), &tenant.owner, None, Some(json!({"role": "admin"})))
        .await;
    assert_eq!(demote.status(), 409);
    assert_eq!(json(demote).await["message"], "a tenant needs at least one owner");
    let by_admin = app.call(Method::DELETE, &format!("/v1/members/{owner_id}"), &admin, None, None).await;
    assert_eq!(by_admin.status(), 403, "an admin cannot remove an owner");
}

#[tokio::test]
async fn site_limits_hide_other_sites_from_a_member() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Limits", "limits-owner@example.com").await;
    let blog = app.create("/v1/sites", &tenant.owner, &tenant.id, json!({"name": "Blog"})).await;
    let shop = app.create("/v1/sites", &tenant.owner, &tenant.id, json!({"name": "Shop"})).await;
    let invite = app
        .call(
            Method::POST,
            "/v1/invites",
            &tenant.owner,
            None,
            Some(json!({"email": "limited@example.com", "role": "editor", "siteIds": [blog]})),
        )
        .await;
    let token = json(invite).await["token"].as_str().unwrap().to_owned();
    let accepted = app
        .post_json(
            &format!("/v1/auth/invites/{token}/accept"),
            &json!({"name": "Lim Ited", "password": "quiet lantern harbor"}).to_string(),
        )
        .await;
    let limited = json(accepted).await["accessToken"].as_str().unwrap().to_owned();

    let sites = json(app.call(Method::GET, "/v1/sites", &limited, None, None).await).await;
    let ids: Vec<&str> = sites["data"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [blog.as_str()]);
    assert_eq!(app.call(Method::GET, &format!("/v1/sites/{shop}"), &limited, None, None).await.status(), 404);
    let perms = json(app.call(Method::GET, "/v1/auth/my-permissions", &limited, None, None).await).await;
    assert_eq!(perms["siteIds"], json!([blog]));
    assert_eq!(perms["role"], "editor");
}

#[tokio::test]
async fn authors_write_their_own_drafts_and_editors_publish() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let tenant = app.tenant_with_owner(&superadmin, "Newsroom", "news-owner@example.com").await;
    let site = app.create("/v1/sites", &tenant.owner, &tenant.id, json!({"name": "News"})).await;
    let editor = app.add_member(&tenant, "news-editor@example.com", "editor").await;
    let author = app.add_member(&tenant, "news-author@example.com", "author").await;
    let viewer = app.add_member(&tenant, "news-viewer@example.com", "viewer").await;
    let entries = format!("/v1/sites/{site}/entries");
    let status = |response: reqwest::Response| response.status().as_u16();

    let own = app.create(&entries, &author, "", json!({"type": "post", "title": "My draft"})).await;
    let theirs = app.create(&entries, &editor, "", json!({"type": "post", "title": "Editor's"})).await;
    let patch = |id: &str| (format!("{entries}/{id}"), Some(json!({"title": "Changed"})));
    let (own_path, body) = patch(&own);
    assert_eq!(status(app.call(Method::PATCH, &own_path, &author, None, body.clone()).await), 200);
    let (their_path, _) = patch(&theirs);
    assert_eq!(status(app.call(Method::PATCH, &their_path, &author, None, body.clone()).await), 403);
    assert_eq!(status(app.call(Method::DELETE, &their_path, &author, None, None).await), 403);
    assert_eq!(status(app.call(Method::POST, &format!("{own_path}/publish"), &author, None, None).await), 403);
    let published = app
        .call(
            Method::POST,
            &entries,
            &author,
            None,
            Some(json!({"type": "post", "title": "Live", "status": "published"})),
        )
        .await;
    assert_eq!(status(published), 403, "authors cannot publish on creation either");
    assert_eq!(status(app.call(Method::POST, &format!("{own_path}/publish"), &editor, None, None).await), 200);
    // Published: no longer the author's to change.
    assert_eq!(status(app.call(Method::PATCH, &own_path, &author, None, body.clone()).await), 403);
    assert_eq!(status(app.call(Method::PATCH, &own_path, &editor, None, body).await), 200);

    assert_eq!(status(app.call(Method::GET, &entries, &viewer, None, None).await), 200);
    let by_viewer = app.call(Method::POST, &entries, &viewer, None, Some(json!({"type": "post", "title": "No"}))).await;
    assert_eq!(status(by_viewer), 403);
    let element = Some(json!({"name": "Box", "kind": "cta"}));
    let elements = format!("/v1/sites/{site}/elements");
    assert_eq!(status(app.call(Method::POST, &elements, &author, None, element.clone()).await), 403);
    assert_eq!(status(app.call(Method::POST, &elements, &editor, None, element).await), 201);
    let content_type = Some(json!({"name": "Event"}));
    assert_eq!(status(app.call(Method::POST, "/v1/content-types", &editor, None, content_type.clone()).await), 403);
    assert_eq!(
        status(app.call(Method::POST, "/v1/content-types", &tenant.owner, Some(&tenant.id), content_type).await),
        201
    );
    let folders = format!("/v1/sites/{site}/media-folders");
    assert_eq!(status(app.call(Method::POST, &folders, &viewer, None, Some(json!({"name": "x"}))).await), 403);
    assert_eq!(status(app.call(Method::POST, &folders, &author, None, Some(json!({"name": "x"}))).await), 201);
    let stats = format!("/v1/sites/{site}/stats");
    assert_eq!(status(app.call(Method::GET, &stats, &editor, None, None).await), 403);
    assert_eq!(status(app.call(Method::GET, &stats, &tenant.owner, Some(&tenant.id), None).await), 200);
}
