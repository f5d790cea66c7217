//! An OpenAI-compatible upstream (OpenAI, vLLM, Ollama, llama.cpp server): `POST
//! {base}/chat/completions` with `stream: true`, read as server-sent events.

use futures_util::StreamExt;
use serde_json::{json, Value};

use super::{prompt, Delta, DeltaStream, Generation, LlmError, ProviderConfig};

/// Prompt budget for upstream models (tokens); their context windows are larger still.
pub const CONTEXT_BUDGET: usize = 12_000;

fn request_body(generation: &Generation) -> Value {
    let mut body = json!({
        "model": generation.model,
        "messages": prompt::messages(generation, CONTEXT_BUDGET),
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if let Some(t) = generation.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(m) = generation.max_tokens {
        body["max_tokens"] = json!(m);
    }
    if !generation.stop.is_empty() {
        body["stop"] = json!(generation.stop);
    }
    body
}

/// The deltas of one `data:` payload.
pub fn parse_event(data: &str) -> Vec<Delta> {
    let Ok(value) = serde_json::from_str::<Value>(data) else { return Vec::new() };
    let mut deltas = Vec::new();
    if let Some(choice) = value["choices"].get(0) {
        if let Some(text) = choice["delta"]["content"].as_str().or_else(|| choice["text"].as_str()) {
            if !text.is_empty() {
                deltas.push(Delta::Text(text.to_owned()));
            }
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            deltas.push(Delta::Finish(reason.to_owned()));
        }
    }
    let usage = &value["usage"];
    if let (Some(p), Some(c)) = (usage["prompt_tokens"].as_u64(), usage["completion_tokens"].as_u64()) {
        deltas.push(Delta::Usage {
            prompt_tokens: u32::try_from(p).unwrap_or(u32::MAX),
            completion_tokens: u32::try_from(c).unwrap_or(u32::MAX),
        });
    }
    deltas
}

fn upstream_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().or_else(|| v["error"].as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect())
}

pub async fn stream(
    client: &reqwest::Client,
    provider: &ProviderConfig,
    generation: &Generation,
) -> Result<DeltaStream, LlmError> {
    let name = provider.name.clone();
    let mut request = client
        .post(format!("{}/chat/completions", provider.base_url))
        .timeout(provider.timeout)
        .json(&request_body(generation));
    if let Some(key) = &provider.api_key {
        request = request.bearer_auth(key.expose());
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            LlmError::Timeout(name.clone())
        } else {
            LlmError::Unreachable { provider: name.clone(), message: e.to_string() }
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(LlmError::Upstream { provider: name, status: status.as_u16(), message: upstream_message(&body) });
    }
    let mut bytes = response.bytes_stream();
    let stream = async_stream(move |tx| async move {
        let mut buffer = String::new();
        while let Some(chunk) = bytes.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    let error = if e.is_timeout() {
                        LlmError::Timeout(name.clone())
                    } else {
                        LlmError::Unreachable { provider: name.clone(), message: e.to_string() }
                    };
                    let _ = tx.send(Err(error)).await;
                    return;
                }
            };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find('\n') {
                let line: String = buffer.drain(..=end).collect();
                let Some(data) = line.trim_end().strip_prefix("data:") else { continue };
                let data = data.trim();
                if data == "[DONE]" {
                    return;
                }
                for delta in parse_event(data) {
                    if tx.send(Ok(delta)).await.is_err() {
                        return; // the caller stopped listening (cancelled)
                    }
                }
            }
        }
    });
    Ok(stream)
}

/// A stream fed by a task: the producer gets the sending half of a small channel.
pub fn async_stream<F, Fut>(producer: F) -> DeltaStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Delta, LlmError>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(producer(tx));
    tokio_stream_from(rx)
}

fn tokio_stream_from(rx: tokio::sync::mpsc::Receiver<Result<Delta, LlmError>>) -> DeltaStream {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_finish_and_usage_are_read_from_chunks() {
        assert_eq!(
            parse_event(
                r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#
            ),
            [Delta::Text("Hel".into())]
        );
        assert_eq!(parse_event(r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#), [Delta::Finish("stop".into())]);
        assert_eq!(
            parse_event(r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#),
            [Delta::Usage { prompt_tokens: 12, completion_tokens: 3 }]
        );
        assert!(parse_event("not json").is_empty());
        assert_eq!(upstream_message(r#"{"error":{"message":"model overloaded"}}"#), "model overloaded");
    }
}
