//! Slows password guessing: after repeated failures for an account (from one IP) or from one IP
//! (across accounts), login answers 429 with a growing wait. Counted in Redis when the
//! deployment has it (so N nodes do not allow N× the guesses), else in memory on this node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::platform::coordination::Coordination;

const WINDOW: Duration = Duration::from_secs(15 * 60);
const FREE_ACCOUNT_FAILURES: u32 = 5;
const FREE_IP_FAILURES: u32 = 50;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

/// The wait after `count` failures when `free` are allowed: 1 s, 2 s, 4 s, … capped at 15 min.
pub fn backoff(count: u32, free: u32) -> Duration {
    if count < free {
        return Duration::ZERO;
    }
    let doublings = (count - free).min(20);
    Duration::from_secs(1u64 << doublings).min(MAX_WAIT)
}

fn warn_shared(error: &str) {
    tracing::warn!(%error, "the shared login throttle is unavailable; counting on this node");
}

impl LoginThrottle {
    /// Seconds to wait before another attempt for this account and IP, if any.
    pub async fn retry_after(&self, shared: &Coordination, email: &str, ip: &str) -> Option<u64> {
        let keys = [account_key(email, ip), ip_key(ip)];
        match shared.failures(&keys).await {
            Some(Ok(found)) => {
                return found
                    .iter()
                    .zip([FREE_ACCOUNT_FAILURES, FREE_IP_FAILURES])
                    .filter_map(|(f, free)| {
                        let wait = backoff(f.count, free);
                        (f.since_last < wait && f.since_last < WINDOW).then(|| (wait - f.since_last).as_secs().max(1))
                    })
                    .max();
            }
            Some(Err(error)) => warn_shared(&error),
            None => {}
        }
        self.local_retry_after(email, ip)
    }

    pub async fn record_failure(&self, shared: &Coordination, email: &str, ip: &str) {
        match shared.record_failure(&[account_key(email, ip), ip_key(ip)], WINDOW).await {
            Some(Ok(())) => {}
            Some(Err(error)) => {
                warn_shared(&error);
                self.local_failure(email, ip);
            }
            None => self.local_failure(email, ip),
        }
    }

    pub async fn record_success(&self, shared: &Coordination, email: &str, ip: &str) {
        match shared.forget_failures(&account_key(email, ip)).await {
            Some(Ok(())) => {}
            Some(Err(error)) => {
                warn_shared(&error);
                self.local_success(email, ip);
            }
            None => self.local_success(email, ip),
        }
    }

    fn local_retry_after(&self, email: &str, ip: &str) -> Option<u64> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait_for = |key: String, free: u32| {
            map.get(&key).and_then(|f| {
                let until = f.last + backoff(f.count, free);
                (until > now && now.duration_since(f.last) < WINDOW).then(|| (until - now).as_secs().max(1))
            })
        };
        [wait_for(account_key(email, ip), FREE_ACCOUNT_FAILURES), wait_for(ip_key(ip), FREE_IP_FAILURES)]
            .into_iter()
            .flatten()
            .max()
    }

    fn local_failure(&self, email: &str, ip: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, f| now.duration_since(f.last) < WINDOW);
        for key in [account_key(email, ip), ip_key(ip)] {
            let entry = map.entry(key).or_insert(Failures { count: 0, last: now });
            entry.count += 1;
            entry.last = now;
        }
    }

    fn local_success(&self, email: &str, ip: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&account_key(email, ip));
    }
}

fn account_key(email: &str, ip: &str) -> String {
    format!("a|{}|{ip}", email.to_lowercase())
}

fn ip_key(ip: &str) -> String {
    format!("i|{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_after_the_free_attempts_and_is_capped() {
        assert_eq!(backoff(4, 5), Duration::ZERO);
        assert_eq!(backoff(5, 5), Duration::from_secs(1));
        assert_eq!(backoff(8, 5), Duration::from_secs(8));
        assert_eq!(backoff(40, 5), MAX_WAIT);
    }

    /// The same behaviour in memory and, when a run has Redis, shared by two nodes.
    async fn slowed_after_five_failures_and_freed_by_a_success(nodes: [(&LoginThrottle, &Coordination); 2]) {
        let email = format!("{}@x.io", uuid::Uuid::now_v7().simple());
        let ip = format!("10.{}.0.1", rand::random::<u8>());
        for i in 0..4 {
            let (t, c) = nodes[i % 2];
            t.record_failure(c, &email.to_uppercase(), &ip).await;
        }
        let (t, c) = nodes[1];
        assert_eq!(t.retry_after(c, &email, &ip).await, None);
        nodes[0].0.record_failure(nodes[0].1, &email, &ip).await;
        assert_eq!(t.retry_after(c, &email, &ip).await, Some(1), "five failures, on either node");
        assert_eq!(t.retry_after(c, &email, "5.6.7.8").await, None, "another IP is not slowed");
        nodes[0].0.record_success(nodes[0].1, &email, &ip).await;
        assert_eq!(t.retry_after(c, &email, &ip).await, None);
    }

    #[tokio::test]
    async fn an_account_is_slowed_after_five_failures_and_freed_by_a_success() {
        let (t, c) = (LoginThrottle::default(), Coordination::new(None).unwrap());
        slowed_after_five_failures_and_freed_by_a_success([(&t, &c), (&t, &c)]).await;
    }

    #[tokio::test]
    async fn nodes_share_the_count_through_redis() {
        let Some(url) = crate::engines::test_servers::url("LECTERN_TEST_REDIS_URL") else { return };
        let (a, b) = (LoginThrottle::default(), LoginThrottle::default());
        let (ca, cb) = (Coordination::new(Some(&url)).unwrap(), Coordination::new(Some(&url)).unwrap());
        slowed_after_five_failures_and_freed_by_a_success([(&a, &ca), (&b, &cb)]).await;
    }
}
