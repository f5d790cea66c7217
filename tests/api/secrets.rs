//! Secrets never leave the server: no password hash, key hash or refresh token appears in a
//! response or in the log, even at debug level.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};

use crate::support::app::fresh_database_url;
use crate::support::eventually;

#[tokio::test]
async fn no_secret_reaches_a_response_or_the_debug_log() {
    let dir = tempfile::tempdir().unwrap();
    let database_url =
        fresh_database_url().await.unwrap_or_else(|| format!("sqlite://{}/lectern.db?mode=rwc", dir.path().display()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lectern"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "debug")
        .env("DATABASE_URL", &database_url)
        .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("\"listening\"") {
                let event: Value = serde_json::from_str(&line).unwrap();
                let _ = port_tx.send(event["addr"].as_str().unwrap().rsplit(':').next().unwrap().to_owned());
            }
            all.push(line);
        }
        all.join("\n")
    });
    let port = port_rx.recv_timeout(Duration::from_secs(30)).expect("server listens");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually("the server to be ready", Duration::from_secs(10), || async {
        client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == 200).then_some(())
    })
    .await;

    let password = "correct horse battery staple";
    let mut bodies = Vec::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    };
    let setup = post(
        "/v1/auth/setup",
        None,
        json!({"email": "sec@example.com", "name": "Sec", "password": password, "tenant": {"name": "Sec"}}),
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    bodies.push(setup);
    let login: Value = post("/v1/auth/login", None, json!({"email": "sec@example.com", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    bodies.push(login.to_string());
    let access = login["accessToken"].as_str().unwrap().to_owned();
    let first_refresh = login["refreshToken"].as_str().unwrap().to_owned();
    let refreshed: Value = post("/v1/auth/refresh", None, json!({"refreshToken": first_refresh}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    bodies.push(refreshed.to_string());
    let key: Value =
        post("/v1/api-keys", Some(&access), json!({"name": "k"})).send().await.unwrap().json().await.unwrap();
    let key_secret = key["secret"].as_str().unwrap().to_owned();
    for path in ["/v1/auth/me", "/v1/api-keys", "/v1/members", "/v1/auth/test"] {
        bodies
            .push(client.get(format!("{base}{path}")).bearer_auth(&access).send().await.unwrap().text().await.unwrap());
    }
    bodies.push(
        client.get(format!("{base}/v1/auth/test")).bearer_auth(&key_secret).send().await.unwrap().text().await.unwrap(),
    );

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let log = reader.join().unwrap();
    assert!(log.contains("request finished"), "the debug log was captured");

    let db = Database::connect(&database_url).await.unwrap();
    let backend = db.get_database_backend();
    let mut stored = Vec::new();
    for sql in [
        "SELECT password_hash AS s FROM users",
        "SELECT key_hash AS s FROM api_keys",
        "SELECT token_hash AS s FROM sessions",
    ] {
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap() {
            stored.push(row.try_get::<String>("", "s").unwrap());
        }
    }
    assert!(stored.len() >= 4, "hashes were stored: {stored:?}");

    let responses = bodies.join("\n");
    for secret in stored.iter().map(String::as_str).chain([
        password,
        first_refresh.as_str(),
        refreshed["refreshToken"].as_str().unwrap(),
    ]) {
        assert!(!log.contains(secret), "a secret is in the log: {secret}");
    }
    for hash in &stored {
        assert!(!responses.contains(hash.as_str()), "a stored hash is in a response");
    }
    assert!(!responses.contains("$argon2"), "no password hash in any response");
    assert!(!log.contains(&key_secret), "the API key is not logged");
}
