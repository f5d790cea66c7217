//! Who is calling: resolving a bearer credential (access token or API key) and an optional
//! tenant choice into a [`Principal`] with its effective permissions in that tenant.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{api_key, group, group_member, membership, session, tenant, user};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::tenancy::in_tenant;
use crate::services::audit::{Actor, ActorKind};
use crate::services::identity::credentials::sha256_hex;
use crate::services::identity::permissions::{Permission, Role};

pub const API_KEY_LIVE_PREFIX: &str = "lk_live_";
pub const API_KEY_TEST_PREFIX: &str = "lk_test_";

#[derive(Debug, Clone)]
pub enum Credential {
    /// A logged-in user; `session` is the refresh-token family the access token came from.
    User {
        session: Uuid,
    },
    ApiKey {
        key_id: Uuid,
        test_mode: bool,
    },
}

/// The caller's rights inside one tenant.
#[derive(Debug, Clone)]
pub struct TenantScope {
    pub tenant_id: Uuid,
    /// None for superadmins acting in a tenant they are not a member of, and for API keys.
    pub role: Option<Role>,
    pub permissions: BTreeSet<Permission>,
    /// Sites the caller is limited to; None = every site of the tenant.
    pub site_ids: Option<Vec<Uuid>>,
    /// Groups of the tenant the caller belongs to.
    pub groups: Vec<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub credential: Credential,
    /// The user behind the call: the logged-in user, or the creator of a user-owned API key.
    pub user_id: Option<Uuid>,
    pub is_superadmin: bool,
    pub tenant: Option<TenantScope>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Principal {
    /// The tenant the call acts in, or a 400 asking the caller to choose one.
    pub fn scope(&self) -> ApiResult<&TenantScope> {
        self.tenant.as_ref().ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidRequest, "choose a tenant with the X-Tenant-ID header")
                .with_details(serde_json::json!({ "header": "X-Tenant-ID" }))
        })
    }

    pub fn tenant_id(&self) -> ApiResult<Uuid> {
        Ok(self.scope()?.tenant_id)
    }

    /// The tenant scope, if it grants `permission`; 403 otherwise.
    pub fn require(&self, permission: Permission) -> ApiResult<&TenantScope> {
        let scope = self.scope()?;
        if scope.permissions.contains(&permission) {
            Ok(scope)
        } else {
            Err(ApiError::new(ErrorCode::Forbidden, format!("this needs the `{}` permission", permission.as_str()))
                .with_details(serde_json::json!({ "permission": permission.as_str() })))
        }
    }

    pub fn require_superadmin(&self) -> ApiResult<()> {
        if self.is_superadmin && matches!(self.credential, Credential::User { .. }) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden, "this needs a platform superadmin"))
        }
    }

    /// Sandbox calls (test API keys) are metered but never charged.
    pub fn is_test_mode(&self) -> bool {
        matches!(self.credential, Credential::ApiKey { test_mode: true, .. })
    }

    /// The audit log's view of this caller.
    pub fn actor(&self) -> Actor {
        let (kind, id) = match &self.credential {
            Credential::User { .. } => (ActorKind::User, self.user_id.map(|u| u.to_string())),
            Credential::ApiKey { key_id, .. } => (ActorKind::ApiKey, Some(key_id.to_string())),
        };
        Actor {
            kind,
            id,
            tenant_id: self.tenant.as_ref().map(|t| t.tenant_id),
            ip: self.ip.clone(),
            request_id: self.request_id.clone(),
            platform: false,
        }
    }

    /// The audit log's view of a superadmin's platform action on `target` (the tenant it was
    /// done to, or None): it is filed there and in the platform view, never in the log of the
    /// tenant the superadmin happens to act in or belong to.
    pub fn platform_actor(&self, target: Option<Uuid>) -> Actor {
        Actor { tenant_id: target, platform: true, ..self.actor() }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

/// Resolves `Authorization: Bearer <token>` plus an optional `X-Tenant-ID` choice.
pub async fn authenticate(
    ctx: &AppContext,
    bearer: &str,
    tenant_choice: Option<Uuid>,
    ip: Option<String>,
    request_id: Option<String>,
) -> ApiResult<Principal> {
    let is_key = bearer.starts_with(API_KEY_LIVE_PREFIX) || bearer.starts_with(API_KEY_TEST_PREFIX);
    // An access token's signature and expiry are checked on every call (no query needed).
    let claims = if is_key { None } else { Some(ctx.identity.jwt.verify(bearer).map_err(|r| unauthorized(&r))?) };
    let mut principal = match ctx.identity.principals.get(bearer, tenant_choice) {
        Ok(cached) => cached,
        Err(ticket) => {
            let (principal, until) = match claims {
                None => from_api_key(ctx, bearer, tenant_choice).await?,
                Some(claims) => (from_access_token(ctx, &claims, tenant_choice).await?, None),
            };
            ctx.identity.principals.put(ticket, &principal, until);
            principal
        }
    };
    principal.ip = ip;
    principal.request_id = request_id;
    Ok(principal)
}

async fn from_access_token(
    ctx: &AppContext,
    claims: &crate::services::identity::credentials::AccessClaims,
    tenant_choice: Option<Uuid>,
) -> ApiResult<Principal> {
    let live_session = session::Entity::find()
        .filter(session::Column::FamilyId.eq(claims.sid))
        .filter(session::Column::RevokedAt.is_null())
        .one(&ctx.db)
        .await?;
    if live_session.is_none() {
        return Err(unauthorized("the session has ended; log in again"));
    }
    let user = active_user(ctx, claims.sub).await?.ok_or_else(|| unauthorized("the account is not active"))?;
    let tenant = resolve_tenant(ctx, &user, tenant_choice).await?;
    Ok(Principal {
        credential: Credential::User { session: claims.sid },
        user_id: Some(user.id),
        is_superadmin: user.is_superadmin,
        tenant,
        ip: None,
        request_id: None,
    })
}

pub async fn active_user(ctx: &AppContext, id: Uuid) -> ApiResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id)
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::Status.eq("active"))
        .one(&ctx.db)
        .await?)
}

/// The tenant a user acts in: the one chosen by header, else their only membership. A tenant
/// the user cannot see is 404, exactly like one that does not exist.
async fn resolve_tenant(ctx: &AppContext, user: &user::Model, choice: Option<Uuid>) -> ApiResult<Option<TenantScope>> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .filter(membership::Column::DeletedAt.is_null())
        .all(&ctx.db)
        .await?;
    let chosen = match choice {
        Some(id) => Some(id),
        None if memberships.len() == 1 => memberships.first().map(|m| m.tenant_id),
        None => None,
    };
    let Some(tenant_id) = chosen else { return Ok(None) };
    let tenant = tenant::Entity::find_by_id(tenant_id).one(&ctx.db).await?;
    let member = memberships.iter().find(|m| m.tenant_id == tenant_id);
    let (Some(tenant), true) = (tenant, member.is_some() || user.is_superadmin) else {
        return Err(ApiError::not_found("tenant"));
    };
    if tenant.status != "active" && !user.is_superadmin {
        return Err(ApiError::new(ErrorCode::Forbidden, "this tenant is suspended"));
    }
    Ok(Some(match member {
        Some(m) => {
            let role: Role = m.role.parse().map_err(|e: String| ApiError::from(anyhow::anyhow!(e)))?;
            let groups = user_groups(ctx, tenant_id, user.id).await?;
            let mut access = vec![(role, site_ids(m.site_ids.as_ref()))];
            access.extend(groups.iter().filter_map(|g| Some((g.role.parse().ok()?, site_ids(g.site_ids.as_ref())))));
            let (mut permissions, site_ids) = combine(&access);
            if user.is_superadmin {
                permissions = Permission::ALL.iter().copied().collect();
            }
            TenantScope {
                tenant_id,
                role: Some(role),
                permissions,
                site_ids,
                groups: groups.iter().map(|g| g.id).collect(),
            }
        }
        None => TenantScope {
            tenant_id,
            role: None,
            permissions: Permission::ALL.iter().copied().collect(),
            site_ids: None,
            groups: Vec::new(),
        },
    }))
}

async fn user_groups(ctx: &AppContext, tenant_id: Uuid, user_id: Uuid) -> ApiResult<Vec<group::Model>> {
    let links = in_tenant::<group_member::Entity>(tenant_id)
        .filter(group_member::Column::UserId.eq(user_id))
        .all(&ctx.db)
        .await?;
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = links.iter().map(|l| l.group_id).collect();
    Ok(group::Entity::find().filter(group::Column::Id.is_in(ids)).all(&ctx.db).await?)
}

/// Effective access from several sources (own membership, groups): the union of their
/// permissions; unlimited if any source is unlimited, else the union of their sites.
pub fn combine(sources: &[(Role, Option<Vec<Uuid>>)]) -> (BTreeSet<Permission>, Option<Vec<Uuid>>) {
    let permissions = sources.iter().flat_map(|(role, _)| role.permissions()).collect();
    let mut sites: Option<Vec<Uuid>> = Some(Vec::new());
    for (_, limit) in sources {
        match (limit, sites.as_mut()) {
            (None, _) => sites = None,
            (Some(ids), Some(all)) => {
                for id in ids {
                    if !all.contains(id) {
                        all.push(*id);
                    }
                }
            }
            (Some(_), None) => {}
        }
    }
    (permissions, sites)
}

pub fn site_ids(value: Option<&serde_json::Value>) -> Option<Vec<Uuid>> {
    value.and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The key's principal and, for a key that expires, when (a cached copy must not outlive it).
async fn from_api_key(
    ctx: &AppContext,
    key: &str,
    tenant_choice: Option<Uuid>,
) -> ApiResult<(Principal, Option<std::time::Instant>)> {
    let now = Utc::now();
    let record = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(sha256_hex(key)))
        .one(&ctx.db)
        .await?
        .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now))
        .ok_or_else(|| unauthorized("the API key is invalid, revoked or expired"))?;
    if tenant_choice.is_some_and(|t| t != record.tenant_id) {
        return Err(ApiError::not_found("tenant"));
    }
    let tenant = tenant::Entity::find_by_id(record.tenant_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| unauthorized("the API key's tenant is gone"))?;
    if tenant.status != "active" {
        return Err(ApiError::new(ErrorCode::Forbidden, "this tenant is suspended"));
    }
    // Writing last-used on every call would turn reads into writes; once a minute is enough.
    if record.last_used_at.is_none_or(|at| now - at > Duration::seconds(60)) {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(api_key::Column::Id.eq(record.id))
            .exec(&ctx.db)
            .await?;
    }
    let permissions = scopes(&record.scopes);
    let until = record.expires_at.map(|at| {
        let left = (at - now).to_std().unwrap_or_default();
        std::time::Instant::now() + left
    });
    let principal = Principal {
        credential: Credential::ApiKey { key_id: record.id, test_mode: record.mode == "test" },
        user_id: record.user_id,
        is_superadmin: false,
        tenant: Some(TenantScope {
            tenant_id: record.tenant_id,
            role: None,
            permissions,
            site_ids: None,
            groups: Vec::new(),
        }),
        ip: None,
        request_id: None,
    };
    Ok((principal, until))
}

pub fn scopes(value: &serde_json::Value) -> BTreeSet<Permission> {
    value.as_array().map(|items| items.iter().filter_map(|v| v.as_str()?.parse().ok()).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_add_permissions_and_widen_site_limits() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (perms, sites) = combine(&[(Role::Viewer, Some(vec![a])), (Role::Editor, Some(vec![b, a]))]);
        assert!(perms.contains(&Permission::ContentPublish));
        assert_eq!(sites, Some(vec![a, b]));
        let (_, sites) = combine(&[(Role::Viewer, Some(vec![a])), (Role::Author, None)]);
        assert_eq!(sites, None, "an unlimited source lifts the limit");
        let (perms, _) = combine(&[(Role::Viewer, None)]);
        assert_eq!(perms, Role::Viewer.permissions());
    }
}
