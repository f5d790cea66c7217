//! Login sessions: password login, refresh-token rotation with reuse detection, logout.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{session, user};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::services::audit::{self, Actor, ActorKind, Target};
use crate::services::identity::credentials::{random_token, sha256_hex, verify_password};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginPayload {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshPayload {
    pub refresh_token: String,
}

/// What a successful login or refresh returns.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokensView {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    /// Opaque; exchange at `POST /v1/auth/refresh`. Each use returns a new one: reusing an old
    /// one ends the whole session.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

fn wrong_credentials() -> ApiError {
    // One message for a wrong email and a wrong password: nothing to learn from it.
    ApiError::new(ErrorCode::Unauthorized, "email or password is wrong")
}

pub async fn login(ctx: &AppContext, payload: LoginPayload, ip: &str) -> ApiResult<TokensView> {
    let email = payload.email.trim().to_lowercase();
    if let Some(seconds) = ctx.identity.login_throttle.retry_after(&ctx.coordination, &email, ip).await {
        return Err(ApiError::new(ErrorCode::RateLimitExceeded, "too many failed logins; wait before trying again")
            .with_details(serde_json::json!({ "retryAfter": seconds })));
    }
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .filter(user::Column::DeletedAt.is_null())
        .one(&ctx.db)
        .await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = verify_password(payload.password, hash).await;
    let user = match user {
        Some(user) if password_ok && user.status == "active" => user,
        _ => {
            ctx.identity.login_throttle.record_failure(&ctx.coordination, &email, ip).await;
            return Err(wrong_credentials());
        }
    };
    ctx.identity.login_throttle.record_success(&ctx.coordination, &email, ip).await;
    let txn = ctx.db.begin().await?;
    let tokens = start_session(ctx, &txn, user.id, Uuid::now_v7()).await?;
    let actor = Actor {
        kind: ActorKind::User,
        id: Some(user.id.to_string()),
        tenant_id: None,
        ip: Some(ip.to_owned()),
        request_id: None,
        platform: false,
    };
    audit::record(
        &txn,
        &actor,
        "auth.login",
        Target::new("user", user.id),
        serde_json::json!({ "method": "password" }),
    )
    .await?;
    txn.commit().await?;
    Ok(tokens)
}

/// Issues an access token and a new refresh token in `family`.
pub async fn start_session<C: ConnectionTrait>(
    ctx: &AppContext,
    conn: &C,
    user_id: Uuid,
    family: Uuid,
) -> ApiResult<TokensView> {
    let refresh_token = random_token(32);
    let now = Utc::now();
    let refresh_ttl = Duration::from_std(ctx.settings.refresh_token_ttl).map_err(anyhow::Error::from)?;
    let refresh_expires_at = now + refresh_ttl;
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family),
        token_hash: Set(sha256_hex(&refresh_token)),
        expires_at: Set(refresh_expires_at),
        rotated_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    let access_ttl = Duration::from_std(ctx.settings.access_token_ttl).map_err(anyhow::Error::from)?;
    let (access_token, expires_at) = ctx.identity.jwt.issue(user_id, family, access_ttl)?;
    Ok(TokensView { access_token, token_type: "Bearer".to_owned(), expires_at, refresh_token, refresh_expires_at })
}

/// Rotates a refresh token. A token that was already rotated or revoked is a sign of theft:
/// the whole family is revoked and the caller must log in again.
pub async fn refresh(ctx: &AppContext, payload: RefreshPayload) -> ApiResult<TokensView> {
    let invalid = || ApiError::new(ErrorCode::Unauthorized, "the refresh token is invalid or has expired");
    let txn = ctx.db.begin().await?;
    let record = session::Entity::find()
        .filter(session::Column::TokenHash.eq(sha256_hex(payload.refresh_token.trim())))
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    if record.rotated_at.is_some() || record.revoked_at.is_some() {
        revoke_family(&txn, record.family_id).await?;
        let actor = Actor {
            kind: ActorKind::User,
            id: Some(record.user_id.to_string()),
            tenant_id: None,
            ip: None,
            request_id: None,
            platform: false,
        };
        audit::record(
            &txn,
            &actor,
            "auth.refresh_reuse",
            Target::new("session", record.family_id),
            serde_json::Value::Null,
        )
        .await?;
        txn.commit().await?;
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "this refresh token was already used; the session has been ended for safety",
        ));
    }
    if record.expires_at <= now {
        return Err(invalid());
    }
    // Mark rotated only if still unrotated: two concurrent refreshes cannot both succeed.
    let claimed = session::Entity::update_many()
        .col_expr(session::Column::RotatedAt, Expr::value(now))
        .filter(session::Column::Id.eq(record.id))
        .filter(session::Column::RotatedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    crate::services::identity::principal::active_user(ctx, record.user_id).await?.ok_or_else(invalid)?;
    let tokens = start_session(ctx, &txn, record.user_id, record.family_id).await?;
    txn.commit().await?;
    Ok(tokens)
}

pub async fn revoke_family<C: ConnectionTrait>(conn: &C, family: Uuid) -> ApiResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::FamilyId.eq(family))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends the session the access token belongs to: its refresh tokens and its access tokens.
pub async fn logout(ctx: &AppContext, principal: &crate::services::identity::Principal) -> ApiResult<()> {
    let crate::services::identity::Credential::User { session } = principal.credential else {
        return Err(ApiError::invalid("API keys have no session; revoke the key instead"));
    };
    let txn = ctx.db.begin().await?;
    revoke_family(&txn, session).await?;
    audit::record(&txn, &principal.actor(), "auth.logout", Target::new("session", session), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Ends every session of a user (password change, reset, removal).
pub async fn revoke_all_for_user<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> ApiResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
