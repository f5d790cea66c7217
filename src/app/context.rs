//! [`AppContext`]: what every handler and service needs, built once per process.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use sea_orm::DatabaseConnection;

use crate::engines::mail::{LogMailer, Mailer, SmtpMailer};
use crate::platform::settings::Settings;
use crate::services::identity::credentials::JwtKeys;
use crate::services::identity::throttle::LoginThrottle;

pub struct AppContext {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub readiness: Readiness,
    pub started_at: Instant,
    /// For calls to third parties (login providers). Never follows redirects: a provider
    /// answering with one is an error, not a hop to wherever it points.
    pub http: reqwest::Client,
    /// Search, vector and blob storage: opened by startup, after migrations.
    pub engines: std::sync::OnceLock<crate::app::engines::Engines>,
    /// Language models: upstreams from settings and the built-in extractive model.
    pub llm: crate::engines::llm::Gateway,
    /// Serialises ledger transactions on SQLite (see `billing::begin`).
    pub ledger_lock: tokio::sync::Mutex<()>,
    /// Requests per caller and operation class.
    pub rate_limits: crate::platform::rate_limits::RateLimits,
    pub identity: IdentityRuntime,
    pub chat: ChatRuntime,
    pub content: ContentRuntime,
    pub signals: Signals,
    /// Signals and shared counters between the nodes of a deployment (Redis, or this process).
    pub coordination: crate::platform::coordination::Coordination,
}

/// What sign-in and account mail need.
pub struct IdentityRuntime {
    pub jwt: JwtKeys,
    pub login_throttle: LoginThrottle,
    pub mailer: Arc<dyn Mailer>,
    /// Principals resolved recently, dropped on every node when identities change.
    pub principals: crate::services::identity::principal_cache::PrincipalCache,
}

/// Chat state of this node.
pub struct ChatRuntime {
    /// Chat turns in flight on this node, to cancel them.
    pub turns: crate::services::chat::in_flight::Turns,
    /// Public assistant turns per visitor IP.
    pub visitors: crate::services::chat::public::VisitorLimiter,
    /// Open WebSocket sessions on this node.
    pub ws_sessions: std::sync::atomic::AtomicUsize,
}

/// Public content state of this node.
pub struct ContentRuntime {
    /// Public content responses, per site.
    pub public_cache: crate::services::content::cache::PublicCache,
    /// Page views and searches, counted in memory and saved every few seconds.
    pub analytics: crate::services::content::analytics::Analytics,
    /// Contact form submissions per visitor IP.
    pub contact_limiter: crate::services::chat::public::VisitorLimiter,
}

/// Wake-ups between the parts of this node.
#[derive(Default)]
pub struct Signals {
    /// Wakes idle job workers when a job is queued.
    pub jobs: tokio::sync::Notify,
    /// Wakes the webhook dispatcher when an event is recorded.
    pub webhooks: tokio::sync::Notify,
}

impl AppContext {
    /// Fails only if the outbound HTTP client cannot be built: a default client would follow
    /// redirects, which the outbound contract forbids.
    pub fn new(
        settings: Arc<Settings>,
        db: DatabaseConnection,
        jwt: JwtKeys,
        mailer: Arc<dyn Mailer>,
    ) -> anyhow::Result<Self> {
        let llm = crate::engines::llm::Gateway::new(settings.llm_providers.clone(), settings.llm_default_model.clone());
        let visitors = crate::services::chat::public::VisitorLimiter::per_minute(settings.public_chat_per_minute);
        Ok(Self {
            db,
            readiness: Readiness::default(),
            started_at: Instant::now(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .user_agent(concat!("lectern/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| anyhow::anyhow!("cannot build the outbound HTTP client: {e}"))?,
            engines: std::sync::OnceLock::new(),
            llm,
            ledger_lock: tokio::sync::Mutex::new(()),
            rate_limits: crate::platform::rate_limits::RateLimits::new(
                settings.rate_limits,
                settings.plan_rate_limits.clone(),
            ),
            identity: IdentityRuntime {
                jwt,
                login_throttle: LoginThrottle::default(),
                mailer,
                principals: Default::default(),
            },
            chat: ChatRuntime {
                turns: crate::services::chat::in_flight::Turns::default(),
                visitors,
                ws_sessions: std::sync::atomic::AtomicUsize::new(0),
            },
            content: ContentRuntime {
                public_cache: crate::services::content::cache::PublicCache::new(std::time::Duration::from_secs(
                    settings.public_cache_secs,
                )),
                analytics: crate::services::content::analytics::Analytics::default(),
                contact_limiter: crate::services::chat::public::VisitorLimiter::per_hour(settings.contact_per_hour),
            },
            signals: Signals::default(),
            coordination: crate::platform::coordination::Coordination::new(
                settings.redis_url.as_ref().map(|u| u.expose().as_str()),
            )
            .map_err(|e| anyhow::anyhow!(e))?,
            settings,
        })
    }
}

impl AppContext {
    /// The storage engines, or 503 while the server is still starting.
    pub fn engines(&self) -> crate::error::ApiResult<&crate::app::engines::Engines> {
        self.engines.get().ok_or_else(|| {
            crate::error::ApiError::new(
                crate::error::ErrorCode::ServiceUnavailable,
                "the search engines are still opening; retry shortly",
            )
            .with_details(serde_json::json!({ "retryAfter": 1 }))
        })
    }
}

/// The mailer the settings ask for: SMTP when `SMTP_URL` is set, else the log.
pub fn mailer_from(settings: &Settings) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match &settings.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url.expose(), &settings.mail_from)?),
        None => Arc::new(LogMailer),
    })
}

/// Where startup stands. The server listens before migrations run, so probes can tell "starting"
/// from "dead"; requests other than health and docs get 503 until [`Stage::Ready`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Starting,
    Migrating,
    OpeningEngines,
    Ready,
    Failed(String),
}

impl Stage {
    pub fn describe(&self) -> String {
        match self {
            Self::Starting => "waiting to start".to_owned(),
            Self::Migrating => "running database migrations".to_owned(),
            Self::OpeningEngines => "opening search, vector and blob storage".to_owned(),
            Self::Ready => "ready".to_owned(),
            Self::Failed(reason) => format!("startup failed: {reason}"),
        }
    }
}

#[derive(Debug)]
pub struct Readiness(RwLock<Stage>);

impl Default for Readiness {
    fn default() -> Self {
        Self(RwLock::new(Stage::Starting))
    }
}

impl Readiness {
    pub fn stage(&self) -> Stage {
        match self.0.read() {
            Ok(stage) => stage.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set(&self, stage: Stage) {
        match self.0.write() {
            Ok(mut current) => *current = stage,
            Err(poisoned) => *poisoned.into_inner() = stage,
        }
    }

    pub fn is_ready(&self) -> bool {
        self.stage() == Stage::Ready
    }
}
