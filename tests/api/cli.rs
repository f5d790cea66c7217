//! The `lectern` binary: help, version, migrate, settings errors, serving and SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::app::fresh_database_url;
use crate::support::eventually;

fn lectern() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lectern"));
    // Keep the developer's .env and environment out of the picture.
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn help_explains_every_command() {
    let output = lectern().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in ["serve", "migrate", "version", "--addr", "--data-dir", "LECTERN_ADDR"] {
        assert!(help.contains(needle), "`{needle}` in:\n{help}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let output = lectern().arg("version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), format!("lectern {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_bad_setting_exits_2_naming_the_key_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let output = lectern().current_dir(dir.path()).env("LECTERN_ADDR", "localhost").arg("serve").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim(),
        "error: invalid setting LECTERN_ADDR: `localhost` is not a socket address like 127.0.0.1:8080"
    );
}

#[test]
fn a_cluster_node_without_shared_backends_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = lectern()
        .current_dir(dir.path())
        .env("LECTERN_NODE_MODE", "cluster")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        .env("QDRANT_URL", "http://127.0.0.1:6334")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error: invalid setting LECTERN_NODE_MODE: cluster mode needs REDIS_URL"), "{stderr}");
    assert!(stderr.contains("LECTERN_BLOB_STORE=s3://") && stderr.contains("LECTERN_JWT_SECRET"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing was written");
}

#[test]
fn a_dotenv_file_is_read_but_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "LOG_FORMAT=yaml\nLECTERN_ADDR=nonsense\n").unwrap();
    let output = lectern().current_dir(dir.path()).env("LECTERN_ADDR", "127.0.0.1:0").arg("migrate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid setting LOG_FORMAT: `yaml`"), "{stderr}");
}

#[tokio::test]
async fn migrate_creates_the_schema_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let database_url = fresh_database_url().await;
    let run = || {
        let mut command = lectern();
        command.arg("migrate").arg("--data-dir").arg(&data_dir);
        if let Some(url) = &database_url {
            command.env("DATABASE_URL", url);
        }
        command.output().unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let first_out = String::from_utf8(first.stdout).unwrap();
    let applied: u32 = first_out.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(applied >= 2, "{first_out}");
    if database_url.is_none() {
        assert!(data_dir.join("lectern.db").is_file(), "the SQLite file is in the data dir");
    }
    let second = String::from_utf8(run().stdout).unwrap();
    assert!(second.starts_with("applied 0 migration(s)"), "{second}");
}

#[tokio::test]
async fn serve_answers_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = lectern();
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    if let Some(url) = fresh_database_url().await {
        command.env("DATABASE_URL", url);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut first = Vec::new();
    let port = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        first.push(event.clone());
        if event["message"] == "listening" {
            break event["addr"].as_str().unwrap().rsplit(':').next().unwrap().to_owned();
        }
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually("the server to be ready", Duration::from_secs(10), || async {
        client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == 200).then_some(())
    })
    .await;
    let info = client.get(format!("{base}/v1/info")).header("X-Request-ID", "trace-me-1").send().await.unwrap();
    assert_eq!(info.status(), 200);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "graceful exit, got {exit:?}");

    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let access: Vec<&String> = rest.iter().filter(|l| l.contains("request finished")).collect();
    assert!(
        access.iter().any(|l| l.contains("trace-me-1") && l.contains("/v1/info")),
        "the access log line carries the request id: {rest:#?}"
    );
    assert!(!access.iter().any(|l| l.contains("/health")), "probes stay out of the access log: {access:#?}");
    assert!(rest.iter().any(|l| l.contains("closing the database")), "{rest:#?}");
    // A newcomer's first log holds no warning that is not theirs to act on (qdrant-edge warned
    // on every start about its uninitialised feature flags and multi-mmap check).
    let rest: Vec<serde_json::Value> = rest.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let warnings: Vec<&serde_json::Value> =
        first.iter().chain(&rest).filter(|e| e["level"] == "WARN" || e["level"] == "ERROR").collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}
