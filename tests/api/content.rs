//! Content: types and validation, entries, publishing and scheduling, revisions, translations
//! with locale fallback, elements and references, public delivery with ETags and CORS.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, TestApp};
use crate::support::eventually;

pub struct Site {
    pub id: String,
    pub token: String,
    pub tenant: String,
}

impl Site {
    pub async fn call(&self, app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let path = path.replace("{site}", &self.id);
        let response = app.call(method, &path, &self.token, Some(&self.tenant), body).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates an entry and returns its JSON (asserting 201).
    pub async fn entry(&self, app: &TestApp, body: Value) -> Value {
        let (status, created) = self.call(app, Method::POST, "/v1/sites/{site}/entries", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        created
    }

    pub async fn publish(&self, app: &TestApp, id: &str) -> Value {
        let (status, published) =
            self.call(app, Method::POST, &format!("/v1/sites/{{site}}/entries/{id}/publish"), None).await;
        assert_eq!(status, 200, "{published}");
        published
    }
}

/// A bootstrapped platform with a site in English (default) and German.
pub async fn site(app: &TestApp) -> Site {
    let (token, tenant) = app.bootstrap().await;
    let id = app
        .create(
            "/v1/sites",
            &token,
            &tenant.id,
            json!({"name": "Blog", "locales": ["de"], "allowedOrigins": ["https://blog.example.com"]}),
        )
        .await;
    Site { id, token, tenant: tenant.id }
}

pub async fn public(app: &TestApp, site: &Site, path: &str) -> reqwest::Response {
    app.client.get(app.url(&format!("/public/v1/sites/{}{path}", site.id))).send().await.unwrap()
}

#[tokio::test]
async fn types_validate_entries_and_refuse_changes_that_would_break_them() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let (status, types) = site.call(&app, Method::GET, "/v1/content-types", None).await;
    assert_eq!(status, 200);
    let api_ids: Vec<&str> = types["data"].as_array().unwrap().iter().map(|t| t["apiId"].as_str().unwrap()).collect();
    assert!(api_ids.contains(&"post") && api_ids.contains(&"page"), "{types}");

    let (status, product) = site
        .call(
            &app,
            Method::POST,
            "/v1/content-types",
            Some(json!({"name": "Product", "fields": [
                {"name": "sku", "type": "text", "required": true, "unique": true, "pattern": "^[A-Z]{3}-[0-9]+$"},
                {"name": "price", "type": "number", "min": 0},
                {"name": "size", "type": "enum", "options": ["s", "m", "l"]}
            ]})),
        )
        .await;
    assert_eq!(status, 201, "{product}");
    assert_eq!(product["apiId"], "product");

    // Every failing field is named.
    let (status, invalid) = site
        .call(
            &app,
            Method::POST,
            "/v1/sites/{site}/entries",
            Some(json!({"type": "product", "title": "Shoe", "data": {"price": -3, "size": "xl", "colour": "red"}})),
        )
        .await;
    assert_eq!(status, 400, "{invalid}");
    let fields: Vec<&str> =
        invalid["details"]["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for expected in ["sku", "price", "size", "colour"] {
        assert!(fields.contains(&expected), "{expected}: {invalid}");
    }
    let shoe = site
        .entry(&app, json!({"type": "product", "title": "Shoe", "data": {"sku": "SHO-1", "price": 20, "size": "m"}}))
        .await;
    assert_eq!(shoe["slug"], "shoe");
    assert_eq!(shoe["status"], "draft");
    // Unique field and slug.
    let (status, dup) = site
        .call(
            &app,
            Method::POST,
            "/v1/sites/{site}/entries",
            Some(json!({"type": "product", "title": "Boot", "data": {"sku": "sho-1"}})),
        )
        .await;
    assert_eq!(status, 400, "{dup}");
    assert_eq!(dup["details"]["errors"][0]["field"], "sku");
    let (status, _) = site
        .call(
            &app,
            Method::POST,
            "/v1/sites/{site}/entries",
            Some(json!({"type": "product", "title": "Shoe", "data": {"sku": "SHO-2"}})),
        )
        .await;
    assert_eq!(status, 409, "slug taken");

    // A new required field would break the shoe: 409 naming it; an optional one is fine.
    let type_path = format!("/v1/content-types/{}", product["id"].as_str().unwrap());
    let mut fields = product["fields"].as_array().unwrap().clone();
    fields.push(json!({"name": "brand", "type": "text", "required": true}));
    let (status, refused) = site.call(&app, Method::PATCH, &type_path, Some(json!({"fields": fields}))).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["details"]["entries"][0]["id"], shoe["id"]);
    let mut fields = product["fields"].as_array().unwrap().clone();
    fields.pop();
    fields.push(json!({"name": "brand", "type": "text"}));
    let (status, changed) = site.call(&app, Method::PATCH, &type_path, Some(json!({"fields": fields}))).await;
    assert_eq!(status, 200, "{changed}");
    // Removing `size` removed its data from the shoe.
    let (_, shoe) = site
        .call(&app, Method::GET, &format!("/v1/sites/{{site}}/entries/{}", shoe["id"].as_str().unwrap()), None)
        .await;
    assert!(shoe["data"].get("size").is_none(), "{shoe}");

    let (status, _) = site.call(&app, Method::DELETE, &type_path, None).await;
    assert_eq!(status, 409, "entries still use it");
    let post_id = types["data"].as_array().unwrap().iter().find(|t| t["apiId"] == "post").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = site.call(&app, Method::DELETE, &format!("/v1/content-types/{post_id}"), None).await;
    assert_eq!(status, 409, "built-in");
}

#[tokio::test]
async fn drafts_are_never_public_and_publishing_revisions_and_etags_work() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let post = site
        .entry(
            &app,
            json!({"type": "post", "title": "Hello world", "tags": ["news"], "data": {"body": "First words."}}),
        )
        .await;
    let id = post["id"].as_str().unwrap();
    assert_eq!(public(&app, &site, "/entries/post/hello-world").await.status(), 404);
    let listed = json(public(&app, &site, "/entries?type=post").await).await;
    assert_eq!(listed["pagination"]["total"], 0, "{listed}");

    site.publish(&app, id).await;
    let live = public(&app, &site, "/entries/post/hello-world").await;
    assert_eq!(live.status(), 200);
    let etag = live.headers()["etag"].to_str().unwrap().to_owned();
    assert!(live.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let body = json(live).await;
    assert_eq!(body["fields"]["body"], "First words.");
    assert_eq!(body["tags"], json!(["news"]));
    let again = app
        .client
        .get(app.url(&format!("/public/v1/sites/{}/entries/post/hello-world", site.id)))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // An update shows at once (the cache is dropped) with a new ETag.
    let path = format!("/v1/sites/{{site}}/entries/{id}");
    let (status, _) = site.call(&app, Method::PATCH, &path, Some(json!({"data": {"body": "Second words."}}))).await;
    assert_eq!(status, 200);
    let changed = app
        .client
        .get(app.url(&format!("/public/v1/sites/{}/entries/post/hello-world", site.id)))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(json(changed).await["fields"]["body"], "Second words.");

    // Revisions: created, published, edited; restore the first.
    let (_, revisions) = site.call(&app, Method::GET, &format!("{path}/revisions"), None).await;
    let numbers: Vec<i64> =
        revisions["data"].as_array().unwrap().iter().map(|r| r["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(revisions["data"][0]["changed"], json!(["body"]));
    let (_, first) = site.call(&app, Method::GET, &format!("{path}/revisions/1"), None).await;
    assert_eq!(first["data"]["body"], "First words.");
    assert!(first["diff"].as_array().unwrap().iter().any(|d| d["field"] == "body" && d["current"] == "Second words."));
    let (status, restored) = site.call(&app, Method::POST, &format!("{path}/revisions/1/restore"), None).await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["data"]["body"], "First words.");
    assert_eq!(restored["status"], "published", "restoring keeps the status");
    assert_eq!(json(public(&app, &site, "/entries/post/hello-world").await).await["fields"]["body"], "First words.");

    // Unpublish and archive: gone for visitors.
    let (status, _) = site.call(&app, Method::POST, &format!("{path}/unpublish"), None).await;
    assert_eq!(status, 200);
    assert_eq!(public(&app, &site, "/entries/post/hello-world").await.status(), 404);
    let (status, _) = site.call(&app, Method::POST, &format!("{path}/unpublish"), None).await;
    assert_eq!(status, 409, "not published");
    let (status, archived) = site.call(&app, Method::PATCH, &path, Some(json!({"status": "archived"}))).await;
    assert_eq!(status, 200, "{archived}");
    assert_eq!(public(&app, &site, "/entries/post/hello-world").await.status(), 404);

    // Duplicate: a draft with a free slug.
    let (status, copy) = site.call(&app, Method::POST, &format!("{path}/duplicate"), None).await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(copy["slug"], "hello-world-copy");
    assert_eq!(copy["status"], "draft");
}

#[tokio::test]
async fn a_scheduled_entry_goes_live_when_its_time_comes() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let post = site.entry(&app, json!({"type": "post", "title": "Launch"})).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let (status, scheduled) = site
        .call(
            &app,
            Method::POST,
            &format!("/v1/sites/{{site}}/entries/{}/publish", post["id"].as_str().unwrap()),
            Some(json!({"publishAt": at.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, 200, "{scheduled}");
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(public(&app, &site, "/entries/post/launch").await.status(), 404, "not before its time");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if public(&app, &site, "/entries/post/launch").await.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the scheduled entry never went live");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, live) = site
        .call(&app, Method::GET, &format!("/v1/sites/{{site}}/entries/{}", post["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(live["status"], "published");
    assert!(
        chrono::DateTime::parse_from_rfc3339(live["publishedAt"].as_str().unwrap()).unwrap()
            >= at - chrono::Duration::seconds(1)
    );
    // Scheduling in the past is refused on creation.
    let (status, _) = site
        .call(
            &app,
            Method::POST,
            "/v1/sites/{site}/entries",
            Some(json!({"type": "post", "title": "Old", "status": "scheduled", "publishAt": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn translations_fall_back_to_the_default_locale_and_share_unlocalized_fields() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let (status, _) = site
        .call(
            &app,
            Method::POST,
            "/v1/content-types",
            Some(json!({"name": "Article", "fields": [
                {"name": "body", "type": "richText"},
                {"name": "rating", "type": "number", "localized": false}
            ]})),
        )
        .await;
    assert_eq!(status, 201);
    let en = site
        .entry(&app, json!({"type": "article", "title": "Colour", "data": {"body": "In English.", "rating": 4}}))
        .await;
    let en_id = en["id"].as_str().unwrap();
    site.publish(&app, en_id).await;

    // No German yet: German visitors get English, marked as a fallback.
    let fallback = json(public(&app, &site, "/entries/article/colour?locale=de").await).await;
    assert_eq!(fallback["locale"], "en");
    assert_eq!(fallback["fallback"], true);
    let (_, missing) = site.call(&app, Method::GET, "/v1/sites/{site}/translations/missing?locale=de", None).await;
    assert_eq!(missing.as_array().unwrap().len(), 1, "{missing}");
    assert_eq!(missing[0]["missing"], json!(["de"]));

    let (status, de) = site
        .call(
            &app,
            Method::POST,
            &format!("/v1/sites/{{site}}/entries/{en_id}/translations"),
            Some(json!({"locale": "de", "title": "Farbe", "slug": "farbe", "data": {"body": "Auf Deutsch.", "rating": 1}})),
        )
        .await;
    assert_eq!(status, 201, "{de}");
    assert_eq!(de["translationGroup"], en["translationGroup"]);
    assert_eq!(de["data"]["rating"], 4, "unlocalized fields come from the group");
    let (status, _) = site
        .call(
            &app,
            Method::POST,
            &format!("/v1/sites/{{site}}/entries/{en_id}/translations"),
            Some(json!({"locale": "de"})),
        )
        .await;
    assert_eq!(status, 409, "the locale exists");
    let (status, _) = site
        .call(
            &app,
            Method::POST,
            &format!("/v1/sites/{{site}}/entries/{en_id}/translations"),
            Some(json!({"locale": "fr"})),
        )
        .await;
    assert_eq!(status, 400, "not a site locale");

    // A German draft is not public: still the fallback. Published, German visitors get it,
    // by its own slug or the English one.
    assert_eq!(json(public(&app, &site, "/entries/article/colour?locale=de").await).await["locale"], "en");
    site.publish(&app, de["id"].as_str().unwrap()).await;
    for path in ["/entries/article/colour?locale=de", "/entries/article/farbe?locale=de"] {
        let german = json(public(&app, &site, path).await).await;
        assert_eq!(german["title"], "Farbe", "{path}: {german}");
        assert_eq!(german["fallback"], false);
        assert_eq!(german["translations"], json!([{"locale": "en", "slug": "colour"}]));
    }
    let list = json(public(&app, &site, "/entries?type=article&locale=de").await).await;
    assert_eq!(list["pagination"]["total"], 1, "one entry per translation group: {list}");
    assert_eq!(list["data"][0]["title"], "Farbe");

    // Changing the shared field in English changes it in German too.
    let (status, _) = site
        .call(&app, Method::PATCH, &format!("/v1/sites/{{site}}/entries/{en_id}"), Some(json!({"data": {"rating": 5}})))
        .await;
    assert_eq!(status, 200);
    let german = json(public(&app, &site, "/entries/article/farbe?locale=de").await).await;
    assert_eq!(german["fields"]["rating"], 5);
    assert_eq!(german["fields"]["body"], "Auf Deutsch.");
    let (_, translations) =
        site.call(&app, Method::GET, &format!("/v1/sites/{{site}}/entries/{en_id}/translations"), None).await;
    assert_eq!(translations["variants"].as_array().unwrap().len(), 2);
    assert_eq!(translations["missing"], json!([]));
}

#[tokio::test]
async fn elements_and_references_resolve_for_visitors_and_guard_deletion() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let (status, element) = site
        .call(
            &app,
            Method::POST,
            "/v1/sites/{site}/elements",
            Some(json!({"name": "Newsletter box", "kind": "cta", "data": {"text": "Subscribe!"}})),
        )
        .await;
    assert_eq!(status, 201, "{element}");
    let element_id = element["id"].as_str().unwrap();
    let (status, _) = site
        .call(
            &app,
            Method::POST,
            "/v1/content-types",
            Some(json!({"name": "Landing", "fields": [
                {"name": "blocks", "type": "elements"},
                {"name": "related", "type": "reference", "multiple": true, "referenceTypes": ["post"]}
            ]})),
        )
        .await;
    assert_eq!(status, 201);
    let draft_post = site.entry(&app, json!({"type": "post", "title": "Secret draft"})).await;
    let live_post = site.entry(&app, json!({"type": "post", "title": "Public post"})).await;
    site.publish(&app, live_post["id"].as_str().unwrap()).await;
    let (status, wrong) = site
        .call(
            &app,
            Method::POST,
            "/v1/sites/{site}/entries",
            Some(json!({"type": "landing", "title": "Bad", "data": {"blocks": [uuid::Uuid::now_v7()]}})),
        )
        .await;
    assert_eq!(status, 400, "{wrong}");
    assert_eq!(wrong["details"]["errors"][0]["field"], "blocks");
    let landing = site
        .entry(
            &app,
            json!({"type": "landing", "title": "Home", "data": {
                "blocks": [element_id], "related": [draft_post["id"], live_post["id"]]
            }}),
        )
        .await;
    site.publish(&app, landing["id"].as_str().unwrap()).await;

    let home = json(public(&app, &site, "/entries/landing/home").await).await;
    assert_eq!(home["fields"]["blocks"][0]["data"]["text"], "Subscribe!", "{home}");
    let related = home["fields"]["related"].as_array().unwrap();
    assert_eq!(related.len(), 1, "the draft is not resolved: {home}");
    assert_eq!(related[0]["title"], "Public post");

    let (_, usage) =
        site.call(&app, Method::GET, &format!("/v1/sites/{{site}}/elements/{element_id}/usage"), None).await;
    assert_eq!(usage[0]["id"], landing["id"]);
    let (status, used) =
        site.call(&app, Method::DELETE, &format!("/v1/sites/{{site}}/elements/{element_id}"), None).await;
    assert_eq!(status, 409, "{used}");
    assert_eq!(used["details"]["entries"][0]["title"], "Home");
    let (status, _) = site
        .call(&app, Method::DELETE, &format!("/v1/sites/{{site}}/entries/{}", live_post["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(status, 409, "referenced by the landing page");

    // Changing the element changes the page visitors see.
    let (status, _) = site
        .call(
            &app,
            Method::PATCH,
            &format!("/v1/sites/{{site}}/elements/{element_id}"),
            Some(json!({"data": {"text": "Join us!"}})),
        )
        .await;
    assert_eq!(status, 200);
    let home = json(public(&app, &site, "/entries/landing/home").await).await;
    assert_eq!(home["fields"]["blocks"][0]["data"]["text"], "Join us!");

    let (status, _) = site
        .call(&app, Method::DELETE, &format!("/v1/sites/{{site}}/entries/{}", landing["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = site.call(&app, Method::DELETE, &format!("/v1/sites/{{site}}/elements/{element_id}"), None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn cors_follows_the_sites_allowed_origins() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let url = app.url(&format!("/public/v1/sites/{}/entries", site.id));
    let allowed = app.client.get(&url).header("Origin", "https://blog.example.com").send().await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://blog.example.com");
    let other = app.client.get(&url).header("Origin", "https://evil.example.net").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = app
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", "https://blog.example.com")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://blog.example.com");
    let refused = app
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", "https://evil.example.net")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // Changing the site's origins takes effect at once.
    let (status, _) = site
        .call(&app, Method::PATCH, "/v1/sites/{site}", Some(json!({"allowedOrigins": ["https://evil.example.net"]})))
        .await;
    assert_eq!(status, 200);
    let now = app.client.get(&url).header("Origin", "https://evil.example.net").send().await.unwrap();
    assert_eq!(now.headers()["access-control-allow-origin"], "https://evil.example.net");
    let (status, bad) = site
        .call(&app, Method::PATCH, "/v1/sites/{site}", Some(json!({"allowedOrigins": ["blog.example.com/x"]})))
        .await;
    assert_eq!(status, 400, "{bad}");
}

#[tokio::test]
async fn a_site_can_mirror_its_published_entries_into_a_knowledge_base() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let kb = app.create("/v1/knowledge-bases", &site.token, &site.tenant, json!({"name": "Site content"})).await;
    let (status, updated) =
        site.call(&app, Method::PATCH, "/v1/sites/{site}", Some(json!({"knowledgeBaseId": kb}))).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["knowledgeBaseId"], kb.as_str());
    let post = site
        .entry(&app, json!({"type": "post", "title": "Return policy", "data": {"body": "Customers may return shoes within 45 days."}}))
        .await;
    site.entry(&app, json!({"type": "post", "title": "Unpublished plans", "data": {"body": "Shoes become free."}}))
        .await;
    site.publish(&app, post["id"].as_str().unwrap()).await;

    let documents = |expected: u64| {
        let path = format!("/v1/knowledge-bases/{kb}/documents");
        let app = &app;
        let site = &site;
        async move {
            eventually(&format!("{expected} ready documents"), Duration::from_secs(60), || async {
                let (_, listed) = site.call(app, Method::GET, &path, None).await;
                let ready = listed["data"].as_array().unwrap().iter().all(|d| d["status"] == "ready");
                (listed["pagination"]["total"] == expected && ready).then_some(listed)
            })
            .await
        }
    };
    let listed = documents(1).await;
    assert_eq!(listed["data"][0]["title"], "Return policy");
    let (status, found) = site
        .call(
            &app,
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/search"),
            Some(json!({"query": "return shoes days", "mode": "lexical"})),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["hits"][0]["documentTitle"], "Return policy", "{found}");

    let (status, _) = site
        .call(
            &app,
            Method::POST,
            &format!("/v1/sites/{{site}}/entries/{}/unpublish", post["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200);
    documents(0).await;
}
