//! Real `lectern serve` processes (for crashes and for several nodes): a clean environment
//! with only what is passed, JSON logs read until the server says where it listens.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn kill(&mut self) {
        Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `lectern serve` on a free port with the data dir `dir` and the settings `env`.
pub fn serve(dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lectern"));
    command.env_clear();
    for key in ["PATH", "HOME", "LECTERN_MODELS_DIR", "ORT_DYLIB_PATH"] {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(dir)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        if line.contains("\"listening\"") {
            let event: Value = serde_json::from_str(&line).unwrap();
            break event["addr"].as_str().unwrap().rsplit(':').next().unwrap().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe; it is kept in the data
    // dir (`serve.log`) for a failing test to be diagnosed.
    let log_path = dir.join("serve.log");
    std::thread::spawn(move || {
        use std::io::Write;
        let mut log = std::fs::File::create(log_path).ok();
        for line in lines.map_while(Result::ok) {
            if let Some(file) = log.as_mut() {
                let _ = writeln!(file, "{line}");
            }
        }
    });
    Server { child, base: format!("http://127.0.0.1:{port}") }
}
