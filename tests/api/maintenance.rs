//! The periodic sweep: expired and finished rows go, live ones stay (a login session still
//! refreshes, a pending delivery is still delivered, recent deliveries are still listed).

use chrono::{Duration, Utc};
use entity::{idempotency_key, outbox_event, password_reset, session, webhook_delivery};
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use crate::support::app::{json, spawn_app_env};
use crate::support::eventually;
use crate::support::identity::{ADMIN_EMAIL, PASSWORD};

/// A finished or pending delivery of `endpoint`, its status set `age` ago.
async fn delivery(db: &DatabaseConnection, tenant: Uuid, endpoint: Uuid, status: &str, age: Duration) {
    let at = Utc::now() - age;
    let finished = status != "pending";
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant),
        endpoint_id: Set(endpoint),
        event_id: Set(Uuid::now_v7()),
        event_type: Set("entry.published".into()),
        dedupe_key: Set(Uuid::now_v7().to_string()),
        body: Set("{}".into()),
        status: Set(status.into()),
        attempts: Set(i32::from(finished)),
        // Pending: due in a day, so the sender leaves it alone during the test.
        next_attempt_at: Set(if finished { at } else { Utc::now() + Duration::days(1) }),
        lease_until: Set(None),
        response_status: Set(finished.then_some(200)),
        response_body: Set(None),
        latency_ms: Set(None),
        error: Set(None),
        replay_of: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        finished_at: Set(finished.then_some(at)),
    }
    .insert(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn expired_and_finished_rows_are_swept_and_live_ones_stay() {
    let app = spawn_app_env(&[("LECTERN_ALLOW_PRIVATE_URLS", "true")]).await;
    let (token, tenant) = app.bootstrap().await;
    let db = Database::connect(&app.database_url).await.unwrap();
    let tenant_id: Uuid = tenant.id.parse().unwrap();

    // Rows of every kind the sweep looks after, made the way users make them.
    let login =
        json(app.post_json("/v1/auth/login", &json!({"email": ADMIN_EMAIL, "password": PASSWORD}).to_string()).await)
            .await;
    let refresh = login["refreshToken"].as_str().unwrap().to_owned();
    let later = login["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post_json("/v1/auth/password-reset", &json!({"email": ADMIN_EMAIL}).to_string()).await.status(),
        202
    );
    let keyed = app
        .client
        .post(app.url("/v1/conversations"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "sweep-me")
        .json(&json!({"title": "Kept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status(), 201, "also an outbox event (conversation.created)");
    let hook = app
        .create("/v1/webhooks", &token, "", json!({"url": "http://127.0.0.1:9/hook", "events": ["entry.published"]}))
        .await;
    let endpoint: Uuid = hook.parse().unwrap();
    for (status, days) in [("succeeded", 40), ("failed", 31), ("succeeded", 2), ("pending", 40)] {
        delivery(&db, tenant_id, endpoint, status, Duration::days(days)).await;
    }
    // The outbox event is fanned out within moments.
    eventually("the outbox to be fanned out", std::time::Duration::from_secs(10), || async {
        let pending = outbox_event::Entity::find().filter(outbox_event::Column::DeliveredAt.is_null()).all(&db).await;
        pending.unwrap().is_empty().then_some(())
    })
    .await;

    // Time passes for some of them: the first login session, the reset link, the key, the event.
    let past = Utc::now() - Duration::days(2);
    let first = session::Entity::find().order_by_asc(session::Column::CreatedAt).one(&db).await.unwrap().unwrap();
    session::Entity::update_many()
        .col_expr(session::Column::ExpiresAt, Expr::value(past))
        .filter(session::Column::Id.eq(first.id))
        .exec(&db)
        .await
        .unwrap();
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::ExpiresAt, Expr::value(past))
        .exec(&db)
        .await
        .unwrap();
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::ExpiresAt, Expr::value(past))
        .exec(&db)
        .await
        .unwrap();
    outbox_event::Entity::update_many()
        .col_expr(outbox_event::Column::DeliveredAt, Expr::value(past))
        .exec(&db)
        .await
        .unwrap();

    let swept = lectern::platform::maintenance::sweep(&db, Duration::days(30), Utc::now()).await.unwrap();
    assert_eq!(
        (swept.sessions, swept.password_resets, swept.idempotency_keys, swept.webhook_deliveries),
        (1, 1, 1, 2),
        "{swept:?}"
    );
    assert!(swept.outbox_events >= 1, "{swept:?}");
    let again = lectern::platform::maintenance::sweep(&db, Duration::days(30), Utc::now()).await.unwrap();
    assert_eq!(again.total(), 0, "nothing is deleted twice");

    // What is live still works.
    let refreshed = app.post_json("/v1/auth/refresh", &json!({"refreshToken": refresh}).to_string()).await;
    assert_eq!(refreshed.status(), 200, "the later login session is untouched");
    let ended = app.call(Method::GET, "/v1/auth/me", &token, None, None).await;
    assert_eq!(ended.status(), 401, "the expired session's tokens are refused");
    let listed =
        json(app.call(Method::GET, &format!("/v1/webhooks/{hook}/deliveries"), &later, None, None).await).await;
    let mut statuses: Vec<&str> = listed["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["pending", "succeeded"], "the recent and the pending deliveries stay: {listed}");
}
