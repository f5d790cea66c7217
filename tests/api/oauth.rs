//! Login with an OpenID Connect provider and with GitHub, against a local provider that speaks
//! the real protocol (PKCE, state, nonce, signed ID tokens).

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app_env, TestApp};
use crate::support::fake_oauth::{FakeProvider, Identity, CLIENT_ID, CLIENT_SECRET};
use crate::support::identity::PASSWORD;

async fn app_with_providers(signup_mode: &str) -> (TestApp, FakeProvider) {
    let fake = FakeProvider::start().await;
    let api = format!("{}/api", fake.base);
    let app = spawn_app_env(&[
        ("LECTERN_SIGNUP_MODE", signup_mode),
        ("LECTERN_OIDC_ISSUER", &fake.base),
        ("LECTERN_OIDC_CLIENT_ID", CLIENT_ID),
        ("LECTERN_OIDC_CLIENT_SECRET", CLIENT_SECRET),
        ("LECTERN_OIDC_NAME", "Test SSO"),
        ("LECTERN_OAUTH_GITHUB_CLIENT_ID", CLIENT_ID),
        ("LECTERN_OAUTH_GITHUB_CLIENT_SECRET", CLIENT_SECRET),
        ("LECTERN_OAUTH_GITHUB_URL", &fake.base),
        ("LECTERN_OAUTH_GITHUB_API_URL", &api),
    ])
    .await;
    (app, fake)
}

fn person(email: &str, verified: bool) -> Identity {
    Identity {
        sub: "1001".to_owned(),
        email: email.to_owned(),
        email_verified: verified,
        name: "Pat Provider".to_owned(),
    }
}

/// The browser's part: our start URL, the provider's consent, back to our callback.
async fn browser_login(
    app: &TestApp,
    fake: &FakeProvider,
    provider: &str,
    who: Identity,
    start_query: &str,
) -> reqwest::Response {
    fake.log_in_as(who);
    let start = app.get(&format!("/v1/auth/oauth/{provider}/start{start_query}")).await;
    assert_eq!(start.status(), 302, "start");
    let to_provider = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(to_provider.starts_with(&fake.base), "{to_provider}");
    let consent = app.client.get(&to_provider).send().await.unwrap();
    assert_eq!(consent.status(), 302, "provider consent: {}", consent.text().await.unwrap_or_default());
    let back = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(back.path(), format!("/v1/auth/oauth/{provider}/callback"));
    app.get(&format!("{}?{}", back.path(), back.query().unwrap())).await
}

#[tokio::test]
async fn configured_providers_are_listed_for_the_login_page() {
    let (app, _fake) = app_with_providers("invite").await;
    let status = json(app.get("/v1/auth/setup-status").await).await;
    assert_eq!(status["providers"], json!(["password", "github", "oidc"]));
    assert_eq!(
        status["oauthProviders"][1],
        json!({"id": "oidc", "name": "Test SSO", "startUrl": "/v1/auth/oauth/oidc/start"})
    );
    assert_eq!(app.get("/v1/auth/oauth/google/start").await.status(), 404, "google is not configured here");
}

#[tokio::test]
async fn oidc_login_needs_an_invitation_then_creates_and_later_finds_the_user() {
    let (app, fake) = app_with_providers("invite").await;
    let (_, tenant) = app.bootstrap().await;

    let refused = browser_login(&app, &fake, "oidc", person("sso.user@example.com", true), "").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(json(refused).await["message"], "no account uses this email; ask an administrator for an invitation");

    app.call(
        Method::POST,
        "/v1/invites",
        &tenant.owner,
        None,
        Some(json!({"email": "sso.user@example.com", "role": "editor"})),
    )
    .await;
    let first = browser_login(&app, &fake, "oidc", person("SSO.User@example.com", true), "").await;
    assert_eq!(first.status(), 200);
    let tokens = json(first).await;
    let me =
        json(app.call(Method::GET, "/v1/auth/me", tokens["accessToken"].as_str().unwrap(), None, None).await).await;
    assert_eq!(me["user"]["email"], "sso.user@example.com");
    assert_eq!(me["user"]["name"], "Pat Provider");
    assert_eq!(me["memberships"][0]["role"], "editor", "the invitation was accepted");

    let second = json(browser_login(&app, &fake, "oidc", person("sso.user@example.com", true), "").await).await;
    let me_again =
        json(app.call(Method::GET, "/v1/auth/me", second["accessToken"].as_str().unwrap(), None, None).await).await;
    assert_eq!(me_again["user"]["id"], me["user"]["id"], "the linked identity finds the same user");
    let no_password = app
        .post_json("/v1/auth/login", &json!({"email": "sso.user@example.com", "password": PASSWORD}).to_string())
        .await;
    assert_eq!(no_password.status(), 401, "a provider-only account has no password");
}

#[tokio::test]
async fn an_existing_account_is_linked_by_verified_email_only() {
    let (app, fake) = app_with_providers("invite").await;
    let (token, _) = app.bootstrap().await;
    let admin_id = json(app.call(Method::GET, "/v1/auth/me", &token, None, None).await).await["user"]["id"].clone();

    let unverified = browser_login(&app, &fake, "oidc", person("root@example.com", false), "").await;
    assert_eq!(unverified.status(), 403);
    assert_eq!(json(unverified).await["message"], "Test SSO has no verified email for this account");

    let linked = json(browser_login(&app, &fake, "oidc", person("root@example.com", true), "").await).await;
    let me =
        json(app.call(Method::GET, "/v1/auth/me", linked["accessToken"].as_str().unwrap(), None, None).await).await;
    assert_eq!(me["user"]["id"], admin_id);
}

#[tokio::test]
async fn a_state_works_once_and_a_forged_nonce_is_refused() {
    let (app, fake) = app_with_providers("open").await;
    fake.log_in_as(person("once@example.com", true));
    let start = app.get("/v1/auth/oauth/oidc/start").await;
    let consent = app.client.get(start.headers()["location"].to_str().unwrap()).send().await.unwrap();
    let back = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let callback = format!("{}?{}", back.path(), back.query().unwrap());
    assert_eq!(app.get(&callback).await.status(), 200);
    let replay = app.get(&callback).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(json(replay).await["details"]["field"], "state");

    fake.forge_next_nonce("someone-elses-nonce");
    let forged = browser_login(&app, &fake, "oidc", person("once@example.com", true), "").await;
    assert_eq!(forged.status(), 401);
    assert_eq!(json(forged).await["message"], "the ID token's nonce does not match this login");

    let unknown = app.get("/v1/auth/oauth/oidc/callback?code=x&state=never-issued").await;
    assert_eq!(unknown.status(), 400);
    let denied_start = app.get("/v1/auth/oauth/oidc/start").await;
    let state = url::Url::parse(denied_start.headers()["location"].to_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let denied = app.get(&format!("/v1/auth/oauth/oidc/callback?error=access_denied&state={state}")).await;
    assert_eq!(denied.status(), 401);
    assert_eq!(json(denied).await["message"], "Test SSO did not complete the login: access_denied");
}

#[tokio::test]
async fn github_login_with_open_sign_up_creates_an_account_and_returns_to_the_page() {
    let (app, fake) = app_with_providers("open").await;
    let response =
        browser_login(&app, &fake, "github", person("octo@example.com", true), "?redirectTo=/dashboard/welcome").await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/dashboard/welcome#accessToken="), "{location}");
    let access = location.split("accessToken=").nth(1).unwrap().split('&').next().unwrap();
    let me = json(app.call(Method::GET, "/v1/auth/me", access, None, None).await).await;
    assert_eq!(me["user"]["email"], "octo@example.com", "the primary verified address, not the unverified one");
    assert_eq!(me["user"]["avatarUrl"], "https://avatars.example/octo.png");
    assert_eq!(me["memberships"][0]["role"], "owner", "open sign-up gives a tenant of one's own");

    let open_redirect = app.get("/v1/auth/oauth/github/start?redirectTo=https://evil.example/steal").await;
    assert_eq!(open_redirect.status(), 400);
    assert_eq!(json(open_redirect).await["details"]["field"], "redirectTo");
    let protocol_relative = app.get("/v1/auth/oauth/github/start?redirectTo=//evil.example").await;
    assert_eq!(protocol_relative.status(), 400);
}
