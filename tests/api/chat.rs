//! RAG chat: conversations, streamed turns with citations (the extractive model for real, an
//! upstream through the fake), cancelling, feedback, branching, assistants, the indexing notice.

use reqwest::Method;
use serde_json::{json, Value};

use crate::search::seeded;
use crate::support::app::{json, spawn_app, spawn_app_env, TestApp};
use crate::support::fake_llm::{FakeLlm, ANSWER, KEY};

/// The events of a server-sent event stream: (event name, data).
pub fn parse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|frame| {
            let name = frame.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = frame.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), serde_json::from_str(data).ok()?))
        })
        .collect()
}

pub async fn turn(app: &TestApp, token: &str, body: Value) -> Vec<(String, Value)> {
    let response = app.call(Method::POST, "/v1/chat", token, None, Some(body)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    parse_events(&response.text().await.unwrap())
}

fn named<'a>(events: &'a [(String, Value)], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect()
}

#[tokio::test]
async fn an_extractive_turn_streams_an_answer_with_citations_and_stores_it() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let (kb, ids) = seeded(&app, &token, None).await;

    let first = turn(
        &app,
        &token,
        json!({"message": "Within how many days can customers return a purchase?", "knowledgeBases": [kb]}),
    )
    .await;
    assert_eq!(first.first().unwrap().0, "start", "{first:?}");
    let start = named(&first, "start")[0];
    assert_eq!(start["model"], "extractive");
    let text: String = named(&first, "token").iter().map(|t| t["content"].as_str().unwrap()).collect();
    assert!(text.starts_with("Extractive answer") && text.contains("30 days") && text.contains("[1]"), "{text}");
    let citation = named(&first, "citation")[0];
    assert_eq!((citation["n"].as_u64(), citation["documentId"].as_str()), (Some(1), Some(ids[0].as_str())));
    assert_eq!(citation["documentTitle"], "Refund policy");
    let done = named(&first, "done")[0];
    assert_eq!((done["status"].as_str(), done["model"].as_str()), (Some("complete"), Some("extractive")));
    assert!(done["usage"]["completionTokens"].as_u64().unwrap() > 0 && done["latencyMs"].is_u64());
    assert_eq!(first.last().unwrap().0, "done");

    // The conversation keeps both turns, the answer with its citations.
    let conversation = start["conversationId"].as_str().unwrap();
    let messages =
        json(app.call(Method::GET, &format!("/v1/conversations/{conversation}/messages"), &token, None, None).await)
            .await;
    let data = messages["data"].as_array().unwrap();
    assert_eq!(data.iter().map(|m| m["role"].as_str().unwrap()).collect::<Vec<_>>(), ["user", "assistant"]);
    assert_eq!(data[1]["content"].as_str().unwrap(), text);
    assert_eq!(data[1]["citations"][0]["documentId"], ids[0].as_str());
    // Quotes are verbatim: every cited sentence is supported, and the check says why.
    let verification = &done["verification"];
    assert_eq!(verification["method"], "extractive", "{done}");
    assert!(verification["supported"].as_u64().unwrap() >= 1 && verification["unsupported"] == 0, "{done}");
    assert_eq!(data[1]["verification"], *verification, "stored with the message");
    let listed = json(app.call(Method::GET, "/v1/conversations", &token, None, None).await).await;
    assert_eq!(listed["data"][0]["title"], "Within how many days can customers return a…", "first words");

    // A second turn in the same conversation, as one JSON answer.
    let second = app
        .call(
            Method::POST,
            "/v1/chat",
            &token,
            None,
            Some(json!({"conversationId": conversation, "message": "How are passwords stored?", "stream": false})),
        )
        .await;
    assert_eq!(second.status(), 200);
    let second = json(second).await;
    assert!(
        second["content"].as_str().unwrap().contains("argon2id"),
        "the conversation's knowledge base is used: {second}"
    );
    assert_eq!(second["status"], "complete");

    // Feedback, branching, title, delete.
    let answer_id = data[1]["id"].as_str().unwrap();
    let rated = app
        .call(
            Method::POST,
            &format!("/v1/chat/{answer_id}/feedback"),
            &token,
            None,
            Some(json!({"rating": "up", "comment": "spot on"})),
        )
        .await;
    assert_eq!(json(rated).await["feedback"], "up");
    let bad = app
        .call(Method::POST, &format!("/v1/chat/{answer_id}/feedback"), &token, None, Some(json!({"rating": "meh"})))
        .await;
    assert_eq!(bad.status(), 400);
    let cancel_done = app.call(Method::POST, &format!("/v1/chat/{answer_id}/cancel"), &token, None, None).await;
    assert_eq!(cancel_done.status(), 409, "a finished answer cannot be cancelled");
    let branch = app
        .call(
            Method::POST,
            &format!("/v1/conversations/{conversation}/branch"),
            &token,
            None,
            Some(json!({"messageId": answer_id})),
        )
        .await;
    assert_eq!(branch.status(), 201);
    let branch = json(branch).await;
    let copied = json(
        app.call(
            Method::GET,
            &format!("/v1/conversations/{}/messages", branch["id"].as_str().unwrap()),
            &token,
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(copied["pagination"]["total"], 2, "messages up to the branch point: {copied}");
    let titled =
        json(app.call(Method::POST, &format!("/v1/conversations/{conversation}/title"), &token, None, None).await)
            .await;
    assert_eq!(titled["title"], "Within how many days can customers return a…");
    let deleted = app.call(Method::DELETE, &format!("/v1/conversations/{conversation}"), &token, None, None).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.call(Method::GET, &format!("/v1/conversations/{conversation}"), &token, None, None).await.status(),
        404
    );

    // Bad turns are refused before anything streams.
    for (body, status) in [
        (json!({"message": "  "}), 400),
        (json!({"message": "hi", "model": "gpt-nope"}), 400),
        (json!({"message": "hi", "knowledgeBases": [uuid::Uuid::now_v7()]}), 404),
        (json!({"message": "hi", "conversationId": conversation}), 404),
    ] {
        let response = app.call(Method::POST, "/v1/chat", &token, None, Some(body.clone())).await;
        assert_eq!(response.status(), status, "{body}");
    }
}

#[tokio::test]
async fn an_upstream_model_gets_numbered_sources_and_its_failures_and_cancellation_are_kept() {
    let llm = FakeLlm::start().await;
    let app = spawn_app_env(&[("LLM_BASE_URL", &llm.base), ("LLM_API_KEY", KEY), ("LLM_MODELS", "fake-model")]).await;
    let (token, _) = app.bootstrap().await;
    let (kb, ids) = seeded(&app, &token, None).await;

    let events = turn(
        &app,
        &token,
        json!({"message": "What is the refund window?", "knowledgeBases": [kb], "model": "fake-model"}),
    )
    .await;
    let text: String = named(&events, "token").iter().map(|t| t["content"].as_str().unwrap()).collect();
    assert_eq!(text, ANSWER);
    let sent = llm.last_request();
    let system = sent["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Cite every statement") && system.contains("[1] Refund policy"), "{system}");
    assert_eq!(sent["messages"].as_array().unwrap().last().unwrap()["content"], "What is the refund window?");
    let citation = named(&events, "citation")[0];
    assert_eq!(citation["documentId"], ids[0].as_str(), "[1] is the best passage");
    assert_eq!(named(&events, "done")[0]["usage"]["promptTokens"], 11, "usage from the upstream");

    // An upstream failure ends the stream with an error event and is stored.
    let failed = turn(&app, &token, json!({"message": "please FAIL", "model": "fake-model"})).await;
    let error = named(&failed, "error")[0];
    assert_eq!(error["code"], "UPSTREAM_ERROR");
    assert!(error["message"].as_str().unwrap().contains("the model crashed"));
    let conversation = named(&failed, "start")[0]["conversationId"].as_str().unwrap().to_owned();
    let stored =
        json(app.call(Method::GET, &format!("/v1/conversations/{conversation}/messages"), &token, None, None).await)
            .await;
    assert_eq!(stored["data"][1]["status"], "failed");

    // Cancelling a slow answer keeps what was generated so far.
    let response = app
        .call(Method::POST, "/v1/chat", &token, None, Some(json!({"message": "go SLOW please", "model": "fake-model"})))
        .await;
    let mut body = response.bytes_stream();
    use futures_util::StreamExt;
    let mut seen = String::new();
    let mut cancelled = false;
    while let Some(chunk) = body.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if !cancelled && seen.contains("word3 ") {
            let id = parse_events(&seen).iter().find(|(n, _)| n == "start").unwrap().1["messageId"]
                .as_str()
                .unwrap()
                .to_owned();
            let stop = app.call(Method::POST, &format!("/v1/chat/{id}/cancel"), &token, None, None).await;
            assert_eq!(stop.status(), 202);
            cancelled = true;
        }
    }
    let all = parse_events(&seen);
    let done = named(&all, "done")[0];
    assert_eq!(done["status"], "cancelled");
    let tokens = named(&all, "token").len();
    assert!(tokens > 3 && tokens < 100, "stopped early: {tokens} tokens");
}

/// Every cited sentence of an upstream answer is checked against the passage it cites: the
/// `done` event and the stored message say which hold, with the supporting quote.
#[tokio::test]
async fn citations_are_verified_sentence_by_sentence() {
    let llm = FakeLlm::start().await;
    let app = spawn_app_env(&[("LLM_BASE_URL", &llm.base), ("LLM_API_KEY", KEY), ("LLM_MODELS", "fake-model")]).await;
    let (token, _) = app.bootstrap().await;
    let (kb, ids) = seeded(&app, &token, None).await;
    let ask = json!({"message": "What is the refund window?", "knowledgeBases": [kb], "model": "fake-model"});
    llm.script(&[
        "Customers may return a purchase within 30 days for a full refund [1]. Refunds reach the card in five business days [1].",
        "Customers may return a purchase within 90 days [1]. Parcels leave Rotterdam every weekday [1].",
        "Refunds are generous and quick.",
    ]);

    let right = turn(&app, &token, ask.clone()).await;
    assert_eq!(named(&right, "citation")[0]["documentId"], ids[0].as_str());
    let checked = &named(&right, "done")[0]["verification"];
    assert_eq!((checked["method"].as_str(), checked["supported"].as_u64()), (Some("lexical"), Some(2)), "{checked}");
    let first = &checked["sentences"][0];
    assert_eq!(first["status"], "supported");
    assert_eq!(first["cites"], json!([1]));
    let quote = first["support"]["quote"].as_str().unwrap();
    assert!(quote.contains("within 30 days for a full refund"), "{quote}");
    assert_eq!(first["start"], 0);

    // A figure the passage does not give, and a sentence citing a passage about something else.
    let wrong = turn(&app, &token, ask.clone()).await;
    let checked = &named(&wrong, "done")[0]["verification"];
    assert_eq!((checked["supported"].as_u64(), checked["unsupported"].as_u64()), (Some(0), Some(2)), "{checked}");
    assert!(checked["sentences"].as_array().unwrap().iter().all(|s| s["status"] == "unsupported"), "{checked}");

    // Nothing cited: nothing to check.
    let uncited = turn(&app, &token, ask).await;
    let checked = &named(&uncited, "done")[0]["verification"];
    assert_eq!((checked["supported"].as_u64(), checked["unsupported"].as_u64()), (Some(0), Some(0)), "{checked}");

    // The stored answers keep their checks.
    let conversation = named(&wrong, "start")[0]["conversationId"].as_str().unwrap().to_owned();
    let stored =
        json(app.call(Method::GET, &format!("/v1/conversations/{conversation}/messages"), &token, None, None).await)
            .await;
    assert_eq!(stored["data"][1]["verification"]["unsupported"], 2, "{stored}");
}

/// A follow-up retrieves with a standalone question: by rule with the extractive model, by the
/// model when one serves the turn; the `retrieval` event says which, and an assistant can
/// switch it off.
#[tokio::test]
async fn follow_up_questions_are_rewritten_for_retrieval() {
    let llm = FakeLlm::start().await;
    let app = spawn_app_env(&[("LLM_BASE_URL", &llm.base), ("LLM_API_KEY", KEY), ("LLM_MODELS", "fake-model")]).await;
    let (token, _) = app.bootstrap().await;
    let (kb, ids) = seeded(&app, &token, None).await;
    let retrieval = |events: &[(String, Value)]| named(events, "retrieval")[0].clone();

    let first =
        turn(&app, &token, json!({"message": "Within how many days can customers return a purchase?", "knowledgeBases": [kb], "model": "extractive"}))
            .await;
    assert_eq!(retrieval(&first)["rewrite"], "none", "a first question stands alone");
    let conversation = named(&first, "start")[0]["conversationId"].as_str().unwrap().to_owned();
    let follow_up =
        turn(&app, &token, json!({"conversationId": conversation, "message": "How is it paid back?"})).await;
    let r = retrieval(&follow_up);
    assert_eq!(r["rewrite"], "rule", "{r}");
    let query = r["retrievalQuery"].as_str().unwrap();
    assert!(query.starts_with("How is it paid back?") && query.contains("purchase"), "{query}");
    assert_eq!(named(&follow_up, "citation")[0]["documentId"], ids[0].as_str(), "the refund policy answers it");

    // With a language model, the model writes the standalone question.
    let first = turn(
        &app,
        &token,
        json!({"message": "What is the refund window?", "knowledgeBases": [kb], "model": "fake-model"}),
    )
    .await;
    let conversation = named(&first, "start")[0]["conversationId"].as_str().unwrap().to_owned();
    llm.script(&["How are refunds paid back to customers?"]);
    let follow_up = turn(&app, &token, json!({"conversationId": conversation, "message": "And how is it paid?"})).await;
    let r = retrieval(&follow_up);
    assert_eq!(
        (r["rewrite"].as_str(), r["retrievalQuery"].as_str()),
        (Some("model"), Some("How are refunds paid back to customers?"))
    );
    let asked = llm.requests.lock().unwrap().iter().rev().nth(1).cloned().unwrap();
    let prompt = asked["messages"].to_string();
    assert!(prompt.contains("standalone") && prompt.contains("What is the refund window?"), "{prompt}");

    // An assistant can keep retrieval on the user's own words.
    let assistant = app
        .create(
            "/v1/assistants",
            &token,
            "",
            json!({"name": "Literal", "knowledgeBases": [kb], "retrieval": {"rewriteFollowUps": false}}),
        )
        .await;
    let first = turn(&app, &token, json!({"message": "What is the refund window?", "assistantId": assistant})).await;
    let conversation = named(&first, "start")[0]["conversationId"].as_str().unwrap().to_owned();
    let follow_up = turn(
        &app,
        &token,
        json!({"conversationId": conversation, "message": "How is it paid?", "assistantId": assistant}),
    )
    .await;
    let r = retrieval(&follow_up);
    assert_eq!((r["rewrite"].as_str(), r["retrievalQuery"].as_str()), (Some("none"), Some("How is it paid?")));
}

#[tokio::test]
async fn assistants_carry_settings_into_turns_and_a_turn_says_when_documents_are_still_indexing() {
    let app = spawn_app_env(&[("LECTERN_MAX_JSON_BYTES", "1000000")]).await;
    let (token, _) = app.bootstrap().await;
    let (kb, _) = seeded(&app, &token, None).await;
    let assistant = app
        .create(
            "/v1/assistants",
            &token,
            "",
            json!({"name": "Help desk", "instructions": "Be brief.", "knowledgeBases": [kb], "retrieval": {"mode": "lexical", "topK": 2}, "starters": ["How do refunds work?"]}),
        )
        .await;
    let copy =
        json(app.call(Method::POST, &format!("/v1/assistants/{assistant}/duplicate"), &token, None, None).await).await;
    assert_eq!(
        (copy["name"].as_str(), copy["knowledgeBases"][0].as_str()),
        (Some("Help desk (copy)"), Some(kb.as_str()))
    );
    let bad = app
        .call(Method::POST, "/v1/assistants", &token, None, Some(json!({"name": "x", "retrieval": {"topK": 500}})))
        .await;
    assert_eq!(bad.status(), 400);

    let events =
        turn(&app, &token, json!({"message": "What hashing protects passwords?", "assistantId": assistant})).await;
    let text: String = named(&events, "token").iter().map(|t| t["content"].as_str().unwrap()).collect();
    assert!(text.contains("argon2id"), "the assistant's knowledge base is searched: {text}");

    // A large document still being embedded: the answer says so.
    let big = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(4000);
    let added = app
        .call(
            Method::POST,
            &format!("/v1/knowledge-bases/{kb}/documents"),
            &token,
            None,
            Some(json!({"title": "Big", "text": big})),
        )
        .await;
    assert_eq!(added.status(), 202);
    let events = turn(&app, &token, json!({"message": "What about refunds?", "knowledgeBases": [kb]})).await;
    let indexing = named(&events, "indexing");
    assert_eq!(indexing.len(), 1, "{events:?}");
    assert_eq!(indexing[0]["documents"], 1);
    assert!(named(&events, "done")[0]["notice"].as_str().unwrap().contains("still being indexed"));
}

#[tokio::test]
async fn a_conversation_is_renamed_and_its_knowledge_bases_changed_for_later_turns() {
    let app = spawn_app().await;
    let (token, tenant) = app.bootstrap().await;
    let (kb, _) = seeded(&app, &token, None).await;
    let conversation = app.create("/v1/conversations", &token, "", json!({"knowledgeBases": [kb]})).await;
    let path = format!("/v1/conversations/{conversation}");
    let patch = |body: Value| app.call(Method::PATCH, &path, &token, None, Some(body));

    let renamed = patch(json!({"title": "  Refund questions  "})).await;
    assert_eq!(renamed.status(), 200);
    let renamed = json(renamed).await;
    assert_eq!(
        (renamed["title"].as_str(), renamed["knowledgeBases"][0].as_str()),
        (Some("Refund questions"), Some(kb.as_str()))
    );
    let listed = json(app.call(Method::GET, "/v1/conversations", &token, None, None).await).await;
    assert_eq!(listed["data"][0]["title"], "Refund questions");

    // Bad changes are refused and change nothing.
    for (body, status, field) in [
        (json!({"title": " "}), 400, "title"),
        (json!({"title": "x".repeat(201)}), 400, "title"),
        (json!({"model": "gpt-nope"}), 400, ""),
        (json!({"knowledgeBases": [uuid::Uuid::now_v7()]}), 404, ""),
        (json!({"colour": "blue"}), 400, ""),
    ] {
        let response = patch(body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        let error = json(response).await;
        assert!(error["message"].is_string() && error["error"].is_string(), "{error}");
        if !field.is_empty() {
            assert_eq!(error["details"]["field"], field, "{error}");
        }
    }
    let kept = json(app.call(Method::GET, &path, &token, None, None).await).await;
    assert_eq!(
        (kept["title"].as_str(), kept["knowledgeBases"].as_array().map(Vec::len)),
        (Some("Refund questions"), Some(1))
    );

    // Without knowledge bases, the next turn cites nothing; the system prompt is kept.
    let cleared = json(patch(json!({"knowledgeBases": [], "systemPrompt": "Answer briefly."})).await).await;
    assert_eq!(
        (cleared["knowledgeBases"].clone(), cleared["systemPrompt"].as_str()),
        (json!([]), Some("Answer briefly."))
    );
    let answer = app
        .call(
            Method::POST,
            "/v1/chat",
            &token,
            None,
            Some(json!({"conversationId": conversation, "message": "Within how many days can customers return a purchase?", "stream": false})),
        )
        .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(json(answer).await["citations"], json!([]));

    // Another member of the tenant cannot rename it.
    let other = app.add_member(&tenant, "colleague@example.com", "editor").await;
    let foreign = app.call(Method::PATCH, &path, &other, None, Some(json!({"title": "Mine"}))).await;
    assert_eq!(foreign.status(), 404);
}
