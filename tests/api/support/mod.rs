//! What the tests share: the app spawner and request helpers, identity set-up, the local fake
//! servers for third parties that cannot run here (an LLM upstream, OAuth providers, SMTP,
//! Stripe, a webhook receiver), and [`eventually`] for waiting on background work.

pub mod app;
pub mod fake_llm;
pub mod fake_oauth;
pub mod fake_rerank;
pub mod fake_smtp;
pub mod fake_stripe;
pub mod identity;
pub mod process;
pub mod scan;
pub mod webhook_receiver;

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `check` every 50 ms until it returns `Some`, and returns that; panics with `what` once
/// `within` has passed. Replaces hand-written polling loops, so every wait has a deadline and
/// says what it waited for.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
