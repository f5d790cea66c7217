//! Sign-up modes (off, invite, open, approval), the waitlist, password reset and mail.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app, spawn_app_env};
use crate::support::identity::{ADMIN_EMAIL, PASSWORD};

fn signup_body(email: &str) -> String {
    json!({"email": email, "name": "Sam Signup", "password": PASSWORD}).to_string()
}

#[tokio::test]
async fn sign_up_is_refused_when_off_or_invite_only() {
    for (mode, message) in [("off", "sign-up is closed on this server"), ("invite", "sign-up is by invitation only")] {
        let app = spawn_app_env(&[("LECTERN_SIGNUP_MODE", mode)]).await;
        let response = app.post_json("/v1/auth/signup", &signup_body("sam@example.com")).await;
        assert_eq!(response.status(), 403, "{mode}");
        assert_eq!(json(response).await["message"], message);
        assert_eq!(json(app.get("/v1/auth/setup-status").await).await["signupMode"], mode);
    }
}

#[tokio::test]
async fn open_sign_up_creates_the_account_with_its_own_tenant() {
    let app = spawn_app_env(&[("LECTERN_SIGNUP_MODE", "open")]).await;
    let response = app.post_json("/v1/auth/signup", &signup_body("sam@example.com")).await;
    assert_eq!(response.status(), 201);
    let body = json(response).await;
    assert_eq!(body["status"], "active");
    let token = body["tokens"]["accessToken"].as_str().unwrap();
    let me = json(app.call(Method::GET, "/v1/auth/me", token, None, None).await).await;
    assert_eq!(me["memberships"][0]["role"], "owner");
    assert_eq!(me["memberships"][0]["tenantName"], "Sam Signup's workspace");
    assert_eq!(me["user"]["isSuperadmin"], false);
    let again = app.post_json("/v1/auth/signup", &signup_body("SAM@example.com")).await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn approval_mode_waits_for_a_superadmin() {
    let app = spawn_app_env(&[("LECTERN_SIGNUP_MODE", "approval")]).await;
    let (superadmin, _) = app.bootstrap().await;
    let pending = app.post_json("/v1/auth/signup", &signup_body("wait@example.com")).await;
    assert_eq!(pending.status(), 202);
    let id = json(pending).await["waitlistId"].as_str().unwrap().to_owned();
    let early =
        app.post_json("/v1/auth/login", &json!({"email": "wait@example.com", "password": PASSWORD}).to_string()).await;
    assert_eq!(early.status(), 401, "no account before approval");

    let list = json(app.call(Method::GET, "/v1/waitlist", &superadmin, None, None).await).await;
    assert_eq!(list["data"][0]["email"], "wait@example.com");
    assert!(list["data"][0].get("passwordHash").is_none());
    let approved = app.call(Method::POST, &format!("/v1/waitlist/{id}/approve"), &superadmin, None, None).await;
    assert_eq!(json(approved).await["status"], "approved");
    app.login("wait@example.com", PASSWORD).await;
    let twice = app.call(Method::POST, &format!("/v1/waitlist/{id}/reject"), &superadmin, None, None).await;
    assert_eq!(twice.status(), 409);

    let other = json(app.post_json("/v1/auth/signup", &signup_body("nope@example.com")).await).await;
    let other_id = other["waitlistId"].as_str().unwrap();
    let owner_token = app.login("wait@example.com", PASSWORD).await;
    let not_admin = app.call(Method::POST, &format!("/v1/waitlist/{other_id}/approve"), &owner_token, None, None).await;
    assert_eq!(not_admin.status(), 403);
    app.call(Method::POST, &format!("/v1/waitlist/{other_id}/reject"), &superadmin, None, None).await;
    let rejected =
        app.post_json("/v1/auth/login", &json!({"email": "nope@example.com", "password": PASSWORD}).to_string()).await;
    assert_eq!(rejected.status(), 401);
}

#[tokio::test]
async fn a_password_reset_link_arrives_by_smtp_and_works_once() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let unknown = app.post_json("/v1/auth/password-reset", &json!({"email": "ghost@example.com"}).to_string()).await;
    assert_eq!(unknown.status(), 202, "the answer does not reveal whether the account exists");
    let known = app.post_json("/v1/auth/password-reset", &json!({"email": ADMIN_EMAIL}).to_string()).await;
    assert_eq!(known.status(), 202);

    let mail = app.mail.message_to(ADMIN_EMAIL).await;
    assert!(mail.data.contains("Subject: Reset your Lectern password"), "{}", mail.data);
    let reset_token = mail.data.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert_eq!(app.mail.count_to("ghost@example.com"), 0);

    let weak = app
        .post_json(
            "/v1/auth/password-reset/confirm",
            &json!({"token": reset_token, "newPassword": "short"}).to_string(),
        )
        .await;
    assert_eq!(weak.status(), 400);
    assert_eq!(json(weak).await["details"]["field"], "newPassword");
    let ok = app
        .post_json(
            "/v1/auth/password-reset/confirm",
            &json!({"token": reset_token, "newPassword": "a reset passphrase"}).to_string(),
        )
        .await;
    assert_eq!(ok.status(), 204);
    assert_eq!(app.call(Method::GET, "/v1/auth/me", &token, None, None).await.status(), 401, "old sessions end");
    app.login(ADMIN_EMAIL, "a reset passphrase").await;
    let reuse = app
        .post_json(
            "/v1/auth/password-reset/confirm",
            &json!({"token": reset_token, "newPassword": "another passphrase"}).to_string(),
        )
        .await;
    assert_eq!(reuse.status(), 400);
    assert_eq!(json(reuse).await["details"]["field"], "token");
}

#[tokio::test]
async fn an_invitation_is_mailed_with_its_link() {
    let app = spawn_app().await;
    let (_, tenant) = app.bootstrap().await;
    let invite = json(
        app.call(
            Method::POST,
            "/v1/invites",
            &tenant.owner,
            None,
            Some(json!({"email": "guest@example.com", "role": "viewer"})),
        )
        .await,
    )
    .await;
    let mail = app.mail.message_to("guest@example.com").await;
    assert!(mail.data.contains("Subject: You are invited to First Tenant on Lectern"), "{}", mail.data);
    assert!(mail.data.contains(invite["acceptUrl"].as_str().unwrap()), "{}", mail.data);
}
