//! Tenant isolation: every endpoint answers another tenant's ids exactly like missing ones
//! (404), whether the id is in the path, the body or the tenant header, and changes nothing.
//! Later issues add their endpoints to `foreign_calls`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};
use crate::support::identity::Tenant;

/// What tenant B owns, for A to try.
struct Foreign {
    tenant: String,
    site: String,
    api_key: String,
    member: String,
    invite: String,
    group: String,
    kb: String,
    document: String,
    job: String,
    conversation: String,
    answer: String,
    assistant: String,
    content_type: String,
    entry: String,
    element: String,
    media: String,
    folder: String,
    contact: String,
    webhook: String,
    delivery: String,
    schema: String,
    run: String,
    result: String,
}

async fn tenant_b_with_things(app: &TestApp, b: &Tenant) -> Foreign {
    let site = app.create("/v1/sites", &b.owner, &b.id, json!({"name": "B site"})).await;
    let api_key = app.create("/v1/api-keys", &b.owner, &b.id, json!({"name": "B key"})).await;
    app.add_member(b, "b-editor@example.com", "editor").await;
    let members = json(app.call(Method::GET, "/v1/members", &b.owner, Some(&b.id), None).await).await;
    let member = members["data"].as_array().unwrap().iter().find(|m| m["email"] == "b-editor@example.com").unwrap()
        ["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite =
        app.create("/v1/invites", &b.owner, &b.id, json!({"email": "pending@example.com", "role": "viewer"})).await;
    let group = app.create("/v1/groups", &b.owner, &b.id, json!({"name": "B team", "role": "viewer"})).await;
    let added = app
        .call(
            Method::POST,
            &format!("/v1/groups/{group}/members"),
            &b.owner,
            Some(&b.id),
            Some(json!({"userId": member})),
        )
        .await;
    assert_eq!(added.status(), 200);
    let kb = app.create("/v1/knowledge-bases", &b.owner, &b.id, json!({"name": "B knowledge"})).await;
    let added = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &b.owner,
            Some(&b.id),
            Some(json!({"text": "B's secret plans.", "title": "plans"})),
        )
        .await;
    assert_eq!(added.status(), 202);
    let added = json(added).await;
    let (document, job) =
        (added["document"]["id"].as_str().unwrap().to_owned(), added["job"]["id"].as_str().unwrap().to_owned());
    app.wait_for_job(&b.owner, &job).await;
    let turn = app
        .call(
            Method::POST,
            "/v1/chat",
            &b.owner,
            Some(&b.id),
            Some(json!({"message": "What are the secret plans?", "knowledgeBases": [kb], "stream": false})),
        )
        .await;
    assert_eq!(turn.status(), 200);
    let turn = json(turn).await;
    let (conversation, answer) =
        (turn["conversationId"].as_str().unwrap().to_owned(), turn["id"].as_str().unwrap().to_owned());
    let assistant =
        app.create("/v1/assistants", &b.owner, &b.id, json!({"name": "B bot", "knowledgeBases": [kb]})).await;
    let content = b_content(app, b, &site).await;
    let webhook =
        app.create("/v1/webhooks", &b.owner, &b.id, json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]})).await;
    let test = app.call(Method::POST, &format!("/v1/webhooks/{webhook}/test"), &b.owner, Some(&b.id), None).await;
    let delivery = json(test).await["id"].as_str().unwrap().to_owned();
    let (schema, run, result) = b_analysis(app, b, &document).await;
    Foreign {
        tenant: b.id.clone(),
        site,
        api_key,
        member,
        invite,
        group,
        kb,
        document,
        job,
        conversation,
        answer,
        assistant,
        content_type: content[0].clone(),
        entry: content[1].clone(),
        element: content[2].clone(),
        media: content[3].clone(),
        folder: content[4].clone(),
        contact: content[5].clone(),
        webhook,
        delivery,
        schema,
        run,
        result,
    }
}

/// B's analysis schema, a finished run over B's document, and one of its results.
async fn b_analysis(app: &TestApp, b: &Tenant, document: &str) -> (String, String, String) {
    let fields = json!([{"name": "plans", "type": "string", "required": true}]);
    let schema =
        app.create("/v1/analysis/schemas", &b.owner, &b.id, json!({"name": "B schema", "fields": fields})).await;
    let run = app
        .call(
            Method::POST,
            "/v1/analysis/runs",
            &b.owner,
            Some(&b.id),
            Some(json!({"schemaId": schema, "documentIds": [document]})),
        )
        .await;
    let run = json(run).await;
    app.wait_for_job(&b.owner, run["job"]["id"].as_str().unwrap()).await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    let view =
        json(app.call(Method::GET, &format!("/v1/analysis/runs/{run_id}"), &b.owner, Some(&b.id), None).await).await;
    let result = view["documents"][0]["results"][0]["id"].as_str().unwrap().to_owned();
    (schema, run_id, result)
}

/// B's content type, entry, element, media file, media folder and contact message.
async fn b_content(app: &TestApp, b: &Tenant, site: &str) -> Vec<String> {
    let content_type = app.create("/v1/content-types", &b.owner, &b.id, json!({"name": "B type"})).await;
    let entry = app
        .create(&format!("/v1/sites/{site}/entries"), &b.owner, &b.id, json!({"type": "post", "title": "B secret"}))
        .await;
    let element = app
        .create(&format!("/v1/sites/{site}/elements"), &b.owner, &b.id, json!({"name": "B box", "kind": "cta"}))
        .await;
    let folder = app.create(&format!("/v1/sites/{site}/media-folders"), &b.owner, &b.id, json!({"name": "B"})).await;
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"B's secret file".to_vec()).file_name("secret.txt"));
    let uploaded = app
        .client
        .post(app.url(&format!("/v1/sites/{site}/media")))
        .bearer_auth(&b.owner)
        .header("X-Tenant-ID", &b.id)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let media = json(uploaded).await[0]["id"].as_str().unwrap().to_owned();
    let sent = app
        .client
        .post(app.url(&format!("/public/v1/sites/{site}/contact")))
        .json(&json!({"email": "visitor@example.com", "message": "For B only"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    let messages = json(
        app.call(Method::GET, &format!("/v1/sites/{site}/contact-submissions"), &b.owner, Some(&b.id), None).await,
    )
    .await;
    let contact = messages["data"][0]["id"].as_str().unwrap().to_owned();
    vec![content_type, entry, element, media, folder, contact]
}

/// Every content and media endpoint with B's ids.
fn foreign_content_calls(f: &Foreign) -> Vec<(Method, String, Option<Value>)> {
    let site = format!("/v1/sites/{}", f.site);
    let entry = format!("{site}/entries/{}", f.entry);
    let media = format!("{site}/media/{}", f.media);
    let element = format!("{site}/elements/{}", f.element);
    let folder = format!("{site}/media-folders/{}", f.folder);
    vec![
        (Method::GET, format!("/v1/content-types/{}", f.content_type), None),
        (Method::PATCH, format!("/v1/content-types/{}", f.content_type), Some(json!({"name": "pwned"}))),
        (Method::DELETE, format!("/v1/content-types/{}", f.content_type), None),
        (Method::GET, format!("{site}/entries"), None),
        (Method::POST, format!("{site}/entries"), Some(json!({"type": "post", "title": "planted"}))),
        (Method::GET, entry.clone(), None),
        (Method::PATCH, entry.clone(), Some(json!({"title": "pwned"}))),
        (Method::DELETE, entry.clone(), None),
        (Method::POST, format!("{entry}/publish"), None),
        (Method::POST, format!("{entry}/unpublish"), None),
        (Method::POST, format!("{entry}/duplicate"), None),
        (Method::GET, format!("{entry}/revisions"), None),
        (Method::GET, format!("{entry}/revisions/1"), None),
        (Method::POST, format!("{entry}/revisions/1/restore"), None),
        (Method::GET, format!("{entry}/translations"), None),
        (Method::POST, format!("{entry}/translations"), Some(json!({"locale": "en"}))),
        (Method::GET, format!("{site}/translations/missing"), None),
        (Method::GET, format!("{site}/elements"), None),
        (Method::POST, format!("{site}/elements"), Some(json!({"name": "planted", "kind": "cta"}))),
        (Method::GET, element.clone(), None),
        (Method::PATCH, element.clone(), Some(json!({"name": "pwned"}))),
        (Method::GET, format!("{element}/usage"), None),
        (Method::DELETE, element, None),
        (Method::GET, format!("{site}/media"), None),
        (Method::GET, media.clone(), None),
        (Method::PATCH, media.clone(), Some(json!({"name": "pwned.txt"}))),
        (Method::GET, format!("{media}/usage"), None),
        (Method::DELETE, media, None),
        (Method::GET, format!("{site}/media-folders"), None),
        (Method::POST, format!("{site}/media-folders"), Some(json!({"name": "planted"}))),
        (Method::PATCH, folder.clone(), Some(json!({"name": "pwned"}))),
        (Method::DELETE, folder, None),
        (Method::POST, format!("{site}/search/reindex"), None),
        (Method::GET, format!("{site}/search/analytics"), None),
        (Method::GET, format!("{site}/stats"), None),
        (Method::GET, format!("{site}/contact-submissions"), None),
        (Method::PATCH, format!("{site}/contact-submissions/{}", f.contact), Some(json!({"status": "handled"}))),
        (Method::GET, format!("/v1/tenants/{}/billing-settings", f.tenant), None),
        (Method::PUT, format!("/v1/tenants/{}/billing-settings", f.tenant), Some(json!({"monthlyCap": "1"}))),
        // Ids in bodies: B's knowledge base as a site's mirror.
        (Method::POST, "/v1/sites".to_owned(), Some(json!({"name": "Sneaky", "knowledgeBaseId": f.kb}))),
    ]
}

fn foreign_calls(f: &Foreign) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, format!("/v1/tenants/{}", f.tenant), None),
        (Method::PATCH, format!("/v1/tenants/{}", f.tenant), Some(json!({"name": "pwned"}))),
        (Method::GET, format!("/v1/sites/{}", f.site), None),
        (Method::PATCH, format!("/v1/sites/{}", f.site), Some(json!({"name": "pwned"}))),
        (Method::DELETE, format!("/v1/sites/{}", f.site), None),
        (Method::GET, format!("/v1/api-keys/{}", f.api_key), None),
        (Method::PATCH, format!("/v1/api-keys/{}", f.api_key), Some(json!({"name": "pwned"}))),
        (Method::DELETE, format!("/v1/api-keys/{}", f.api_key), None),
        (Method::PATCH, format!("/v1/members/{}", f.member), Some(json!({"role": "viewer"}))),
        (Method::DELETE, format!("/v1/members/{}", f.member), None),
        (Method::DELETE, format!("/v1/invites/{}", f.invite), None),
        (Method::GET, format!("/v1/groups/{}", f.group), None),
        (Method::PATCH, format!("/v1/groups/{}", f.group), Some(json!({"name": "pwned"}))),
        (Method::DELETE, format!("/v1/groups/{}", f.group), None),
        (Method::POST, format!("/v1/groups/{}/members", f.group), Some(json!({"userId": f.member}))),
        (Method::DELETE, format!("/v1/groups/{}/members/{}", f.group, f.member), None),
        (Method::GET, format!("/v1/knowledge-bases/{}", f.kb), None),
        (Method::PATCH, format!("/v1/knowledge-bases/{}", f.kb), Some(json!({"name": "pwned"}))),
        (Method::DELETE, format!("/v1/knowledge-bases/{}", f.kb), None),
        (Method::GET, format!("/v1/knowledge-bases/{}/documents", f.kb), None),
        (Method::POST, format!("/v1/knowledge-bases/{}/documents", f.kb), Some(json!({"text": "planted"}))),
        (Method::GET, format!("/v1/knowledge-bases/{}/documents/{}", f.kb, f.document), None),
        (
            Method::PATCH,
            format!("/v1/knowledge-bases/{}/documents/{}", f.kb, f.document),
            Some(json!({"title": "pwned"})),
        ),
        (Method::DELETE, format!("/v1/knowledge-bases/{}/documents/{}", f.kb, f.document), None),
        (Method::GET, format!("/v1/knowledge-bases/{}/documents/{}/chunks", f.kb, f.document), None),
        (Method::GET, format!("/v1/knowledge-bases/{}/documents/{}/content", f.kb, f.document), None),
        (Method::POST, format!("/v1/knowledge-bases/{}/documents/{}/reindex", f.kb, f.document), None),
        (Method::GET, format!("/v1/jobs/{}", f.job), None),
        (Method::POST, format!("/v1/knowledge-bases/{}/search", f.kb), Some(json!({"query": "secret plans"}))),
        (Method::POST, format!("/v1/knowledge-bases/{}/query", f.kb), Some(json!({"query": "secret plans"}))),
        (Method::POST, "/v1/search".to_owned(), Some(json!({"query": "secret plans", "knowledgeBases": [f.kb]}))),
        (Method::POST, format!("/v1/jobs/{}/cancel", f.job), None),
        (Method::GET, format!("/v1/conversations/{}", f.conversation), None),
        (Method::PATCH, format!("/v1/conversations/{}", f.conversation), Some(json!({"title": "Mine now"}))),
        (Method::DELETE, format!("/v1/conversations/{}", f.conversation), None),
        (Method::GET, format!("/v1/conversations/{}/messages", f.conversation), None),
        (Method::POST, format!("/v1/conversations/{}/title", f.conversation), None),
        (Method::POST, format!("/v1/conversations/{}/branch", f.conversation), Some(json!({"messageId": f.answer}))),
        (Method::POST, format!("/v1/chat/{}/cancel", f.answer), None),
        (Method::POST, format!("/v1/chat/{}/feedback", f.answer), Some(json!({"rating": "down"}))),
        (Method::GET, format!("/v1/assistants/{}", f.assistant), None),
        (Method::PUT, format!("/v1/assistants/{}", f.assistant), Some(json!({"name": "pwned"}))),
        (Method::DELETE, format!("/v1/assistants/{}", f.assistant), None),
        (Method::POST, format!("/v1/assistants/{}/duplicate", f.assistant), None),
        // Ids in bodies: B's conversation, knowledge base or assistant in A's chat and gateway calls.
        (
            Method::POST,
            "/v1/chat".to_owned(),
            Some(json!({"message": "secret plans?", "conversationId": f.conversation})),
        ),
        (Method::POST, "/v1/chat".to_owned(), Some(json!({"message": "secret plans?", "knowledgeBases": [f.kb]}))),
        (Method::POST, "/v1/chat".to_owned(), Some(json!({"message": "secret plans?", "assistantId": f.assistant}))),
        (Method::POST, "/v1/conversations".to_owned(), Some(json!({"knowledgeBases": [f.kb]}))),
        (Method::POST, "/v1/assistants".to_owned(), Some(json!({"name": "Sneaky", "knowledgeBases": [f.kb]}))),
        (
            Method::POST,
            "/v1/chat/completions".to_owned(),
            Some(json!({"messages": [{"role": "user", "content": "secret plans?"}], "knowledge_base": f.kb})),
        ),
        (
            Method::POST,
            "/v1/chat/completions".to_owned(),
            Some(json!({"messages": [{"role": "user", "content": "secret plans?"}], "assistant": f.assistant})),
        ),
        // Ids in bodies: limiting an invitation or a group to B's site.
        (
            Method::POST,
            "/v1/invites".to_owned(),
            Some(json!({"email": "x@example.com", "role": "viewer", "siteIds": [f.site]})),
        ),
        (Method::POST, "/v1/groups".to_owned(), Some(json!({"name": "Sneaky", "role": "viewer", "siteIds": [f.site]}))),
        (Method::GET, format!("/v1/webhooks/{}", f.webhook), None),
        (Method::PATCH, format!("/v1/webhooks/{}", f.webhook), Some(json!({"active": false}))),
        (Method::DELETE, format!("/v1/webhooks/{}", f.webhook), None),
        (Method::POST, format!("/v1/webhooks/{}/rotate-secret", f.webhook), None),
        (Method::POST, format!("/v1/webhooks/{}/test", f.webhook), None),
        (Method::GET, format!("/v1/webhooks/{}/deliveries", f.webhook), None),
        (Method::POST, format!("/v1/webhooks/{}/deliveries/{}/replay", f.webhook, f.delivery), None),
        (Method::GET, format!("/v1/analysis/schemas/{}", f.schema), None),
        (Method::PATCH, format!("/v1/analysis/schemas/{}", f.schema), Some(json!({"name": "pwned"}))),
        (Method::DELETE, format!("/v1/analysis/schemas/{}", f.schema), None),
        (Method::GET, format!("/v1/analysis/runs/{}", f.run), None),
        (Method::GET, format!("/v1/analysis/runs/{}/export.json", f.run), None),
        (Method::GET, format!("/v1/analysis/runs/{}/export.csv", f.run), None),
        (Method::GET, format!("/v1/analysis/review?runId={}", f.run), None),
        (Method::POST, format!("/v1/analysis/results/{}/review", f.result), Some(json!({"action": "reject"}))),
        (
            Method::POST,
            "/v1/analysis/runs".to_owned(),
            Some(json!({"schemaId": f.schema, "documentIds": [f.document]})),
        ),
    ]
}

#[tokio::test]
async fn another_tenants_ids_are_404_everywhere_and_nothing_changes() {
    // Private URLs allowed so B can register a webhook on this machine.
    let app = spawn_app_env(&[("LECTERN_ALLOW_PRIVATE_URLS", "true")]).await;
    let (superadmin, _) = app.bootstrap().await;
    let a = app.tenant_with_owner(&superadmin, "Tenant A", "owner-a@example.com").await;
    let b = app.tenant_with_owner(&superadmin, "Tenant B", "owner-b@example.com").await;
    let foreign = tenant_b_with_things(&app, &b).await;
    let own_member = {
        app.add_member(&a, "a-viewer@example.com", "viewer").await;
        let m = json(app.call(Method::GET, "/v1/members", &a.owner, Some(&a.id), None).await).await;
        m["data"].as_array().unwrap().iter().find(|m| m["email"] == "a-viewer@example.com").unwrap()["userId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut calls = foreign_calls(&foreign);
    calls.extend(foreign_content_calls(&foreign));
    // B's things through A's own site.
    let own_site = app.create("/v1/sites", &a.owner, &a.id, json!({"name": "A site"})).await;
    for path in [
        format!("/v1/sites/{own_site}/entries/{}", foreign.entry),
        format!("/v1/sites/{own_site}/elements/{}", foreign.element),
        format!("/v1/sites/{own_site}/media/{}", foreign.media),
        format!("/v1/sites/{own_site}/entries/{}/translations", foreign.entry),
    ] {
        calls.push((Method::GET, path, None));
    }
    calls.push((
        Method::PATCH,
        format!("/v1/sites/{own_site}/media-folders/{}", foreign.folder),
        Some(json!({"name": "x"})),
    ));
    calls.push((Method::PATCH, format!("/v1/sites/{own_site}"), Some(json!({"knowledgeBaseId": foreign.kb}))));
    calls.push((Method::PATCH, format!("/v1/members/{own_member}"), Some(json!({"siteIds": [foreign.site]}))));
    let own_group = app.create("/v1/groups", &a.owner, &a.id, json!({"name": "A team", "role": "viewer"})).await;
    calls.push((Method::POST, format!("/v1/groups/{own_group}/members"), Some(json!({"userId": foreign.member}))));
    calls.push((Method::PATCH, format!("/v1/groups/{own_group}"), Some(json!({"siteIds": [foreign.site]}))));
    // B's document through A's own knowledge base.
    let own_kb = app.create("/v1/knowledge-bases", &a.owner, &a.id, json!({"name": "A knowledge"})).await;
    calls.push((Method::GET, format!("/v1/knowledge-bases/{own_kb}/documents/{}", foreign.document), None));
    calls.push((Method::DELETE, format!("/v1/knowledge-bases/{own_kb}/documents/{}", foreign.document), None));
    // B's delivery through A's own webhook.
    let own_hook =
        app.create("/v1/webhooks", &a.owner, &a.id, json!({"url": "http://127.0.0.1:9/a", "events": ["*"]})).await;
    calls.push((Method::POST, format!("/v1/webhooks/{own_hook}/deliveries/{}/replay", foreign.delivery), None));
    // B's document in a run of A's own schema.
    let own_schema = app
        .create(
            "/v1/analysis/schemas",
            &a.owner,
            &a.id,
            json!({"name": "A", "fields": [{"name": "x", "type": "string"}]}),
        )
        .await;
    calls.push((
        Method::POST,
        "/v1/analysis/runs".to_owned(),
        Some(json!({"schemaId": own_schema, "documentIds": [foreign.document]})),
    ));

    for (method, path, body) in calls {
        // With and without naming tenant A explicitly.
        for tenant in [Some(a.id.as_str()), None] {
            let response = app.call(method.clone(), &path, &a.owner, tenant, body.clone()).await;
            let status = response.status();
            let body = json(response).await;
            assert_eq!(status, 404, "{method} {path} (tenant header {tenant:?}): {body}");
            // The OpenAI-compatible routes answer with OpenAI's error object.
            assert!(body["error"] == "NOT_FOUND" || body["error"]["code"] == "not_found", "{path}: {body}");
        }
    }

    // Over the WebSocket too: B's conversation and knowledge base are not found.
    let url = app.url(&format!("/v1/ws?token={}&tenant={}", a.owner, a.id)).replace("http://", "ws://");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    for frame in [
        json!({"type": "chat", "message": "secret plans?", "conversationId": foreign.conversation}),
        json!({"type": "chat", "message": "secret plans?", "knowledgeBases": [foreign.kb]}),
        json!({"type": "cancel", "messageId": foreign.answer}),
    ] {
        socket.send(tokio_tungstenite::tungstenite::Message::text(frame.to_string())).await.unwrap();
        let reply = loop {
            if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = socket.next().await {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
        };
        assert_eq!(reply["code"], "NOT_FOUND", "{frame}: {reply}");
    }

    // Acting in B by header is refused like an unknown tenant.
    let by_header = app.call(Method::GET, "/v1/sites", &a.owner, Some(&b.id), None).await;
    assert_eq!(by_header.status(), 404);
    let unknown = app.call(Method::GET, "/v1/sites", &a.owner, Some(&uuid::Uuid::now_v7().to_string()), None).await;
    assert_eq!(json(by_header).await["message"], json(unknown).await["message"]);

    // A's lists do not show B's things, and B's things are intact.
    let a_sites = json(app.call(Method::GET, "/v1/sites", &a.owner, Some(&a.id), None).await).await;
    assert_eq!(a_sites["pagination"]["total"], 1, "only A's own site: {a_sites}");
    let entry = app
        .call(
            Method::GET,
            &format!("/v1/sites/{}/entries/{}", foreign.site, foreign.entry),
            &b.owner,
            Some(&b.id),
            None,
        )
        .await;
    let entry = json(entry).await;
    assert_eq!((entry["title"].as_str(), entry["status"].as_str()), (Some("B secret"), Some("draft")));
    let file = app
        .call(Method::GET, &format!("/v1/sites/{}/media/{}", foreign.site, foreign.media), &b.owner, Some(&b.id), None)
        .await;
    assert_eq!(json(file).await["name"], "secret.txt");
    let a_types = json(app.call(Method::GET, "/v1/content-types", &a.owner, Some(&a.id), None).await).await;
    assert_eq!(a_types["pagination"]["total"], 2, "only A's built-in types: {a_types}");
    let a_tenants = json(app.call(Method::GET, "/v1/tenants", &a.owner, None, None).await).await;
    assert_eq!(a_tenants["data"].as_array().unwrap().len(), 1);
    let site =
        json(app.call(Method::GET, &format!("/v1/sites/{}", foreign.site), &b.owner, Some(&b.id), None).await).await;
    assert_eq!(site["name"], "B site");
    let key = app.call(Method::GET, &format!("/v1/api-keys/{}", foreign.api_key), &b.owner, Some(&b.id), None).await;
    assert_eq!(json(key).await["name"], "B key");
    let members = json(app.call(Method::GET, "/v1/members", &b.owner, Some(&b.id), None).await).await;
    let editor =
        members["data"].as_array().unwrap().iter().find(|m| m["userId"] == foreign.member.as_str()).unwrap().clone();
    assert_eq!(editor["role"], "editor");
    let invites = json(app.call(Method::GET, "/v1/invites", &b.owner, Some(&b.id), None).await).await;
    assert_eq!(invites["pagination"]["total"], 1);
    let group =
        json(app.call(Method::GET, &format!("/v1/groups/{}", foreign.group), &b.owner, Some(&b.id), None).await).await;
    assert_eq!((group["name"].as_str(), group["memberIds"].as_array().map(Vec::len)), (Some("B team"), Some(1)));
    let a_groups = json(app.call(Method::GET, "/v1/groups", &a.owner, Some(&a.id), None).await).await;
    assert_eq!(a_groups["pagination"]["total"], 1, "nothing was created in A from B's ids");
    assert_eq!(a_groups["data"][0]["memberIds"], json!([]));
    assert_eq!(a_groups["data"][0]["siteIds"], Value::Null);
    let doc = json(
        app.call(
            Method::GET,
            &format!("/v1/knowledge-bases/{}/documents/{}", foreign.kb, foreign.document),
            &b.owner,
            Some(&b.id),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((doc["title"].as_str(), doc["status"].as_str()), (Some("plans"), Some("ready")));
    let kb =
        json(app.call(Method::GET, &format!("/v1/knowledge-bases/{}", foreign.kb), &b.owner, Some(&b.id), None).await)
            .await;
    assert_eq!((kb["name"].as_str(), kb["documents"].as_u64()), (Some("B knowledge"), Some(1)));
}

#[tokio::test]
async fn an_api_key_only_reaches_its_own_tenant() {
    let app = spawn_app().await;
    let (superadmin, _) = app.bootstrap().await;
    let a = app.tenant_with_owner(&superadmin, "Tenant A", "owner-a@example.com").await;
    let b = app.tenant_with_owner(&superadmin, "Tenant B", "owner-b@example.com").await;
    let b_site = app.create("/v1/sites", &b.owner, &b.id, json!({"name": "B site"})).await;
    let key =
        json(app.call(Method::POST, "/v1/api-keys", &a.owner, Some(&a.id), Some(json!({"name": "A key"}))).await).await;
    let secret = key["secret"].as_str().unwrap();

    assert_eq!(app.call(Method::GET, &format!("/v1/sites/{b_site}"), secret, None, None).await.status(), 404);
    assert_eq!(app.call(Method::GET, "/v1/sites", secret, Some(&b.id), None).await.status(), 404);
    assert_eq!(app.call(Method::GET, &format!("/v1/tenants/{}", b.id), secret, None, None).await.status(), 404);
    assert_eq!(app.call(Method::GET, "/v1/sites", secret, None, None).await.status(), 200);
}

/// Every value of B's that must never show up in A's lists, exports or logs.
fn secrets_of(b: &Tenant, f: &Foreign) -> Vec<String> {
    let mut all = vec![
        b.id.clone(),
        "tenant-b-renamed".to_owned(),
        "Tenant B".to_owned(),
        "owner-b@example.com".to_owned(),
        "b-editor@example.com".to_owned(),
        "pending@example.com".to_owned(),
        "secret plans".to_owned(),
    ];
    all.extend(
        [
            &f.site,
            &f.api_key,
            &f.member,
            &f.invite,
            &f.group,
            &f.kb,
            &f.document,
            &f.job,
            &f.conversation,
            &f.assistant,
            &f.content_type,
            &f.entry,
            &f.element,
            &f.media,
            &f.folder,
            &f.webhook,
            &f.schema,
            &f.run,
        ]
        .into_iter()
        .cloned(),
    );
    all
}

/// The home tenant of a superadmin is an ordinary tenant: after the superadmin's platform actions
/// on tenant B and B's own activity, the home tenant's other owner reads every list and export
/// the API offers (found in the OpenAPI document) and sees nothing of B. The platform view is
/// the superadmin's alone, and B's own log shows what was done to B.
#[tokio::test]
async fn lists_exports_and_audit_logs_never_show_another_tenants_data() {
    let app = spawn_app_env(&[("LECTERN_ALLOW_PRIVATE_URLS", "true")]).await;
    let (superadmin, home) = app.bootstrap().await;
    let reader = app.add_member(&home, "home-owner@example.com", "owner").await;
    let home_site = app.create("/v1/sites", &reader, &home.id, json!({"name": "Home site"})).await;

    // Platform actions by a superadmin who is also a member (the owner) of the reading tenant.
    let b = app.tenant_with_owner(&superadmin, "Tenant B", "owner-b@example.com").await;
    for (method, path, body) in [
        (Method::PATCH, format!("/v1/tenants/{}", b.id), Some(json!({"slug": "tenant-b-renamed"}))),
        (Method::POST, format!("/v1/tenants/{}/suspend", b.id), None),
        (Method::POST, format!("/v1/tenants/{}/resume", b.id), None),
        (
            Method::POST,
            format!("/v1/admin/tenants/{}/credits", b.id),
            Some(json!({"amount": "5", "reason": "welcome"})),
        ),
    ] {
        // Acting from the home tenant (header) and from nowhere.
        for tenant in [Some(home.id.as_str()), None] {
            let response = app.call(method.clone(), &path, &superadmin, tenant, body.clone()).await;
            assert!(response.status().is_success(), "{method} {path}: {}", response.status());
        }
    }
    let prices = json(app.call(Method::GET, "/v1/admin/cost-settings", &superadmin, Some(&home.id), None).await).await;
    let put = app.call(Method::PUT, "/v1/admin/cost-settings", &superadmin, Some(&home.id), Some(prices)).await;
    assert_eq!(put.status(), 200);
    let foreign = tenant_b_with_things(&app, &b).await;
    let secrets = secrets_of(&b, &foreign);

    let spec = json(app.get("/openapi.json").await).await;
    let mut paths: Vec<String> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if item.get("get").is_none() || path.contains("/ws") || path.contains("/events") {
            continue;
        }
        let own = path.replace("{site}", &home_site).replace("{id}", &home_site);
        if own.contains('{') {
            continue;
        }
        paths.push(own);
    }
    assert!(paths.iter().any(|p| p == "/v1/audit-events.csv") && paths.len() > 30, "{paths:?}");
    let mut read = 0;
    for path in &paths {
        for query in ["", "?limit=100", "?action=tenant.*"] {
            let response = app.call(Method::GET, &format!("{path}{query}"), &reader, Some(&home.id), None).await;
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status.as_u16() < 500, "GET {path}{query}: {status} {text}");
            read += usize::from(status.is_success());
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "GET {path}{query} shows B's `{secret}`: {text}");
            }
        }
    }
    assert!(read > 60, "most lists answered ({read})");

    // The platform's own log: the superadmin's, with the actions on B in it.
    let platform = app.call(Method::GET, "/v1/platform/audit-events?action=tenant.*", &reader, Some(&home.id), None);
    assert_eq!(platform.await.status(), 403);
    let platform =
        json(app.call(Method::GET, "/v1/platform/audit-events?limit=100", &superadmin, None, None).await).await;
    let actions: Vec<&str> =
        platform["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["tenant.create", "tenant.update", "tenant.suspend", "tenant.resume", "billing.cost_settings"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    // B's log shows what was done to B, marked as the platform's doing.
    let b_log =
        json(app.call(Method::GET, "/v1/audit-events?action=tenant.*&limit=100", &b.owner, Some(&b.id), None).await)
            .await;
    let b_actions: Vec<(&str, bool)> = b_log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["platform"].as_bool().unwrap()))
        .collect();
    assert!(
        b_actions.contains(&("tenant.suspend", true)) && b_actions.contains(&("tenant.update", true)),
        "{b_actions:?}"
    );
    let home_log = json(app.call(Method::GET, "/v1/audit-events?limit=100", &reader, Some(&home.id), None).await).await;
    assert!(home_log["data"].as_array().unwrap().iter().all(|e| e["tenantId"] == home.id.as_str()), "{home_log}");
}
