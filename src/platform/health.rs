//! Health of the process and of each component it depends on.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::app::context::AppContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = HealthStatus)]
pub enum Status {
    Ok,
    Degraded,
    Down,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComponentHealth {
    pub status: Status,
    /// A short reason, e.g. which backend is in use or why it is down.
    pub message: String,
}

impl ComponentHealth {
    fn new(status: Status, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    /// `down` if the database is down, `degraded` if any other component is not ok.
    pub status: Status,
    pub version: String,
    pub uptime_seconds: u64,
    /// Startup stage: `ready` once migrations ran and engines opened.
    pub stage: String,
    /// database, fulltext, vectors, blobs, coordination, embedder, llm: each names its backend.
    pub components: BTreeMap<String, ComponentHealth>,
}

pub async fn report(ctx: &AppContext) -> HealthReport {
    let settings = &ctx.settings;
    let (search_dir, blobs_dir) = (settings.search_dir(), settings.blobs_dir());
    let (database, fulltext, vectors, blobs, coordination) = tokio::join!(
        database(ctx),
        fulltext(ctx, &search_dir),
        vectors(ctx),
        blobs(ctx, &blobs_dir),
        ctx.coordination.check(),
    );
    let components = BTreeMap::from([
        ("database".to_owned(), database),
        ("fulltext".to_owned(), fulltext),
        ("vectors".to_owned(), vectors),
        ("blobs".to_owned(), blobs),
        // Rate limits and signals between nodes: Redis, or this process on one node.
        (
            "coordination".to_owned(),
            match coordination {
                Ok(message) => ComponentHealth::new(Status::Ok, message),
                Err(message) => ComponentHealth::new(Status::Down, message),
            },
        ),
        ("embedder".to_owned(), embedder(&crate::engines::embed::ModelFiles::from_settings(settings))),
        ("llm".to_owned(), llm(&settings.llm_providers)),
    ]);
    HealthReport {
        status: overall(&components),
        version: crate::VERSION.to_owned(),
        uptime_seconds: ctx.started_at.elapsed().as_secs(),
        stage: ctx.readiness.stage().describe(),
        components,
    }
}

fn overall(components: &BTreeMap<String, ComponentHealth>) -> Status {
    if components.get("database").is_some_and(|c| c.status == Status::Down) {
        return Status::Down;
    }
    if components.values().all(|c| c.status == Status::Ok) {
        Status::Ok
    } else {
        Status::Degraded
    }
}

async fn database(ctx: &AppContext) -> ComponentHealth {
    let backend = ctx.settings.database_backend.name();
    match tokio::time::timeout(Duration::from_secs(2), ctx.db.ping()).await {
        Ok(Ok(())) => ComponentHealth::new(Status::Ok, backend),
        Ok(Err(error)) => ComponentHealth::new(Status::Down, format!("{backend}: {error}")),
        Err(_) => ComponentHealth::new(Status::Down, format!("{backend}: no answer within 2 s")),
    }
}

/// Lexical search lives where the vectors do when a Qdrant server is configured.
async fn fulltext(ctx: &AppContext, search_dir: &Path) -> ComponentHealth {
    match &ctx.settings.qdrant_url {
        None => writable_dir("tantivy index", search_dir).await,
        Some(_) => {
            let server = vectors(ctx).await;
            ComponentHealth { message: format!("BM25 sparse vectors in the {}", server.message), ..server }
        }
    }
}

async fn vectors(ctx: &AppContext) -> ComponentHealth {
    match &ctx.settings.qdrant_url {
        None => writable_dir("qdrant-edge (in-process)", &ctx.settings.vectors_dir()).await,
        Some(url) => {
            let api_key = ctx.settings.qdrant_api_key.as_ref().map(|k| k.expose().clone());
            qdrant_server(url, api_key).await
        }
    }
}

async fn qdrant_server(url: &str, api_key: Option<String>) -> ComponentHealth {
    let client = qdrant_client::Qdrant::from_url(url)
        .api_key(api_key)
        .skip_compatibility_check()
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        .build();
    let result = match client {
        Ok(client) => tokio::time::timeout(Duration::from_secs(3), client.health_check())
            .await
            .map_err(|_| "no answer within 3 s".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string())),
        Err(error) => Err(error.to_string()),
    };
    match result {
        Ok(reply) => ComponentHealth::new(Status::Ok, format!("qdrant server {} at {url}", reply.version)),
        Err(reason) => ComponentHealth::new(Status::Down, format!("qdrant server at {url}: {reason}")),
    }
}

async fn blobs(ctx: &AppContext, blobs_dir: &Path) -> ComponentHealth {
    let location = ctx.settings.blob_location();
    if ctx.settings.blob_s3.is_none() {
        return writable_dir("local blob store", blobs_dir).await;
    }
    let Ok(engines) = ctx.engines() else {
        return ComponentHealth::new(Status::Degraded, format!("{}: not opened yet", location.describe()));
    };
    match tokio::time::timeout(Duration::from_secs(3), engines.blobs.check()).await {
        Ok(Ok(())) => ComponentHealth::new(Status::Ok, location.describe()),
        Ok(Err(error)) => ComponentHealth::new(Status::Down, format!("{}: {error}", location.describe())),
        Err(_) => ComponentHealth::new(Status::Down, format!("{}: no answer within 3 s", location.describe())),
    }
}

async fn writable_dir(what: &str, dir: &Path) -> ComponentHealth {
    match tokio::fs::metadata(dir).await {
        Ok(meta) if meta.is_dir() && !meta.permissions().readonly() => {
            ComponentHealth::new(Status::Ok, format!("{what} at {}", dir.display()))
        }
        Ok(_) => ComponentHealth::new(Status::Down, format!("{what}: {} is not a writable directory", dir.display())),
        Err(error) => ComponentHealth::new(Status::Down, format!("{what}: {}: {error}", dir.display())),
    }
}

/// The model is loaded on first use (it costs ~260 MB), so health checks the files it needs.
fn embedder(files: &crate::engines::embed::ModelFiles) -> ComponentHealth {
    match files.missing_message() {
        None => ComponentHealth::new(Status::Ok, format!("{} at {}", files.name, files.dir.display())),
        Some(message) => ComponentHealth::new(Status::Degraded, format!("semantic search is off: {message}")),
    }
}

fn llm(providers: &[crate::engines::llm::ProviderConfig]) -> ComponentHealth {
    if providers.is_empty() {
        return ComponentHealth::new(Status::Ok, "extractive answers (no LLM_BASE_URL configured)");
    }
    let names: Vec<String> = providers.iter().map(|p| format!("{} at {}", p.name, p.base_url)).collect();
    ComponentHealth::new(Status::Ok, format!("openai-compatible upstreams: {}", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(pairs: &[(&str, Status)]) -> BTreeMap<String, ComponentHealth> {
        pairs.iter().map(|(n, s)| (n.to_string(), ComponentHealth::new(*s, ""))).collect()
    }

    #[test]
    fn database_down_means_down_anything_else_means_degraded() {
        assert_eq!(overall(&comps(&[("database", Status::Ok), ("llm", Status::Ok)])), Status::Ok);
        assert_eq!(overall(&comps(&[("database", Status::Ok), ("vectors", Status::Down)])), Status::Degraded);
        assert_eq!(overall(&comps(&[("database", Status::Down), ("vectors", Status::Ok)])), Status::Down);
    }

    #[test]
    fn embedder_names_each_missing_file_and_the_setup_command() {
        let dir = tempfile::tempdir().unwrap();
        let files = crate::engines::embed::ModelFiles {
            name: "m".into(),
            dir: dir.path().to_path_buf(),
            runtime: dir.path().join("libonnxruntime.so"),
        };
        let health = embedder(&files);
        assert_eq!(health.status, Status::Degraded);
        assert!(health.message.contains("model.onnx") && health.message.contains("libonnxruntime.so"));
        assert!(health.message.contains(".ci/setup-model"), "{}", health.message);
        for f in crate::engines::embed::MODEL_FILES.iter().chain(["libonnxruntime.so"].iter()) {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        assert_eq!(embedder(&files).status, Status::Ok);
    }
}
