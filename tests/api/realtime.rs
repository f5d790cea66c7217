//! Chat over a WebSocket (same events as SSE, cancel, a session cap) and public assistants for
//! a site's visitors (published only, public knowledge bases only, rate-limited per IP).

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::chat::parse_events;
use crate::search::seeded;
use crate::support::app::{json, spawn_app_env, TestApp};
use crate::support::fake_llm::{FakeLlm, KEY};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Socket {
    let url = app.url(&format!("/v1/ws?token={token}")).replace("http://", "ws://");
    tokio_tungstenite::connect_async(url).await.expect("websocket connects").0
}

async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(30), socket.next()).await.expect("a frame in time") {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Close(_))) | None => return Value::Null,
            _ => {}
        }
    }
}

/// Frames until `done` or `error`.
async fn until_last(socket: &mut Socket) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = next_frame(socket).await;
        let last = frame.is_null() || frame["type"] == "done" || frame["type"] == "error";
        frames.push(frame);
        if last {
            return frames;
        }
    }
}

#[tokio::test]
async fn websocket_chat_streams_the_same_events_cancels_and_refuses_sessions_over_the_cap() {
    let llm = FakeLlm::start().await;
    let app = spawn_app_env(&[
        ("LLM_BASE_URL", &llm.base),
        ("LLM_API_KEY", KEY),
        ("LLM_MODELS", "fake-model"),
        ("LECTERN_WS_MAX_SESSIONS", "2"),
    ])
    .await;
    let (token, _) = app.bootstrap().await;
    let (kb, ids) = seeded(&app, &token, None).await;

    let mut socket = connect(&app, &token).await;
    let ask = json!({"type": "chat", "message": "How long do refunds take?", "knowledgeBases": [kb]});
    socket.send(Message::text(ask.to_string())).await.unwrap();
    let frames = until_last(&mut socket).await;
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!((kinds.first(), kinds.last()), (Some(&"start"), Some(&"done")), "{kinds:?}");
    assert!(kinds.contains(&"token") && kinds.contains(&"citation"), "{kinds:?}");
    let citation = frames.iter().find(|f| f["type"] == "citation").unwrap();
    assert_eq!(citation["documentId"], ids[0].as_str());

    // Bad frames get an error frame and the socket stays usable.
    socket.send(Message::text("not json")).await.unwrap();
    assert_eq!(next_frame(&mut socket).await["code"], "INVALID_REQUEST");
    socket
        .send(Message::text(
            json!({"type": "chat", "message": "x", "conversationId": uuid::Uuid::now_v7()}).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(next_frame(&mut socket).await["code"], "NOT_FOUND");

    // A slow answer cancelled from the same socket.
    socket
        .send(Message::text(json!({"type": "chat", "message": "go SLOW", "model": "fake-model"}).to_string()))
        .await
        .unwrap();
    let start = next_frame(&mut socket).await;
    assert_eq!(start["type"], "start");
    let _first_token = next_frame(&mut socket).await;
    socket.send(Message::text(json!({"type": "cancel", "messageId": start["messageId"]}).to_string())).await.unwrap();
    let rest = until_last(&mut socket).await;
    assert!(rest.iter().any(|f| f["type"] == "cancel" && f["status"] == "cancelling"), "{rest:?}");
    assert_eq!(rest.last().unwrap()["status"], "cancelled");

    // The cap: a second session fits, a third gets an error frame and is closed.
    let _second = connect(&app, &token).await;
    let mut third = connect(&app, &token).await;
    let refused = next_frame(&mut third).await;
    assert_eq!(refused["code"], "SERVICE_UNAVAILABLE", "{refused}");
    assert!(next_frame(&mut third).await.is_null(), "closed after the error frame");

    // A bad token is refused before the upgrade.
    let url = app.url("/v1/ws?token=nope").replace("http://", "ws://");
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

#[tokio::test]
async fn a_published_assistant_answers_visitors_from_public_knowledge_only_and_is_rate_limited() {
    let app = spawn_app_env(&[("LECTERN_PUBLIC_CHAT_PER_MINUTE", "3")]).await;
    let (token, _) = app.bootstrap().await;
    let (public_kb, ids) = seeded(&app, &token, None).await;
    let made_public = app
        .call(
            Method::PATCH,
            &format!("/v1/knowledge-bases/{public_kb}"),
            &token,
            None,
            Some(json!({"visibility": "public"})),
        )
        .await;
    assert_eq!(made_public.status(), 200);
    let (private_kb, _) = seeded(&app, &token, None).await;
    let site = app.create("/v1/sites", &token, "", json!({"name": "Shop"})).await;
    let published = app
        .create(
            "/v1/assistants",
            &token,
            "",
            json!({"name": "Shop help", "knowledgeBases": [public_kb, private_kb], "publicSiteId": site}),
        )
        .await;
    let unpublished =
        app.create("/v1/assistants", &token, "", json!({"name": "Internal", "knowledgeBases": [public_kb]})).await;

    let ask = |assistant: String, site: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&format!("/public/v1/sites/{site}/assistants/{assistant}/chat")))
                .json(&json!({"message": "How long do I have to return a purchase?"}))
                .send()
                .await
                .unwrap()
        }
    };
    let answer = ask(published.clone(), site.clone()).await;
    assert_eq!(answer.status(), 200);
    let events = parse_events(&answer.text().await.unwrap());
    let citations: Vec<&Value> = events.iter().filter(|(n, _)| n == "citation").map(|(_, v)| v).collect();
    assert!(!citations.is_empty(), "{events:?}");
    assert!(
        citations
            .iter()
            .all(|c| c["documentId"] == ids[0].as_str() || ids.contains(&c["documentId"].as_str().unwrap().to_owned())),
        "only the public knowledge base: {citations:?}"
    );
    assert_eq!(events.last().unwrap().0, "done");

    // Not published here, or not at all: 404 like a missing one.
    assert_eq!(ask(unpublished, site.clone()).await.status(), 404);
    assert_eq!(ask(published.clone(), uuid::Uuid::now_v7().to_string()).await.status(), 404);

    // Three turns a minute per address: the fourth waits.
    ask(published.clone(), site.clone()).await.text().await.unwrap();
    ask(published.clone(), site.clone()).await.text().await.unwrap();
    let limited = ask(published, site).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    assert_eq!(json(limited).await["error"], "RATE_LIMIT_EXCEEDED");
}
