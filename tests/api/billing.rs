//! Credits: manual grants, metering with 402 before work, sandbox keys, concurrent debits,
//! Stripe checkout against a local Stripe API and signed webhooks applied exactly once.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};
use crate::support::fake_stripe::{event, sign, FakeStripe, WEBHOOK_SECRET};

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.call(Method::GET, path, token, None, None).await;
    assert_eq!(response.status(), 200, "{path}");
    json(response).await
}

async fn balance(app: &TestApp, token: &str) -> String {
    get(app, token, "/v1/billing/balance").await["balance"].as_str().unwrap().to_owned()
}

async fn search(app: &TestApp, token: &str, kb: &str) -> u16 {
    let path = format!("/v1/knowledge-bases/{kb}/search");
    app.call(Method::POST, &path, token, None, Some(json!({"query": "anything"}))).await.status().as_u16()
}

#[tokio::test]
async fn without_stripe_credits_are_granted_by_hand_and_checkout_says_so() {
    let app = spawn_app().await;
    let (superadmin, tenant) = app.bootstrap().await;
    assert_eq!(balance(&app, &superadmin).await, "100", "starter credits");
    let plans = get(&app, &superadmin, "/v1/billing/plans").await;
    assert_eq!(plans["paymentsConfigured"], false);
    let checkout =
        app.call(Method::POST, "/v1/billing/checkout", &superadmin, None, Some(json!({"pack": "starter"}))).await;
    assert_eq!(checkout.status(), 409);
    assert!(json(checkout).await["message"].as_str().unwrap().contains("payments not configured"));

    let credits_path = format!("/v1/admin/tenants/{}/credits", tenant.id);
    let grant = |body: Value| app.call(Method::POST, &credits_path, &superadmin, None, Some(body));
    let granted = grant(json!({"amount": "50.25", "reason": "pilot customer"})).await;
    assert_eq!(granted.status(), 201);
    assert_eq!(json(granted).await["balanceAfter"], "150.25");
    assert_eq!(grant(json!({"amount": "-10", "kind": "adjustment", "reason": "correction"})).await.status(), 201);
    assert_eq!(grant(json!({"amount": "1", "reason": ""})).await.status(), 400, "a reason is required");
    assert_eq!(grant(json!({"amount": "1.0000001", "reason": "x"})).await.status(), 400, "six decimals at most");
    assert_eq!(grant(json!({"amount": "-1000", "kind": "adjustment", "reason": "x"})).await.status(), 409);
    assert_eq!(balance(&app, &superadmin).await, "140.25");

    let owner_tenant = app.tenant_with_owner(&superadmin, "Other", "owner@example.com").await;
    let by_owner = app
        .call(
            Method::POST,
            &format!("/v1/admin/tenants/{}/credits", owner_tenant.id),
            &owner_tenant.owner,
            None,
            Some(json!({"amount": "1000", "reason": "me"})),
        )
        .await;
    assert_eq!(by_owner.status(), 403);

    let listed = get(&app, &superadmin, "/v1/billing/transactions?kind=grant").await;
    assert_eq!(listed["pagination"]["total"], 2, "starter and the grant: {listed}");
    let csv = app.call(Method::GET, "/v1/billing/transactions.csv", &superadmin, None, None).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("id,created_at,kind,amount"), "{csv}");
    assert_eq!(csv.lines().count(), 4, "header + starter + grant + adjustment: {csv}");
    assert!(csv.contains("\"-10\""), "{csv}");
    let audit = get(&app, &superadmin, "/v1/admin/cost-settings").await;
    assert_eq!(audit["prices"]["perSearch"], 10_000);
}

#[tokio::test]
async fn metered_work_is_refused_with_402_before_it_starts_and_test_keys_are_never_charged() {
    let app = spawn_app_env(&[("LECTERN_STARTER_CREDITS", "0.05")]).await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Empty"})).await;
    for _ in 0..5 {
        assert_eq!(search(&app, &token, &kb).await, 200);
    }
    let refused = app
        .call(Method::POST, &format!("/v1/knowledge-bases/{kb}/search"), &token, None, Some(json!({"query": "x"})))
        .await;
    assert_eq!(refused.status(), 402);
    let refused = json(refused).await;
    assert_eq!(refused["error"], "INSUFFICIENT_BALANCE");
    assert_eq!(
        (refused["details"]["balance"].as_str(), refused["details"]["estimate"].as_str()),
        (Some("0"), Some("0.01"))
    );

    // A chat turn is refused before anything is written.
    let chat = app
        .call(
            Method::POST,
            "/v1/chat",
            &token,
            None,
            Some(json!({"message": "hello?", "knowledgeBases": [kb], "stream": false})),
        )
        .await;
    assert_eq!(chat.status(), 402);
    assert_eq!(get(&app, &token, "/v1/conversations").await["pagination"]["total"], 0);

    let usage = get(&app, &token, "/v1/billing/usage?groupBy=operation").await;
    assert_eq!(
        usage["rows"],
        json!([{"key": "search", "operations": 5, "credits": "0.05", "creditsMicros": 50_000, "sandboxCredits": "0"}])
    );
    // By day, each day carries its split by operation (the dashboard stacks it).
    let daily = get(&app, &token, "/v1/billing/usage").await;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        daily["rows"],
        json!([{"key": today, "operations": 5, "credits": "0.05", "creditsMicros": 50_000,
        "sandboxCredits": "0", "byOperationMicros": {"search": 50_000}}])
    );
    assert_eq!(balance(&app, &token).await, "0");

    // Sandbox: a test key is metered (recorded with its price) but never charged or refused.
    let key = app.call(Method::POST, "/v1/api-keys", &token, None, Some(json!({"name": "ci", "mode": "test"}))).await;
    assert_eq!(key.status(), 201);
    let key = json(key).await["secret"].as_str().unwrap().to_owned();
    assert!(key.starts_with("lk_test_"), "{key}");
    for _ in 0..3 {
        assert_eq!(search(&app, &key, &kb).await, 200);
    }
    assert_eq!(balance(&app, &token).await, "0");
    let usage = get(&app, &token, "/v1/billing/usage?groupBy=operation").await;
    assert_eq!(usage["rows"][0]["sandboxCredits"], "0.03", "{usage}");
    let sandbox = get(&app, &token, "/v1/billing/transactions?operation=search").await;
    assert_eq!(sandbox["pagination"]["total"], 8);

    // Owners cap monthly spending: even with credits, work past the cap is refused.
    let tenant = get(&app, &token, "/v1/auth/me").await["memberships"][0]["tenantId"].as_str().unwrap().to_owned();
    let granted = app
        .call(
            Method::POST,
            &format!("/v1/admin/tenants/{tenant}/credits"),
            &token,
            None,
            Some(json!({"amount": "10", "reason": "top up"})),
        )
        .await;
    assert_eq!(granted.status(), 201);
    let capped = app
        .call(
            Method::PUT,
            &format!("/v1/tenants/{tenant}/billing-settings"),
            &token,
            None,
            Some(json!({"monthlyCap": "0.07"})),
        )
        .await;
    assert_eq!(capped.status(), 200);
    assert_eq!(search(&app, &token, &kb).await, 200);
    assert_eq!(search(&app, &token, &kb).await, 200);
    assert_eq!(search(&app, &token, &kb).await, 402, "0.05 + 0.02 spent; the cap is 0.07");
}

#[tokio::test]
async fn parallel_debits_against_a_small_balance_never_overspend() {
    let app = spawn_app_env(&[("LECTERN_STARTER_CREDITS", "0.1")]).await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Empty"})).await;
    let calls = (0..30).map(|_| search(&app, &token, &kb));
    let statuses = futures_util::future::join_all(calls).await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 402).count();
    assert_eq!((ok, refused), (10, 20), "{statuses:?}");
    assert_eq!(balance(&app, &token).await, "0");
    let usage = get(&app, &token, "/v1/billing/usage?groupBy=operation").await;
    assert_eq!(usage["rows"][0]["creditsMicros"], 100_000);
}

async fn webhook(app: &TestApp, body: &str, signature: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/billing/stripe/webhook"))
        .header("Stripe-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, json(response).await)
}

async fn stripe_app() -> (TestApp, FakeStripe) {
    let stripe = FakeStripe::start().await;
    let env = stripe.env();
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (spawn_app_env(&vars).await, stripe)
}

#[tokio::test]
async fn a_checkout_grants_exactly_the_purchased_credits_once_and_a_refund_takes_them_back() {
    let (app, stripe) = stripe_app().await;
    let (token, tenant) = app.bootstrap().await;
    let plans = get(&app, &token, "/v1/billing/plans").await;
    assert_eq!(plans["packs"][0], json!({"name": "starter", "credits": "1000"}));

    let started = app.call(Method::POST, "/v1/billing/checkout", &token, None, Some(json!({"pack": "starter"}))).await;
    assert_eq!(started.status(), 201);
    let started = json(started).await;
    let session = started["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(started["url"], format!("https://checkout.stripe.test/c/pay/{session}"));
    let sent = stripe.sessions.lock().unwrap()[0].clone();
    assert_eq!(sent["mode"], "payment");
    assert_eq!(sent["client_reference_id"], tenant.id);
    assert_eq!(sent["metadata[credits]"], "1000");
    assert_eq!(sent["line_items[0][price]"], "price_starter");
    let bad = app.call(Method::POST, "/v1/billing/checkout", &token, None, Some(json!({"pack": "huge"}))).await;
    assert_eq!(bad.status(), 400);
    let no_customer = app.call(Method::POST, "/v1/billing/portal", &token, None, None).await;
    assert_eq!(no_customer.status(), 409, "no purchase yet");

    let completed = |event_id: &str| {
        event("checkout.session.completed.payment_mode.json", event_id, |o| {
            o["id"] = json!(session);
            o["client_reference_id"] = json!(tenant.id);
            o["metadata"] = json!({"tenant_id": tenant.id, "credits": "1000", "product": "starter"});
            o["payment_intent"] = json!("pi_test_1");
        })
    };
    let body = completed("evt_checkout_1");
    // A wrong secret or a stale timestamp: 400 and nothing applied.
    let (status, _) = webhook(&app, &body, &sign(&body, "whsec_wrong", 0)).await;
    assert_eq!(status, 400);
    let (status, stale) = webhook(&app, &body, &sign(&body, WEBHOOK_SECRET, 600)).await;
    assert_eq!(status, 400, "{stale}");
    let (status, _) = webhook(&app, &body.replace("1000", "9000"), &sign(&body, WEBHOOK_SECRET, 0)).await;
    assert_eq!(status, 400, "the body was changed after signing");
    assert_eq!(balance(&app, &token).await, "100");

    let (status, applied) = webhook(&app, &body, &sign(&body, WEBHOOK_SECRET, 0)).await;
    assert_eq!((status, applied["outcome"].as_str()), (200, Some("granted")));
    assert_eq!(balance(&app, &token).await, "1100");
    // The same event again, and another event about the same session: nothing more.
    let (_, again) = webhook(&app, &body, &sign(&body, WEBHOOK_SECRET, 0)).await;
    assert_eq!(again["outcome"], "duplicate");
    let other = completed("evt_checkout_2");
    let (_, other) = webhook(&app, &other, &sign(&other, WEBHOOK_SECRET, 0)).await;
    assert_eq!(other["outcome"], "duplicate");
    assert_eq!(balance(&app, &token).await, "1100");
    let portal = app.call(Method::POST, "/v1/billing/portal", &token, None, None).await;
    assert_eq!(portal.status(), 200);
    assert_eq!(json(portal).await["url"], "https://billing.stripe.test/p/session/cus_00000000000000");
    let purchases = get(&app, &token, "/v1/billing/transactions?kind=purchase").await;
    assert_eq!(purchases["pagination"]["total"], 1);

    // Half the payment refunded: half the credits go.
    let refund = event("charge.refunded.json", "evt_refund_1", |o| {
        o["payment_intent"] = json!("pi_test_1");
        o["amount"] = json!(25000);
        o["amount_refunded"] = json!(12500);
    });
    let (_, refunded) = webhook(&app, &refund, &sign(&refund, WEBHOOK_SECRET, 0)).await;
    assert_eq!(refunded["outcome"], "refunded");
    assert_eq!(balance(&app, &token).await, "600");
    let unknown =
        json!({"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}).to_string();
    let (status, ignored) = webhook(&app, &unknown, &sign(&unknown, WEBHOOK_SECRET, 0)).await;
    assert_eq!((status, ignored["outcome"].as_str()), (200, Some("ignored")));
}

#[tokio::test]
async fn each_paid_invoice_of_a_subscription_grants_the_plans_credits() {
    let (app, _stripe) = stripe_app().await;
    let (token, tenant) = app.bootstrap().await;
    let started = app.call(Method::POST, "/v1/billing/checkout", &token, None, Some(json!({"plan": "team"}))).await;
    assert_eq!(started.status(), 201);
    // The first invoice can arrive before the checkout event: the subscription names the tenant.
    let invoice = |event_id: &str, invoice_id: &str| {
        event("invoice.paid.json", event_id, |o| {
            o["id"] = json!(invoice_id);
            o["subscription"] = json!("sub_team_1");
            o["customer"] = json!("cus_team_1");
            o["lines"]["data"][0]["price"]["id"] = json!("price_team_monthly");
            o["lines"]["data"][0]["metadata"] = json!({"tenant_id": tenant.id, "product": "team"});
        })
    };
    for (event_id, invoice_id, expected) in [
        ("evt_inv_1", "in_1", "granted"),
        ("evt_inv_1", "in_1", "duplicate"),
        ("evt_inv_1b", "in_1", "duplicate"),
        ("evt_inv_2", "in_2", "granted"),
    ] {
        let body = invoice(event_id, invoice_id);
        let (status, outcome) = webhook(&app, &body, &sign(&body, WEBHOOK_SECRET, 0)).await;
        assert_eq!((status, outcome["outcome"].as_str()), (200, Some(expected)), "{event_id} {invoice_id}");
    }
    let account = get(&app, &token, "/v1/billing/balance").await;
    assert_eq!(account["balance"], "4100");
    assert_eq!(account["plan"], "team");

    // Stripe may deliver subscription events out of order: the newest applied one wins.
    let changed = |file: &str, event_id: &str, created: i64, status: &str| {
        let body = event(file, event_id, |o| {
            o["id"] = json!("sub_team_1");
            o["customer"] = json!("cus_team_1");
            o["status"] = json!(status);
        });
        let mut parsed: Value = serde_json::from_str(&body).unwrap();
        parsed["created"] = json!(created);
        parsed.to_string()
    };
    let status = || async { get(&app, &token, "/v1/billing/balance").await["subscriptionStatus"].clone() };
    for (event_id, created, new_status, expected, after) in [
        ("evt_sub_late", 1_700_000_200, "past_due", "updated", "past_due"),
        ("evt_sub_early", 1_700_000_100, "active", "stale", "past_due"),
        ("evt_sub_paid", 1_700_000_300, "active", "updated", "active"),
    ] {
        let body = changed("customer.subscription.updated.json", event_id, created, new_status);
        let (_, outcome) = webhook(&app, &body, &sign(&body, WEBHOOK_SECRET, 0)).await;
        assert_eq!(outcome["outcome"], expected, "{event_id}");
        assert_eq!(status().await, after, "{event_id}");
    }
    let cancelled = changed("customer.subscription.deleted.json", "evt_sub_gone", 1_700_000_250, "canceled");
    let (_, outcome) = webhook(&app, &cancelled, &sign(&cancelled, WEBHOOK_SECRET, 0)).await;
    assert_eq!(outcome["outcome"], "updated", "a deletion is final whatever its timestamp");
    let account = get(&app, &token, "/v1/billing/balance").await;
    assert_eq!((account["subscriptionStatus"].as_str(), account["plan"].as_str()), (Some("canceled"), None));
    let revived = changed("customer.subscription.updated.json", "evt_sub_after", 1_700_000_400, "active");
    let (_, outcome) = webhook(&app, &revived, &sign(&revived, WEBHOOK_SECRET, 0)).await;
    assert_eq!(outcome["outcome"], "stale", "a canceled subscription stays canceled");
    assert_eq!(status().await, "canceled");
}

#[tokio::test]
async fn ingestion_holds_an_estimate_and_charges_what_was_parsed_and_embedded() {
    let app = spawn_app_env(&[("LECTERN_STARTER_CREDITS", "1")]).await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Notes"})).await;
    let text = "Ledger entries balance every account. ".repeat(40);
    let added = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &token,
            None,
            Some(json!({"text": text, "title": "notes"})),
        )
        .await;
    assert_eq!(added.status(), 202);
    let job = json(added).await["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_for_job(&token, &job).await["status"], "succeeded");
    let rows = get(&app, &token, "/v1/billing/transactions?operation=ingest&sort=createdAt").await;
    let amounts: Vec<i64> =
        rows["data"].as_array().unwrap().iter().map(|r| r["amountMicros"].as_i64().unwrap()).collect();
    assert_eq!(amounts.len(), 2, "a hold and its settlement: {rows}");
    let (held, returned) = (-amounts[0], amounts[1]);
    assert!(held > 0 && returned > 0 && returned < held, "{amounts:?}");
    // One page and the embedded tokens at the default prices (0.01 per page, 0.002 per 1k tokens).
    let charged = held - returned;
    assert!((10_000..12_000).contains(&charged), "charged {charged}");

    // Not enough left for another file: 402, and no document is created.
    let drained = app
        .call(Method::PUT, "/v1/admin/cost-settings", &token, None, Some(json!({"prices": {"perPage": 2_000_000}})))
        .await;
    assert_eq!(drained.status(), 200);
    let refused = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &token,
            None,
            Some(json!({"text": "more", "title": "more"})),
        )
        .await;
    assert_eq!(refused.status(), 402);
    let documents = get(&app, &token, &format!("/v1/knowledge-bases/{kb}/documents")).await;
    assert_eq!(documents["pagination"]["total"], 1);
}

#[tokio::test]
async fn prices_overrides_allowances_overdraft_and_the_low_balance_event() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app_env(&[("LECTERN_STARTER_CREDITS", "0.05")]).await;
    let (superadmin, tenant) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &superadmin, "", json!({"name": "Empty"})).await;
    let settings_path = format!("/v1/tenants/{}/billing-settings", tenant.id);
    let put = |body: Value| app.call(Method::PUT, &settings_path, &superadmin, None, Some(body));

    // A per-tenant price override and 2 free searches a month.
    let set =
        put(json!({"prices": {"perSearch": 20_000}, "allowances": {"search": 2}, "lowBalanceThreshold": "0.03"})).await;
    assert_eq!(set.status(), 200);
    let set = json(set).await;
    assert_eq!(set["effective"]["prices"]["perSearch"], 20_000);
    assert_eq!(set["effective"]["prices"]["perPage"], 10_000, "the rest stays global");
    for _ in 0..2 {
        assert_eq!(search(&app, &superadmin, &kb).await, 200);
    }
    assert_eq!(balance(&app, &superadmin).await, "0.05", "inside the free allowance");
    assert_eq!(search(&app, &superadmin, &kb).await, 200);
    assert_eq!(balance(&app, &superadmin).await, "0.03");
    assert_eq!(search(&app, &superadmin, &kb).await, 200);
    assert_eq!(balance(&app, &superadmin).await, "0.01");
    assert_eq!(search(&app, &superadmin, &kb).await, 402);

    // With an overdraft and no hard stop, work goes on down to the limit.
    assert_eq!(
        put(json!({"overdraftLimit": "0.05", "hardStop": false, "lowBalanceThreshold": "0.03"})).await.status(),
        200
    );
    assert_eq!(search(&app, &superadmin, &kb).await, 200);
    assert_eq!(search(&app, &superadmin, &kb).await, 200);
    assert_eq!(balance(&app, &superadmin).await, "-0.03");
    assert_eq!(search(&app, &superadmin, &kb).await, 200, "down to exactly the limit");
    assert_eq!(search(&app, &superadmin, &kb).await, 402, "-0.07 would pass the overdraft");
    assert_eq!(balance(&app, &superadmin).await, "-0.05");

    // credits.low fired once per crossing: once when 0.03 was passed, once after re-arming.
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let low = entity::outbox_event::Entity::find()
        .filter(entity::outbox_event::Column::Kind.eq("credits.low"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(low.len(), 2, "{low:?}");

    // Owners may cap and alert, not change prices; other tenants' settings do not exist for them.
    let other = app.tenant_with_owner(&superadmin, "Other", "owner@example.com").await;
    let own = format!("/v1/tenants/{}/billing-settings", other.id);
    let cap = app.call(Method::PUT, &own, &other.owner, None, Some(json!({"monthlyCap": "5"}))).await;
    assert_eq!(cap.status(), 200);
    let prices = app.call(Method::PUT, &own, &other.owner, None, Some(json!({"prices": {"perSearch": 0}}))).await;
    assert_eq!(prices.status(), 403);
    let foreign = app.call(Method::GET, &settings_path, &other.owner, None, None).await;
    assert_eq!(foreign.status(), 404);
    let global =
        app.call(Method::PUT, "/v1/admin/cost-settings", &other.owner, None, Some(json!({"prices": {}}))).await;
    assert_eq!(global.status(), 403);
    let bad = app
        .call(Method::PUT, "/v1/admin/cost-settings", &superadmin, None, Some(json!({"prices": {"perSearch": -1}})))
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn stored_documents_are_charged_once_a_day_at_the_storage_price() {
    use lectern::services::billing::storage;

    let app = spawn_app().await;
    let (superadmin, tenant) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &superadmin, "", json!({"name": "Archive"})).await;
    let text = "Storage is billed by the day, for what a tenant keeps. ".repeat(60);
    let added = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &superadmin,
            None,
            Some(json!({"title": "retention.md", "text": text})),
        )
        .await;
    let added = json(added).await;
    assert_eq!(app.wait_for_job(&superadmin, added["job"]["id"].as_str().unwrap()).await["status"], "succeeded");
    let doc_bytes = added["document"]["bytes"].as_i64().unwrap();
    assert!(doc_bytes >= 3000, "{added}");
    // A steep price so that a few kilobytes cost something: 1,000,000 credits per GB-month.
    let settings = format!("/v1/tenants/{}/billing-settings", tenant.id);
    let priced = app
        .call(
            Method::PUT,
            &settings,
            &superadmin,
            None,
            Some(json!({"prices": {"storageGbMonth": 1_000_000_000_000_i64}})),
        )
        .await;
    assert_eq!(priced.status(), 200);

    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let tenant_id: uuid::Uuid = tenant.id.parse().unwrap();
    assert_eq!(storage::stored_bytes(&db).await.unwrap().get(&tenant_id), Some(&doc_bytes));
    let lock = tokio::sync::Mutex::new(());
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let expected = storage::daily_cost(doc_bytes, 1_000_000_000_000, 30);
    assert!(expected > 0);
    let first = storage::charge_day(&db, &lock, day).await.unwrap();
    assert_eq!((first.tenants, first.micros, first.already), (1, expected, 0));
    let again = storage::charge_day(&db, &lock, day).await.unwrap();
    assert_eq!((again.tenants, again.already), (0, 1), "a day is charged once");

    // The tenant sees the day's charge in its transactions and its usage by operation.
    let listed = json(app.call(Method::GET, "/v1/billing/transactions", &superadmin, None, None).await).await;
    let charge =
        listed["data"].as_array().unwrap().iter().find(|t| t["operation"] == "storage").expect("a storage row");
    assert_eq!(
        (charge["amountMicros"].as_i64(), charge["reference"].as_str()),
        (Some(-expected), Some("storage:2026-11-30"))
    );
    assert_eq!(charge["metadata"]["bytes"], doc_bytes);
    let usage = json(app.call(Method::GET, "/v1/billing/usage", &superadmin, None, None).await).await;
    assert!(usage.to_string().contains("\"storage\""), "{usage}");
}
