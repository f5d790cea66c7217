//! Secrets and their at-rest forms: argon2id password hashes, random tokens, sha256 digests,
//! and the HS256 access tokens (JWT).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Checks the password policy: 10–1024 characters and not built from the user's email or name.
pub fn check_password_policy(field: &str, password: &str, email: &str, name: &str) -> ApiResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(ApiError::invalid_field(field, format!("must be at least {MIN_PASSWORD_LEN} characters")));
    }
    if chars > MAX_PASSWORD_LEN {
        return Err(ApiError::invalid_field(field, format!("must be at most {MAX_PASSWORD_LEN} characters")));
    }
    let lower = password.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
    let personal = [email.to_lowercase(), local_part, name.to_lowercase().replace(' ', "")];
    if personal.iter().any(|p| p.chars().count() >= 3 && lower.replace(' ', "").contains(p.as_str())) {
        return Err(ApiError::invalid_field(field, "must not contain your email address or name"));
    }
    Ok(())
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), off the async runtime.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| ApiError::from(anyhow::anyhow!("hashing failed: {e}")))
}

/// Verifies against `hash`, or against a fixed dummy hash when there is no user, so that a
/// wrong email and a wrong password take the same time.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let result = tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await;
    matches!(result, Ok(true))
}

/// argon2id hash of a random string nobody knows; used only to spend the time of a verify.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8rCk0H3T+8Q0rU8N5tDqVZ5oL3zJm5y5XxJr8t8sQ9o";

/// A random secret of `bytes` bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Lower-case hex sha256: how tokens and API keys are stored (they are long and random, so a
/// fast hash is enough; passwords get argon2id).
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// User id.
    pub sub: Uuid,
    /// Session family: logout revokes it, and with it every access token it issued.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

const ISSUER: &str = "lectern";

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    pub fn issue(&self, user_id: Uuid, session_family: Uuid, ttl: Duration) -> ApiResult<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires = now + ttl;
        let claims = AccessClaims {
            sub: user_id,
            sid: session_family,
            iat: now.timestamp(),
            exp: expires.timestamp(),
            iss: ISSUER.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::from(anyhow::anyhow!("signing the access token failed: {e}")))?;
        Ok((token, expires))
    }

    /// Verifies signature, algorithm, issuer and expiry (no leeway: tokens are short-lived).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).map(|data| data.claims).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired".to_owned(),
                _ => "the access token is invalid".to_owned(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_and_personal_passwords() {
        assert!(check_password_policy("password", "short", "a@b.io", "Ann").is_err());
        assert!(check_password_policy("password", "maria.lopez-2026!", "maria.lopez@example.com", "Maria").is_err());
        assert!(check_password_policy("password", "xxMariaLopezxx", "ml@example.com", "Maria Lopez").is_err());
        assert!(check_password_policy("password", "correct horse battery", "maria@example.com", "Maria").is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify_password("anything at all".into(), None).await);
    }

    #[test]
    fn tokens_verify_with_their_key_only() {
        let keys = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let (user, sid) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, _) = keys.issue(user, sid, Duration::minutes(15)).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, sid));

        let other = JwtKeys::from_secret(b"another secret of thirty-two chars!");
        assert_eq!(other.verify(&token).unwrap_err(), "the access token is invalid");
        let (expired, _) = keys.issue(user, sid, Duration::seconds(-5)).unwrap();
        assert_eq!(keys.verify(&expired).unwrap_err(), "the access token has expired");
        assert!(keys.verify("not.a.jwt").is_err());
    }

    #[test]
    fn random_tokens_are_distinct_and_url_safe() {
        let (a, b) = (random_token(32), random_token(32));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
