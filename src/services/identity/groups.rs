//! Groups: teams inside a tenant holding a role and site limits, so access is managed for
//! teams rather than person by person. A member's effective access is the union of their own
//! membership and their groups (see `principal::resolve_tenant`).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{group, group_member};

use crate::app::context::AppContext;
use crate::error::{conflict_on_unique, ApiError, ApiResult};
use crate::platform::paging::{ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::accounts::parse_name;
use crate::services::identity::members::{check_grantable, check_sites, find_membership};
use crate::services::identity::permissions::{Permission, Role};
use crate::services::identity::principal::site_ids;
use crate::services::identity::Principal;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPayload {
    pub name: String,
    pub role: Role,
    pub site_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "crate::platform::patch::nullable")]
    #[schema(value_type = Option<Vec<Uuid>>)]
    pub site_ids: Option<Option<Vec<Uuid>>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupMemberPayload {
    pub user_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub site_ids: Option<Vec<Uuid>>,
    pub member_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(g: group::Model, member_ids: Vec<Uuid>) -> GroupView {
    GroupView {
        id: g.id,
        name: g.name,
        role: g.role.parse().unwrap_or(Role::Viewer),
        site_ids: site_ids(g.site_ids.as_ref()),
        member_ids,
        created_at: g.created_at,
        updated_at: g.updated_at,
    }
}

async fn find(ctx: &AppContext, tenant_id: Uuid, id: Uuid) -> ApiResult<group::Model> {
    by_id_in_tenant::<group::Entity>(tenant_id, id).one(&ctx.db).await?.ok_or_else(|| ApiError::not_found("group"))
}

async fn member_ids(ctx: &AppContext, group_id: Uuid) -> ApiResult<Vec<Uuid>> {
    let rows = group_member::Entity::find().filter(group_member::Column::GroupId.eq(group_id)).all(&ctx.db).await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<GroupView>> {
    let tenant_id = principal.require(Permission::MembersRead)?.tenant_id;
    let sort = params.sort_or(&["name", "createdAt"], Sort::asc("name"))?;
    let groups = in_tenant::<group::Entity>(tenant_id).all(&ctx.db).await?;
    let links = in_tenant::<group_member::Entity>(tenant_id).all(&ctx.db).await?;
    let mut views: Vec<GroupView> = groups
        .into_iter()
        .map(|g| {
            let ids = links.iter().filter(|l| l.group_id == g.id).map(|l| l.user_id).collect();
            view(g, ids)
        })
        .collect();
    views.sort_by(|a, b| match sort.field.as_str() {
        "createdAt" => a.created_at.cmp(&b.created_at),
        _ => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
    });
    if sort.descending {
        views.reverse();
    }
    Ok(Page::from_vec(views, params))
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<GroupView> {
    let tenant_id = principal.require(Permission::MembersRead)?.tenant_id;
    let g = find(ctx, tenant_id, id).await?;
    Ok(view(g, member_ids(ctx, id).await?))
}

pub async fn create(ctx: &AppContext, principal: &Principal, payload: GroupPayload) -> ApiResult<GroupView> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let name = parse_name("name", &payload.name)?;
    check_grantable(principal, payload.role)?;
    check_sites(ctx, tenant_id, &payload.site_ids).await?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let g = group::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        name: Set(name),
        role: Set(payload.role.as_str().to_owned()),
        site_ids: Set(payload.site_ids.map(|ids| serde_json::json!(ids))),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "a group with this name already exists"))?;
    audit::record(
        &txn,
        &principal.actor(),
        "group.create",
        Target::new("group", g.id),
        serde_json::json!({ "name": g.name, "role": g.role }),
    )
    .await?;
    txn.commit().await?;
    Ok(view(g, Vec::new()))
}

pub async fn update(ctx: &AppContext, principal: &Principal, id: Uuid, patch: GroupPatch) -> ApiResult<GroupView> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let g = find(ctx, tenant_id, id).await?;
    check_grantable(principal, g.role.parse().unwrap_or(Role::Owner))?;
    let mut active: group::ActiveModel = g.into();
    if let Some(name) = &patch.name {
        active.name = Set(parse_name("name", name)?);
    }
    if let Some(role) = patch.role {
        check_grantable(principal, role)?;
        active.role = Set(role.as_str().to_owned());
    }
    if let Some(limit) = &patch.site_ids {
        check_sites(ctx, tenant_id, limit).await?;
        active.site_ids = Set(limit.as_ref().map(|ids| serde_json::json!(ids)));
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let g = active.update(&txn).await.map_err(|e| conflict_on_unique(e, "a group with this name already exists"))?;
    audit::record(
        &txn,
        &principal.actor(),
        "group.update",
        Target::new("group", id),
        serde_json::json!({ "name": g.name, "role": g.role }),
    )
    .await?;
    txn.commit().await?;
    Ok(view(g, member_ids(ctx, id).await?))
}

pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let g = find(ctx, tenant_id, id).await?;
    check_grantable(principal, g.role.parse().unwrap_or(Role::Owner))?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    group_member::Entity::delete_many().filter(group_member::Column::GroupId.eq(id)).exec(&txn).await?;
    group::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "group.delete",
        Target::new("group", id),
        serde_json::json!({ "name": g.name }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Adds a member of the tenant to a group (someone outside the tenant is 404).
pub async fn add_member(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    payload: GroupMemberPayload,
) -> ApiResult<GroupView> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let g = find(ctx, tenant_id, id).await?;
    check_grantable(principal, g.role.parse().unwrap_or(Role::Owner))?;
    find_membership(ctx, tenant_id, payload.user_id).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    group_member::ActiveModel {
        group_id: Set(id),
        user_id: Set(payload.user_id),
        tenant_id: Set(tenant_id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "already in this group"))?;
    audit::record(
        &txn,
        &principal.actor(),
        "group.add_member",
        Target::new("group", id),
        serde_json::json!({ "userId": payload.user_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(view(g, member_ids(ctx, id).await?))
}

pub async fn remove_member(ctx: &AppContext, principal: &Principal, id: Uuid, user_id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let g = find(ctx, tenant_id, id).await?;
    check_grantable(principal, g.role.parse().unwrap_or(Role::Owner))?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let removed = group_member::Entity::delete_many()
        .filter(group_member::Column::GroupId.eq(id))
        .filter(group_member::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(ApiError::not_found("group member"));
    }
    audit::record(
        &txn,
        &principal.actor(),
        "group.remove_member",
        Target::new("group", id),
        serde_json::json!({ "userId": user_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
