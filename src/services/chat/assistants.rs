//! Assistants (the seeds' agents): saved instructions, model, knowledge bases and retrieval
//! settings that a chat turn or an OpenAI-style call can name instead of repeating them.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{assistant, site};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::permissions::Permission;
use crate::services::identity::{Principal, TenantScope};
use crate::services::search::{self, Mode};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retrieval {
    pub mode: Option<Mode>,
    /// Passages retrieved per turn (1–50, default 8).
    pub top_k: Option<usize>,
    pub min_score: Option<f32>,
    /// In a conversation, retrieve with a standalone rewrite of a follow-up question (by the
    /// language model, or by carrying the previous question's key words); default true.
    pub rewrite_follow_ups: Option<bool>,
    /// Rerank the retrieved candidates (default: when the server has a reranker).
    pub rerank: Option<bool>,
    /// Give the model each passage with the chunks around it in its section, while the context
    /// budget lasts (default true).
    pub expand_context: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssistantPayload {
    pub name: String,
    #[serde(default)]
    pub instructions: String,
    pub model: Option<String>,
    #[serde(default)]
    pub knowledge_bases: Vec<Uuid>,
    #[serde(default)]
    pub retrieval: Retrieval,
    pub temperature: Option<f64>,
    #[serde(default)]
    pub starters: Vec<String>,
    /// Publish to this site's visitors (`POST /public/v1/sites/{site}/assistants/{id}/chat`).
    pub public_site_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssistantView {
    pub id: Uuid,
    pub name: String,
    pub instructions: String,
    pub model: Option<String>,
    pub knowledge_bases: Vec<Uuid>,
    pub retrieval: Retrieval,
    pub temperature: Option<f64>,
    pub starters: Vec<String>,
    pub public_site_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<assistant::Model> for AssistantView {
    fn from(a: assistant::Model) -> Self {
        let s = settings(&a);
        Self {
            id: a.id,
            name: a.name,
            instructions: a.instructions,
            model: a.model,
            knowledge_bases: s.knowledge_bases,
            retrieval: s.retrieval,
            temperature: a.temperature,
            starters: serde_json::from_value(a.starters).unwrap_or_default(),
            public_site_id: a.public_site_id,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// The parts of an assistant a chat turn uses.
pub struct Settings {
    pub instructions: String,
    pub model: Option<String>,
    pub knowledge_bases: Vec<Uuid>,
    pub retrieval: Retrieval,
}

pub fn settings(a: &assistant::Model) -> Settings {
    Settings {
        instructions: a.instructions.clone(),
        model: a.model.clone(),
        knowledge_bases: serde_json::from_value(a.knowledge_base_ids.clone()).unwrap_or_default(),
        retrieval: serde_json::from_value(a.retrieval.clone()).unwrap_or_default(),
    }
}

pub async fn find(ctx: &AppContext, tenant_id: Uuid, id: Uuid) -> ApiResult<assistant::Model> {
    by_id_in_tenant::<assistant::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("assistant"))
}

async fn validate(ctx: &AppContext, scope: &TenantScope, p: &AssistantPayload) -> ApiResult<Vec<Uuid>> {
    let tenant_id = scope.tenant_id;
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ApiError::invalid_field("name", "must be 1 to 120 characters"));
    }
    if p.instructions.chars().count() > 20_000 {
        return Err(ApiError::invalid_field("instructions", "must be at most 20000 characters"));
    }
    if let Some(model) = &p.model {
        if !ctx.llm.knows(model) {
            return Err(crate::engines::llm::LlmError::UnknownModel(model.clone()).into());
        }
    }
    if p.retrieval.top_k.is_some_and(|k| !(1..=50).contains(&k)) {
        return Err(ApiError::invalid_field("retrieval.topK", "must be from 1 to 50"));
    }
    if p.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(ApiError::invalid_field("temperature", "must be from 0 to 2"));
    }
    if p.starters.len() > 10 || p.starters.iter().any(|s| s.chars().count() > 300) {
        return Err(ApiError::invalid_field("starters", "at most 10, each at most 300 characters"));
    }
    if let Some(site_id) = p.public_site_id {
        by_id_in_tenant::<site::Entity>(tenant_id, site_id)
            .one(&ctx.db)
            .await?
            .ok_or_else(|| ApiError::not_found("site"))?;
    }
    if p.knowledge_bases.is_empty() {
        Ok(Vec::new())
    } else {
        search::resolve_kbs(ctx, scope, Some(&p.knowledge_bases)).await
    }
}

fn write(model: &mut assistant::ActiveModel, p: AssistantPayload, kbs: Vec<Uuid>) {
    model.name = Set(p.name.trim().to_owned());
    model.instructions = Set(p.instructions);
    model.model = Set(p.model);
    model.knowledge_base_ids = Set(serde_json::json!(kbs));
    model.retrieval = Set(serde_json::to_value(p.retrieval).unwrap_or_default());
    model.temperature = Set(p.temperature);
    model.starters = Set(serde_json::json!(p.starters));
    model.public_site_id = Set(p.public_site_id);
    model.updated_at = Set(Utc::now());
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: AssistantPayload) -> ApiResult<AssistantView> {
    let scope = principal.require(Permission::KbWrite)?;
    let tenant_id = scope.tenant_id;
    let kbs = validate(ctx, scope, &payload).await?;
    let mut model = assistant::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    write(&mut model, payload, kbs);
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = model.insert(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "assistant.created",
        Target::new("assistant", saved.id),
        serde_json::Value::Null,
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<AssistantView>> {
    let tenant_id = principal.require(Permission::ChatUse)?.tenant_id;
    let query = in_tenant::<assistant::Entity>(tenant_id);
    let page = fetch_page(&ctx.db, query, params, Some((assistant::Column::Name, sea_orm::Order::Asc))).await?;
    Ok(Page { data: page.data.into_iter().map(Into::into).collect(), pagination: page.pagination })
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<AssistantView> {
    let tenant_id = principal.require(Permission::ChatUse)?.tenant_id;
    Ok(find(ctx, tenant_id, id).await?.into())
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    payload: AssistantPayload,
) -> ApiResult<AssistantView> {
    let scope = principal.require(Permission::KbWrite)?;
    let tenant_id = scope.tenant_id;
    let existing = find(ctx, tenant_id, id).await?;
    let kbs = validate(ctx, scope, &payload).await?;
    let mut model: assistant::ActiveModel = existing.into();
    write(&mut model, payload, kbs);
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = model.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "assistant.updated", Target::new("assistant", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    find(ctx, tenant_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    assistant::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(&txn, &principal.actor(), "assistant.deleted", Target::new("assistant", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn duplicate(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<AssistantView> {
    let tenant_id = principal.require(Permission::KbWrite)?.tenant_id;
    let source = find(ctx, tenant_id, id).await?;
    let now = Utc::now();
    let copy = assistant::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(format!("{} (copy)", source.name).chars().take(120).collect()),
        public_site_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..assistant::ActiveModel::from(source)
    };
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = copy.insert(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "assistant.created",
        Target::new("assistant", saved.id),
        serde_json::json!({"duplicateOf": id}),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}
