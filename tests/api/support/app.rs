//! `spawn_app` and friends: the real application, a temp data dir, a fresh database.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpResponse};
use lectern::app::{AppOptions, Application};
use lectern::http::extract::{Json, Query};
use lectern::platform::settings::{Overrides, Settings};
use sea_orm::{ConnectionTrait, Database};
use serde::Deserialize;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database_url: String,
    pub handle: ServerHandle,
    pub data_dir: TempDir,
    gate: Option<oneshot::Sender<()>>,
    pub run: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// The SMTP server the app sends mail to.
    pub mail: crate::support::fake_smtp::FakeSmtp,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request failed")
    }

    pub async fn post_json(&self, path: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request failed")
    }

    /// Lets a held startup (see [`spawn_held_app`]) go on, and waits until it is ready.
    pub async fn release_startup(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.send(()).expect("startup task gone");
        }
        wait_until_ready(self).await;
    }
}

/// The backend under test: SQLite unless TEST_DATABASE_URL points at PostgreSQL.
pub fn backend() -> &'static str {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A database URL of its own for one test: a new PostgreSQL database when TEST_DATABASE_URL is
/// set, else `None` (the default SQLite file inside the test's data dir).
pub async fn fresh_database_url() -> Option<String> {
    let admin_url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))?;
    let name = format!("lt_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.expect("cannot reach TEST_DATABASE_URL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    admin.close().await.ok();
    let (base, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL has no database name");
    Some(format!("{base}/{name}"))
}

pub async fn test_settings(data_dir: &TempDir, extra: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("LECTERN_ADDR".into(), "127.0.0.1:0".into()),
        ("LECTERN_DATA_DIR".into(), data_dir.path().display().to_string()),
        ("LECTERN_HTTP_WORKERS".into(), "2".into()),
        ("LECTERN_SHUTDOWN_TIMEOUT_SECS".into(), "5".into()),
        ("LECTERN_MAX_JSON_BYTES".into(), "4096".into()),
        // Tests make many calls in a burst; the rate-limit tests set their own limits.
        (
            "LECTERN_RATE_LIMITS".into(),
            "global=100000/min,auth=100000/min,llm=100000/min,rag=100000/min,search=100000/min,ingest=100000/min,public=100000/min".into(),
        ),
    ]);
    let shared_database = extra.iter().any(|(k, _)| *k == "DATABASE_URL");
    if !shared_database {
        if let Some(url) = fresh_database_url().await {
            vars.insert("DATABASE_URL".into(), url);
        }
    }
    // The model cache is shared, as on a real machine.
    for key in ["HOME", "LECTERN_MODELS_DIR", "ORT_DYLIB_PATH"] {
        if let Ok(value) = std::env::var(key) {
            vars.insert(key.into(), value);
        }
    }
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    Settings::from_vars(&vars, &Overrides::default()).expect("test settings are valid")
}

pub async fn spawn_app() -> TestApp {
    let mut app = start(false).await;
    app.release_startup().await;
    app
}

/// Starts the server but holds its startup (migrations) until [`TestApp::release_startup`].
pub async fn spawn_held_app() -> TestApp {
    start(true).await
}

async fn start(hold: bool) -> TestApp {
    start_env(hold, &[]).await
}

/// Like [`spawn_app`] with extra settings, e.g. `[("LECTERN_SIGNUP_MODE", "open")]`.
pub async fn spawn_app_env(extra: &[(&str, &str)]) -> TestApp {
    let mut app = start_env(false, extra).await;
    app.release_startup().await;
    app
}

/// `n` nodes of one deployment: one database (a SQLite file they share, or a fresh PostgreSQL
/// database), one JWT secret, each with its own data dir and `extra` settings (the shared
/// backends).
pub async fn spawn_nodes(n: usize, extra: &[(&str, &str)]) -> (Vec<TestApp>, TempDir) {
    let shared = tempfile::tempdir().expect("temp dir");
    let database = match fresh_database_url().await {
        Some(url) => url,
        None => format!("sqlite://{}?mode=rwc", shared.path().join("shared.db").display()),
    };
    let mut vars =
        vec![("DATABASE_URL", database.as_str()), ("LECTERN_JWT_SECRET", "cluster-test-secret-0123456789abcdef")];
    vars.extend_from_slice(extra);
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(spawn_app_env(&vars).await);
    }
    (nodes, shared)
}

async fn start_env(hold: bool, extra: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mail = crate::support::fake_smtp::FakeSmtp::start().await;
    let smtp = mail.url();
    let mut vars = vec![("SMTP_URL", smtp.as_str())];
    vars.extend_from_slice(extra);
    let settings = test_settings(&data_dir, &vars).await;
    start_with(data_dir, settings, hold, mail).await
}

/// Starts the server on an existing data dir and settings (e.g. after the CLI prepared them).
pub async fn spawn_app_with(data_dir: TempDir, settings: Settings) -> TestApp {
    let mail = crate::support::fake_smtp::FakeSmtp::start().await;
    let mut app = start_with(data_dir, settings, false, mail).await;
    app.release_startup().await;
    app
}

async fn start_with(
    data_dir: TempDir,
    settings: Settings,
    hold: bool,
    mail: crate::support::fake_smtp::FakeSmtp,
) -> TestApp {
    let database_url = settings.database_url.expose().clone();
    let (gate_tx, gate_rx) = oneshot::channel();
    let options = AppOptions { startup_gate: Some(gate_rx), extra_routes: Some(test_routes) };
    let app = Application::build_with(settings, options).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let run = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut test_app = TestApp { address, client, database_url, handle, data_dir, gate: Some(gate_tx), run, mail };
    if !hold {
        test_app.gate.take().map(|g| g.send(()));
    }
    test_app
}

async fn wait_until_ready(app: &TestApp) {
    super::eventually("the server to be ready", Duration::from_secs(5), || async {
        app.client.get(app.url("/health/ready")).send().await.is_ok_and(|r| r.status() == 200).then_some(())
    })
    .await;
}

pub async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("response is JSON")
}

/// Routes that exist only in the test server, behind the real middleware stack.
fn test_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/__test/echo").route(web::post().to(echo)))
        .service(web::resource("/__test/search").route(web::get().to(search)))
        .service(web::resource("/__test/items/{id}").route(web::get().to(item)))
        .service(web::resource("/__test/panic").route(web::get().to(panics)))
        .service(web::resource("/__test/slow").route(web::get().to(slow)));
}

#[derive(Debug, Deserialize, serde::Serialize)]
struct EchoPayload {
    name: String,
    count: u32,
    #[serde(default)]
    tags: Vec<String>,
}

async fn echo(Json(payload): Json<EchoPayload>) -> HttpResponse {
    HttpResponse::Ok().json(payload)
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

async fn search(Query(params): Query<SearchParams>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "q": params.q, "limit": params.limit }))
}

async fn item(id: web::Path<uuid::Uuid>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": id.into_inner() }))
}

async fn panics() -> HttpResponse {
    panic!("boom in a handler")
}

async fn slow() -> HttpResponse {
    tokio::time::sleep(Duration::from_millis(700)).await;
    HttpResponse::Ok().body("finished")
}
