//! Typed configuration: defaults in code < `.env` < process environment < command-line flags.
//!
//! Every key is documented in `.env.example`. Values are parsed and validated once, at startup;
//! a bad value stops the process with a message naming the key and why. Secrets are wrapped in
//! [`Secret`] so they never reach a log line or an error message.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Which relational backend `DATABASE_URL` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseBackend {
    Sqlite,
    Postgres,
}

impl DatabaseBackend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `LECTERN_ADDR`: where the HTTP server listens.
    pub addr: SocketAddr,
    /// `LECTERN_DATA_DIR`: everything the server writes (database file, indexes, blobs, models).
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `sqlite://…` (default, inside the data dir) or `postgres://…`.
    pub database_url: Secret<String>,
    pub database_backend: DatabaseBackend,
    /// `DATABASE_MAX_CONNECTIONS`: pool size.
    pub database_max_connections: u32,
    /// `LOG_FORMAT`: `pretty` or `json`.
    pub log_format: LogFormat,
    /// `RUST_LOG`: tracing filter directives.
    pub log_filter: String,
    /// `LECTERN_HTTP_WORKERS`: actix worker threads (0 = one per core).
    pub http_workers: usize,
    /// `LECTERN_MAX_JSON_BYTES`: largest accepted JSON request body.
    pub max_json_bytes: usize,
    /// `LECTERN_SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests may finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// `QDRANT_URL`: a Qdrant server; unset = the in-process qdrant-edge store in the data dir.
    pub qdrant_url: Option<String>,
    /// `QDRANT_API_KEY`: API key for the Qdrant server, if it needs one.
    pub qdrant_api_key: Option<Secret<String>>,
    /// `QDRANT_COLLECTION`: the collection of chunk vectors on the Qdrant server; lexical search
    /// uses `<name>_bm25` beside it. Deployments sharing one server each take their own name.
    pub qdrant_collection: String,
    /// `LECTERN_BLOB_STORE=s3://bucket/prefix` (+ `LECTERN_S3_*`): uploads in an S3-compatible
    /// bucket; unset or `local` = the blobs dir under the data dir.
    pub blob_s3: Option<crate::engines::blobs::S3Location>,
    /// `REDIS_URL`: shared rate limits and signals between nodes; unset = in this process.
    pub redis_url: Option<Secret<String>>,
    /// `LECTERN_NODE_MODE=cluster`: this node is one of several, so every backend must be
    /// shared (checked at startup); `single` (default) allows the embedded ones.
    pub cluster: bool,
    /// `LECTERN_MODELS_DIR`: model files and ONNX Runtime, shared by every data dir.
    pub models_dir: PathBuf,
    /// `EMBEDDING_MODEL`: the embedding model, a directory name under the models dir.
    pub embedding_model: String,
    /// `ORT_DYLIB_PATH`: the ONNX Runtime shared library (≥ 1.24); default: in the models dir.
    pub ort_dylib_path: PathBuf,
    /// `LLM_BASE_URL` (+ `LLM_API_KEY`, `LLM_MODELS`, `LLM_TIMEOUT_SECS`) and `LLM_PROVIDERS`:
    /// OpenAI-compatible upstreams; none = the built-in extractive model.
    pub llm_providers: Vec<crate::engines::llm::ProviderConfig>,
    /// `LECTERN_RERANK_MODEL` or `LECTERN_RERANK_URL` (+ `_CANDIDATES`): the reranker; none = off.
    pub rerank: Option<crate::engines::rerank::RerankConfig>,
    pub rerank_candidates: usize,
    /// `LLM_DEFAULT_MODEL`: the model used when a request names none.
    pub llm_default_model: Option<String>,
    /// `LECTERN_WS_MAX_SESSIONS`: concurrent WebSocket sessions per node.
    pub ws_max_sessions: usize,
    /// `LECTERN_PUBLIC_CHAT_PER_MINUTE`: public assistant turns per visitor IP and minute.
    pub public_chat_per_minute: u32,
    /// `LECTERN_PUBLIC_CACHE_SECS`: how long public content responses are cached in-process and
    /// by clients (`Cache-Control: max-age`).
    pub public_cache_secs: u64,
    /// `LECTERN_CONTACT_PER_HOUR`: contact form submissions per visitor IP and hour.
    pub contact_per_hour: u32,
    /// `LECTERN_MAX_MEDIA_BYTES`: largest media library file.
    pub max_media_bytes: usize,
    /// `LECTERN_IMAGE_SIZES`: the widths and heights image variants may be requested in.
    pub image_sizes: Vec<u32>,
    /// Stripe, when `STRIPE_SECRET_KEY` is set; without it credits are granted by hand.
    pub stripe: Option<StripeSettings>,
    /// `LECTERN_STARTER_CREDITS`: micro-credits every new tenant wallet starts with.
    pub starter_credits: i64,
    /// `LECTERN_CORS_ORIGINS`: browser origins allowed to call the API (`*` for any).
    pub cors_origins: Vec<String>,
    /// `LECTERN_TRUSTED_PROXIES`: reverse proxies whose `X-Forwarded-For` names the caller (for
    /// rate limits, the audit log, contact forms); empty = the connection's address is the caller.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `LECTERN_RATE_LIMITS`: requests per caller and class (`llm=120/min,search=off`).
    pub rate_limits: crate::platform::rate_limits::Limits,
    /// `LECTERN_PLAN_RATE_LIMITS`: overrides per billing plan (`pro: llm=600/min; team: …`).
    pub plan_rate_limits: HashMap<String, crate::platform::rate_limits::Overrides>,
    /// `LECTERN_WEBHOOK_TIMEOUT_SECS`: how long a webhook receiver may take to answer.
    pub webhook_timeout: Duration,
    /// `LECTERN_WEBHOOK_MAX_ATTEMPTS`: attempts per delivery before it fails (and its endpoint is
    /// switched off); with the default backoff, 11 attempts span about 25 hours.
    pub webhook_max_attempts: u32,
    /// `LECTERN_WEBHOOK_RETENTION_DAYS`: how long finished deliveries (with their bodies and
    /// responses) stay listed and replayable.
    pub webhook_retention: chrono::Duration,
    /// `LECTERN_WEBHOOK_RETRY_BASE_MS`: the first retry's delay; each next one is 3× longer
    /// (capped at 8 h), with ±20 % jitter.
    pub webhook_retry_base: Duration,
    /// `LECTERN_METRICS_USER` / `LECTERN_METRICS_PASSWORD`: basic auth for `/metrics` (unset = open).
    pub metrics_auth: Option<(String, Secret<String>)>,
    /// `LECTERN_JWT_SECRET`: HS256 key for access tokens (≥ 32 chars). Unset = a random key kept
    /// in `<data dir>/secrets/jwt.key`; set it when several nodes share one database.
    pub jwt_secret: Option<Secret<String>>,
    /// `LECTERN_ACCESS_TOKEN_TTL_SECS`: lifetime of an access token.
    pub access_token_ttl: Duration,
    /// `LECTERN_REFRESH_TOKEN_TTL_DAYS`: lifetime of a refresh token (a login session).
    pub refresh_token_ttl: Duration,
    /// `LECTERN_SIGNUP_MODE`: who may create an account: `off`, `invite`, `open` or `approval`.
    pub signup_mode: SignupMode,
    /// `LECTERN_PUBLIC_URL`: the URL people reach this server at (links in mails, OAuth callbacks).
    pub public_url: String,
    /// `SMTP_URL`: where mail goes (`smtps://user:pass@host`); unset = mail is only logged.
    pub smtp_url: Option<Secret<String>>,
    /// `MAIL_FROM`: the sender of outgoing mail.
    pub mail_from: String,
    /// `LECTERN_MAX_UPLOAD_BYTES`: largest document accepted (413 above).
    pub max_upload_bytes: usize,
    /// `LECTERN_MAX_PAGES`: most pages one document may have.
    pub max_pages: u32,
    /// `LECTERN_MAX_IMAGE_PIXELS`: largest image (width × height) read or rendered for OCR.
    pub max_image_pixels: u64,
    /// `LECTERN_OCR`: recognise scanned pages and images with Tesseract when it is installed.
    pub ocr: bool,
    /// `LECTERN_OCR_LANGUAGES`: Tesseract languages (`eng+deu`), besides those of the knowledge
    /// base whose data is installed.
    pub ocr_languages: String,
    /// `LECTERN_OCR_PAGE_TIMEOUT_SECS`: longest OCR (or rendering) of one page.
    pub ocr_page_timeout: Duration,
    /// `LECTERN_OCR_DPI`: resolution scanned PDF pages are rendered at.
    pub ocr_dpi: u32,
    /// `LECTERN_OCR_WORKERS`: pages recognised at once across all documents (a separate pool, so
    /// a long scan never holds up other documents' parsing).
    pub ocr_workers: usize,
    /// `LECTERN_MAX_UNPACKED_BYTES`: most bytes any compressed part of a document may unpack
    /// to (DOCX XML, PDF streams): the guard against archive bombs.
    pub max_unpacked_bytes: u64,
    /// `LECTERN_ALLOW_PRIVATE_URLS`: let URL ingestion fetch private and local addresses
    /// (an intranet wiki); off by default against SSRF.
    pub allow_private_urls: bool,
    /// `LECTERN_WORKERS`: background job workers (parsing and embedding).
    pub workers: usize,
    /// `LECTERN_EMBED_BATCH`: texts per call of the local embedding model, at most.
    pub embed_batch: usize,
    /// `LECTERN_EMBED_TOKEN_BUDGET`: texts × padded tokens per call of the local model, at most.
    pub embed_token_budget: usize,
    /// `LECTERN_EMBED_MEMORY_ARENA`: ONNX Runtime's CPU memory arena for the local model.
    pub embed_memory_arena: bool,
    /// `LECTERN_EMBED_CONTEXT`: embed each chunk with its document title and heading path in
    /// front (contextual retrieval; on by default, measured better on NFCorpus); takes effect
    /// for documents ingested or reindexed after.
    pub embed_context: bool,
    /// `LECTERN_JOB_LEASE_SECS`: how long a worker holds a job without reporting progress;
    /// after a crash, its jobs run again once this has passed.
    pub job_lease: Duration,
    /// Login providers: Google, GitHub and a generic OIDC issuer, each when its client id is set.
    pub oauth_providers: Vec<OAuthProvider>,
    /// `LECTERN_DASHBOARD_DIR`: serve the dashboard from this directory instead of the copy
    /// compiled into the binary (to work on `static/` without rebuilding).
    pub dashboard_dir: Option<PathBuf>,
}

/// Who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignupMode {
    /// Only administrators create users (CLI, setup).
    Off,
    /// Anyone holding a valid invitation.
    Invite,
    /// Anyone; a new account gets its own tenant.
    Open,
    /// Anyone may ask; a superadmin approves or rejects each sign-up from the waitlist.
    Approval,
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub addr: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid setting {key}: {reason}")]
pub struct SettingsError {
    pub key: &'static str,
    pub reason: String,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError { key, reason: reason.into() }
}

impl Settings {
    /// Loads `.env` (if present; never overriding the real environment), then reads the
    /// environment and applies the flags.
    pub fn load(overrides: &Overrides) -> Result<Self, SettingsError> {
        if let Err(error) = dotenvy::dotenv() {
            if !error.not_found() {
                return Err(invalid(".env", error.to_string()));
            }
        }
        Self::from_vars(&std::env::vars().collect(), overrides)
    }

    /// Builds settings from a map of variables: the pure part of [`Settings::load`].
    pub fn from_vars(vars: &HashMap<String, String>, overrides: &Overrides) -> Result<Self, SettingsError> {
        let var = |key: &str| vars.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let addr_text = overrides.addr.clone().or_else(|| var("LECTERN_ADDR"));
        let addr = match addr_text {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(text) => text.parse().map_err(|_| {
                invalid("LECTERN_ADDR", format!("`{text}` is not a socket address like 127.0.0.1:8080"))
            })?,
        };

        let data_dir = overrides
            .data_dir
            .clone()
            .or_else(|| var("LECTERN_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("./data"));

        let database_url = overrides
            .database_url
            .clone()
            .or_else(|| var("DATABASE_URL"))
            .unwrap_or_else(|| default_sqlite_url(&data_dir));
        let database_backend = backend_of(&database_url)?;

        let log_format = match overrides.log_format.clone().or_else(|| var("LOG_FORMAT")).as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(invalid("LOG_FORMAT", format!("`{other}` is not one of: pretty, json"))),
        };

        let qdrant_url = var("QDRANT_URL");
        if let Some(url) = &qdrant_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid("QDRANT_URL", "must start with http:// or https:// (the gRPC port, usually 6334)"));
            }
        }
        let qdrant_collection = var("QDRANT_COLLECTION").unwrap_or_else(|| "lectern_chunks".to_owned());
        let valid_name = |n: &str| {
            (1..=200).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !valid_name(&qdrant_collection) {
            return Err(invalid("QDRANT_COLLECTION", "must be 1-200 letters, digits, `_` or `-`"));
        }
        let jwt_secret = var("LECTERN_JWT_SECRET");
        if jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(invalid("LECTERN_JWT_SECRET", "must be at least 32 characters"));
        }
        let signup_mode = match var("LECTERN_SIGNUP_MODE").as_deref() {
            None | Some("invite") => SignupMode::Invite,
            Some("off") => SignupMode::Off,
            Some("open") => SignupMode::Open,
            Some("approval") => SignupMode::Approval,
            Some(other) => {
                return Err(invalid(
                    "LECTERN_SIGNUP_MODE",
                    format!("`{other}` is not one of: off, invite, open, approval"),
                ))
            }
        };
        let public_url = var("LECTERN_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid("LECTERN_PUBLIC_URL", "must start with http:// or https://"));
        }
        let oauth_providers = oauth_providers(&var)?;
        let models_dir = var("LECTERN_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| default_models_dir(vars));
        let embedding_model = var("EMBEDDING_MODEL").unwrap_or_else(|| "all-minilm-l6-v2".to_owned());
        if embedding_model.contains(['/', '\\']) || embedding_model.starts_with('.') {
            return Err(invalid("EMBEDDING_MODEL", "must be a model directory name, e.g. all-minilm-l6-v2"));
        }
        let llm_providers = crate::engines::llm::config::providers(&var)?;
        let ort_dylib_path = var("ORT_DYLIB_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| models_dir.join("onnxruntime").join("libonnxruntime.so"));

        Ok(Self {
            addr,
            database_url: Secret::new(database_url),
            database_backend,
            database_max_connections: number(&var, "DATABASE_MAX_CONNECTIONS", 10, 1..=1000)?,
            log_format,
            log_filter: var("RUST_LOG").unwrap_or_else(|| "info,sqlx=warn,sea_orm=warn".to_owned()),
            http_workers: number(&var, "LECTERN_HTTP_WORKERS", 0, 0..=1024)?,
            max_json_bytes: number(&var, "LECTERN_MAX_JSON_BYTES", 1024 * 1024, 1024..=1024 * 1024 * 1024)?,
            shutdown_timeout: Duration::from_secs(number(&var, "LECTERN_SHUTDOWN_TIMEOUT_SECS", 30, 0..=3600)?),
            qdrant_url,
            qdrant_api_key: var("QDRANT_API_KEY").map(Secret::new),
            qdrant_collection,
            blob_s3: blob_s3(&var)?,
            redis_url: redis_url(&var)?,
            cluster: node_mode(&var)?,
            rerank: rerank::rerank(&var, &models_dir, &ort_dylib_path)?,
            rerank_candidates: rerank::candidates(&var)?,
            ort_dylib_path,
            models_dir,
            embedding_model,
            llm_providers,
            llm_default_model: var("LLM_DEFAULT_MODEL"),
            ws_max_sessions: number(&var, "LECTERN_WS_MAX_SESSIONS", 50, 1..=100_000)?,
            public_chat_per_minute: number(&var, "LECTERN_PUBLIC_CHAT_PER_MINUTE", 20, 1..=100_000)?,
            public_cache_secs: number(&var, "LECTERN_PUBLIC_CACHE_SECS", 60, 0..=86_400)?,
            contact_per_hour: number(&var, "LECTERN_CONTACT_PER_HOUR", 10, 1..=100_000)?,
            max_media_bytes: number(&var, "LECTERN_MAX_MEDIA_BYTES", 25 * 1024 * 1024, 1024..=4 * 1024 * 1024 * 1024)?,
            image_sizes: image_sizes(var("LECTERN_IMAGE_SIZES"))?,
            stripe: stripe_settings(&var)?,
            cors_origins: cors_origins(var("LECTERN_CORS_ORIGINS"))?,
            trusted_proxies: trusted_proxies(var("LECTERN_TRUSTED_PROXIES"))?,
            rate_limits: rate_limits(var("LECTERN_RATE_LIMITS"))?,
            plan_rate_limits: plan_rate_limits(var("LECTERN_PLAN_RATE_LIMITS"))?,
            webhook_timeout: Duration::from_secs(number(&var, "LECTERN_WEBHOOK_TIMEOUT_SECS", 10, 1..=120)?),
            webhook_max_attempts: number(&var, "LECTERN_WEBHOOK_MAX_ATTEMPTS", 11, 1..=50)?,
            webhook_retention: chrono::Duration::days(number(&var, "LECTERN_WEBHOOK_RETENTION_DAYS", 30, 1..=3650)?),
            webhook_retry_base: Duration::from_millis(number(
                &var,
                "LECTERN_WEBHOOK_RETRY_BASE_MS",
                10_000,
                10..=3_600_000,
            )?),
            metrics_auth: match (var("LECTERN_METRICS_USER"), var("LECTERN_METRICS_PASSWORD")) {
                (Some(user), Some(password)) => Some((user, Secret::new(password))),
                (None, None) => None,
                _ => {
                    return Err(invalid(
                        "LECTERN_METRICS_USER",
                        "set both LECTERN_METRICS_USER and LECTERN_METRICS_PASSWORD, or neither",
                    ))
                }
            },
            starter_credits: match var("LECTERN_STARTER_CREDITS") {
                None => 100 * crate::services::billing::money::MICROS,
                Some(text) => crate::services::billing::money::parse("LECTERN_STARTER_CREDITS", &text)
                    .ok()
                    .filter(|c| *c >= 0)
                    .ok_or_else(|| {
                        invalid("LECTERN_STARTER_CREDITS", format!("`{text}` is not an amount of credits"))
                    })?,
            },
            jwt_secret: jwt_secret.map(Secret::new),
            access_token_ttl: Duration::from_secs(number(&var, "LECTERN_ACCESS_TOKEN_TTL_SECS", 900, 10..=86_400)?),
            refresh_token_ttl: Duration::from_secs(
                86_400 * number(&var, "LECTERN_REFRESH_TOKEN_TTL_DAYS", 30, 1..=365)?,
            ),
            signup_mode,
            public_url: public_url.trim_end_matches('/').to_owned(),
            smtp_url: var("SMTP_URL").map(Secret::new),
            mail_from: var("MAIL_FROM").unwrap_or_else(|| "Lectern <no-reply@localhost>".to_owned()),
            oauth_providers,
            max_upload_bytes: number(
                &var,
                "LECTERN_MAX_UPLOAD_BYTES",
                50 * 1024 * 1024,
                1024..=4 * 1024 * 1024 * 1024,
            )?,
            max_pages: number(&var, "LECTERN_MAX_PAGES", 2000, 1..=100_000)?,
            max_image_pixels: number(&var, "LECTERN_MAX_IMAGE_PIXELS", 100_000_000, 1_000_000..=2_000_000_000)?,
            ocr: switch(&var, "LECTERN_OCR", true)?,
            ocr_languages: var("LECTERN_OCR_LANGUAGES").unwrap_or_else(|| "eng".to_owned()),
            ocr_page_timeout: Duration::from_secs(number(&var, "LECTERN_OCR_PAGE_TIMEOUT_SECS", 120, 1..=3600)?),
            ocr_dpi: number(&var, "LECTERN_OCR_DPI", 300, 72..=600)?,
            ocr_workers: number(&var, "LECTERN_OCR_WORKERS", 1, 1..=64)?,
            dashboard_dir: var("LECTERN_DASHBOARD_DIR").map(PathBuf::from),
            max_unpacked_bytes: number(
                &var,
                "LECTERN_MAX_UNPACKED_BYTES",
                256 * 1024 * 1024,
                1024 * 1024..=16 * 1024 * 1024 * 1024,
            )?,
            workers: number(&var, "LECTERN_WORKERS", 64, 1..=1024)?,
            allow_private_urls: flag(&var, "LECTERN_ALLOW_PRIVATE_URLS")?,
            embed_batch: number(&var, "LECTERN_EMBED_BATCH", 64, 1..=1024)?,
            embed_token_budget: number(&var, "LECTERN_EMBED_TOKEN_BUDGET", 2048, 256..=1_048_576)?,
            embed_memory_arena: switch(&var, "LECTERN_EMBED_MEMORY_ARENA", true)?,
            embed_context: switch(&var, "LECTERN_EMBED_CONTEXT", true)?,
            job_lease: Duration::from_secs(number(&var, "LECTERN_JOB_LEASE_SECS", 60, 2..=3600)?),
            data_dir,
        })
    }

    /// The embedding model's files.
    pub fn embedding_model_dir(&self) -> PathBuf {
        self.models_dir.join(&self.embedding_model)
    }

    pub fn search_dir(&self) -> PathBuf {
        self.data_dir.join("search")
    }

    pub fn vectors_dir(&self) -> PathBuf {
        self.data_dir.join("vectors")
    }

    pub fn blobs_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    pub fn blob_location(&self) -> crate::engines::blobs::BlobLocation {
        match &self.blob_s3 {
            Some(s3) => crate::engines::blobs::BlobLocation::S3(s3.clone()),
            None => crate::engines::blobs::BlobLocation::Local(self.blobs_dir()),
        }
    }
}

/// The database backend a URL names.
fn backend_of(url: &str) -> Result<DatabaseBackend, SettingsError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseBackend::Postgres)
    } else {
        // The URL may hold a password: name the scheme only.
        let scheme = url.split(':').next().unwrap_or_default();
        Err(invalid("DATABASE_URL", format!("unsupported scheme `{scheme}`; use sqlite://… or postgres://…")))
    }
}

#[cfg(test)]
mod tests;

mod oauth;
mod parsers;
mod rerank;
mod scale_out;
mod secret;
use parsers::{
    cors_origins, default_models_dir, default_sqlite_url, flag, image_sizes, number, plan_rate_limits, rate_limits,
    stripe_settings, switch, trusted_proxies,
};
pub use parsers::{StripeProduct, StripeSettings};
use scale_out::{blob_s3, node_mode, redis_url};

use oauth::oauth_providers;
pub use oauth::{OAuthKind, OAuthProvider};
pub use secret::Secret;
