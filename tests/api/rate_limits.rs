//! Rate limits: headers that count down and recover, 429 with Retry-After, limits per caller
//! (not global), per-tenant overrides by a platform admin, and logins limited per IP.

use reqwest::Method;
use serde_json::json;

use crate::support::app::{json, spawn_app_env, TestApp};

fn header(r: &reqwest::Response, name: &str) -> u64 {
    r.headers().get(name).unwrap_or_else(|| panic!("{name} missing")).to_str().unwrap().parse().unwrap()
}

async fn search(app: &TestApp, token: &str, kb: &str) -> reqwest::Response {
    let path = format!("/v1/knowledge-bases/{kb}/search");
    app.call(Method::POST, &path, token, None, Some(json!({"query": "anything", "mode": "lexical"}))).await
}

#[tokio::test]
async fn headers_count_down_a_429_says_when_to_retry_and_the_limit_recovers() {
    let app = spawn_app_env(&[("LECTERN_RATE_LIMITS", "search=3/s,global=1000/min,auth=1000/min")]).await;
    let (_, t) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &t.owner, &t.id, json!({"name": "Limited"})).await;

    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = search(&app, &t.owner, &kb).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit"), 3);
        assert!(header(&r, "x-ratelimit-reset") <= 1);
        remaining.push(header(&r, "x-ratelimit-remaining"));
    }
    assert_eq!(remaining, [2, 1, 0]);
    let refused = search(&app, &t.owner, &kb).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "retry-after"), 1);
    assert_eq!(header(&refused, "x-ratelimit-remaining"), 0);
    let body = json(refused).await;
    assert_eq!(body["error"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(body["details"]["class"], "search");

    // Other classes and other callers are not affected.
    let listed = app.call(Method::GET, "/v1/knowledge-bases", &t.owner, None, None).await;
    assert_eq!(listed.status(), 200);
    assert_eq!(header(&listed, "x-ratelimit-limit"), 1000);
    let key = app.call(Method::POST, "/v1/api-keys", &t.owner, Some(&t.id), Some(json!({"name": "ci"}))).await;
    let key = json(key).await["secret"].as_str().unwrap().to_owned();
    let by_key = search(&app, &key, &kb).await;
    assert_eq!(by_key.status(), 200, "limits are per caller");
    assert_eq!(header(&by_key, "x-ratelimit-remaining"), 2);

    // After a second the bucket has refilled.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = search(&app, &t.owner, &kb).await;
    assert_eq!(again.status(), 200);
    assert_eq!(header(&again, "x-ratelimit-remaining"), 2);
}

#[tokio::test]
async fn a_platform_admin_sets_a_tenants_limits() {
    let app = spawn_app_env(&[
        ("LECTERN_RATE_LIMITS", "search=100/min,global=1000/min,auth=1000/min"),
        ("LECTERN_PLAN_RATE_LIMITS", "team: search=50/min"),
    ])
    .await;
    let (admin, _) = app.bootstrap().await;
    let t = app.tenant_with_owner(&admin, "Acme", "owner@acme.test").await;
    let kb = app.create("/v1/knowledge-bases", &t.owner, &t.id, json!({"name": "Limited"})).await;
    assert_eq!(header(&search(&app, &t.owner, &kb).await, "x-ratelimit-limit"), 100);

    let path = format!("/v1/tenants/{}/billing-settings", t.id);
    let by_owner =
        app.call(Method::PUT, &path, &t.owner, Some(&t.id), Some(json!({"rateLimits": {"search": "2/hour"}}))).await;
    assert_eq!(by_owner.status(), 403);
    let bad = app.call(Method::PUT, &path, &admin, None, Some(json!({"rateLimits": {"search": "lots"}}))).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json(bad).await["details"]["field"], "rateLimits");
    let set = app
        .call(Method::PUT, &path, &admin, None, Some(json!({"rateLimits": {"search": "2/hour", "llm": "off"}})))
        .await;
    assert_eq!(set.status(), 200);
    let view = json(set).await;
    assert_eq!(view["rateLimits"]["search"], "2/hour");
    assert_eq!(view["rateLimits"]["llm"], "off");

    let first = search(&app, &t.owner, &kb).await;
    assert_eq!(header(&first, "x-ratelimit-limit"), 2);
    search(&app, &t.owner, &kb).await;
    let refused = search(&app, &t.owner, &kb).await;
    assert_eq!(refused.status(), 429);
    assert!(header(&refused, "retry-after") > 1000, "one more every 30 minutes");
}

#[tokio::test]
async fn logins_are_limited_per_ip() {
    let app = spawn_app_env(&[("LECTERN_RATE_LIMITS", "auth=3/min")]).await;
    app.bootstrap().await; // one setup and one login
    let body = json!({"email": "nobody@example.com", "password": "wrong password here"}).to_string();
    let third = app.post_json("/v1/auth/login", &body).await;
    assert_eq!(third.status(), 401);
    assert_eq!(header(&third, "x-ratelimit-remaining"), 0);
    let refused = app.post_json("/v1/auth/login", &body).await;
    assert_eq!(refused.status(), 429);
    assert!(header(&refused, "retry-after") >= 1);
}

/// Three failed logins, each as forwarded for `caller`; the statuses.
async fn logins_forwarded_for(app: &crate::support::app::TestApp, callers: &[&str]) -> Vec<u16> {
    let body = json!({"email": "nobody@example.com", "password": "wrong password here"});
    let mut statuses = Vec::new();
    for caller in callers {
        let response = app
            .client
            .post(app.url("/v1/auth/login"))
            .header("X-Forwarded-For", *caller)
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_caller_has_its_own_login_limit() {
    let app =
        spawn_app_env(&[("LECTERN_RATE_LIMITS", "auth=2/min"), ("LECTERN_TRUSTED_PROXIES", "127.0.0.1, ::1")]).await;
    let first = "198.51.100.1";
    assert_eq!(logins_forwarded_for(&app, &[first, first, first]).await, [401, 401, 429]);
    assert_eq!(logins_forwarded_for(&app, &["198.51.100.2"]).await, [401], "another caller is not held back");
    // A caller cannot escape by writing an address of its own in front of what the proxy appends.
    assert_eq!(logins_forwarded_for(&app, &["203.0.113.50, 198.51.100.1"]).await, [429]);
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_addresses_are_ignored() {
    let app = spawn_app_env(&[("LECTERN_RATE_LIMITS", "auth=2/min")]).await;
    assert_eq!(logins_forwarded_for(&app, &["198.51.100.1", "198.51.100.2", "198.51.100.3"]).await, [401, 401, 429]);
}
