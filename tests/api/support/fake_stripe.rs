//! A local Stripe API for tests: `POST /v1/checkout/sessions` with Stripe's form encoding,
//! answering with the checkout.session object from Stripe's own OpenAPI fixtures (id, url,
//! mode, client_reference_id and metadata from the request). It checks the secret key as
//! Stripe does (Bearer) and records what it was sent. Events are signed with the real
//! `Stripe-Signature` scheme through async-stripe's own signer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

pub const SECRET_KEY: &str = "sk_test_fake_lectern";
pub const WEBHOOK_SECRET: &str = "whsec_fake_lectern";

/// Form fields of every checkout session created, in order.
pub type Sessions = Arc<Mutex<Vec<HashMap<String, String>>>>;

#[derive(Clone)]
pub struct FakeStripe {
    pub base: String,
    /// Form fields of every checkout session created.
    pub sessions: Sessions,
    _handle: ServerHandle,
}

fn fixture(kind: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/stripe/fixtures3.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all["resources"][kind].clone()
}

async fn create_session(req: HttpRequest, body: web::Bytes, seen: web::Data<Sessions>) -> HttpResponse {
    if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {SECRET_KEY}")) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}));
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(form.clone());
        seen.len()
    };
    let id = format!("cs_test_{n:04}");
    let mut session = fixture("checkout.session");
    session["id"] = json!(id);
    session["url"] = json!(format!("https://checkout.stripe.test/c/pay/{id}"));
    session["mode"] = json!(form.get("mode").cloned().unwrap_or_default());
    session["client_reference_id"] = json!(form.get("client_reference_id"));
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[").and_then(|k| k.strip_suffix(']')).map(|k| (k.to_owned(), json!(v)))
        })
        .collect();
    session["metadata"] = Value::Object(metadata);
    HttpResponse::Ok().json(session)
}

async fn create_portal(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {SECRET_KEY}")) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}));
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let mut session = fixture("billing_portal.session");
    let customer = form.get("customer").cloned().unwrap_or_default();
    session["customer"] = json!(customer);
    session["return_url"] = json!(form.get("return_url"));
    session["url"] = json!(format!("https://billing.stripe.test/p/session/{customer}"));
    HttpResponse::Ok().json(session)
}

impl FakeStripe {
    pub async fn start() -> Self {
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let data = web::Data::new(sessions.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}/", listener.local_addr().unwrap().port());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v1/checkout/sessions", web::post().to(create_session))
                .route("/v1/billing_portal/sessions", web::post().to(create_portal))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { base, sessions, _handle: handle }
    }

    /// The settings that point Lectern at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STRIPE_SECRET_KEY", SECRET_KEY.to_owned()),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("STRIPE_API_BASE", self.base.clone()),
            ("STRIPE_CREDIT_PACKS", "starter:price_starter:1000,big:price_big:5000".to_owned()),
            ("STRIPE_PLANS", "team:price_team_monthly:2000".to_owned()),
        ]
    }
}

/// A real event fixture with its object changed by `edit`.
pub fn event(file: &str, id: &str, edit: impl FnOnce(&mut Value)) -> String {
    let path = format!("{}/../shared/data/stripe/events/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["id"] = json!(id);
    edit(&mut event["data"]["object"]);
    event.to_string()
}

/// `Stripe-Signature` for `body`, signed `age_secs` ago with `secret`.
pub fn sign(body: &str, secret: &str, age_secs: i64) -> String {
    let t = chrono::Utc::now().timestamp() - age_secs;
    stripe_webhook::Webhook::generate_test_header(body, secret, Some(t))
}
