//! A local OpenAI-compatible upstream for tests, speaking the real wire format: streamed
//! `chat.completion.chunk` events with a final usage chunk and `[DONE]`, or one
//! `chat.completion`; OpenAI error objects. What it says depends on the last user message:
//! - contains `FAIL`: a 500 with an error object;
//! - contains `SLOW`: 200 tokens, 50 ms apart (for cancelling);
//! - otherwise: the next scripted reply (see [`FakeLlm::script`]), else "The answer is in the
//!   handbook [1]." token by token.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

pub const KEY: &str = "sk-fake-upstream";
pub const ANSWER: &str = "The answer is in the handbook [1].";

#[derive(Clone)]
pub struct FakeLlm {
    pub base: String,
    /// Every request body received.
    pub requests: Arc<Mutex<Vec<Value>>>,
    /// Replies given before the default answer, in order.
    replies: Replies,
    _handle: ServerHandle,
}

type Replies = Arc<Mutex<std::collections::VecDeque<String>>>;

async fn chat(
    req: HttpRequest,
    body: web::Json<Value>,
    seen: web::Data<Arc<Mutex<Vec<Value>>>>,
    replies: web::Data<Replies>,
) -> HttpResponse {
    seen.lock().unwrap().push(body.0.clone());
    if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}));
    }
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .map_or(String::new(), |m| m["content"].as_str().unwrap_or_default().to_owned());
    if last.contains("FAIL") {
        return HttpResponse::InternalServerError()
            .json(json!({"error": {"message": "the model crashed", "type": "server_error", "code": null}}));
    }
    let model = body["model"].as_str().unwrap_or("fake").to_owned();
    let scripted = replies.lock().unwrap().pop_front();
    let (tokens, delay): (Vec<String>, u64) = if last.contains("SLOW") {
        ((0..200).map(|i| format!("word{i} ")).collect(), 50)
    } else if let Some(reply) = scripted {
        (reply.split_inclusive(' ').map(str::to_owned).collect(), 0)
    } else {
        (ANSWER.split_inclusive(' ').map(str::to_owned).collect(), 0)
    };
    if body["stream"] != json!(true) {
        return HttpResponse::Ok().json(json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": tokens.concat()}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": tokens.len(), "total_tokens": 11 + tokens.len()},
        }));
    }
    let include_usage = body["stream_options"]["include_usage"] == json!(true);
    let count = tokens.len();
    let stream = async_stream(move |tx| async move {
        let chunk = |delta: Value, finish: Value| {
            format!(
                "data: {}\n\n",
                json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            )
        };
        let _ = tx.send(chunk(json!({"role": "assistant", "content": ""}), Value::Null)).await;
        for t in tokens {
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            if tx.send(chunk(json!({"content": t}), Value::Null)).await.is_err() {
                return;
            }
        }
        let _ = tx.send(chunk(json!({}), json!("stop"))).await;
        if include_usage {
            let usage = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake", "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": count, "total_tokens": 11 + count}});
            let _ = tx.send(format!("data: {usage}\n\n")).await;
        }
        let _ = tx.send("data: [DONE]\n\n".to_owned()).await;
    });
    HttpResponse::Ok().content_type("text/event-stream").streaming(stream)
}

fn async_stream<F, Fut>(producer: F) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<String>) -> Fut,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    actix_web::rt::spawn(producer(tx));
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|s| (Ok(web::Bytes::from(s)), rx)) })
}

impl FakeLlm {
    pub async fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let data = web::Data::new(requests.clone());
        let replies: Replies = Arc::default();
        let scripted = web::Data::new(replies.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}/v1", listener.local_addr().unwrap().port());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(scripted.clone())
                .route("/v1/chat/completions", web::post().to(chat))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { base, requests, replies, _handle: handle }
    }

    /// The next replies, in order, before the default answer resumes.
    pub fn script(&self, replies: &[&str]) {
        self.replies.lock().unwrap().extend(replies.iter().map(|r| (*r).to_owned()));
    }

    pub fn last_request(&self) -> Value {
        self.requests.lock().unwrap().last().cloned().unwrap_or(Value::Null)
    }
}
