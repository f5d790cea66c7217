//! Identity and tenancy: who may do what, in which tenant.
//!
//! Services here take a [`Principal`] (never a tenant id from the client) and scope every query
//! by its tenant; an id from another tenant is `404 NOT_FOUND`, exactly like a missing one.

pub mod accounts;
pub mod api_keys;
pub mod credentials;
pub mod groups;
pub mod keys;
pub mod members;
pub mod oauth;
pub mod permissions;
pub mod principal;
pub mod principal_cache;
pub mod recovery;
pub mod sessions;
pub mod signup;
pub mod sites;
pub mod tenants;
pub mod throttle;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use principal::{Credential, Principal, TenantScope};

use crate::error::ApiResult;
use permissions::{Permission, Role};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    pub role: Role,
    pub description: String,
    pub permissions: Vec<Permission>,
}

/// The fixed roles and what each may do.
pub fn roles() -> Vec<RoleView> {
    Role::ALL
        .into_iter()
        .map(|role| RoleView {
            role,
            description: role.description().to_owned(),
            permissions: role.permissions().into_iter().collect(),
        })
        .collect()
}

/// What `GET /v1/auth/test` and `GET /v1/auth/my-permissions` say about the caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallerView {
    /// `user` or `api_key`.
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    /// True for `lk_test_` keys: metered but never charged.
    pub test_mode: bool,
    pub is_superadmin: bool,
    /// The tenant this call acts in (chosen by `X-Tenant-ID`, or the only one).
    pub tenant_id: Option<Uuid>,
    pub role: Option<Role>,
    pub permissions: Vec<Permission>,
    /// Sites the caller is limited to; null = all.
    pub site_ids: Option<Vec<Uuid>>,
    /// Groups of the tenant the caller belongs to (their roles add to the caller's).
    pub groups: Vec<Uuid>,
}

pub fn describe(principal: &Principal) -> ApiResult<CallerView> {
    let (kind, api_key_id, test_mode) = match &principal.credential {
        Credential::User { .. } => ("user", None, false),
        Credential::ApiKey { key_id, test_mode } => ("api_key", Some(*key_id), *test_mode),
    };
    let scope = principal.tenant.as_ref();
    Ok(CallerView {
        kind: kind.to_owned(),
        user_id: principal.user_id,
        api_key_id,
        test_mode,
        is_superadmin: principal.is_superadmin,
        tenant_id: scope.map(|s| s.tenant_id),
        role: scope.and_then(|s| s.role),
        permissions: scope.map(|s| s.permissions.iter().copied().collect()).unwrap_or_default(),
        site_ids: scope.and_then(|s| s.site_ids.clone()),
        groups: scope.map(|s| s.groups.clone()).unwrap_or_default(),
    })
}

/// `GET /v1/auth/my-permissions`: the caller in the current tenant, plus every tenant they can
/// act in (choose one with `X-Tenant-ID`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyPermissionsView {
    #[serde(flatten)]
    pub caller: CallerView,
    pub tenants: Vec<accounts::MembershipView>,
}

pub async fn my_permissions(
    ctx: &crate::app::context::AppContext,
    principal: &Principal,
) -> ApiResult<MyPermissionsView> {
    let caller = describe(principal)?;
    let tenants = match principal.credential {
        Credential::User { .. } => accounts::me(ctx, principal).await?.memberships,
        Credential::ApiKey { .. } => Vec::new(),
    };
    Ok(MyPermissionsView { caller, tenants })
}
