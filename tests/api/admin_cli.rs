//! `lectern admin create-user` and `reset-password`, then logging in over HTTP.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::app::{spawn_app_with, test_settings};

fn admin(data_dir: &std::path::Path, database_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn an_operator_creates_a_user_and_resets_the_password_from_the_command_line() {
    let data_dir = tempfile::tempdir().unwrap();
    let settings = test_settings(&data_dir, &[]).await;
    let db = settings.database_url.expose().clone();
    let dir = data_dir.path().to_path_buf();

    let created = admin(
        &dir,
        &db,
        &["create-user", "--email", "Ops@Example.com", "--name", "Ops", "--superadmin"],
        "first passphrase here\n",
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).starts_with("created user ops@example.com"));

    let weak = admin(&dir, &db, &["create-user", "--email", "weak@example.com", "--name", "Weak"], "short\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("must be at least 10 characters"));
    let duplicate =
        admin(&dir, &db, &["create-user", "--email", "ops@example.com", "--name", "Again"], "another passphrase\n");
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("a user with this email already exists"));

    let reset = admin(&dir, &db, &["reset-password", "--email", "ops@example.com"], "second passphrase here\n");
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    let unknown = admin(&dir, &db, &["reset-password", "--email", "ghost@example.com"], "whatever passphrase\n");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user with email ghost@example.com"));

    let app = spawn_app_with(data_dir, settings).await;
    let old = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ops@example.com", "password": "first passphrase here"}).to_string(),
        )
        .await;
    assert_eq!(old.status(), 401);
    let token = app.login("ops@example.com", "second passphrase here").await;
    let me: serde_json::Value =
        app.client.get(app.url("/v1/auth/me")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["user"]["isSuperadmin"], true);
    let status: serde_json::Value = app.get("/v1/auth/setup-status").await.json().await.unwrap();
    assert_eq!(status["bootstrapped"], true, "a superadmin made by the CLI counts as set up");
}
