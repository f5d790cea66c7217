//! Conversations: each belongs to the user (or API key) that started it; nobody else in the
//! tenant sees it, and another tenant's ids are 404 like missing ones.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{conversation, message};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::permissions::Permission;
use crate::services::identity::principal::Credential;
use crate::services::identity::Principal;
use crate::services::search;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationPayload {
    pub title: Option<String>,
    pub system_prompt: Option<String>,
    /// Knowledge bases every turn retrieves from.
    #[serde(default)]
    pub knowledge_bases: Vec<Uuid>,
    pub assistant_id: Option<Uuid>,
    pub model: Option<String>,
}

/// Changes to a conversation; fields left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationPatch {
    /// 1 to 200 characters.
    pub title: Option<String>,
    /// An empty string removes it.
    pub system_prompt: Option<String>,
    /// Knowledge bases later turns retrieve from; `[]` for none.
    pub knowledge_bases: Option<Vec<Uuid>>,
    pub model: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: Uuid,
    pub title: String,
    pub system_prompt: Option<String>,
    pub knowledge_bases: Vec<Uuid>,
    pub assistant_id: Option<Uuid>,
    pub model: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<conversation::Model> for ConversationView {
    fn from(c: conversation::Model) -> Self {
        Self {
            id: c.id,
            title: c.title,
            system_prompt: c.system_prompt,
            knowledge_bases: serde_json::from_value(c.knowledge_base_ids).unwrap_or_default(),
            assistant_id: c.assistant_id,
            model: c.model,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    pub n: usize,
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub document_title: String,
    pub knowledge_base_id: Uuid,
    pub page: Option<u32>,
    pub snippet: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// `complete`, `streaming`, `cancelled` or `failed`.
    pub status: String,
    pub citations: Vec<Citation>,
    /// Each cited sentence checked against the passage it cites (assistant answers from
    /// knowledge bases).
    pub verification: Option<super::verify::Verification>,
    pub model: Option<String>,
    pub prompt_tokens: i32,
    pub completion_tokens: i32,
    pub latency_ms: i32,
    pub feedback: Option<String>,
    pub feedback_comment: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<message::Model> for MessageView {
    fn from(m: message::Model) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            role: m.role,
            content: m.content,
            status: m.status,
            citations: serde_json::from_value(m.citations).unwrap_or_default(),
            verification: m.verification.and_then(|v| serde_json::from_value(v).ok()),
            model: m.model,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            latency_ms: m.latency_ms,
            feedback: m.feedback,
            feedback_comment: m.feedback_comment,
            error: m.error,
            created_at: m.created_at,
        }
    }
}

/// Who owns what a principal creates: a user, or an API key without a user.
pub fn owner(principal: &Principal) -> (Option<Uuid>, Option<Uuid>) {
    match (&principal.credential, principal.user_id) {
        (_, Some(user)) => (Some(user), None),
        (Credential::ApiKey { key_id, .. }, None) => (None, Some(*key_id)),
        (Credential::User { .. }, None) => (None, None),
    }
}

fn owned_by(principal: &Principal, tenant_id: Uuid) -> sea_orm::Select<conversation::Entity> {
    let query = in_tenant::<conversation::Entity>(tenant_id);
    match owner(principal) {
        (Some(user), _) => query.filter(conversation::Column::UserId.eq(user)),
        (None, Some(key)) => query.filter(conversation::Column::ApiKeyId.eq(key)),
        (None, None) => query.filter(conversation::Column::Id.eq(Uuid::nil())),
    }
}

/// The caller's conversation, else 404.
pub async fn find(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<conversation::Model> {
    let tenant_id = principal.require(Permission::ChatUse)?.tenant_id;
    owned_by(principal, tenant_id)
        .filter(conversation::Column::Id.eq(id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))
}

/// A title from the first words of a message.
pub fn title_from(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(8).collect();
    let mut title = words.join(" ");
    if title.chars().count() > 80 {
        title = title.chars().take(79).collect::<String>() + "…";
    } else if text.split_whitespace().count() > 8 {
        title.push('…');
    }
    if title.is_empty() {
        "New conversation".to_owned()
    } else {
        title
    }
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    payload: ConversationPayload,
) -> ApiResult<ConversationView> {
    let scope = principal.require(Permission::ChatUse)?;
    let tenant_id = scope.tenant_id;
    let kbs = if payload.knowledge_bases.is_empty() {
        Vec::new()
    } else {
        search::resolve_kbs(ctx, scope, Some(&payload.knowledge_bases)).await?
    };
    check_model(ctx, payload.model.as_deref())?;
    if let Some(assistant) = payload.assistant_id {
        super::assistants::find(ctx, tenant_id, assistant).await?;
    }
    let title = payload.title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    check_title(title.as_deref())?;
    let (user_id, api_key_id) = owner(principal);
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let model = conversation::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        user_id: Set(user_id),
        api_key_id: Set(api_key_id),
        title: Set(title.unwrap_or_else(|| "New conversation".to_owned())),
        system_prompt: Set(payload.system_prompt.filter(|s| !s.trim().is_empty())),
        knowledge_base_ids: Set(serde_json::json!(kbs)),
        assistant_id: Set(payload.assistant_id),
        model: Set(payload.model),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "conversation.created",
        Target::new("conversation", model.id),
        serde_json::Value::Null,
    )
    .await?;
    let event = crate::services::webhooks::events::ConversationCreatedV1 {
        conversation_id: model.id,
        assistant_id: model.assistant_id,
        user_id: model.user_id,
    };
    crate::services::webhooks::events::emit(&txn, model.tenant_id, &event).await?;
    txn.commit().await?;
    Ok(model.into())
}

fn check_model(ctx: &AppContext, model: Option<&str>) -> ApiResult<()> {
    match model {
        Some(model) if !ctx.llm.knows(model) => {
            Err(crate::engines::llm::LlmError::UnknownModel(model.to_owned()).into())
        }
        _ => Ok(()),
    }
}

fn check_title(title: Option<&str>) -> ApiResult<()> {
    if title.is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::invalid_field("title", "must be at most 200 characters"));
    }
    Ok(())
}

/// Renames a conversation or changes what later turns use (system prompt, knowledge bases, model).
pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    patch: ConversationPatch,
) -> ApiResult<ConversationView> {
    let scope = principal.require(Permission::ChatUse)?;
    let conversation = find(ctx, principal, id).await?;
    let fields: Vec<&str> = [
        ("title", patch.title.is_some()),
        ("systemPrompt", patch.system_prompt.is_some()),
        ("knowledgeBases", patch.knowledge_bases.is_some()),
        ("model", patch.model.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    let mut active: conversation::ActiveModel = conversation.into();
    if let Some(title) = &patch.title {
        let title = title.trim();
        if title.is_empty() {
            return Err(ApiError::invalid_field("title", "must not be empty"));
        }
        check_title(Some(title))?;
        active.title = Set(title.to_owned());
    }
    if let Some(prompt) = patch.system_prompt {
        active.system_prompt = Set(Some(prompt).filter(|s| !s.trim().is_empty()));
    }
    if let Some(named) = &patch.knowledge_bases {
        let kbs = if named.is_empty() { Vec::new() } else { search::resolve_kbs(ctx, scope, Some(named)).await? };
        active.knowledge_base_ids = Set(serde_json::json!(kbs));
    }
    if let Some(model) = patch.model {
        check_model(ctx, Some(&model))?;
        active.model = Set(Some(model));
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "conversation.update",
        Target::new("conversation", saved.id),
        serde_json::json!({ "title": saved.title, "fields": fields }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<ConversationView>> {
    let tenant_id = principal.require(Permission::ChatUse)?.tenant_id;
    let page = fetch_page(
        &ctx.db,
        owned_by(principal, tenant_id),
        params,
        Some((conversation::Column::UpdatedAt, sea_orm::Order::Desc)),
    )
    .await?;
    Ok(Page { data: page.data.into_iter().map(Into::into).collect(), pagination: page.pagination })
}

pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let conversation = find(ctx, principal, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    message::Entity::delete_many().filter(message::Column::ConversationId.eq(conversation.id)).exec(&txn).await?;
    conversation::Entity::delete_by_id(conversation.id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "conversation.deleted",
        Target::new("conversation", id),
        serde_json::Value::Null,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn messages(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    params: &ListParams,
) -> ApiResult<Page<MessageView>> {
    let conversation = find(ctx, principal, id).await?;
    let page = fetch_page(
        &ctx.db,
        message::Entity::find().filter(message::Column::ConversationId.eq(conversation.id)),
        params,
        Some((message::Column::CreatedAt, sea_orm::Order::Asc)),
    )
    .await?;
    Ok(Page { data: page.data.into_iter().map(Into::into).collect(), pagination: page.pagination })
}

/// One message of the caller's conversations, else 404.
pub async fn message(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<MessageView> {
    let tenant_id = principal.require(Permission::ChatUse)?.tenant_id;
    let found = by_id_in_tenant::<message::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    find(ctx, principal, found.conversation_id).await.map_err(|_| ApiError::not_found("message"))?;
    Ok(found.into())
}

/// The complete turns of a conversation, oldest first (the history a new turn sees).
pub async fn history(ctx: &AppContext, conversation_id: Uuid) -> ApiResult<Vec<message::Model>> {
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Status.eq("complete"))
        .order_by_asc(message::Column::CreatedAt)
        .all(&ctx.db)
        .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BranchPayload {
    /// The last message the new conversation keeps.
    pub message_id: Uuid,
}

/// A new conversation with the same settings and the messages up to `message_id`.
pub async fn branch(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    payload: BranchPayload,
) -> ApiResult<ConversationView> {
    let source = find(ctx, principal, id).await?;
    let all = message::Entity::find()
        .filter(message::Column::ConversationId.eq(source.id))
        .order_by_asc(message::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    let Some(cut) = all.iter().position(|m| m.id == payload.message_id) else {
        return Err(ApiError::not_found("message"));
    };
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let copy = conversation::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(format!("{} (branch)", source.title)),
        created_at: Set(now),
        updated_at: Set(now),
        ..conversation::ActiveModel::from(source.clone())
    }
    .insert(&txn)
    .await?;
    for m in &all[..=cut] {
        message::ActiveModel {
            id: Set(Uuid::now_v7()),
            conversation_id: Set(copy.id),
            ..message::ActiveModel::from(m.clone())
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        &principal.actor(),
        "conversation.branched",
        Target::new("conversation", copy.id),
        serde_json::json!({"from": source.id, "messageId": payload.message_id}),
    )
    .await?;
    txn.commit().await?;
    Ok(copy.into())
}

/// Regenerates the title: from the model when an upstream serves the conversation, else from
/// the first question.
pub async fn retitle(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<ConversationView> {
    let conversation = find(ctx, principal, id).await?;
    let history = history(ctx, conversation.id).await?;
    let Some(first) = history.iter().find(|m| m.role == "user") else {
        return Err(ApiError::new(crate::error::ErrorCode::Conflict, "the conversation has no messages to title yet"));
    };
    let model = conversation.model.clone().unwrap_or_else(|| ctx.llm.default_model().to_owned());
    let title = super::turn::ask_for_title(ctx, principal, &model, &history)
        .await
        .unwrap_or_else(|| title_from(&first.content));
    let mut active: conversation::ActiveModel = conversation.into();
    active.title = Set(title.clone());
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    let target = Target::new("conversation", saved.id);
    audit::record(&txn, &principal.actor(), "conversation.retitle", target, serde_json::json!({ "title": title }))
        .await?;
    txn.commit().await?;
    Ok(saved.into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_come_from_the_first_words() {
        assert_eq!(
            super::title_from("  What is our refund policy for damaged goods in transit?"),
            "What is our refund policy for damaged goods…"
        );
        assert_eq!(super::title_from("Hello there"), "Hello there");
        assert_eq!(super::title_from("   "), "New conversation");
    }
}
