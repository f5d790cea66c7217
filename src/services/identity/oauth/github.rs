//! GitHub's identity: the user and their primary verified email from the REST API.

use serde::Deserialize;

use super::ExternalIdentity;

#[derive(Debug, Deserialize)]
struct GitHubUser {
    id: u64,
    login: String,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

pub async fn identity(http: &reqwest::Client, api_url: &str, access_token: &str) -> anyhow::Result<ExternalIdentity> {
    let get = |path: &str| {
        http.get(format!("{api_url}{path}"))
            .bearer_auth(access_token)
            .header("Accept", "application/vnd.github+json")
            .header("User-Agent", "lectern")
    };
    let user: GitHubUser = get("/user").send().await?.error_for_status()?.json().await?;
    let emails: Vec<GitHubEmail> = get("/user/emails").send().await?.error_for_status()?.json().await?;
    // The primary address if it is verified, else any verified one.
    let email = emails.iter().filter(|e| e.verified).max_by_key(|e| e.primary).map(|e| e.email.clone());
    Ok(ExternalIdentity {
        subject: user.id.to_string(),
        email_verified: email.is_some(),
        email,
        name: user.name.unwrap_or(user.login),
        avatar_url: user.avatar_url,
    })
}
