//! Slows password guessing: after repeated failures for an account (from one IP) or from one IP
//! (across accounts), login answers 429 with a growing wait. In memory, per node: enough to make
//! online guessing impractical; the rate limiter of the integrator platform adds global limits.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

impl LoginThrottle {
    /// Seconds to wait before another attempt for this account and IP, if any.
    pub fn retry_after(&self, email: &str, ip: &str) -> Option<u64> {
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

    pub fn record_failure(&self, email: &str, ip: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, f| now.duration_since(f.last) < WINDOW);
        for key in [account_key(email, ip), ip_key(ip)] {
            let entry = map.entry(key).or_insert(Failures { count: 0, last: now });
            entry.count += 1;
            entry.last = now;
        }
    }

    pub fn record_success(&self, email: &str, ip: &str) {
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

    #[test]
    fn an_account_is_slowed_after_five_failures_and_freed_by_a_success() {
        let t = LoginThrottle::default();
        for _ in 0..4 {
            t.record_failure("A@x.io", "1.2.3.4");
        }
        assert_eq!(t.retry_after("a@x.io", "1.2.3.4"), None);
        t.record_failure("a@x.io", "1.2.3.4");
        assert_eq!(t.retry_after("a@x.io", "1.2.3.4"), Some(1));
        assert_eq!(t.retry_after("a@x.io", "5.6.7.8"), None, "another IP is not slowed");
        t.record_success("a@x.io", "1.2.3.4");
        assert_eq!(t.retry_after("a@x.io", "1.2.3.4"), None);
    }
}
