//! Actions on one answer: cancel it while it streams, rate it afterwards.

use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::message;

use super::conversations::{self, MessageView};
use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::tenancy::by_id_in_tenant;
use crate::services::audit::{self, Target};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

/// An assistant message of one of the caller's conversations, else 404.
async fn find(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<message::Model> {
    let tenant_id = principal.require(Permission::ChatUse)?.tenant_id;
    let found = by_id_in_tenant::<message::Entity>(tenant_id, id)
        .filter(message::Column::Role.eq("assistant"))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    conversations::find(ctx, principal, found.conversation_id).await.map_err(|_| ApiError::not_found("message"))?;
    Ok(found)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelOutcome {
    pub message_id: Uuid,
    /// `cancelling` (the turn stops within moments) or `cancelled`.
    pub status: String,
}

pub async fn cancel(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<CancelOutcome> {
    let found = find(ctx, principal, id).await?;
    if found.status != "streaming" {
        return Err(ApiError::new(ErrorCode::Conflict, format!("the answer is already {}", found.status))
            .with_details(serde_json::json!({"status": found.status})));
    }
    if ctx.chat.turns.cancel(id) || cancelled_elsewhere(ctx, id).await {
        return Ok(CancelOutcome { message_id: id, status: "cancelling".to_owned() });
    }
    // Not running on any node (it stopped with a crash): mark it.
    let mut active: message::ActiveModel = found.into();
    active.status = Set("cancelled".to_owned());
    active.update(&ctx.db).await?;
    Ok(CancelOutcome { message_id: id, status: "cancelled".to_owned() })
}

/// Asks the other nodes to stop the turn; true when the node running it confirms in time.
async fn cancelled_elsewhere(ctx: &AppContext, id: Uuid) -> bool {
    use crate::platform::coordination::Signal;
    if !ctx.coordination.is_shared() {
        return false;
    }
    let mut heard = ctx.coordination.subscribe();
    if let Err(error) = ctx.coordination.publish(&Signal::CancelTurn { message_id: id }).await {
        tracing::warn!(%error, "cannot reach the other nodes to cancel a turn");
        return false;
    }
    let confirmed = async {
        loop {
            match heard.recv().await {
                Ok(heard) if heard.signal == (Signal::TurnCancelling { message_id: id }) => return true,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return false,
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(2), confirmed).await.unwrap_or(false)
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Up,
    Down,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeedbackPayload {
    pub rating: Rating,
    pub comment: Option<String>,
}

pub async fn feedback(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    payload: FeedbackPayload,
) -> ApiResult<MessageView> {
    let found = find(ctx, principal, id).await?;
    if payload.comment.as_ref().is_some_and(|c| c.chars().count() > 4000) {
        return Err(ApiError::invalid_field("comment", "must be at most 4000 characters"));
    }
    let rating = match payload.rating {
        Rating::Up => "up",
        Rating::Down => "down",
    };
    let mut active: message::ActiveModel = found.into();
    active.feedback = Set(Some(rating.to_owned()));
    active.feedback_comment = Set(payload.comment.filter(|c| !c.trim().is_empty()));
    let txn = ctx.db.begin().await?;
    let saved = active.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "message.rated",
        Target::new("message", id),
        serde_json::json!({"rating": rating}),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}
