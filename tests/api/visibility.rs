//! Knowledge base visibility inside a tenant: a private knowledge base exists only for those who
//! may change knowledge bases (editors and up); members without `kb.write` meet 404s on every
//! read path until it is shared with the tenant.

use reqwest::Method;
use serde_json::{json, Value};

use crate::search::seeded;
use crate::support::app::{json, spawn_app, TestApp};

async fn status(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> u16 {
    app.call(method, path, token, None, body).await.status().as_u16()
}

async fn kb_names(app: &TestApp, token: &str) -> Vec<String> {
    let listed = json(app.call(Method::GET, "/v1/knowledge-bases", token, None, None).await).await;
    listed["data"].as_array().unwrap().iter().map(|kb| kb["name"].as_str().unwrap().to_owned()).collect()
}

/// The knowledge bases the hits of a tenant-wide search come from.
async fn searched_kbs(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let response = app.call(Method::POST, "/v1/search", token, None, Some(json!({"query": query}))).await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    let mut kbs: Vec<String> =
        body["hits"].as_array().unwrap().iter().map(|h| h["knowledgeBaseId"].as_str().unwrap().to_owned()).collect();
    kbs.dedup();
    kbs
}

#[tokio::test]
async fn a_private_knowledge_base_is_invisible_to_viewers_until_shared_with_the_tenant() {
    let app = spawn_app().await;
    let (owner, tenant) = app.bootstrap().await;
    let (help, ids) = seeded(&app, &owner, None).await; // private: the default
    let team = app.create("/v1/knowledge-bases", &owner, "", json!({"name": "Team", "visibility": "tenant"})).await;
    let added = json(
        app.call(
            Method::POST,
            &format!("/v1/knowledge-bases/{team}/documents"),
            &owner,
            None,
            Some(json!({"title": "Canteen.md", "text": "Lunch and refunds for unused meal vouchers are handled by the canteen on the third floor."})),
        )
        .await,
    )
    .await;
    assert_eq!(app.wait_for_job(&owner, added["job"]["id"].as_str().unwrap()).await["status"], "succeeded");
    let viewer = app.add_member(&tenant, "viewer@example.com", "viewer").await;
    let editor = app.add_member(&tenant, "editor@example.com", "editor").await;

    assert_eq!(kb_names(&app, &viewer).await, ["Team"]);
    assert_eq!(kb_names(&app, &editor).await, ["Help", "Team"]);

    // Every read path of the private one answers as if it did not exist; an editor reads it.
    let doc = &ids[0];
    for path in [
        format!("/v1/knowledge-bases/{help}"),
        format!("/v1/knowledge-bases/{help}/documents"),
        format!("/v1/knowledge-bases/{help}/documents/{doc}"),
        format!("/v1/knowledge-bases/{help}/documents/{doc}/chunks"),
        format!("/v1/knowledge-bases/{help}/documents/{doc}/content"),
    ] {
        assert_eq!(status(&app, Method::GET, &path, &viewer, None).await, 404, "viewer GET {path}");
        assert_eq!(status(&app, Method::GET, &path, &editor, None).await, 200, "editor GET {path}");
    }
    let query = json!({"query": "refund"});
    for path in [format!("/v1/knowledge-bases/{help}/search"), format!("/v1/knowledge-bases/{help}/query")] {
        assert_eq!(status(&app, Method::POST, &path, &viewer, Some(query.clone())).await, 404, "viewer POST {path}");
    }
    let named = json!({"query": "refund", "knowledgeBases": [help]});
    assert_eq!(status(&app, Method::POST, "/v1/search", &viewer, Some(named)).await, 404);
    let chat = json!({"message": "How do refunds work?", "knowledgeBases": [help], "stream": false});
    assert_eq!(status(&app, Method::POST, "/v1/chat", &viewer, Some(chat)).await, 404);
    let conversation = json!({"knowledgeBases": [help]});
    assert_eq!(status(&app, Method::POST, "/v1/conversations", &viewer, Some(conversation)).await, 404);

    // A search over everything reads only what the caller may read.
    assert_eq!(searched_kbs(&app, &viewer, "refund").await, [team.as_str()]);
    let everything = searched_kbs(&app, &editor, "refund").await;
    assert!(everything.contains(&help) && everything.contains(&team), "{everything:?}");

    // A conversation remembers its knowledge bases; one made private since is no longer read.
    let conversation =
        app.create("/v1/conversations", &viewer, "", json!({"knowledgeBases": [team], "title": "Canteen"})).await;
    let patch = |v: &str| json!({"visibility": v});
    assert_eq!(
        status(&app, Method::PATCH, &format!("/v1/knowledge-bases/{team}"), &owner, Some(patch("private"))).await,
        200
    );
    let answer = app
        .call(
            Method::POST,
            "/v1/chat",
            &viewer,
            None,
            Some(json!({"conversationId": conversation, "message": "Who handles meal vouchers?", "stream": false})),
        )
        .await;
    assert_eq!(answer.status(), 200);
    let answer = json(answer).await;
    assert_eq!(answer["citations"], json!([]), "nothing cited from a now-private knowledge base: {answer}");

    // Shared with the tenant, the help knowledge base appears for the viewer everywhere.
    assert_eq!(
        status(&app, Method::PATCH, &format!("/v1/knowledge-bases/{help}"), &owner, Some(patch("tenant"))).await,
        200
    );
    assert_eq!(kb_names(&app, &viewer).await, ["Help"]);
    assert_eq!(searched_kbs(&app, &viewer, "refund").await, [help.as_str()]);
    let chunks = format!("/v1/knowledge-bases/{help}/documents/{doc}/chunks");
    assert_eq!(status(&app, Method::GET, &chunks, &viewer, None).await, 200);
}
