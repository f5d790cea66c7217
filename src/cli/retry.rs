//! For Lectern's own API clients (`lectern import`, `lectern eval`): send a request again when
//! the server answers 429, after the `Retry-After` it gave, as any polite integrator would.

use std::time::Duration;

const MAX_TRIES: usize = 20;

/// Sends the request `build` makes; on a 429 waits `Retry-After` seconds (at most 60) and tries again.
pub async fn send_patiently(build: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
    let mut tries = 0;
    loop {
        let response = build().send().await?;
        tries += 1;
        if response.status() != reqwest::StatusCode::TOO_MANY_REQUESTS || tries >= MAX_TRIES {
            return Ok(response);
        }
        let wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .clamp(1, 60);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}
