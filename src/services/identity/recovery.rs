//! Password reset by mail: request a link (the answer never tells whether the email exists),
//! then confirm with the token and a new password.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{password_reset, user};

use crate::app::context::AppContext;
use crate::engines::mail::Mail;
use crate::error::{ApiError, ApiResult};
use crate::services::audit::{Actor, ActorKind};
use crate::services::identity::accounts::{parse_email, store_password};
use crate::services::identity::credentials::{random_token, sha256_hex};

const RESET_TTL_MINUTES: i64 = 60;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetRequestPayload {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetConfirmPayload {
    pub token: String,
    pub new_password: String,
}

/// Mails a reset link if the account exists and can log in with a password; silent otherwise.
pub async fn request(ctx: &AppContext, payload: ResetRequestPayload) -> ApiResult<()> {
    let email = parse_email("email", &payload.email)?;
    let Some(user) = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::Status.eq("active"))
        .one(&ctx.db)
        .await?
    else {
        return Ok(());
    };
    let token = random_token(32);
    let now = Utc::now();
    password_reset::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        token_hash: Set(sha256_hex(&token)),
        expires_at: Set(now + Duration::minutes(RESET_TTL_MINUTES)),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&ctx.db)
    .await?;
    let link = format!("{}/reset-password?token={token}", ctx.settings.public_url);
    let mail = Mail {
        to: user.email,
        subject: "Reset your Lectern password".to_owned(),
        body: format!("Someone asked to reset your password. If it was you, open this link within {RESET_TTL_MINUTES} minutes:\n{link}\nIf not, ignore this message."),
    };
    if let Err(error) = ctx.identity.mailer.send(mail).await {
        tracing::warn!(error = %error, "sending the password reset mail failed");
    }
    Ok(())
}

/// Sets the new password, uses up the token and every other pending one, ends all sessions.
/// `ip` and `request_id` go into the audit event of the password change.
pub async fn confirm(
    ctx: &AppContext,
    payload: ResetConfirmPayload,
    ip: Option<String>,
    request_id: Option<String>,
) -> ApiResult<()> {
    let invalid = || ApiError::invalid_field("token", "is invalid, used or expired; request a new link");
    let now = Utc::now();
    let txn = ctx.db.begin().await?;
    let reset = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(sha256_hex(payload.token.trim())))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    let user = crate::services::identity::principal::active_user(ctx, reset.user_id).await?.ok_or_else(invalid)?;
    crate::services::identity::credentials::check_password_policy(
        "newPassword",
        &payload.new_password,
        &user.email,
        &user.name,
    )?;
    let hash = crate::services::identity::credentials::hash_password(payload.new_password).await?;
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::UserId.eq(user.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let actor = Actor {
        kind: ActorKind::User,
        id: Some(user.id.to_string()),
        tenant_id: None,
        ip,
        request_id,
        platform: false,
    };
    store_password(&txn, &user, hash, &actor).await?;
    txn.commit().await?;
    Ok(())
}
