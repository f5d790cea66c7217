//! Tenants: the platform superadmin creates, suspends and deletes them; owners rename theirs.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{api_key, membership, site, tenant};

use crate::app::context::AppContext;
use crate::error::{conflict_on_unique, ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::in_tenant;
use crate::services::audit::{self, Target};
use crate::services::identity::accounts::parse_name;
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantPayload {
    pub name: String,
    /// Lower-case letters, digits and hyphens; derived from the name when absent.
    pub slug: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    /// `active` or `suspended`.
    pub status: String,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<tenant::Model> for TenantView {
    fn from(t: tenant::Model) -> Self {
        Self {
            id: t.id,
            name: t.name,
            slug: t.slug,
            status: t.status,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A URL-safe identifier: 1–63 of `a-z0-9-`, not starting or ending with `-`.
pub fn parse_slug(field: &str, raw: &str) -> ApiResult<String> {
    let slug = raw.trim();
    let valid = (1..=63).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if valid {
        Ok(slug.to_owned())
    } else {
        Err(ApiError::invalid_field(
            field,
            "must be 1–63 lower-case letters, digits or hyphens, not starting or ending with a hyphen",
        ))
    }
}

/// A slug made from a display name: "Acme Corp!" → "acme-corp".
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(63).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "tenant".to_owned()
    } else {
        slug
    }
}

pub async fn create_tenant_row<C: ConnectionTrait>(conn: &C, payload: &TenantPayload) -> ApiResult<tenant::Model> {
    let name = parse_name("tenant.name", &payload.name)?;
    let slug = match &payload.slug {
        Some(slug) => parse_slug("tenant.slug", slug)?,
        None => slugify(&name),
    };
    let now = Utc::now();
    tenant::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        slug: Set(slug),
        status: Set("active".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(|e| conflict_on_unique(e, "a tenant with this slug already exists"))
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: TenantPayload) -> ApiResult<TenantView> {
    principal.require_superadmin()?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let tenant = create_tenant_row(&txn, &payload).await?;
    audit::record(
        &txn,
        &principal.platform_actor(Some(tenant.id)),
        "tenant.create",
        Target::new("tenant", tenant.id),
        serde_json::json!({ "slug": tenant.slug }),
    )
    .await?;
    txn.commit().await?;
    Ok(tenant.into())
}

/// Superadmins see every tenant; everyone else the tenants they belong to.
pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<TenantView>> {
    let sort = params.sort_or(&["name", "slug", "createdAt"], Sort::asc("name"))?;
    let column = match sort.field.as_str() {
        "slug" => tenant::Column::Slug,
        "createdAt" => tenant::Column::CreatedAt,
        _ => tenant::Column::Name,
    };
    let mut select = tenant::Entity::find();
    if !principal.is_superadmin {
        let user_id = principal.user_id.unwrap_or_default();
        let own: Vec<Uuid> = match principal.credential {
            crate::services::identity::Credential::ApiKey { .. } => {
                principal.tenant.iter().map(|t| t.tenant_id).collect()
            }
            crate::services::identity::Credential::User { .. } => membership::Entity::find()
                .filter(membership::Column::UserId.eq(user_id))
                .filter(membership::Column::DeletedAt.is_null())
                .all(&ctx.db)
                .await?
                .into_iter()
                .map(|m| m.tenant_id)
                .collect(),
        };
        select = select.filter(tenant::Column::Id.is_in(own));
    }
    Ok(fetch_page(&ctx.db, select, params, Some((column, sort.order()))).await?.map(TenantView::from))
}

/// A tenant the caller may see: superadmins any, members their own, API keys their tenant.
async fn visible(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<tenant::Model> {
    let tenant = tenant::Entity::find_by_id(id).one(&ctx.db).await?.ok_or_else(|| ApiError::not_found("tenant"))?;
    if principal.is_superadmin {
        return Ok(tenant);
    }
    let allowed = match principal.credential {
        crate::services::identity::Credential::ApiKey { .. } => {
            principal.tenant.as_ref().is_some_and(|t| t.tenant_id == id)
        }
        crate::services::identity::Credential::User { .. } => {
            membership::Entity::find()
                .filter(membership::Column::UserId.eq(principal.user_id.unwrap_or_default()))
                .filter(membership::Column::TenantId.eq(id))
                .filter(membership::Column::DeletedAt.is_null())
                .count(&ctx.db)
                .await?
                > 0
        }
    };
    if allowed {
        Ok(tenant)
    } else {
        Err(ApiError::not_found("tenant"))
    }
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<TenantView> {
    Ok(visible(ctx, principal, id).await?.into())
}

/// Owners (tenant.manage in that tenant) and superadmins may rename a tenant.
pub async fn update(ctx: &AppContext, principal: &Principal, id: Uuid, patch: TenantPatch) -> ApiResult<TenantView> {
    let tenant = visible(ctx, principal, id).await?;
    if !principal.is_superadmin {
        let in_this_tenant = principal.tenant.as_ref().is_some_and(|t| t.tenant_id == id);
        if !in_this_tenant {
            return Err(ApiError::new(ErrorCode::InvalidRequest, "act in this tenant (X-Tenant-ID) to change it"));
        }
        principal.require(Permission::TenantManage)?;
    }
    let mut active: tenant::ActiveModel = tenant.into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_name("name", name)?);
    }
    if let Some(slug) = &patch.slug {
        active.slug = Set(parse_slug("slug", slug)?);
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let tenant =
        active.update(&txn).await.map_err(|e| conflict_on_unique(e, "a tenant with this slug already exists"))?;
    // An owner renames their own tenant; a superadmin acting from elsewhere acts on the platform.
    let acting_inside = principal.tenant.as_ref().is_some_and(|t| t.tenant_id == id && t.role.is_some());
    let actor = if acting_inside { principal.actor() } else { principal.platform_actor(Some(id)) };
    audit::record(
        &txn,
        &actor,
        "tenant.update",
        Target::new("tenant", id),
        serde_json::json!({ "name": tenant.name, "slug": tenant.slug }),
    )
    .await?;
    txn.commit().await?;
    Ok(tenant.into())
}

/// Suspends (`active = false`) or resumes a tenant. Suspended tenants' members and keys get 403.
pub async fn set_active(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    active_status: bool,
) -> ApiResult<TenantView> {
    principal.require_superadmin()?;
    let tenant = visible(ctx, principal, id).await?;
    let mut active: tenant::ActiveModel = tenant.into();
    active.status = Set(if active_status { "active" } else { "suspended" }.to_owned());
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let tenant = active.update(&txn).await?;
    let action = if active_status { "tenant.resume" } else { "tenant.suspend" };
    audit::record(
        &txn,
        &principal.platform_actor(Some(id)),
        action,
        Target::new("tenant", id),
        serde_json::Value::Null,
    )
    .await?;
    txn.commit().await?;
    Ok(tenant.into())
}

/// Deletes an empty tenant (no sites, no API keys); a tenant with content must be emptied first.
pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    principal.require_superadmin()?;
    visible(ctx, principal, id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let sites = in_tenant::<site::Entity>(id).count(&txn).await?;
    let keys = in_tenant::<api_key::Entity>(id).count(&txn).await?;
    if sites + keys > 0 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the tenant still has sites or API keys; delete them first (or suspend the tenant)",
        )
        .with_details(serde_json::json!({ "sites": sites, "apiKeys": keys })));
    }
    membership::Entity::delete_many().filter(membership::Column::TenantId.eq(id)).exec(&txn).await?;
    // Content types outlive sites (they are the tenant's); with no site they have no entries.
    entity::content_type::Entity::delete_many()
        .filter(entity::content_type::Column::TenantId.eq(id))
        .exec(&txn)
        .await?;
    tenant::Entity::delete_by_id(id).exec(&txn).await?;
    // The tenant is gone: the row lives on in the platform view only.
    audit::record(
        &txn,
        &principal.platform_actor(None),
        "tenant.delete",
        Target::new("tenant", id),
        serde_json::Value::Null,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_validated_and_derived() {
        assert_eq!(slugify("Acme Corp!"), "acme-corp");
        assert_eq!(slugify("  Ünïcode -- Name "), "n-code-name");
        assert_eq!(slugify("!!!"), "tenant");
        assert!(parse_slug("slug", "good-slug-1").is_ok());
        for bad in ["", "-x", "x-", "Upper", "sp ace", &"a".repeat(64)] {
            assert!(parse_slug("slug", bad).is_err(), "{bad}");
        }
    }
}
