//! OpenID Connect: discovery and ID token validation (signature from the provider's JWKS,
//! issuer, audience, expiry and nonce), per OpenID Connect Core 1.0 §3.1.3.7.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The parts of `/.well-known/openid-configuration` the login flow uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

pub async fn discover(http: &reqwest::Client, issuer: &str) -> anyhow::Result<Discovery> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let discovery: Discovery = http.get(&url).send().await?.error_for_status()?.json().await?;
    // The document must be about the issuer we were configured with (§4.3 of Discovery).
    if discovery.issuer.trim_end_matches('/') != issuer {
        anyhow::bail!("the discovery document at {url} names issuer {}, not {issuer}", discovery.issuer);
    }
    Ok(discovery)
}

pub async fn fetch_jwks(http: &reqwest::Client, jwks_uri: &str) -> anyhow::Result<JwkSet> {
    Ok(http.get(jwks_uri).send().await?.error_for_status()?.json().await?)
}

/// The claims of an ID token the login needs.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    pub email: Option<String>,
    /// Google sends a boolean; some providers send the string "true".
    #[serde(default, deserialize_with = "bool_or_string")]
    pub email_verified: bool,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub nonce: Option<String>,
}

fn bool_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        Some(Flag::Bool(b)) => b,
        Some(Flag::Text(t)) => t == "true",
        None => false,
    })
}

/// Asymmetric algorithms only: an ID token signed with a shared secret (HS*) or `none` is refused.
const ALLOWED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Validates the ID token against the key set and returns its claims.
pub fn validate(token: &str, jwks: &JwkSet, issuer: &str, client_id: &str, nonce: &str) -> Result<IdClaims, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("the ID token is malformed: {e}"))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(format!("the ID token uses the algorithm {:?}, which is not accepted", header.alg));
    }
    let jwk = match &header.kid {
        Some(kid) => jwks.find(kid),
        None => jwks.keys.first(),
    }
    .ok_or("the ID token is signed with a key the provider does not publish")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("the provider's key is unusable: {e}"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer, &format!("{issuer}/")]);
    validation.set_audience(&[client_id]);
    validation.leeway = 60;
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|e| format!("the ID token is not valid: {e}"))?
        .claims;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err("the ID token's nonce does not match this login".to_owned());
    }
    Ok(claims)
}
