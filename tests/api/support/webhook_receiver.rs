//! A webhook receiver for tests: records every request (headers and body) and answers with the
//! statuses it was told to, in order, then `fallback`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<u16>,
    fallback: u16,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
    _handle: ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<Mutex<State>>>) -> HttpResponse {
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    let mut state = state.lock().unwrap();
    state.received.push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    let status = state.script.pop_front().unwrap_or(state.fallback);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(format!("answered {status}"))
}

impl Receiver {
    /// Answers `script` in order, then `fallback` for ever.
    pub async fn start(script: &[u16], fallback: u16) -> Self {
        let state =
            Arc::new(Mutex::new(State { script: script.iter().copied().collect(), fallback, ..State::default() }));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/hooks/lectern", listener.local_addr().unwrap().port());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state, _handle: handle }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits (up to 20 s) until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        super::eventually(&format!("{n} webhook requests"), Duration::from_secs(20), || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

/// Checks `Lectern-Signature` with Python's hmac: an implementation independent of the server's.
pub fn verify_with_python(secret: &str, header: &str, body: &str) -> bool {
    let python = std::env::var("LECTERN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import hmac, hashlib, sys\n\
        secret, header = sys.argv[1], sys.argv[2]\n\
        body = sys.stdin.buffer.read()\n\
        parts = dict(p.split('=', 1) for p in header.split(','))\n\
        expected = hmac.new(secret.encode(), parts['t'].encode() + b'.' + body, hashlib.sha256).hexdigest()\n\
        sys.exit(0 if hmac.compare_digest(expected, parts['v1']) else 1)";
    let mut child = std::process::Command::new(python)
        .args(["-c", script, secret, header])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    child.wait().unwrap().success()
}
