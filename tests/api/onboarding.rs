//! The README path for a new admin, over HTTP: bootstrap, log in, create a tenant, a site, an
//! invite, a second user, an API key, and check the key with /v1/auth/test.

use reqwest::Method;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

use crate::support::app::{json, spawn_app};
use crate::support::identity::{ADMIN_EMAIL, PASSWORD};

#[tokio::test]
async fn a_new_admin_gets_from_setup_to_a_working_api_key() {
    let app = spawn_app().await;

    let setup = app
        .post_json(
            "/v1/auth/setup",
            &json!({"email": ADMIN_EMAIL, "name": "Root Admin", "password": PASSWORD, "tenant": {"name": "Acme"}})
                .to_string(),
        )
        .await;
    assert_eq!(setup.status(), 201);
    let token = app.login(ADMIN_EMAIL, PASSWORD).await;

    let tenant =
        json(app.call(Method::POST, "/v1/tenants", &token, None, Some(json!({"name": "Globex Corp"}))).await).await;
    assert_eq!((tenant["slug"].as_str(), tenant["status"].as_str()), (Some("globex-corp"), Some("active")));
    let tenant_id = tenant["id"].as_str().unwrap();

    let site = app
        .call(
            Method::POST,
            "/v1/sites",
            &token,
            Some(tenant_id),
            Some(json!({"name": "Blog", "domains": ["blog.globex.test"], "locales": ["de"]})),
        )
        .await;
    assert_eq!(site.status(), 201);
    let site = json(site).await;
    assert_eq!(site["locales"], json!(["en", "de"]));

    let invite = app
        .call(
            Method::POST,
            "/v1/invites",
            &token,
            Some(tenant_id),
            Some(json!({"email": "Editor@Globex.test", "role": "editor"})),
        )
        .await;
    assert_eq!(invite.status(), 201);
    let invite = json(invite).await;
    let invite_token = invite["token"].as_str().unwrap();
    assert!(invite["acceptUrl"].as_str().unwrap().ends_with(invite_token));

    let preview = json(app.get(&format!("/v1/auth/invites/{invite_token}")).await).await;
    assert_eq!(preview["email"], "editor@globex.test");
    assert_eq!(preview["tenantName"], "Globex Corp");
    assert_eq!(preview["accountExists"], false);

    let accepted = app
        .post_json(
            &format!("/v1/auth/invites/{invite_token}/accept"),
            &json!({"name": "Eddie Editor", "password": "quiet lantern harbor"}).to_string(),
        )
        .await;
    assert_eq!(accepted.status(), 200);
    let editor = app.login("editor@globex.test", "quiet lantern harbor").await;
    let editor_sites = json(app.call(Method::GET, "/v1/sites", &editor, None, None).await).await;
    assert_eq!(editor_sites["data"][0]["id"], site["id"], "the editor works in Globex without choosing it");
    let used_again = app
        .post_json(
            &format!("/v1/auth/invites/{invite_token}/accept"),
            &json!({"name": "X", "password": PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(used_again.status(), 404, "an invitation works once");

    let key = app
        .call(
            Method::POST,
            "/v1/api-keys",
            &token,
            Some(tenant_id),
            Some(json!({"name": "CI deploys", "mode": "test", "scopes": ["sites.read"]})),
        )
        .await;
    assert_eq!(key.status(), 201);
    let key = json(key).await;
    let secret = key["secret"].as_str().unwrap();
    assert!(secret.starts_with("lk_test_"));
    assert_eq!(key["prefix"].as_str().unwrap(), &secret[..12]);

    let test = app.call(Method::GET, "/v1/auth/test", secret, None, None).await;
    assert_eq!(test.status(), 200);
    let test = json(test).await;
    assert_eq!(test["kind"], "api_key");
    assert_eq!(test["tenantId"], tenant_id);
    assert_eq!(test["testMode"], true);
    assert_eq!(test["permissions"], json!(["sites.read"]));

    let listed = json(app.call(Method::GET, "/v1/api-keys", &token, Some(tenant_id), None).await).await;
    assert_eq!(listed["data"][0]["name"], "CI deploys");
    assert!(listed["data"][0].get("secret").is_none(), "the secret is shown once");
    assert!(listed["data"][0]["lastUsedAt"].is_string(), "last use is recorded");

    // Every state change above left an audit event, with who did it.
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let events = entity::audit_event::Entity::find()
        .order_by_asc(entity::audit_event::Column::CreatedAt)
        .all(&db)
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "platform.setup",
        "auth.login",
        "tenant.create",
        "site.create",
        "invite.create",
        "invite.accept",
        "api_key.create",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let site_event = events.iter().find(|e| e.action == "site.create").unwrap();
    assert_eq!(site_event.actor_kind, "user");
    assert_eq!(site_event.tenant_id.map(|t| t.to_string()).as_deref(), Some(tenant_id));
    assert_eq!(site_event.target_id.as_deref(), site["id"].as_str());
    assert!(site_event.request_id.is_some() && site_event.ip.as_deref() == Some("127.0.0.1"), "{site_event:?}");
}
