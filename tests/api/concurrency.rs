//! Concurrency is normal: N parallel writers on one row all end 2xx or 409 (never 500), on
//! SQLite and on PostgreSQL; the row ends as one of the writes left it, and an entry has one
//! revision per successful write.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};
use crate::support::identity::Tenant;

const WRITERS: usize = 16;

/// The body of the i-th writer.
type Body = Box<dyn Fn(usize) -> Value>;

/// Sends every call at once; returns each status with its body.
async fn burst(app: &TestApp, t: &Tenant, calls: Vec<(Method, String, Option<Value>)>) -> Vec<(u16, Value)> {
    join_all(calls.into_iter().map(|(method, path, body)| async move {
        let response = app.call(method, &path, &t.owner, Some(&t.id), body).await;
        let status = response.status().as_u16();
        (status, json(response).await)
    }))
    .await
}

/// Every result 2xx or 409; returns the bodies of the successful ones.
fn settled<'a>(what: &str, results: &'a [(u16, Value)]) -> Vec<&'a Value> {
    for (status, body) in results {
        assert!((200..300).contains(status) || *status == 409, "{what}: {status} {body}");
        if *status == 409 {
            assert_eq!(body["error"], "CONFLICT", "{what}: {body}");
        }
    }
    results.iter().filter(|(s, _)| (200..300).contains(s)).map(|(_, b)| b).collect()
}

/// WRITERS parallel `method path` with bodies made by `body(i)`; checks that they settle and that
/// `field` of the row afterwards is one of the values written.
async fn writers_on_one_row(
    app: &TestApp,
    t: &Tenant,
    method: Method,
    path: &str,
    field: &str,
    body: impl Fn(usize) -> Value,
) -> usize {
    let calls = (0..WRITERS).map(|i| (method.clone(), path.to_owned(), Some(body(i)))).collect();
    let results = burst(app, t, calls).await;
    let ok = settled(&format!("{method} {path}"), &results).len();
    assert!(ok >= 1, "{method} {path}: at least one write goes through");
    // Media folders are read through their list.
    let (read, id) = match path.split_once("/media-folders/") {
        Some((site, id)) => (format!("{site}/media-folders?limit=100"), Some(id)),
        None => (path.to_owned(), None),
    };
    let mut after = json(app.call(Method::GET, &read, &t.owner, Some(&t.id), None).await).await;
    if let Some(id) = id {
        after = after["data"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap().clone();
    }
    let written: Vec<Value> = (0..WRITERS).map(|i| body(i)[field].clone()).collect();
    assert!(written.contains(&after[field]), "{path}: `{field}` is {} — not one of the writes", after[field]);
    ok
}

#[tokio::test]
async fn parallel_edits_publishes_and_copies_of_one_entry_never_fail_with_500() {
    let app = spawn_app().await;
    let (_, t) = app.bootstrap().await;
    let site = app.create("/v1/sites", &t.owner, &t.id, json!({"name": "Busy"})).await;
    let entry =
        app.create(&format!("/v1/sites/{site}/entries"), &t.owner, &t.id, json!({"type": "post", "title": "v0"})).await;
    let path = format!("/v1/sites/{site}/entries/{entry}");

    let ok =
        writers_on_one_row(&app, &t, Method::PATCH, &path, "title", |i| json!({"title": format!("v{}", i + 1)})).await;
    let revisions =
        json(app.call(Method::GET, &format!("{path}/revisions?limit=100"), &t.owner, Some(&t.id), None).await).await;
    assert_eq!(revisions["pagination"]["total"], json!(ok + 1), "one revision per successful write, plus the first");
    let current = json(app.call(Method::GET, &path, &t.owner, Some(&t.id), None).await).await;
    assert_eq!(current["revision"], json!(ok + 1));

    let calls = (0..WRITERS)
        .map(|i| (Method::POST, format!("{path}/{}", if i % 2 == 0 { "publish" } else { "unpublish" }), None))
        .collect();
    let results = burst(&app, &t, calls).await;
    assert!(!settled("publish/unpublish", &results).is_empty());

    let calls = (0..WRITERS).map(|_| (Method::POST, format!("{path}/duplicate"), None)).collect();
    let results = burst(&app, &t, calls).await;
    let copies = settled("duplicate", &results);
    let mut slugs: Vec<&str> = copies.iter().map(|c| c["slug"].as_str().unwrap()).collect();
    slugs.sort_unstable();
    slugs.dedup();
    assert_eq!(slugs.len(), copies.len(), "every copy has its own slug: {slugs:?}");
}

#[tokio::test]
async fn parallel_writers_of_every_kind_of_row_settle_on_one_write() {
    let app = spawn_app_env(&[("LECTERN_ALLOW_PRIVATE_URLS", "true")]).await;
    let (_, t) = app.bootstrap().await;
    let site = app.create("/v1/sites", &t.owner, &t.id, json!({"name": "Busy"})).await;
    let element =
        app.create(&format!("/v1/sites/{site}/elements"), &t.owner, &t.id, json!({"name": "box", "kind": "cta"})).await;
    let folder = app.create(&format!("/v1/sites/{site}/media-folders"), &t.owner, &t.id, json!({"name": "f"})).await;
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt"));
    let uploaded = app
        .client
        .post(app.url(&format!("/v1/sites/{site}/media")))
        .bearer_auth(&t.owner)
        .header("X-Tenant-ID", &t.id)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let media = json(uploaded).await[0]["id"].as_str().unwrap().to_owned();
    let kb = app.create("/v1/knowledge-bases", &t.owner, &t.id, json!({"name": "kb"})).await;
    let added = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &t.owner,
            Some(&t.id),
            Some(json!({"text": "Some words.", "title": "doc"})),
        )
        .await;
    let added = json(added).await;
    let document = added["document"]["id"].as_str().unwrap().to_owned();
    app.wait_for_job(&t.owner, added["job"]["id"].as_str().unwrap()).await;
    let assistant = app.create("/v1/assistants", &t.owner, &t.id, json!({"name": "bot"})).await;
    let hook =
        app.create("/v1/webhooks", &t.owner, &t.id, json!({"url": "http://127.0.0.1:9/h", "events": ["*"]})).await;
    let field = |name: &str| json!({"name": name, "type": "string", "required": false});
    let schema =
        app.create("/v1/analysis/schemas", &t.owner, &t.id, json!({"name": "s", "fields": [field("a")]})).await;
    let group = app.create("/v1/groups", &t.owner, &t.id, json!({"name": "g", "role": "viewer"})).await;
    let content_type = app.create("/v1/content-types", &t.owner, &t.id, json!({"name": "Thing"})).await;
    app.add_member(&t, "busy-member@example.com", "viewer").await;
    let members = json(app.call(Method::GET, "/v1/members", &t.owner, Some(&t.id), None).await).await;
    let member = members["data"].as_array().unwrap().iter().find(|m| m["email"] == "busy-member@example.com").unwrap()
        ["userId"]
        .as_str()
        .unwrap()
        .to_owned();

    let name = |i: usize| format!("name {i}");
    let rows: Vec<(Method, String, &str, Body)> = vec![
        (Method::PATCH, format!("/v1/sites/{site}"), "name", Box::new(move |i| json!({"name": name(i)}))),
        (
            Method::PATCH,
            format!("/v1/sites/{site}/elements/{element}"),
            "name",
            Box::new(move |i| json!({"name": name(i)})),
        ),
        (
            Method::PATCH,
            format!("/v1/sites/{site}/media-folders/{folder}"),
            "name",
            Box::new(move |i| json!({"name": name(i)})),
        ),
        (
            Method::PATCH,
            format!("/v1/sites/{site}/media/{media}"),
            "name",
            Box::new(move |i| json!({"name": format!("f{i}.txt")})),
        ),
        (Method::PATCH, format!("/v1/knowledge-bases/{kb}"), "name", Box::new(move |i| json!({"name": name(i)}))),
        (
            Method::PATCH,
            format!("/v1/knowledge-bases/{kb}/documents/{document}"),
            "title",
            Box::new(move |i| json!({"title": name(i)})),
        ),
        (Method::PUT, format!("/v1/assistants/{assistant}"), "name", Box::new(move |i| json!({"name": name(i)}))),
        (
            Method::PATCH,
            format!("/v1/webhooks/{hook}"),
            "description",
            Box::new(move |i| json!({"description": name(i)})),
        ),
        (Method::PATCH, format!("/v1/groups/{group}"), "name", Box::new(move |i| json!({"name": name(i)}))),
        (
            Method::PATCH,
            format!("/v1/content-types/{content_type}"),
            "name",
            Box::new(move |i| json!({"name": name(i)})),
        ),
        (
            Method::PATCH,
            format!("/v1/analysis/schemas/{schema}"),
            "fields",
            Box::new(move |i| json!({"fields": [field(&format!("f{i}"))]})),
        ),
    ];
    for (method, path, field, body) in rows {
        writers_on_one_row(&app, &t, method, &path, field, body).await;
    }
    // Every new set of fields made its own schema version, numbered without gaps.
    let schema_now =
        json(app.call(Method::GET, &format!("/v1/analysis/schemas/{schema}"), &t.owner, Some(&t.id), None).await).await;
    let version = schema_now["version"].as_i64().unwrap();
    for v in 1..=version {
        let path = format!("/v1/analysis/schemas/{schema}?version={v}");
        let old = app.call(Method::GET, &path, &t.owner, Some(&t.id), None).await;
        assert_eq!(old.status(), 200, "version {v} of {version}");
    }

    let calls = (0..WRITERS)
        .map(|i| {
            let role = if i % 2 == 0 { "editor" } else { "viewer" };
            (Method::PATCH, format!("/v1/members/{member}"), Some(json!({"role": role})))
        })
        .collect();
    settled("member roles", &burst(&app, &t, calls).await);
}
