//! Login with Google, GitHub or any OpenID Connect issuer: the authorization-code flow with
//! PKCE (RFC 7636), `state` against CSRF and, for OIDC, a `nonce` bound into the ID token.
//! The callback links the external identity to a user by verified email (or creates one as the
//! sign-up mode allows) and issues the same tokens as password login.

mod github;
mod oidc;

use chrono::{Duration, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{invite, oauth_state, user, user_identity};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::settings::{OAuthKind, OAuthProvider, SignupMode};
use crate::services::audit::{self, Actor, ActorKind, Target};
use crate::services::identity::accounts::{add_membership, insert_user, parse_email};
use crate::services::identity::credentials::{random_token, sha256_hex};
use crate::services::identity::permissions::Role;
use crate::services::identity::principal::site_ids;
use crate::services::identity::sessions::{start_session, TokensView};

const STATE_TTL_MINUTES: i64 = 10;

/// Who the provider says the user is.
#[derive(Debug, Clone)]
pub struct ExternalIdentity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    /// Send the browser here to log in (add `?redirectTo=/path` to come back to a page).
    pub start_url: String,
}

pub fn providers(ctx: &AppContext) -> Vec<ProviderView> {
    ctx.settings
        .oauth_providers
        .iter()
        .map(|p| ProviderView {
            id: p.id.to_owned(),
            name: p.name.clone(),
            start_url: format!("/v1/auth/oauth/{}/start", p.id),
        })
        .collect()
}

fn provider<'a>(ctx: &'a AppContext, id: &str) -> ApiResult<&'a OAuthProvider> {
    ctx.settings.oauth_providers.iter().find(|p| p.id == id).ok_or_else(|| ApiError::not_found("login provider"))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl oauth2::ExtraTokenFields for IdTokenField {}

type ProviderClient = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenField, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The provider's endpoints, and for OIDC the discovery document.
struct Endpoints {
    authorize: String,
    token: String,
    discovery: Option<oidc::Discovery>,
}

fn unavailable(provider: &OAuthProvider, error: impl std::fmt::Display) -> ApiError {
    tracing::warn!(provider = provider.id, error = %error, "login provider unreachable or misbehaving");
    ApiError::new(
        ErrorCode::ServiceUnavailable,
        format!("{} is not answering as expected; try again later", provider.name),
    )
}

async fn endpoints(ctx: &AppContext, provider: &OAuthProvider) -> ApiResult<Endpoints> {
    match &provider.kind {
        OAuthKind::Oidc { issuer } => {
            let discovery = oidc::discover(&ctx.http, issuer).await.map_err(|e| unavailable(provider, e))?;
            Ok(Endpoints {
                authorize: discovery.authorization_endpoint.clone(),
                token: discovery.token_endpoint.clone(),
                discovery: Some(discovery),
            })
        }
        OAuthKind::GitHub { web_url, .. } => Ok(Endpoints {
            authorize: format!("{web_url}/login/oauth/authorize"),
            token: format!("{web_url}/login/oauth/access_token"),
            discovery: None,
        }),
    }
}

fn redirect_uri(ctx: &AppContext, provider: &OAuthProvider) -> String {
    format!("{}/v1/auth/oauth/{}/callback", ctx.settings.public_url, provider.id)
}

fn client(ctx: &AppContext, provider: &OAuthProvider, endpoints: &Endpoints) -> ApiResult<ProviderClient> {
    let bad_url = |e: oauth2::url::ParseError| ApiError::from(anyhow::anyhow!("invalid provider URL: {e}"));
    let client = oauth2::Client::new(ClientId::new(provider.client_id.clone()))
        .set_client_secret(ClientSecret::new(provider.client_secret.expose().clone()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize.clone()).map_err(bad_url)?)
        .set_token_uri(TokenUrl::new(endpoints.token.clone()).map_err(bad_url)?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri(ctx, provider)).map_err(bad_url)?);
    // GitHub expects the client credentials in the form body; OIDC defaults to HTTP Basic.
    Ok(match provider.kind {
        OAuthKind::GitHub { .. } => client.set_auth_type(AuthType::RequestBody),
        OAuthKind::Oidc { .. } => client,
    })
}

/// Only paths on this server, so the flow cannot be used as an open redirect.
fn parse_redirect(redirect_to: Option<String>) -> ApiResult<Option<String>> {
    match redirect_to {
        None => Ok(None),
        Some(path)
            if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && path.len() <= 2000 =>
        {
            Ok(Some(path))
        }
        Some(_) => {
            Err(ApiError::invalid_field("redirectTo", "must be a path on this server, starting with a single /"))
        }
    }
}

/// Starts a login: remembers state, PKCE verifier and nonce, and returns the provider URL.
pub async fn start(ctx: &AppContext, provider_id: &str, redirect_to: Option<String>) -> ApiResult<String> {
    let provider = provider(ctx, provider_id)?;
    let redirect_to = parse_redirect(redirect_to)?;
    let endpoints = endpoints(ctx, provider).await?;
    let client = client(ctx, provider, &endpoints)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = random_token(24);
    let mut request = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    request = match provider.kind {
        OAuthKind::Oidc { .. } => request
            .add_scopes(["openid", "email", "profile"].map(|s| Scope::new(s.to_owned())))
            .add_extra_param("nonce", nonce.clone()),
        OAuthKind::GitHub { .. } => request.add_scopes(["read:user", "user:email"].map(|s| Scope::new(s.to_owned()))),
    };
    let (url, state) = request.url();
    let now = Utc::now();
    oauth_state::ActiveModel {
        id: Set(Uuid::now_v7()),
        state_hash: Set(sha256_hex(state.secret())),
        provider: Set(provider.id.to_owned()),
        pkce_verifier: Set(verifier.secret().clone()),
        nonce: Set(nonce),
        redirect_to: Set(redirect_to),
        expires_at: Set(now + Duration::minutes(STATE_TTL_MINUTES)),
        created_at: Set(now),
    }
    .insert(&ctx.db)
    .await?;
    Ok(url.to_string())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the provider when the user declined or the request was wrong.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Finishes a login. Returns the tokens and the page to send the browser back to, if any.
pub async fn callback(
    ctx: &AppContext,
    provider_id: &str,
    params: CallbackParams,
) -> ApiResult<(TokensView, Option<String>)> {
    let provider = provider(ctx, provider_id)?;
    let state = params.state.ok_or_else(|| ApiError::invalid_field("state", "is missing"))?;
    let pending = take_state(ctx, &state).await?;
    if pending.provider != provider.id || pending.expires_at <= Utc::now() {
        return Err(ApiError::invalid_field(
            "state",
            "this login has expired or belongs to another provider; start again",
        ));
    }
    if let Some(error) = params.error {
        let reason = params.error_description.unwrap_or_default();
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            format!("{} did not complete the login: {error} {reason}", provider.name).trim().to_owned(),
        ));
    }
    let code = params.code.ok_or_else(|| ApiError::invalid_field("code", "is missing"))?;
    let endpoints = endpoints(ctx, provider).await?;
    let token = client(ctx, provider, &endpoints)?
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&ctx.http)
        .await
        .map_err(|e| {
            tracing::warn!(provider = provider.id, error = %e, "code exchange failed");
            ApiError::new(ErrorCode::Unauthorized, format!("{} did not accept the login; start again", provider.name))
        })?;
    let identity = match (&provider.kind, &endpoints.discovery) {
        (OAuthKind::Oidc { issuer }, Some(discovery)) => {
            let id_token = token
                .extra_fields()
                .id_token
                .as_deref()
                .ok_or_else(|| unavailable(provider, "no id_token in the token response"))?;
            let jwks = oidc::fetch_jwks(&ctx.http, &discovery.jwks_uri).await.map_err(|e| unavailable(provider, e))?;
            let claims = oidc::validate(id_token, &jwks, issuer, &provider.client_id, &pending.nonce)
                .map_err(|reason| ApiError::new(ErrorCode::Unauthorized, reason))?;
            ExternalIdentity {
                name: claims.name.clone().unwrap_or_else(|| claims.email.clone().unwrap_or_default()),
                subject: claims.sub,
                email: claims.email,
                email_verified: claims.email_verified,
                avatar_url: claims.picture,
            }
        }
        (OAuthKind::GitHub { api_url, .. }, _) => github::identity(&ctx.http, api_url, token.access_token().secret())
            .await
            .map_err(|e| unavailable(provider, e))?,
        (OAuthKind::Oidc { .. }, None) => return Err(unavailable(provider, "discovery missing")),
    };
    let user = link_or_create(ctx, provider, identity).await?;
    let txn = ctx.db.begin().await?;
    let tokens = start_session(ctx, &txn, user.id, Uuid::now_v7()).await?;
    let actor = Actor {
        kind: ActorKind::User,
        id: Some(user.id.to_string()),
        tenant_id: None,
        ip: None,
        request_id: None,
        platform: false,
    };
    audit::record(
        &txn,
        &actor,
        "auth.login",
        Target::new("user", user.id),
        serde_json::json!({ "method": provider.id }),
    )
    .await?;
    txn.commit().await?;
    Ok((tokens, pending.redirect_to))
}

/// Looks up and deletes the pending login, so a state works once.
async fn take_state(ctx: &AppContext, state: &str) -> ApiResult<oauth_state::Model> {
    let txn = ctx.db.begin().await?;
    let row = oauth_state::Entity::find()
        .filter(oauth_state::Column::StateHash.eq(sha256_hex(state)))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::invalid_field("state", "is unknown or was already used; start the login again"))?;
    oauth_state::Entity::delete_by_id(row.id).exec(&txn).await?;
    // Expired logins of everyone are swept on the way.
    oauth_state::Entity::delete_many().filter(oauth_state::Column::ExpiresAt.lt(Utc::now())).exec(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// The user behind an external identity: already linked, or linked now by verified email, or
/// created now if the sign-up mode (or a pending invitation) allows it.
async fn link_or_create(
    ctx: &AppContext,
    provider: &OAuthProvider,
    identity: ExternalIdentity,
) -> ApiResult<user::Model> {
    let linked = user_identity::Entity::find()
        .filter(user_identity::Column::Provider.eq(provider.id))
        .filter(user_identity::Column::Subject.eq(&identity.subject))
        .one(&ctx.db)
        .await?;
    if let Some(link) = linked {
        return crate::services::identity::principal::active_user(ctx, link.user_id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "this account is disabled"));
    }
    let email = match (&identity.email, identity.email_verified) {
        (Some(email), true) => parse_email("email", email)?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("{} has no verified email for this account", provider.name),
            ))
        }
    };
    let txn = ctx.db.begin().await?;
    let existing = user::Entity::find().filter(user::Column::Email.eq(&email)).one(&txn).await?;
    let user = match existing {
        Some(user) if user.deleted_at.is_none() && user.status == "active" => user,
        Some(_) => return Err(ApiError::new(ErrorCode::Unauthorized, "this account is disabled")),
        None => create_for_identity(ctx, &txn, &email, &identity).await?,
    };
    user_identity::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        provider: Set(provider.id.to_owned()),
        subject: Set(identity.subject.clone()),
        email: Set(email),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    let actor = Actor {
        kind: ActorKind::User,
        id: Some(user.id.to_string()),
        tenant_id: None,
        ip: None,
        request_id: None,
        platform: false,
    };
    audit::record(
        &txn,
        &actor,
        "user.link_identity",
        Target::new("user", user.id),
        serde_json::json!({ "provider": provider.id }),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

async fn create_for_identity<C: sea_orm::ConnectionTrait>(
    ctx: &AppContext,
    conn: &C,
    email: &str,
    identity: &ExternalIdentity,
) -> ApiResult<user::Model> {
    let invites = invite::Entity::find()
        .filter(invite::Column::Email.eq(email))
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(Utc::now()))
        .all(conn)
        .await?;
    let open = ctx.settings.signup_mode == SignupMode::Open;
    if invites.is_empty() && !open {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "no account uses this email; ask an administrator for an invitation",
        ));
    }
    let name =
        if identity.name.trim().is_empty() { email.split('@').next().unwrap_or(email) } else { identity.name.trim() };
    let user = insert_user(conn, email, name, None, identity.avatar_url.clone(), false).await?;
    if invites.is_empty() {
        crate::services::identity::signup::own_tenant(conn, &user).await?;
    }
    for row in invites {
        let role: Role = row.role.parse().unwrap_or(Role::Viewer);
        add_membership(conn, row.tenant_id, user.id, role, site_ids(row.site_ids.as_ref())).await?;
        let mut active: invite::ActiveModel = row.into();
        active.accepted_at = Set(Some(Utc::now()));
        active.update(conn).await?;
    }
    Ok(user)
}
