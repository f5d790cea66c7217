//! OAuth and OpenID Connect login providers, from their `LECTERN_OAUTH_*` / `LECTERN_OIDC_*` keys.

use super::secret::Secret;
use super::{invalid, SettingsError};

/// An OAuth 2.0 / OpenID Connect login provider.
#[derive(Debug, Clone)]
pub struct OAuthProvider {
    /// `google`, `github` or `oidc`: the path segment of its login URLs.
    pub id: &'static str,
    /// Shown on the login button.
    pub name: String,
    pub client_id: String,
    pub client_secret: Secret<String>,
    pub kind: OAuthKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthKind {
    /// OpenID Connect: endpoints from `<issuer>/.well-known/openid-configuration`, identity
    /// from the signed ID token.
    Oidc { issuer: String },
    /// GitHub (or GitHub Enterprise Server): plain OAuth 2.0, identity from its REST API.
    GitHub { web_url: String, api_url: String },
}

/// Reads the providers whose client id is set; a client id without its secret (or an OIDC
/// client without an issuer) is an error naming the missing key.
pub(super) fn oauth_providers(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<OAuthProvider>, SettingsError> {
    let url = |key: &'static str, default: &str| -> Result<String, SettingsError> {
        let value = var(key).unwrap_or_else(|| default.to_owned());
        if value.starts_with("http://") || value.starts_with("https://") {
            Ok(value.trim_end_matches('/').to_owned())
        } else {
            Err(invalid(key, "must start with http:// or https://"))
        }
    };
    let specs: [(&'static str, &'static str, &'static str, &'static str); 3] = [
        ("google", "LECTERN_OAUTH_GOOGLE_CLIENT_ID", "LECTERN_OAUTH_GOOGLE_CLIENT_SECRET", "Google"),
        ("github", "LECTERN_OAUTH_GITHUB_CLIENT_ID", "LECTERN_OAUTH_GITHUB_CLIENT_SECRET", "GitHub"),
        ("oidc", "LECTERN_OIDC_CLIENT_ID", "LECTERN_OIDC_CLIENT_SECRET", "Single sign-on"),
    ];
    let mut providers = Vec::new();
    for (id, id_key, secret_key, default_name) in specs {
        let Some(client_id) = var(id_key) else { continue };
        let client_secret =
            var(secret_key).ok_or_else(|| invalid(secret_key, format!("is required when {id_key} is set")))?;
        let (name, kind) = match id {
            "google" => (default_name.to_owned(), OAuthKind::Oidc { issuer: "https://accounts.google.com".to_owned() }),
            "github" => (
                default_name.to_owned(),
                OAuthKind::GitHub {
                    web_url: url("LECTERN_OAUTH_GITHUB_URL", "https://github.com")?,
                    api_url: url("LECTERN_OAUTH_GITHUB_API_URL", "https://api.github.com")?,
                },
            ),
            _ => {
                var("LECTERN_OIDC_ISSUER")
                    .ok_or_else(|| invalid("LECTERN_OIDC_ISSUER", "is required when LECTERN_OIDC_CLIENT_ID is set"))?;
                let issuer = url("LECTERN_OIDC_ISSUER", "")?;
                (var("LECTERN_OIDC_NAME").unwrap_or_else(|| default_name.to_owned()), OAuthKind::Oidc { issuer })
            }
        };
        providers.push(OAuthProvider { id, name, client_id, client_secret: Secret::new(client_secret), kind });
    }
    Ok(providers)
}
