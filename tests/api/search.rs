//! Search over knowledge bases: the three modes, filters, snippets, context blocks, and that a
//! search never sees another tenant's identical text.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, TestApp};

const DOCS: &[(&str, &str, &str)] = &[
    (
        "Refund policy",
        "refunds",
        "# Refunds\n\nCustomers may return any purchase within 30 days for a full refund. \
         Refunds are paid to the original card within five business days.",
    ),
    (
        "Shipping",
        "shipping",
        "# Delivery\n\nParcels leave our warehouse in Rotterdam every weekday. \
         Express delivery reaches most of Europe overnight.",
    ),
    (
        "Security",
        "security",
        "# Accounts\n\nPasswords are hashed with argon2id. Two-factor authentication \
         protects administrator accounts against stolen credentials.",
    ),
];

/// A knowledge base with the three documents, each tagged, all ready.
pub async fn seeded(app: &TestApp, token: &str, tenant: Option<&str>) -> (String, Vec<String>) {
    let tenant_header = tenant.unwrap_or("");
    let kb = app.create("/v1/knowledge-bases", token, tenant_header, json!({"name": "Help"})).await;
    let mut ids = Vec::new();
    for (title, tag, text) in DOCS {
        let added = app
            .call(
                Method::POST,
                &format!("/v1/knowledge-bases/{kb}/documents"),
                token,
                tenant,
                Some(json!({"title": format!("{title}.md"), "text": text})),
            )
            .await;
        assert_eq!(added.status(), 202);
        let added = json(added).await;
        let id = added["document"]["id"].as_str().unwrap().to_owned();
        let job = app.wait_for_job(token, added["job"]["id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        let tagged = app
            .call(
                Method::PATCH,
                &format!("/v1/knowledge-bases/{kb}/documents/{id}"),
                token,
                tenant,
                Some(json!({"title": title, "metadata": {"tags": [tag, "help"]}})),
            )
            .await;
        assert_eq!(tagged.status(), 200);
        ids.push(id);
    }
    (kb, ids)
}

async fn search(app: &TestApp, token: &str, kb: &str, body: Value) -> (u16, Value) {
    let response = app.call(Method::POST, &format!("/v1/knowledge-bases/{kb}/search"), token, None, Some(body)).await;
    (response.status().as_u16(), json(response).await)
}

fn titles(body: &Value) -> Vec<String> {
    body["hits"].as_array().unwrap().iter().map(|h| h["documentTitle"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn each_mode_finds_the_right_passage_with_scores_snippets_and_sources() {
    each_mode_finds_the_right_passage(&spawn_app().await).await;
}

/// Also run on the scale-out backends (tests/api/scale_out.rs).
pub async fn each_mode_finds_the_right_passage(app: &TestApp) {
    let (token, _) = app.bootstrap().await;
    let (kb, ids) = seeded(app, &token, None).await;

    // Lexical: exact words.
    let (status, lexical) = search(app, &token, &kb, json!({"query": "argon2id passwords", "mode": "lexical"})).await;
    assert_eq!(status, 200, "{lexical}");
    let top = &lexical["hits"][0];
    assert_eq!(top["documentTitle"], "Security");
    assert_eq!(top["documentId"], ids[2].as_str());
    assert!(top["snippet"].as_str().unwrap().contains("<b>argon2id</b>"), "{top}");
    assert_eq!(top["headings"], json!(["Accounts"]));
    assert!(top["scores"]["lexical"].as_f64().unwrap() > 0.0 && top["scores"]["semantic"].is_null());
    assert_eq!(lexical["indexingDocuments"], 0);

    // Semantic: no word in common with the answer.
    let (_, semantic) =
        search(app, &token, &kb, json!({"query": "can I get my money back?", "mode": "semantic", "limit": 3})).await;
    assert_eq!(titles(&semantic)[0], "Refund policy", "{semantic}");
    let cosine = semantic["hits"][0]["score"].as_f64().unwrap();
    assert!(cosine > 0.2 && cosine <= 1.0, "{cosine}");
    assert!(semantic["hits"][0]["scores"]["lexical"].is_null());

    // Hybrid (the default): both sources' ranks and a fused score in 0..1.
    let (_, hybrid) = search(app, &token, &kb, json!({"query": "how fast is express parcel delivery"})).await;
    assert_eq!(hybrid["mode"], "hybrid");
    let top = &hybrid["hits"][0];
    assert_eq!(top["documentTitle"], "Shipping", "{hybrid}");
    assert_eq!((top["scores"]["lexicalRank"].as_u64(), top["scores"]["semanticRank"].as_u64()), (Some(1), Some(1)));
    assert!((top["score"].as_f64().unwrap() - 1.0).abs() < 1e-6, "first for both sources scores 1: {top}");
    assert!(top["text"].as_str().unwrap().contains("Rotterdam"));

    // minScore drops weak hits; limit caps the count.
    let (_, strict) = search(app, &token, &kb, json!({"query": "express parcel delivery", "minScore": 0.99})).await;
    assert_eq!(titles(&strict), ["Shipping"]);
    let (_, one) = search(app, &token, &kb, json!({"query": "the", "mode": "semantic", "limit": 1})).await;
    assert_eq!(one["hits"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn filters_restrict_both_sources_and_bad_requests_are_explained() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let (kb, ids) = seeded(&app, &token, None).await;
    let query = "refunds delivery passwords";

    let (_, by_tag) = search(&app, &token, &kb, json!({"query": query, "filters": {"tags": ["shipping"]}})).await;
    assert_eq!(titles(&by_tag), ["Shipping"]);
    let (_, by_id) =
        search(&app, &token, &kb, json!({"query": query, "filters": {"documentIds": [ids[0], ids[2]]}})).await;
    let mut found = titles(&by_id);
    found.sort();
    assert_eq!(found, ["Refund policy", "Security"]);
    let (_, by_meta) = search(
        &app,
        &token,
        &kb,
        json!({"query": query, "mode": "semantic", "filters": {"metadata": {"tags": "refunds"}}}),
    )
    .await;
    assert_eq!(titles(&by_meta), ["Refund policy"]);
    let (_, by_type) = search(&app, &token, &kb, json!({"query": query, "filters": {"fileTypes": ["pdf"]}})).await;
    assert_eq!(by_type["hits"], json!([]), "all three are markdown");
    let (_, future) =
        search(&app, &token, &kb, json!({"query": query, "filters": {"createdAfter": "2999-01-01T00:00:00Z"}})).await;
    assert_eq!(future["hits"], json!([]));

    for (body, field) in [
        (json!({"query": "  "}), "query"),
        (json!({"query": "x", "limit": 0}), "limit"),
        (json!({"query": "x", "mode": "fuzzy"}), "mode"),
        (json!({"query": "x", "weights": {"lexical": 0, "semantic": 0}}), "weights"),
        (json!({"query": "x", "filters": {"color": "red"}}), "color"),
        (json!({"query": "x", "maxTokens": 100}), "maxTokens"),
    ] {
        let (status, error) = search(&app, &token, &kb, body.clone()).await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"], "INVALID_REQUEST");
        assert!(error.to_string().contains(field), "{body}: {error}");
    }
    let (status, _) = search(&app, &token, &uuid::Uuid::now_v7().to_string(), json!({"query": "x"})).await;
    assert_eq!(status, 404);

    // Chunks are found by their document's title, and a renamed document by its new one.
    let (_, by_title) = search(&app, &token, &kb, json!({"query": "shipping", "mode": "lexical"})).await;
    assert_eq!(titles(&by_title), ["Shipping"], "the text never says 'shipping'");
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/v1/knowledge-bases/{kb}/documents/{}", ids[1]),
            &token,
            None,
            Some(json!({"title": "Logistics handbook"})),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let (_, by_new) = search(&app, &token, &kb, json!({"query": "logistics", "mode": "lexical"})).await;
    assert_eq!(titles(&by_new), ["Logistics handbook"]);
    let (_, by_old) = search(&app, &token, &kb, json!({"query": "shipping", "mode": "lexical"})).await;
    assert_eq!(by_old["hits"], json!([]), "the old title is forgotten");
}

#[tokio::test]
async fn multi_kb_search_and_context_blocks_never_include_another_tenants_identical_text() {
    searches_never_cross_tenants(&spawn_app().await).await;
}

/// Also run on the scale-out backends (tests/api/scale_out.rs).
pub async fn searches_never_cross_tenants(app: &TestApp) {
    let (superadmin, _) = app.bootstrap().await;
    let a = app.tenant_with_owner(&superadmin, "Tenant A", "owner-a@example.com").await;
    let b = app.tenant_with_owner(&superadmin, "Tenant B", "owner-b@example.com").await;
    let (kb_a, _) = seeded(app, &a.owner, Some(&a.id)).await;
    let (kb_b, _) = seeded(app, &b.owner, Some(&b.id)).await;
    let other_a = app.create("/v1/knowledge-bases", &a.owner, &a.id, json!({"name": "Empty"})).await;

    for mode in ["lexical", "semantic", "hybrid"] {
        let all = app
            .call(
                Method::POST,
                "/v1/search",
                &a.owner,
                Some(&a.id),
                Some(json!({"query": "refund within 30 days", "mode": mode})),
            )
            .await;
        assert_eq!(all.status(), 200);
        let all = json(all).await;
        assert!(!all["hits"].as_array().unwrap().is_empty(), "{mode}");
        for hit in all["hits"].as_array().unwrap() {
            assert_eq!(hit["knowledgeBaseId"], kb_a.as_str(), "{mode}: only A's knowledge: {hit}");
        }
    }
    let named = app
        .call(
            Method::POST,
            "/v1/search",
            &a.owner,
            Some(&a.id),
            Some(json!({"query": "refund", "knowledgeBases": [other_a, kb_b]})),
        )
        .await;
    assert_eq!(named.status(), 404, "naming B's knowledge base is not found, not an empty result");

    let block = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb_a}/query"),
            &a.owner,
            Some(&a.id),
            Some(json!({"query": "refund within 30 days", "maxTokens": 50})),
        )
        .await;
    assert_eq!(block.status(), 200);
    let block = json(block).await;
    let context = block["context"].as_str().unwrap();
    assert!(context.starts_with("[1] Refund policy (Refunds)\n"), "{context}");
    assert!(block["tokens"].as_u64().unwrap() <= 50);
    assert_eq!(block["sources"][0]["n"], 1);
    assert!(block["omitted"].as_u64().unwrap() >= 1, "the budget keeps some passages out: {block}");
}
