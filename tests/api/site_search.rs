//! Public site search (typos, prefixes, facets, locales, drafts never found), suggestions,
//! reindexing, search analytics and site statistics, the contact form.

use reqwest::Method;
use serde_json::{json, Value};

use crate::content::{public, site, Site};
use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};

async fn search(app: &TestApp, site: &Site, query: &str) -> Value {
    let response = public(app, site, &format!("/search?{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    json(response).await
}

fn titles(results: &Value) -> Vec<String> {
    results["hits"].as_array().unwrap().iter().map(|h| strip(h["title"].as_str().unwrap())).collect()
}

fn strip(html: &str) -> String {
    html.replace("<b>", "").replace("</b>", "")
}

async fn published_site(app: &TestApp) -> (Site, Vec<String>) {
    let site = site(app).await;
    let mut ids = Vec::new();
    for (kind, title, body, tags) in [
        ("post", "How to receive payments", "Invoices are paid by bank transfer within ten days.", vec!["billing"]),
        ("post", "Shipping policy", "Parcels are delivered within three working days.", vec!["shop"]),
        ("page", "About us", "We receive visitors in our Rotterdam office.", vec![]),
    ] {
        let entry = site.entry(app, json!({"type": kind, "title": title, "tags": tags, "data": {"body": body}})).await;
        let id = entry["id"].as_str().unwrap().to_owned();
        site.publish(app, &id).await;
        ids.push(id);
    }
    site.entry(app, json!({"type": "post", "title": "Receive the secret draft", "data": {"body": "unpublished"}}))
        .await;
    (site, ids)
}

#[tokio::test]
async fn visitors_find_published_entries_despite_typos_and_while_typing() {
    let app = spawn_app().await;
    let (site, ids) = published_site(&app).await;

    let typo = search(&app, &site, "q=recieve").await;
    let found = titles(&typo);
    assert!(found.contains(&"How to receive payments".to_owned()), "{typo}");
    assert!(found.contains(&"About us".to_owned()), "body matches count too: {typo}");
    assert!(!found.iter().any(|t| t.contains("secret")), "drafts are never found: {typo}");
    assert_eq!(found[0], "How to receive payments", "title matches rank first: {typo}");
    assert!(typo["hits"][0]["title"].as_str().unwrap().contains("<b>receive</b>"), "{typo}");
    assert_eq!(typo["facets"]["type"], json!({"post": 1, "page": 1}));

    assert_eq!(titles(&search(&app, &site, "q=shipp").await), ["Shipping policy"], "prefix while typing");
    assert!(titles(&search(&app, &site, "q=shipp%20").await).is_empty(), "a finished word is not a prefix");
    let pages = search(&app, &site, "q=receive&type=page").await;
    assert_eq!(titles(&pages), ["About us"]);
    let tagged = search(&app, &site, "q=&tags=billing").await;
    assert_eq!(titles(&tagged), ["How to receive payments"]);
    assert_eq!(search(&app, &site, "q=receive&limit=1&page=2").await["hits"].as_array().unwrap().len(), 1);
    // German visitors search the English entries while there is no German translation.
    assert_eq!(titles(&search(&app, &site, "q=parcels&locale=de").await), ["Shipping policy"]);

    let suggestions = json(public(&app, &site, "/suggest?q=ship").await).await;
    assert_eq!(suggestions["suggestions"][0]["title"], "Shipping policy", "{suggestions}");

    // Unpublished: gone from search at once. Published again: back.
    let (status, _) =
        site.call(&app, Method::POST, &format!("/v1/sites/{{site}}/entries/{}/unpublish", ids[1]), None).await;
    assert_eq!(status, 200);
    assert!(titles(&search(&app, &site, "q=shipping").await).is_empty());
    site.publish(&app, &ids[1]).await;
    assert_eq!(titles(&search(&app, &site, "q=shipping").await), ["Shipping policy"]);

    // Bad input is a 400, another site's words are not found.
    assert_eq!(public(&app, &site, "/search?q=x&limit=500").await.status(), 400);
    assert_eq!(public(&app, &site, "/search?q=x&locale=fr").await.status(), 400);
    let other = app.create("/v1/sites", &site.token, &site.tenant, json!({"name": "Other"})).await;
    let elsewhere =
        json(app.client.get(app.url(&format!("/public/v1/sites/{other}/search?q=shipping"))).send().await.unwrap())
            .await;
    assert_eq!(elsewhere["total"], 0, "{elsewhere}");

    // A rebuild from the database gives the same answers.
    let (status, job) = site.call(&app, Method::POST, "/v1/sites/{site}/search/reindex", None).await;
    assert_eq!(status, 202, "{job}");
    let done = app.wait_for_job(&site.token, job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["done"], 3);
    assert_eq!(titles(&search(&app, &site, "q=recieve").await)[0], "How to receive payments");
}

/// A German entry is stemmed in German and a German visitor's query too: "Häuser" finds the
/// entry that only says "Haus" (no typo budget reaches it; English stemming keeps "häuser").
#[tokio::test]
async fn each_locale_is_searched_with_its_own_stemmer() {
    let app = spawn_app().await;
    let site = site(&app).await;
    let body = "Das alte Haus am Fluss wurde im letzten Jahrhundert von den Bauern des Dorfes gebaut.";
    let entry =
        site.entry(&app, json!({"type": "post", "locale": "de", "title": "Am Fluss", "data": {"body": body}})).await;
    site.publish(&app, entry["id"].as_str().unwrap()).await;
    assert_eq!(titles(&search(&app, &site, "q=H%C3%A4user%20&locale=de").await), ["Am Fluss"]);
    assert_eq!(titles(&search(&app, &site, "q=Bauer%20&locale=de").await), ["Am Fluss"], "Bauern and Bauer: bau");
    assert!(titles(&search(&app, &site, "q=H%C3%A4user%20&locale=en").await).is_empty(), "another locale");
}

#[tokio::test]
async fn search_analytics_and_site_statistics_count_without_tracking_visitors() {
    let app = spawn_app().await;
    let (site, ids) = published_site(&app).await;
    for query in ["q=receive", "q=Receive", "q=zebra%20"] {
        search(&app, &site, query).await;
    }
    let click = app
        .client
        .post(app.url(&format!("/public/v1/sites/{}/search/click", site.id)))
        .json(&json!({"query": "receive", "entryId": ids[0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(click.status(), 202);
    for id in [&ids[0], &ids[0], &ids[2]] {
        let view = app
            .client
            .post(app.url(&format!("/public/v1/sites/{}/views", site.id)))
            .json(&json!({"entryId": id}))
            .send()
            .await
            .unwrap();
        assert_eq!(view.status(), 202);
    }
    let draft = site.entry(&app, json!({"type": "post", "title": "Hidden"})).await;
    let hidden = app
        .client
        .post(app.url(&format!("/public/v1/sites/{}/views", site.id)))
        .json(&json!({"entryId": draft["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404, "drafts have no public views");

    let (status, analytics) = site.call(&app, Method::GET, "/v1/sites/{site}/search/analytics", None).await;
    assert_eq!(status, 200, "{analytics}");
    assert_eq!(analytics["topQueries"][0]["query"], "receive");
    assert_eq!(analytics["topQueries"][0]["searches"], 2, "queries are grouped case-insensitively");
    assert_eq!(analytics["topQueries"][0]["clicks"], 1);
    assert_eq!(analytics["topQueries"][0]["clickThrough"], 0.5);
    assert_eq!(analytics["zeroResultQueries"][0]["query"], "zebra");

    let (status, stats) = site.call(&app, Method::GET, "/v1/sites/{site}/stats", None).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["totals"]["views"], 3);
    assert_eq!(stats["totals"]["searches"], 3);
    assert_eq!(stats["topEntries"][0]["entryId"], ids[0].as_str());
    assert_eq!(stats["topEntries"][0]["views"], 2);
    assert_eq!(stats["days"].as_array().unwrap().len(), 30);
    assert_eq!(stats["publishedEntries"], 3);
    let (status, _) = site.call(&app, Method::GET, "/v1/sites/{site}/stats?from=2026-02-01&to=2026-01-01", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_contact_form_stores_messages_drops_bots_and_limits_each_address() {
    let app = spawn_app_env(&[("LECTERN_CONTACT_PER_HOUR", "3")]).await;
    let site = site(&app).await;
    let send = |body: Value| {
        let request = app.client.post(app.url(&format!("/public/v1/sites/{}/contact", site.id))).json(&body);
        async move { request.send().await.unwrap() }
    };
    let sent = send(json!({"name": "Ada", "email": "ada@example.com", "message": "Do you ship to Mars?"})).await;
    assert_eq!(sent.status(), 202);
    let bot = send(json!({"email": "bot@example.com", "message": "Buy now", "website": "http://spam.example"})).await;
    assert_eq!(bot.status(), 202, "bots get the same answer");
    let invalid = send(json!({"email": "not-an-address", "message": "Hi"})).await;
    assert_eq!(invalid.status(), 400);
    let limited = send(json!({"email": "ada@example.com", "message": "Again"})).await;
    assert_eq!(limited.status(), 429, "three per hour");
    assert!(json(limited).await["details"]["retryAfter"].as_u64().unwrap() > 0);

    let (status, listed) = site.call(&app, Method::GET, "/v1/sites/{site}/contact-submissions", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["pagination"]["total"], 1, "the bot's message is not stored: {listed}");
    let message = &listed["data"][0];
    assert_eq!(message["message"], "Do you ship to Mars?");
    assert_eq!(message["status"], "new");
    let (status, handled) = site
        .call(
            &app,
            Method::PATCH,
            &format!("/v1/sites/{{site}}/contact-submissions/{}", message["id"].as_str().unwrap()),
            Some(json!({"status": "handled"})),
        )
        .await;
    assert_eq!(status, 200, "{handled}");
    assert!(handled["handledAt"].is_string());
    let (_, open) = site.call(&app, Method::GET, "/v1/sites/{site}/contact-submissions?status=new", None).await;
    assert_eq!(open["pagination"]["total"], 0);
}
