//! API keys: `lk_live_…` / `lk_test_…`, shown once, stored as sha256, scoped to permissions.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::api_key;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::accounts::parse_name;
use crate::services::identity::credentials::{random_token, sha256_hex};
use crate::services::identity::permissions::Permission;
use crate::services::identity::principal::{scopes, API_KEY_LIVE_PREFIX, API_KEY_TEST_PREFIX};
use crate::services::identity::Principal;

/// Characters of the key kept in clear for display (`lk_live_` + 4).
const DISPLAY_PREFIX_LEN: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    #[default]
    Live,
    /// Sandbox: metered operations are recorded but never charged.
    Test,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyPayload {
    pub name: String,
    #[serde(default)]
    pub mode: KeyMode,
    /// Permissions the key may use; each must be one the creator holds. Defaults to all of them.
    pub scopes: Option<Vec<Permission>>,
    /// A service-account key belongs to the tenant and survives its creator's removal.
    #[serde(default)]
    pub service_account: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyPatch {
    pub name: Option<String>,
    pub scopes: Option<Vec<Permission>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, e.g. `lk_live_AbCd`.
    pub prefix: String,
    pub mode: KeyMode,
    pub scopes: Vec<Permission>,
    /// Null for service-account keys.
    pub user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Returned once, at creation: the only time the secret is visible.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKeyView {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The whole key. Store it now: it cannot be shown again.
    pub secret: String,
}

impl From<api_key::Model> for ApiKeyView {
    fn from(k: api_key::Model) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            mode: if k.mode == "test" { KeyMode::Test } else { KeyMode::Live },
            scopes: scopes(&k.scopes).into_iter().collect(),
            user_id: k.user_id,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
        }
    }
}

/// Scopes must be a subset of what the creator holds, so a key never widens access.
fn checked_scopes(principal: &Principal, requested: Option<Vec<Permission>>) -> ApiResult<Vec<Permission>> {
    let held = &principal.scope()?.permissions;
    let Some(requested) = requested else { return Ok(held.iter().copied().collect()) };
    if let Some(extra) = requested.iter().find(|p| !held.contains(p)) {
        return Err(ApiError::invalid_field("scopes", format!("you do not hold `{}` yourself", extra.as_str())));
    }
    let mut scopes = requested;
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

async fn find(ctx: &AppContext, tenant_id: Uuid, id: Uuid) -> ApiResult<api_key::Model> {
    by_id_in_tenant::<api_key::Entity>(tenant_id, id)
        .filter(api_key::Column::RevokedAt.is_null())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: ApiKeyPayload) -> ApiResult<CreatedApiKeyView> {
    let tenant_id = principal.require(Permission::ApiKeysManage)?.tenant_id;
    let name = parse_name("name", &payload.name)?;
    let scopes = checked_scopes(principal, payload.scopes)?;
    if payload.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::invalid_field("expiresAt", "must be in the future"));
    }
    let prefix = match payload.mode {
        KeyMode::Live => API_KEY_LIVE_PREFIX,
        KeyMode::Test => API_KEY_TEST_PREFIX,
    };
    let secret = format!("{prefix}{}", random_token(32));
    let owner = if payload.service_account { None } else { principal.user_id };
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let key = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        user_id: Set(owner),
        name: Set(name),
        prefix: Set(secret.chars().take(DISPLAY_PREFIX_LEN).collect()),
        key_hash: Set(sha256_hex(&secret)),
        mode: Set(if payload.mode == KeyMode::Test { "test" } else { "live" }.to_owned()),
        scopes: Set(serde_json::json!(scopes)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        expires_at: Set(payload.expires_at),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "api_key.create",
        Target::new("api_key", key.id),
        serde_json::json!({ "name": key.name, "prefix": key.prefix }),
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedApiKeyView { key: key.into(), secret })
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<ApiKeyView>> {
    let tenant_id = principal.require(Permission::ApiKeysManage)?.tenant_id;
    let sort = params.sort_or(&["name", "createdAt", "lastUsedAt"], Sort::desc("createdAt"))?;
    let column = match sort.field.as_str() {
        "name" => api_key::Column::Name,
        "lastUsedAt" => api_key::Column::LastUsedAt,
        _ => api_key::Column::CreatedAt,
    };
    let select = in_tenant::<api_key::Entity>(tenant_id).filter(api_key::Column::RevokedAt.is_null());
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(ApiKeyView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<ApiKeyView> {
    let tenant_id = principal.require(Permission::ApiKeysManage)?.tenant_id;
    Ok(find(ctx, tenant_id, id).await?.into())
}

pub async fn update(ctx: &AppContext, principal: &Principal, id: Uuid, patch: ApiKeyPatch) -> ApiResult<ApiKeyView> {
    let tenant_id = principal.require(Permission::ApiKeysManage)?.tenant_id;
    let key = find(ctx, tenant_id, id).await?;
    let mut active: api_key::ActiveModel = key.into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_name("name", name)?);
    }
    if patch.scopes.is_some() {
        active.scopes = Set(serde_json::json!(checked_scopes(principal, patch.scopes)?));
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let key = active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "api_key.update", Target::new("api_key", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    Ok(key.into())
}

/// Revokes the key; it stops working on its next request.
pub async fn revoke(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::ApiKeysManage)?.tenant_id;
    let key = find(ctx, tenant_id, id).await?;
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now()));
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "api_key.revoke", Target::new("api_key", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    Ok(())
}
