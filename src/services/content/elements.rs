//! Elements: reusable blocks of a site (a call to action, a banner, an FAQ) that entries embed
//! by id. An element in use cannot be deleted; changing one changes every page that shows it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::element;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::content::entries::{self, EntryView};
use crate::services::content::hooks;
use crate::services::identity::accounts::parse_name;
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::visible;
use crate::services::identity::{Principal, TenantScope};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ElementPayload {
    pub name: String,
    /// What the front end renders it as (`cta`, `banner`, `faq`…): letters, digits, `-`, `_`.
    pub kind: String,
    /// The block's content (any JSON object).
    #[serde(default)]
    pub data: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ElementPatch {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub data: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ElementView {
    pub id: Uuid,
    pub site_id: Uuid,
    pub name: String,
    pub kind: String,
    pub data: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<element::Model> for ElementView {
    fn from(e: element::Model) -> Self {
        Self {
            id: e.id,
            site_id: e.site_id,
            name: e.name,
            kind: e.kind,
            data: e.data,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

fn parse_kind(raw: &str) -> ApiResult<String> {
    let kind = raw.trim();
    let valid =
        (1..=50).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(kind.to_owned())
    } else {
        Err(ApiError::invalid_field("kind", "must be 1–50 letters, digits, `-` or `_`"))
    }
}

fn parse_data(data: Value) -> ApiResult<Value> {
    match data {
        Value::Null => Ok(json!({})),
        Value::Object(_) => Ok(data),
        _ => Err(ApiError::invalid_field("data", "must be a JSON object")),
    }
}

async fn find(ctx: &AppContext, scope: &TenantScope, site_id: Uuid, id: Uuid) -> ApiResult<element::Model> {
    visible(ctx, scope, site_id).await?;
    by_id_in_tenant::<element::Entity>(scope.tenant_id, id)
        .filter(element::Column::SiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("element"))
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    params: &ListParams,
) -> ApiResult<Page<ElementView>> {
    let scope = principal.require(Permission::ContentRead)?;
    visible(ctx, scope, site_id).await?;
    let sort = params.sort_or(&["name", "kind", "updatedAt"], Sort::asc("name"))?;
    let column = match sort.field.as_str() {
        "kind" => element::Column::Kind,
        "updatedAt" => element::Column::UpdatedAt,
        _ => element::Column::Name,
    };
    let select = in_tenant::<element::Entity>(scope.tenant_id).filter(element::Column::SiteId.eq(site_id));
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(ElementView::from))
}

pub async fn get(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<ElementView> {
    let scope = principal.require(Permission::ContentRead)?;
    Ok(find(ctx, scope, site_id, id).await?.into())
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    payload: ElementPayload,
) -> ApiResult<ElementView> {
    let scope = principal.require(Permission::ContentWrite)?;
    visible(ctx, scope, site_id).await?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let created = element::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(scope.tenant_id),
        site_id: Set(site_id),
        name: Set(parse_name("name", &payload.name)?),
        kind: Set(parse_kind(&payload.kind)?),
        data: Set(parse_data(payload.data)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "element.create",
        Target::new("element", created.id),
        json!({ "siteId": site_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(created.into())
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    patch: ElementPatch,
) -> ApiResult<ElementView> {
    let scope = principal.require(Permission::ContentWrite)?;
    let current = find(ctx, scope, site_id, id).await?;
    let mut active: element::ActiveModel = current.into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_name("name", name)?);
    }
    if let Some(kind) = &patch.kind {
        active.kind = Set(parse_kind(kind)?);
    }
    if let Some(data) = patch.data {
        active.data = Set(parse_data(data)?);
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "element.update", Target::new("element", id), Value::Null).await?;
    txn.commit().await?;
    // Pages embedding the element show the new version.
    hooks::site_changed(ctx, site_id).await;
    Ok(saved.into())
}

pub async fn usage(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<Vec<EntryView>> {
    let scope = principal.require(Permission::ContentRead)?;
    find(ctx, scope, site_id, id).await?;
    Ok(entries::referrers(&ctx.db, scope.tenant_id, id).await?.into_iter().map(EntryView::from).collect())
}

pub async fn delete(ctx: &AppContext, principal: &Principal, site_id: Uuid, id: Uuid) -> ApiResult<()> {
    let scope = principal.require(Permission::ContentWrite)?;
    let current = find(ctx, scope, site_id, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let users = entries::referrers(&txn, scope.tenant_id, id).await?;
    if !users.is_empty() {
        return Err(entries::in_use("this element", &users));
    }
    element::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "element.delete",
        Target::new("element", id),
        json!({ "name": current.name }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
