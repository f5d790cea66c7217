//! The usage record of every model call (tokens, latency, model), for billing and statistics.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use entity::llm_usage;

use crate::services::identity::principal::Credential;
use crate::services::identity::Principal;

pub fn actor(principal: &Principal) -> String {
    match (&principal.credential, principal.user_id) {
        (Credential::ApiKey { key_id, .. }, _) => format!("api_key:{key_id}"),
        (_, Some(user)) => format!("user:{user}"),
        _ => "unknown".to_owned(),
    }
}

pub struct Call<'a> {
    pub tenant_id: Uuid,
    pub actor: String,
    pub operation: &'a str,
    pub model: &'a str,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub latency_ms: u64,
}

pub async fn record<C: ConnectionTrait>(conn: &C, call: Call<'_>) -> Result<(), sea_orm::DbErr> {
    let clamp = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    crate::platform::telemetry::metrics::llm_call(
        call.model,
        call.prompt_tokens.into(),
        call.completion_tokens.into(),
        call.latency_ms as f64 / 1000.0,
    );
    llm_usage::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(call.tenant_id),
        actor: Set(call.actor),
        operation: Set(call.operation.to_owned()),
        model: Set(call.model.to_owned()),
        prompt_tokens: Set(clamp(call.prompt_tokens.into())),
        completion_tokens: Set(clamp(call.completion_tokens.into())),
        latency_ms: Set(clamp(call.latency_ms)),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}
