//! Members of a tenant (roles, site limits, removal) and invitations to join.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{api_key, invite, membership, site, tenant, user};

use crate::app::context::AppContext;
use crate::engines::mail::Mail;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::identity::accounts::{add_membership, create_user, parse_email};
use crate::services::identity::credentials::{random_token, sha256_hex};
use crate::services::identity::permissions::{Permission, Role};
use crate::services::identity::principal::site_ids;
use crate::services::identity::sessions::{start_session, TokensView};
use crate::services::identity::Principal;

const INVITE_TTL_DAYS: i64 = 7;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Sites the member is limited to; null = all.
    pub site_ids: Option<Vec<Uuid>>,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberPatch {
    pub role: Option<Role>,
    /// A list of site ids to limit the member to, or null for every site.
    #[serde(default, deserialize_with = "crate::platform::patch::nullable")]
    #[schema(value_type = Option<Vec<Uuid>>)]
    pub site_ids: Option<Option<Vec<Uuid>>>,
}

/// Callers may only hand out roles up to their own (an admin cannot make owners).
pub fn check_grantable(principal: &Principal, role: Role) -> ApiResult<()> {
    let scope = principal.scope()?;
    let own = scope.role.unwrap_or(Role::Owner); // superadmins and keys with members.manage
    if role < own {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("you cannot grant the `{}` role", role.as_str())));
    }
    Ok(())
}

/// Site limits must name sites of this tenant.
pub async fn check_sites(ctx: &AppContext, tenant_id: Uuid, ids: &Option<Vec<Uuid>>) -> ApiResult<()> {
    let Some(ids) = ids else { return Ok(()) };
    let found = in_tenant::<site::Entity>(tenant_id).filter(site::Column::Id.is_in(ids.clone())).count(&ctx.db).await?;
    if found as usize != ids.len() {
        return Err(ApiError::not_found("site"));
    }
    Ok(())
}

pub async fn list(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<MemberView>> {
    let tenant_id = principal.require(Permission::MembersRead)?.tenant_id;
    let sort = params.sort_or(&["name", "email", "joinedAt"], Sort::asc("name"))?;
    let memberships =
        in_tenant::<membership::Entity>(tenant_id).filter(membership::Column::DeletedAt.is_null()).all(&ctx.db).await?;
    let ids: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    let users = user::Entity::find().filter(user::Column::Id.is_in(ids)).all(&ctx.db).await?;
    let mut members: Vec<MemberView> = memberships
        .into_iter()
        .filter_map(|m| {
            let u = users.iter().find(|u| u.id == m.user_id)?;
            Some(MemberView {
                user_id: u.id,
                email: u.email.clone(),
                name: u.name.clone(),
                role: m.role.parse().ok()?,
                site_ids: site_ids(m.site_ids.as_ref()),
                joined_at: m.created_at,
            })
        })
        .collect();
    members.sort_by(|a, b| match sort.field.as_str() {
        "email" => a.email.cmp(&b.email),
        "joinedAt" => a.joined_at.cmp(&b.joined_at),
        _ => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
    });
    if sort.descending {
        members.reverse();
    }
    Ok(Page::from_vec(members, params))
}

pub async fn find_membership(ctx: &AppContext, tenant_id: Uuid, user_id: Uuid) -> ApiResult<membership::Model> {
    in_tenant::<membership::Entity>(tenant_id)
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::DeletedAt.is_null())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))
}

async fn owners(ctx: &AppContext, tenant_id: Uuid) -> ApiResult<u64> {
    Ok(in_tenant::<membership::Entity>(tenant_id)
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .filter(membership::Column::DeletedAt.is_null())
        .count(&ctx.db)
        .await?)
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    user_id: Uuid,
    patch: MemberPatch,
) -> ApiResult<MemberView> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let member = find_membership(ctx, tenant_id, user_id).await?;
    let current: Role = member.role.parse().map_err(|e: String| ApiError::from(anyhow::anyhow!(e)))?;
    check_grantable(principal, current)?;
    let mut active: membership::ActiveModel = member.clone().into();
    if let Some(role) = patch.role {
        check_grantable(principal, role)?;
        if current == Role::Owner && role != Role::Owner && owners(ctx, tenant_id).await? <= 1 {
            return Err(ApiError::new(ErrorCode::Conflict, "a tenant needs at least one owner"));
        }
        active.role = Set(role.as_str().to_owned());
    }
    if let Some(limit) = &patch.site_ids {
        check_sites(ctx, tenant_id, limit).await?;
        active.site_ids = Set(limit.as_ref().map(|ids| serde_json::json!(ids)));
    }
    active.updated_at = Set(Utc::now());
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let member = active.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "member.update",
        Target::new("user", user_id),
        serde_json::json!({ "role": member.role }),
    )
    .await?;
    txn.commit().await?;
    let u = user::Entity::find_by_id(user_id).one(&ctx.db).await?.ok_or_else(|| ApiError::not_found("member"))?;
    Ok(MemberView {
        user_id,
        email: u.email,
        name: u.name,
        role: member.role.parse().unwrap_or(Role::Viewer),
        site_ids: site_ids(member.site_ids.as_ref()),
        joined_at: member.created_at,
    })
}

/// Soft-deletes the membership (the audit history keeps the user) and revokes the keys the
/// user created in this tenant.
pub async fn remove(ctx: &AppContext, principal: &Principal, user_id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let member = find_membership(ctx, tenant_id, user_id).await?;
    let role: Role = member.role.parse().map_err(|e: String| ApiError::from(anyhow::anyhow!(e)))?;
    check_grantable(principal, role)?;
    if role == Role::Owner && owners(ctx, tenant_id).await? <= 1 {
        return Err(ApiError::new(ErrorCode::Conflict, "a tenant needs at least one owner"));
    }
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let mut active: membership::ActiveModel = member.into();
    active.deleted_at = Set(Some(now));
    active.update(&txn).await?;
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(api_key::Column::TenantId.eq(tenant_id))
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    entity::group_member::Entity::delete_many()
        .filter(entity::group_member::Column::TenantId.eq(tenant_id))
        .filter(entity::group_member::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    audit::record(&txn, &principal.actor(), "member.remove", Target::new("user", user_id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitePayload {
    pub email: String,
    pub role: Role,
    pub site_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub site_ids: Option<Vec<Uuid>>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Returned once to the inviter: the link is also mailed to the invitee.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInviteView {
    #[serde(flatten)]
    pub invite: InviteView,
    pub token: String,
    pub accept_url: String,
}

impl From<invite::Model> for InviteView {
    fn from(i: invite::Model) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.parse().unwrap_or(Role::Viewer),
            site_ids: site_ids(i.site_ids.as_ref()),
            expires_at: i.expires_at,
            created_at: i.created_at,
        }
    }
}

pub async fn invite(ctx: &AppContext, principal: &Principal, payload: InvitePayload) -> ApiResult<CreatedInviteView> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let inviter = principal.user_id.ok_or_else(|| ApiError::invalid("invites are sent by users, not service keys"))?;
    let email = parse_email("email", &payload.email)?;
    check_grantable(principal, payload.role)?;
    check_sites(ctx, tenant_id, &payload.site_ids).await?;
    if let Some(existing) = user::Entity::find().filter(user::Column::Email.eq(&email)).one(&ctx.db).await? {
        if find_membership(ctx, tenant_id, existing.id).await.is_ok() {
            return Err(ApiError::new(ErrorCode::Conflict, "this person is already a member"));
        }
    }
    let token = random_token(32);
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let row = invite::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        email: Set(email.clone()),
        role: Set(payload.role.as_str().to_owned()),
        site_ids: Set(payload.site_ids.map(|ids| serde_json::json!(ids))),
        token_hash: Set(sha256_hex(&token)),
        invited_by: Set(inviter),
        expires_at: Set(now + Duration::days(INVITE_TTL_DAYS)),
        accepted_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "invite.create",
        Target::new("invite", row.id),
        serde_json::json!({ "email": email, "role": row.role }),
    )
    .await?;
    txn.commit().await?;
    let accept_url = format!("{}/accept-invite?token={token}", ctx.settings.public_url);
    let tenant_name = tenant::Entity::find_by_id(tenant_id).one(&ctx.db).await?.map(|t| t.name).unwrap_or_default();
    let mail = Mail {
        to: email,
        subject: format!("You are invited to {tenant_name} on Lectern"),
        body: format!("Accept the invitation within {INVITE_TTL_DAYS} days: {accept_url}"),
    };
    if let Err(error) = ctx.identity.mailer.send(mail).await {
        tracing::warn!(error = %error, "sending the invitation failed; share the link by hand");
    }
    Ok(CreatedInviteView { invite: row.into(), token, accept_url })
}

pub async fn list_invites(ctx: &AppContext, principal: &Principal, params: &ListParams) -> ApiResult<Page<InviteView>> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let rows = in_tenant::<invite::Entity>(tenant_id)
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(invite::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    Ok(Page::from_vec(rows.into_iter().map(InviteView::from).collect(), params))
}

pub async fn revoke_invite(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<()> {
    let tenant_id = principal.require(Permission::MembersManage)?.tenant_id;
    let row = by_id_in_tenant::<invite::Entity>(tenant_id, id)
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let mut active: invite::ActiveModel = row.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.update(&txn).await?;
    audit::record(&txn, &principal.actor(), "invite.revoke", Target::new("invite", id), serde_json::Value::Null)
        .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicInviteView {
    pub email: String,
    pub tenant_name: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
    /// True when an account with this email exists: accept while logged in as it.
    pub account_exists: bool,
}

async fn pending_invite(ctx: &AppContext, token: &str) -> ApiResult<invite::Model> {
    invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(sha256_hex(token)))
        .filter(invite::Column::AcceptedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(Utc::now()))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("invite (it may have expired, been used or been revoked)"))
}

pub async fn show_invite(ctx: &AppContext, token: &str) -> ApiResult<PublicInviteView> {
    let row = pending_invite(ctx, token).await?;
    let tenant_name = tenant::Entity::find_by_id(row.tenant_id).one(&ctx.db).await?.map(|t| t.name).unwrap_or_default();
    let account_exists = user::Entity::find().filter(user::Column::Email.eq(&row.email)).count(&ctx.db).await? > 0;
    Ok(PublicInviteView {
        email: row.email.clone(),
        tenant_name,
        role: row.role.parse().unwrap_or(Role::Viewer),
        expires_at: row.expires_at,
        account_exists,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptInvitePayload {
    /// Required when no account with the invited email exists.
    pub name: Option<String>,
    pub password: Option<String>,
}

/// Accepts an invitation: a new account is created with the given name and password, or the
/// logged-in user whose email was invited joins. Returns a fresh login session.
pub async fn accept_invite(
    ctx: &AppContext,
    token: &str,
    payload: AcceptInvitePayload,
    caller: Option<&Principal>,
) -> ApiResult<TokensView> {
    let row = pending_invite(ctx, token).await?;
    let existing = user::Entity::find().filter(user::Column::Email.eq(&row.email)).one(&ctx.db).await?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let user = match existing {
        Some(user) => {
            if caller.and_then(|p| p.user_id) != Some(user.id) {
                return Err(ApiError::new(ErrorCode::Unauthorized, "log in as the invited account to accept"));
            }
            user
        }
        None => {
            let name = payload
                .name
                .as_deref()
                .ok_or_else(|| ApiError::invalid_field("name", "is required for a new account"))?;
            let password = payload
                .password
                .as_deref()
                .ok_or_else(|| ApiError::invalid_field("password", "is required for a new account"))?;
            create_user(&txn, &row.email, name, password, false).await?
        }
    };
    let role: Role = row.role.parse().map_err(|e: String| ApiError::from(anyhow::anyhow!(e)))?;
    add_membership(&txn, row.tenant_id, user.id, role, site_ids(row.site_ids.as_ref())).await?;
    let mut active: invite::ActiveModel = row.clone().into();
    active.accepted_at = Set(Some(Utc::now()));
    active.update(&txn).await?;
    let actor = crate::services::audit::Actor {
        kind: crate::services::audit::ActorKind::User,
        id: Some(user.id.to_string()),
        tenant_id: Some(row.tenant_id),
        ip: None,
        request_id: None,
        platform: false,
    };
    audit::record(
        &txn,
        &actor,
        "invite.accept",
        Target::new("invite", row.id),
        serde_json::json!({ "role": row.role }),
    )
    .await?;
    let tokens = start_session(ctx, &txn, user.id, Uuid::now_v7()).await?;
    txn.commit().await?;
    Ok(tokens)
}
