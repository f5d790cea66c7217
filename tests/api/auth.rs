//! Setup, login, tokens, sessions and the caller's own profile.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app};
use crate::support::identity::{ADMIN_EMAIL, PASSWORD};

#[tokio::test]
async fn setup_runs_once_and_setup_status_reports_it() {
    let app = spawn_app().await;
    let before = json(app.get("/v1/auth/setup-status").await).await;
    assert_eq!(
        before,
        json!({"bootstrapped": false, "providers": ["password"], "oauthProviders": [], "signupMode": "invite"})
    );
    app.bootstrap().await;
    assert_eq!(json(app.get("/v1/auth/setup-status").await).await["bootstrapped"], true);

    let again = app
        .post_json(
            "/v1/auth/setup",
            &json!({"email": "x@example.com", "name": "X", "password": PASSWORD, "tenant": {"name": "T"}}).to_string(),
        )
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(json(again).await["error"], "CONFLICT");
}

#[tokio::test]
async fn setup_rejects_weak_passwords_and_bad_emails_and_writes_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "ann@example.com", "name": "Ann", "password": "short", "tenant": {"name": "T"}}),
            "password",
            "must be at least 10 characters",
        ),
        (
            json!({"email": "ann.smith@example.com", "name": "Ann", "password": "ann.smith-1234", "tenant": {"name": "T"}}),
            "password",
            "must not contain your email address or name",
        ),
        (
            json!({"email": "not-an-email", "name": "Ann", "password": PASSWORD, "tenant": {"name": "T"}}),
            "email",
            "is not an email address",
        ),
        (
            json!({"email": "ann@example.com", "name": "Ann", "password": PASSWORD, "tenant": {"name": "T", "slug": "Bad Slug"}}),
            "tenant.slug",
            "must be 1–63 lower-case letters, digits or hyphens, not starting or ending with a hyphen",
        ),
    ];
    for (body, field, reason) in cases {
        let response = app.post_json("/v1/auth/setup", &body.to_string()).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(json(response).await["details"], json!({"field": field, "reason": reason}), "{body}");
    }
    assert_eq!(json(app.get("/v1/auth/setup-status").await).await["bootstrapped"], false, "nothing half-written");
}

#[tokio::test]
async fn a_wrong_email_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.bootstrap().await;
    let mut bodies = Vec::new();
    for (email, password) in [(ADMIN_EMAIL, "wrong password!!"), ("nobody@example.com", PASSWORD)] {
        let response =
            app.post_json("/v1/auth/login", &json!({"email": email, "password": password}).to_string()).await;
        assert_eq!(response.status(), 401);
        let mut body = json(response).await;
        body.as_object_mut().unwrap().remove("requestId");
        bodies.push(body);
    }
    assert_eq!(bodies[0], json!({"error": "UNAUTHORIZED", "message": "email or password is wrong", "details": null}));
    assert_eq!(bodies[0], bodies[1]);
}

#[tokio::test]
async fn repeated_failures_slow_the_account_down_with_429_and_retry_after() {
    let app = spawn_app().await;
    app.bootstrap().await;
    let guess = json!({"email": ADMIN_EMAIL, "password": "guess guess guess"}).to_string();
    let attempt = || app.post_json("/v1/auth/login", &guess);
    for _ in 0..5 {
        assert_eq!(attempt().await.status(), 401);
    }
    let blocked = attempt().await;
    assert_eq!(blocked.status(), 429);
    assert!(blocked.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(json(blocked).await["error"], "RATE_LIMIT_EXCEEDED");
    // Even the right password waits until the backoff has passed.
    let right = app.post_json("/v1/auth/login", &json!({"email": ADMIN_EMAIL, "password": PASSWORD}).to_string()).await;
    assert_eq!(right.status(), 429);
}

#[tokio::test]
async fn refresh_rotates_and_reusing_an_old_token_ends_the_whole_session() {
    let app = spawn_app().await;
    app.bootstrap().await;
    let login =
        json(app.post_json("/v1/auth/login", &json!({"email": ADMIN_EMAIL, "password": PASSWORD}).to_string()).await)
            .await;
    let first = login["refreshToken"].as_str().unwrap().to_owned();

    let refreshed = app.post_json("/v1/auth/refresh", &json!({"refreshToken": first}).to_string()).await;
    assert_eq!(refreshed.status(), 200);
    let refreshed = json(refreshed).await;
    let second = refreshed["refreshToken"].as_str().unwrap().to_owned();
    let access = refreshed["accessToken"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(app.call(Method::GET, "/v1/auth/me", &access, None, None).await.status(), 200);

    let reuse = app.post_json("/v1/auth/refresh", &json!({"refreshToken": first}).to_string()).await;
    assert_eq!(reuse.status(), 401);
    let after_reuse = app.post_json("/v1/auth/refresh", &json!({"refreshToken": second}).to_string()).await;
    assert_eq!(after_reuse.status(), 401, "the newest token of the family is revoked too");
    let me = app.call(Method::GET, "/v1/auth/me", &access, None, None).await;
    assert_eq!(me.status(), 401, "and so are its access tokens");
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    assert_eq!(app.call(Method::POST, "/v1/auth/logout", &token, None, None).await.status(), 204);
    let me = app.call(Method::GET, "/v1/auth/me", &token, None, None).await;
    assert_eq!(me.status(), 401);
    assert_eq!(json(me).await["message"], "the session has ended; log in again");
}

#[tokio::test]
async fn forged_expired_and_garbage_tokens_are_401() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let sign = |claims: &serde_json::Value, secret: &[u8]| {
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &jsonwebtoken::EncodingKey::from_secret(secret))
            .unwrap()
    };
    let forged = sign(&claims, b"a secret that is not the server's one");
    let key = std::fs::read(app.data_dir.path().join("secrets/jwt.key")).unwrap();
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(chrono::Utc::now().timestamp() - 10);
    let expired = sign(&expired_claims, &key);

    for (bad, message) in [
        (forged.as_str(), "the access token is invalid"),
        (expired.as_str(), "the access token has expired"),
        ("garbage", "the access token is invalid"),
        ("lk_live_notakey", "the API key is invalid, revoked or expired"),
    ] {
        let response = app.call(Method::GET, "/v1/auth/me", bad, None, None).await;
        assert_eq!(response.status(), 401, "{message}");
        assert_eq!(json(response).await["message"], message);
    }
    let missing = app.get("/v1/auth/me").await;
    assert_eq!(missing.status(), 401);
    assert!(json(missing).await["message"].as_str().unwrap().starts_with("authentication required"));
}

#[tokio::test]
async fn me_shows_memberships_and_profile_changes_stick() {
    let app = spawn_app().await;
    let (token, tenant) = app.bootstrap().await;
    let me = json(app.call(Method::GET, "/v1/auth/me", &token, None, None).await).await;
    assert_eq!(me["user"]["email"], ADMIN_EMAIL);
    assert_eq!(me["user"]["isSuperadmin"], true);
    assert_eq!(me["memberships"][0]["tenantId"], tenant.id);
    assert_eq!(me["memberships"][0]["role"], "owner");
    assert!(me["user"].get("passwordHash").is_none());

    let patched =
        app.call(Method::PATCH, "/v1/auth/me", &token, None, Some(json!({"name": "Renamed", "locale": "pt-BR"}))).await;
    assert_eq!(patched.status(), 200);
    let me = json(app.call(Method::GET, "/v1/auth/me", &token, None, None).await).await;
    assert_eq!((me["user"]["name"].as_str(), me["user"]["locale"].as_str()), (Some("Renamed"), Some("pt-BR")));
    let bad = app.call(Method::PATCH, "/v1/auth/me", &token, None, Some(json!({"locale": "Portuguese"}))).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json(bad).await["details"]["field"], "locale");
    let cleared = app.call(Method::PATCH, "/v1/auth/me", &token, None, Some(json!({"locale": null}))).await;
    assert_eq!(json(cleared).await["locale"], serde_json::Value::Null);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_the_new_one_works() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let wrong = app
        .call(
            Method::POST,
            "/v1/auth/password",
            &token,
            None,
            Some(json!({"currentPassword": "not it at all", "newPassword": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(json(wrong).await["details"]["field"], "currentPassword");
    let ok = app
        .call(
            Method::POST,
            "/v1/auth/password",
            &token,
            None,
            Some(json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(ok.status(), 204);
    assert_eq!(app.call(Method::GET, "/v1/auth/me", &token, None, None).await.status(), 401);
    let old = app.post_json("/v1/auth/login", &json!({"email": ADMIN_EMAIL, "password": PASSWORD}).to_string()).await;
    assert_eq!(old.status(), 401);
    app.login(ADMIN_EMAIL, "a brand new passphrase").await;
}
