//! The dashboard in a real browser: Playwright (npm `playwright-core`, in tests/browser) drives
//! Debian's Chromium against this real server, from the first-run wizard to a published entry.
//! `.ci/test` installs Chromium and the npm package; screenshots land in
//! `artifacts/browser/<backend>/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::support::app::{backend, spawn_app_env};
use crate::support::fake_llm::{FakeLlm, KEY};
use crate::support::fake_oauth::{FakeProvider, Identity, CLIENT_ID, CLIENT_SECRET};
use crate::support::fake_stripe::FakeStripe;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn chromium() -> PathBuf {
    std::env::var_os("LECTERN_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Runs one script of tests/browser against the app; panics with its output when it fails.
async fn run_script(script: &str, base_url: &str, artifacts: &Path, extra: &[(&str, String)]) -> String {
    let browser_dir = repo().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir() && chromium().exists(),
        "the browser tests need Chromium ({}) and `npm ci` in tests/browser: run .ci/test, which installs both",
        chromium().display()
    );
    std::fs::create_dir_all(artifacts).expect("artifacts dir");
    let mut command = tokio::process::Command::new("node");
    command
        .arg(browser_dir.join(script))
        .current_dir(&browser_dir)
        .env("LECTERN_URL", base_url)
        .env("LECTERN_CHROMIUM", chromium())
        .env("ARTIFACTS", artifacts)
        .env("FIXTURES", repo().join("tests/fixtures"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (key, value) in extra {
        command.env(key, value);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(300), command.output())
        .await
        .expect("the browser script took more than 5 minutes")
        .expect("cannot run node: install Node.js (≥ 18)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}); screenshots in {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status,
        artifacts.display()
    );
    stdout
}

#[tokio::test]
async fn a_new_admin_goes_from_the_setup_wizard_to_a_published_entry_in_the_dashboard() {
    let llm = FakeLlm::start().await;
    let stripe = FakeStripe::start().await;
    let sso = FakeProvider::start().await;
    // The single sign-on of the journey logs the administrator in by her verified email.
    sso.log_in_as(Identity {
        sub: "ada-1".to_owned(),
        email: "ada@example.com".to_owned(),
        email_verified: true,
        name: "Ada Admin".to_owned(),
    });
    // Links in mails and OAuth redirects are built on LECTERN_PUBLIC_URL: give the server a
    // known port so that the browser can follow them.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let mut env: Vec<(&str, String)> = stripe.env();
    env.extend([
        ("LLM_BASE_URL", llm.base.clone()),
        ("LLM_API_KEY", KEY.to_owned()),
        ("LLM_MODELS", "fake-model".to_owned()),
        ("LECTERN_ADDR", format!("127.0.0.1:{port}")),
        ("LECTERN_PUBLIC_URL", format!("http://127.0.0.1:{port}")),
        ("LECTERN_OIDC_ISSUER", sso.base.clone()),
        ("LECTERN_OIDC_CLIENT_ID", CLIENT_ID.to_owned()),
        ("LECTERN_OIDC_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("LECTERN_OIDC_NAME", "Test SSO".to_owned()),
    ]);
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_env(&vars).await;
    let artifacts = repo().join("artifacts/browser").join(backend());

    let stdout = run_script("journey.mjs", &app.address, &artifacts, &[]).await;

    // The script ends with one JSON line: what it created, to check through the API itself.
    let result: Value =
        stdout.lines().rev().find_map(|line| serde_json::from_str(line).ok()).expect("journey result line");
    let site = result["siteId"].as_str().expect("siteId");
    let sessions = stripe.sessions.lock().unwrap().clone();
    assert_eq!(sessions.len(), 1, "one Checkout Session created by the Buy credits button");
    for locale in ["en", "de"] {
        let published = app.get(&format!("/public/v1/sites/{site}/entries?locale={locale}")).await;
        assert_eq!(published.status(), 200);
        let body: Value = published.json().await.unwrap();
        let titles: Vec<&str> = body["data"].as_array().unwrap().iter().filter_map(|e| e["title"].as_str()).collect();
        let expected = result["titles"][locale].as_str().unwrap();
        assert!(titles.contains(&expected), "{locale}: {expected} published, got {titles:?}");
    }
}
