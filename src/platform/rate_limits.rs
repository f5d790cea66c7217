//! Rate limits per caller (API key, user, or IP when anonymous) and per operation class, with
//! governor's GCRA: a limit of `N/min` lets a burst of N through, then one every 60/N s.
//! Limits come from `LECTERN_RATE_LIMITS`, then the tenant's plan (`LECTERN_PLAN_RATE_LIMITS`),
//! then the tenant's own overrides (set by a platform admin). State is in memory, per node, or
//! in Redis when the deployment has it, so that N nodes together allow N/min, not N× as many.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

/// What a request does, for its limit. Every `/v1` request also counts against `Global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Global,
    /// Logins, sign-ups, password resets, OAuth: always per IP.
    Auth,
    /// The OpenAI-compatible gateway.
    Llm,
    /// Chat turns and knowledge-base questions.
    Rag,
    Search,
    /// Uploads and re-indexing.
    Ingest,
    /// Site visitors (`/public`): per IP.
    Public,
}

impl Class {
    pub const ALL: [Class; 7] =
        [Class::Global, Class::Auth, Class::Llm, Class::Rag, Class::Search, Class::Ingest, Class::Public];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Auth => "auth",
            Self::Llm => "llm",
            Self::Rag => "rag",
            Self::Search => "search",
            Self::Ingest => "ingest",
            Self::Public => "public",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The class of a request, from its method and path; None = only the global limit.
    pub fn of(method: &str, path: &str) -> Option<Self> {
        let write = method != "GET" && method != "HEAD";
        if path.starts_with("/public/") {
            return Some(Self::Public);
        }
        if let Some(auth) = path.strip_prefix("/v1/auth/") {
            let reads = matches!(auth, "me" | "my-permissions" | "setup-status" | "oauth/providers");
            return (!reads && (write || auth.starts_with("oauth/"))).then_some(Self::Auth);
        }
        match path {
            "/v1/chat/completions" | "/v1/completions" | "/v1/embeddings" => return Some(Self::Llm),
            "/v1/search" => return Some(Self::Search),
            "/v1/chat" if write => return Some(Self::Rag),
            _ => {}
        }
        let last = path.rsplit('/').next().unwrap_or_default();
        if path.starts_with("/v1/knowledge-bases/") {
            match last {
                "search" => return Some(Self::Search),
                "query" => return Some(Self::Rag),
                "documents" | "reindex" if write => return Some(Self::Ingest),
                _ => {}
            }
        }
        if path.starts_with("/v1/conversations/") && write && matches!(last, "messages" | "branch") {
            return Some(Self::Rag);
        }
        if path.starts_with("/v1/sites/") && write && last == "media" {
            return Some(Self::Ingest);
        }
        None
    }
}

/// `count` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub count: u32,
    pub period_secs: u32,
}

impl Rate {
    /// `600/min`, `10/s`, `5000/hour`, `100000/day`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (count, period) = text.trim().split_once('/').ok_or_else(|| format!("`{text}` is not like 600/min"))?;
        let count: u32 = count.trim().parse().ok().filter(|c| *c > 0).ok_or_else(|| format!("`{text}`: bad count"))?;
        let period_secs = match period.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86_400,
            other => return Err(format!("`{other}` is not s, min, hour or day")),
        };
        Ok(Self { count, period_secs })
    }

    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.count).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(Duration::from_secs(u64::from(self.period_secs)) / self.count)
            .map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let period = match self.period_secs {
            1 => "s",
            60 => "min",
            3600 => "hour",
            _ => "day",
        };
        write!(f, "{}/{period}", self.count)
    }
}

/// A limit per class; None = unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits([Option<Rate>; 7]);

impl Default for Limits {
    fn default() -> Self {
        let rate = |count, period_secs| Some(Rate { count, period_secs });
        let mut limits = Self([None; 7]);
        limits.set(Class::Global, rate(1200, 60));
        limits.set(Class::Auth, rate(30, 60));
        limits.set(Class::Llm, rate(120, 60));
        limits.set(Class::Rag, rate(120, 60));
        limits.set(Class::Search, rate(600, 60));
        limits.set(Class::Ingest, rate(1200, 60));
        limits.set(Class::Public, rate(3000, 60));
        limits
    }
}

impl Limits {
    /// No limit on any class.
    pub fn unlimited() -> Self {
        Self([None; 7])
    }

    pub fn get(&self, class: Class) -> Option<Rate> {
        self.0[class.index()]
    }

    pub fn set(&mut self, class: Class, rate: Option<Rate>) {
        self.0[class.index()] = rate;
    }

    /// Every class with its rate (`off` when unlimited), for display.
    pub fn describe(&self) -> std::collections::BTreeMap<String, String> {
        Class::ALL
            .into_iter()
            .map(|c| (c.as_str().to_owned(), self.get(c).map_or_else(|| "off".to_owned(), |r| r.to_string())))
            .collect()
    }

    /// Applies `class=rate` pairs (`llm=600/min, search=off`) over these limits.
    pub fn apply(&mut self, overrides: &Overrides) {
        for (class, rate) in &overrides.0 {
            self.set(*class, *rate);
        }
    }
}

/// Some classes' limits: from settings (`llm=600/min,search=off`) or a tenant's JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides(pub Vec<(Class, Option<Rate>)>);

impl Overrides {
    pub fn parse_list(text: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (class, rate) = pair.split_once('=').ok_or_else(|| format!("`{pair}` is not class=rate"))?;
            out.push(Self::pair(class, rate)?);
        }
        Ok(Self(out))
    }

    fn pair(class: &str, rate: &str) -> Result<(Class, Option<Rate>), String> {
        let class = Class::parse(class.trim()).ok_or_else(|| {
            format!("`{}` is not one of global, auth, llm, rag, search, ingest, public", class.trim())
        })?;
        let rate = match rate.trim() {
            "off" | "none" | "unlimited" => None,
            r => Some(Rate::parse(r)?),
        };
        Ok((class, rate))
    }

    /// From a JSON object `{"llm": "600/min", "search": "off"}`.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let object = value.as_object().ok_or("rate limits must be an object of class: rate")?;
        let mut out = Vec::new();
        for (class, rate) in object {
            let rate = rate.as_str().ok_or_else(|| format!("the limit for `{class}` must be a string like 600/min"))?;
            out.push(Self::pair(class, rate)?);
        }
        Ok(Self(out))
    }
}

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub class: Class,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the full limit is available again (on a refusal: until the next request may pass).
    pub reset_secs: u64,
    pub allowed: bool,
}

/// How long a tenant's resolved limits are reused before the database is asked again.
const TENANT_TTL: Duration = Duration::from_secs(30);

pub struct RateLimits {
    defaults: Limits,
    plans: HashMap<String, Overrides>,
    limiters: RwLock<HashMap<(Class, Rate), Arc<Keyed>>>,
    tenants: RwLock<HashMap<Uuid, (Instant, Limits)>>,
    clock: DefaultClock,
    warned: std::sync::Mutex<Option<Instant>>,
}

impl RateLimits {
    pub fn new(defaults: Limits, plans: HashMap<String, Overrides>) -> Self {
        Self {
            defaults,
            plans,
            limiters: RwLock::default(),
            tenants: RwLock::default(),
            clock: DefaultClock::default(),
            warned: std::sync::Mutex::new(None),
        }
    }

    pub fn defaults(&self) -> Limits {
        self.defaults
    }

    /// The limits of a tenant with `plan` and its own `overrides`.
    pub fn resolve(&self, plan: Option<&str>, overrides: Option<&Overrides>) -> Limits {
        let mut limits = self.defaults;
        if let Some(plan) = plan.and_then(|p| self.plans.get(p)) {
            limits.apply(plan);
        }
        if let Some(own) = overrides {
            limits.apply(own);
        }
        limits
    }

    pub fn cached_tenant(&self, tenant: Uuid) -> Option<Limits> {
        let cache = self.tenants.read().ok()?;
        cache.get(&tenant).filter(|(at, _)| at.elapsed() < TENANT_TTL).map(|(_, l)| *l)
    }

    pub fn remember_tenant(&self, tenant: Uuid, limits: Limits) {
        if let Ok(mut cache) = self.tenants.write() {
            if cache.len() > 10_000 {
                cache.retain(|_, (at, _)| at.elapsed() < TENANT_TTL);
            }
            cache.insert(tenant, (Instant::now(), limits));
        }
    }

    /// Forgets a tenant's limits on this node after they changed.
    pub fn forget_tenant(&self, tenant: Uuid) {
        if let Ok(mut cache) = self.tenants.write() {
            cache.remove(&tenant);
        }
    }

    fn limiter(&self, class: Class, rate: Rate) -> Arc<Keyed> {
        if let Some(existing) = self.limiters.read().ok().and_then(|m| m.get(&(class, rate)).cloned()) {
            return existing;
        }
        let mut map = match self.limiters.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        Arc::clone(
            map.entry((class, rate)).or_insert_with(|| Arc::new(RateLimiter::keyed(rate.quota()).with_middleware())),
        )
    }

    /// Like [`Self::check`], counted once across all nodes when coordination is shared. If
    /// Redis is unreachable, each node counts alone (degraded, never closed to everyone).
    pub async fn check_shared(
        &self,
        coordination: &crate::platform::coordination::Coordination,
        limits: &Limits,
        class: Class,
        who: &str,
    ) -> Option<Decision> {
        let rate = limits.get(class)?;
        let key = format!("{}:{rate}:{who}", class.as_str());
        let period = Duration::from_secs(u64::from(rate.period_secs));
        match coordination.count(&key, rate.count, period).await {
            None => self.check(limits, class, who),
            Some(Ok(counted)) => Some(Decision {
                class,
                limit: rate.count,
                remaining: counted.remaining,
                reset_secs: if counted.allowed { ceil_secs(counted.reset) } else { ceil_secs(counted.reset).max(1) },
                allowed: counted.allowed,
            }),
            Some(Err(error)) => {
                if self.should_warn() {
                    tracing::warn!(%error, "shared rate limits are unavailable; each node counts alone");
                }
                self.check(limits, class, who)
            }
        }
    }

    /// At most one warning a minute about the shared counters.
    fn should_warn(&self) -> bool {
        let mut last = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|at| at.elapsed() > Duration::from_secs(60));
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// Counts one request of `who` against `class` under `limits`; None when the class is unlimited.
    pub fn check(&self, limits: &Limits, class: Class, who: &str) -> Option<Decision> {
        let rate = limits.get(class)?;
        let limiter = self.limiter(class, rate);
        // One entry per caller seen: forget the idle ones before the map grows large.
        if limiter.len() > 50_000 {
            limiter.retain_recent();
        }
        let interval = rate.quota().replenish_interval();
        Some(match limiter.check_key(&who.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let refill = interval * rate.count.saturating_sub(remaining);
                Decision { class, limit: rate.count, remaining, reset_secs: ceil_secs(refill), allowed: true }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Decision { class, limit: rate.count, remaining: 0, reset_secs: ceil_secs(wait).max(1), allowed: false }
            }
        })
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_paths() {
        assert_eq!(Class::of("POST", "/v1/auth/login"), Some(Class::Auth));
        assert_eq!(Class::of("GET", "/v1/auth/me"), None);
        assert_eq!(Class::of("GET", "/v1/auth/oauth/github/start"), Some(Class::Auth));
        assert_eq!(Class::of("POST", "/v1/chat/completions"), Some(Class::Llm));
        assert_eq!(Class::of("POST", "/v1/knowledge-bases/x/search"), Some(Class::Search));
        assert_eq!(Class::of("POST", "/v1/knowledge-bases/x/documents"), Some(Class::Ingest));
        assert_eq!(Class::of("GET", "/v1/knowledge-bases/x/documents"), None);
        assert_eq!(Class::of("POST", "/v1/conversations/x/messages"), Some(Class::Rag));
        assert_eq!(Class::of("GET", "/public/v1/sites/x/entries"), Some(Class::Public));
        assert_eq!(Class::of("GET", "/v1/roles"), None);
    }

    #[test]
    fn rates_and_overrides_parse() {
        assert_eq!(Rate::parse("600/min"), Ok(Rate { count: 600, period_secs: 60 }));
        assert!(Rate::parse("0/min").is_err());
        assert!(Rate::parse("5/week").is_err());
        let o = Overrides::parse_list("llm=10/s, search=off").expect("valid");
        let mut l = Limits::default();
        l.apply(&o);
        assert_eq!(l.get(Class::Llm), Some(Rate { count: 10, period_secs: 1 }));
        assert_eq!(l.get(Class::Search), None);
        assert!(Overrides::parse_list("chat=1/s").is_err());
        assert!(Overrides::from_json(&serde_json::json!({"rag": 5})).is_err());
    }

    #[test]
    fn remaining_counts_down_then_refuses() {
        let limits = RateLimits::new(Limits::default(), HashMap::new());
        let mut l = Limits::default();
        l.set(Class::Search, Some(Rate { count: 3, period_secs: 3600 }));
        let seen: Vec<u32> = (0..3).filter_map(|_| limits.check(&l, Class::Search, "a")).map(|d| d.remaining).collect();
        assert_eq!(seen, [2, 1, 0]);
        let refused = limits.check(&l, Class::Search, "a").expect("limited");
        assert!(!refused.allowed);
        assert!(refused.reset_secs > 1000, "{refused:?}");
        assert!(limits.check(&l, Class::Search, "b").expect("limited").allowed, "limits are per caller");
    }
}
