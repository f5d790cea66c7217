//! Building and running the server: connect, bind, then migrate and open storage in the
//! background while probes already get answers.

pub mod context;
pub mod engines;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpServer};
use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::context::{AppContext, Stage};
use crate::engines::store;
use crate::http::{self, middleware::request_context::RequestContext, ExtraRoutes};
use crate::platform::settings::Settings;

/// Knobs for embedding the server in tests.
#[derive(Default)]
pub struct AppOptions {
    /// Startup (migrations, storage) waits until this fires, so tests can observe "not ready".
    pub startup_gate: Option<oneshot::Receiver<()>>,
    pub extra_routes: Option<ExtraRoutes>,
}

pub struct Application {
    port: u16,
    server: Server,
    ctx: Data<AppContext>,
    startup: JoinHandle<anyhow::Result<()>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, AppOptions::default()).await
    }

    pub async fn build_with(settings: Settings, options: AppOptions) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create LECTERN_DATA_DIR {}", settings.data_dir.display()))?;
        let jwt = crate::services::identity::keys::load_jwt_keys(&settings)?;
        let db = store::connect(&settings).await?;
        let mailer = crate::app::context::mailer_from(&settings)?;
        let ctx = Data::new(AppContext::new(Arc::clone(&settings), db, jwt, mailer)?);

        let listener = TcpListener::bind(settings.addr)
            .with_context(|| format!("cannot listen on LECTERN_ADDR {}", settings.addr))?;
        let port = listener.local_addr()?.port();
        let extra = options.extra_routes;
        let app_ctx = ctx.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_ctx.clone())
                .configure(|cfg| http::configure(cfg, extra))
                .default_service(web::to(http::routes::dashboard::serve))
                .wrap(from_fn(http::middleware::identity_changes::middleware))
                .wrap(from_fn(http::middleware::idempotency::middleware))
                .wrap(from_fn(http::middleware::rate_limit::middleware))
                .wrap(from_fn(http::readiness_gate))
                .wrap(from_fn(http::middleware::cors::middleware))
                .wrap(from_fn(http::routes::metrics::count_requests))
                .wrap(RequestContext)
        })
        // Streamed answers are many small writes: without TCP_NODELAY, Nagle's algorithm holds
        // each one until the client's delayed ACK (~40 ms per token on Linux).
        .on_connect(|connection, _| {
            if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
                let _ = tcp.set_nodelay(true);
            }
        })
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)?;
        if settings.http_workers > 0 {
            server = server.workers(settings.http_workers);
        }
        let server = server.run();
        let startup = tokio::spawn(start_up(ctx.clone(), options.startup_gate));
        Ok(Self { port, server, ctx, startup })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The application context (benchmarks fill engines directly through it).
    pub fn context(&self) -> Data<AppContext> {
        self.ctx.clone()
    }

    /// Serves until SIGINT/SIGTERM (or [`ServerHandle::stop`]): stops accepting, lets in-flight
    /// requests finish within `LECTERN_SHUTDOWN_TIMEOUT_SECS`, then closes the database. A failed
    /// startup stops the server and is returned as the error.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { server, ctx, startup, .. } = self;
        let handle = server.handle();
        let server = tokio::spawn(server);
        let startup_result = match startup.await {
            Ok(result) => result,
            Err(join) => Err(anyhow::anyhow!("startup task failed: {join}")),
        };
        if let Err(error) = &startup_result {
            ctx.readiness.set(Stage::Failed(format!("{error:#}")));
            tracing::error!(error = format!("{error:#}"), "startup failed; stopping");
            handle.stop(true).await;
        }
        server.await.context("server task failed")??;
        tracing::info!("server stopped; closing the database");
        if let Err(error) = ctx.db.close_by_ref().await {
            tracing::warn!(%error, "closing the database failed");
        }
        startup_result
    }
}

async fn start_up(ctx: Data<AppContext>, gate: Option<oneshot::Receiver<()>>) -> anyhow::Result<()> {
    if let Some(gate) = gate {
        // A dropped sender also releases the gate.
        let _ = gate.await;
    }
    ctx.readiness.set(Stage::Migrating);
    let applied = store::migrate(&ctx.db).await?;
    tracing::info!(applied, "database migrations done");
    ctx.readiness.set(Stage::OpeningEngines);
    prepare_storage(&ctx.settings).await?;
    let engines = crate::app::engines::Engines::open(&ctx.settings).await.context("opening the search engines")?;
    if ctx.engines.set(engines).is_err() {
        anyhow::bail!("the engines were opened twice");
    }
    if let Some(engines) = ctx.engines.get() {
        if engines.lexical.recreated() {
            crate::services::knowledge::repair::rebuild_fulltext(&ctx, engines)
                .await
                .context("rebuilding the search index")?;
        }
        if engines.site_index.recreated {
            crate::services::content::site_search::rebuild(&ctx, None, None)
                .await
                .map_err(|e| anyhow::anyhow!("rebuilding the site search index: {e}"))?;
        }
        let totals = crate::services::knowledge::repair::check_at_startup(&ctx, engines)
            .await
            .context("checking the search indexes")?;
        tracing::info!(
            chunks = totals.rows,
            fulltext = totals.fulltext,
            vectors = totals.vectors,
            "search indexes checked"
        );
    }
    crate::services::signals::spawn_listener(ctx.clone().into_inner());
    crate::services::jobs::spawn_pool(ctx.clone().into_inner());
    crate::services::content::analytics::spawn_flusher(ctx.clone().into_inner());
    crate::platform::maintenance::spawn(ctx.clone().into_inner());
    crate::services::webhooks::deliveries::spawn(ctx.clone().into_inner());
    ctx.readiness.set(Stage::Ready);
    tracing::info!("ready");
    Ok(())
}

/// Creates the directories the embedded engines write to, so a permission problem shows at
/// startup rather than at the first upload.
async fn prepare_storage(settings: &Settings) -> anyhow::Result<()> {
    for dir in [settings.search_dir(), settings.vectors_dir(), settings.blobs_dir()] {
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("cannot create {} (check LECTERN_DATA_DIR)", dir.display()))?;
    }
    Ok(())
}
