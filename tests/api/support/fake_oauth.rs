//! A local OAuth 2.0 / OpenID Connect provider for tests, speaking the real wire format:
//! discovery, an authorize endpoint that "logs in" a chosen identity and redirects with a code,
//! a token endpoint that checks the client secret, redirect URI and PKCE verifier and signs an
//! ES256 ID token, a JWKS, and GitHub's token and user endpoints.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use p256::pkcs8::EncodePrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "lectern-test-client";
pub const CLIENT_SECRET: &str = "lectern-test-secret";

#[derive(Debug, Clone)]
pub struct Identity {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
}

#[derive(Debug, Clone)]
struct Grant {
    identity: Identity,
    nonce: Option<String>,
    challenge: String,
    redirect_uri: String,
}

struct State {
    issuer: String,
    next: Option<Identity>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Identity>,
    key_der: Vec<u8>,
    jwk: Value,
    /// Sign the next ID token with this nonce instead of the real one.
    forged_nonce: Option<String>,
}

#[derive(Clone)]
pub struct FakeProvider {
    pub base: String,
    state: Arc<Mutex<State>>,
    _handle: ServerHandle,
}

impl FakeProvider {
    pub async fn start() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let secret = p256::SecretKey::from_slice(&bytes).unwrap();
        let key_der = secret.to_pkcs8_der().unwrap().as_bytes().to_vec();
        let mut jwk: Value = serde_json::to_value(secret.public_key().to_jwk()).unwrap();
        jwk["kid"] = json!("test-key-1");
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(State {
            issuer: base.clone(),
            next: None,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            key_der,
            jwk,
            forged_nonce: None,
        }));
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/.well-known/openid-configuration", web::get().to(discovery))
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/jwks", web::get().to(jwks))
                .route("/login/oauth/authorize", web::get().to(authorize))
                .route("/login/oauth/access_token", web::post().to(token))
                .route("/api/user", web::get().to(github_user))
                .route("/api/user/emails", web::get().to(github_emails))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { base, state, _handle: handle }
    }

    /// The identity the next login at the authorize endpoint logs in as.
    pub fn log_in_as(&self, identity: Identity) {
        self.state.lock().unwrap().next = Some(identity);
    }

    pub fn forge_next_nonce(&self, nonce: &str) {
        self.state.lock().unwrap().forged_nonce = Some(nonce.to_owned());
    }
}

type Shared = web::Data<Mutex<State>>;

async fn discovery(state: Shared) -> HttpResponse {
    let issuer = state.lock().unwrap().issuer.clone();
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

async fn jwks(state: Shared) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "keys": [state.lock().unwrap().jwk.clone()] }))
}

fn query(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

async fn authorize(req: HttpRequest, state: Shared) -> HttpResponse {
    let q = query(&req);
    let mut s = state.lock().unwrap();
    let bad = |what: &str| HttpResponse::BadRequest().body(format!("bad authorize request: {what}"));
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return bad("client_id");
    }
    if q.get("response_type").map(String::as_str) != Some("code")
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return bad("response_type or PKCE method");
    }
    let (Some(redirect_uri), Some(challenge), Some(state_param)) =
        (q.get("redirect_uri"), q.get("code_challenge"), q.get("state"))
    else {
        return bad("missing parameter");
    };
    let Some(identity) = s.next.clone() else { return bad("no test identity set") };
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    s.codes.insert(
        code.clone(),
        Grant {
            identity,
            nonce: q.get("nonce").cloned(),
            challenge: challenge.clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    HttpResponse::Found()
        .insert_header(("Location", format!("{redirect_uri}?code={code}&state={state_param}")))
        .finish()
}

fn client_authenticated(req: &HttpRequest, form: &HashMap<String, String>) -> bool {
    let basic = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let expected = format!("{CLIENT_ID}:{CLIENT_SECRET}");
    basic.as_deref() == Some(expected.as_str())
        || (form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET))
}

async fn token(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let error = |code: &str| HttpResponse::BadRequest().json(json!({ "error": code }));
    if !client_authenticated(&req, &form) {
        return HttpResponse::Unauthorized().json(json!({ "error": "invalid_client" }));
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return error("unsupported_grant_type");
    }
    let mut s = state.lock().unwrap();
    let Some(grant) = form.get("code").and_then(|c| s.codes.remove(c)) else { return error("invalid_grant") };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return error("invalid_grant");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if computed != grant.challenge {
        return error("invalid_grant");
    }
    let access_token = format!("at-{}", uuid::Uuid::new_v4().simple());
    s.tokens.insert(access_token.clone(), grant.identity.clone());
    let mut response = json!({ "access_token": access_token, "token_type": "bearer", "expires_in": 3600 });
    if let Some(nonce) = grant.nonce {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": s.issuer, "aud": CLIENT_ID, "sub": grant.identity.sub, "email": grant.identity.email,
            "email_verified": grant.identity.email_verified, "name": grant.identity.name,
            "nonce": s.forged_nonce.take().unwrap_or(nonce), "iat": now, "exp": now + 300,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("test-key-1".to_owned());
        let key = jsonwebtoken::EncodingKey::from_ec_der(&s.key_der);
        response["id_token"] = json!(jsonwebtoken::encode(&header, &claims, &key).unwrap());
    }
    HttpResponse::Ok().json(response)
}

fn bearer_identity(req: &HttpRequest, state: &Shared) -> Option<Identity> {
    let token = req.headers().get("Authorization")?.to_str().ok()?.strip_prefix("Bearer ")?.to_owned();
    state.lock().unwrap().tokens.get(&token).cloned()
}

async fn github_user(req: HttpRequest, state: Shared) -> HttpResponse {
    match bearer_identity(&req, &state) {
        Some(id) => HttpResponse::Ok().json(json!({ "id": id.sub.parse::<u64>().unwrap_or(42), "login": "octo", "name": id.name, "avatar_url": "https://avatars.example/octo.png" })),
        None => HttpResponse::Unauthorized().json(json!({ "message": "Bad credentials" })),
    }
}

async fn github_emails(req: HttpRequest, state: Shared) -> HttpResponse {
    match bearer_identity(&req, &state) {
        Some(id) => HttpResponse::Ok().json(json!([
            { "email": "old-unverified@example.com", "primary": false, "verified": false },
            { "email": id.email, "primary": true, "verified": id.email_verified },
        ])),
        None => HttpResponse::Unauthorized().json(json!({ "message": "Bad credentials" })),
    }
}
