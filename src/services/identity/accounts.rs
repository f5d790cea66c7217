//! User accounts: creating them (setup, CLI, invites), the caller's own profile, passwords.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{membership, tenant, user};

use crate::app::context::AppContext;
use crate::error::{conflict_on_unique, ApiError, ApiResult, ErrorCode};
use crate::platform::settings::SignupMode;
use crate::services::audit::{self, Actor, Target};
use crate::services::identity::credentials::{check_password_policy, hash_password, verify_password};
use crate::services::identity::permissions::{Permission, Role};
use crate::services::identity::sessions::revoke_all_for_user;
use crate::services::identity::tenants::{create_tenant_row, TenantPayload, TenantView};
use crate::services::identity::Principal;

/// An email address, trimmed and lower-cased, with a plausible shape.
pub fn parse_email(field: &str, raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid_field(field, "is not an email address"))
    }
}

/// A display name: 1 to 200 characters, none of them a control character (a tab, a newline or
/// an invisible code would break lists, CSV exports and logs).
pub fn parse_name(field: &str, raw: &str) -> ApiResult<String> {
    parse_line(field, raw, 200)
}

/// One line of text, trimmed: 1 to `max` characters and no control characters.
pub fn parse_line(field: &str, raw: &str, max: usize) -> ApiResult<String> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(ApiError::invalid_field(field, format!("must be 1 to {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(field, "must not contain control characters (tabs, line breaks, NUL)"));
    }
    Ok(text.to_owned())
}

/// Inserts a user with a hashed password (policy checked first).
pub async fn create_user<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    name: &str,
    password: &str,
    is_superadmin: bool,
) -> ApiResult<user::Model> {
    let email = parse_email("email", email)?;
    let name = parse_name("name", name)?;
    check_password_policy("password", password, &email, &name)?;
    let hash = hash_password(password.to_owned()).await?;
    insert_user(conn, &email, &name, Some(hash), None, is_superadmin).await
}

/// Inserts an active user from already-validated parts (a password hash, or none for users
/// who log in through a provider).
pub async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    name: &str,
    password_hash: Option<String>,
    avatar_url: Option<String>,
    is_superadmin: bool,
) -> ApiResult<user::Model> {
    let now = Utc::now();
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.to_owned()),
        name: Set(name.to_owned()),
        password_hash: Set(password_hash),
        is_superadmin: Set(is_superadmin),
        avatar_url: Set(avatar_url),
        locale: Set(None),
        status: Set("active".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(|e| conflict_on_unique(e, "a user with this email already exists"))
}

pub async fn add_membership<C: ConnectionTrait>(
    conn: &C,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
    site_ids: Option<Vec<Uuid>>,
) -> ApiResult<membership::Model> {
    let now = Utc::now();
    membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        user_id: Set(user_id),
        role: Set(role.as_str().to_owned()),
        site_ids: Set(site_ids.map(|ids| serde_json::json!(ids))),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(|e| conflict_on_unique(e, "this user is already a member of the tenant"))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetupStatusView {
    /// True once `POST /v1/auth/setup` has run.
    pub bootstrapped: bool,
    /// Login methods available on this server: `password` and the configured providers.
    pub providers: Vec<String>,
    /// The configured login providers with their button names and start URLs.
    pub oauth_providers: Vec<crate::services::identity::oauth::ProviderView>,
    pub signup_mode: SignupMode,
}

pub async fn setup_status(ctx: &AppContext) -> ApiResult<SetupStatusView> {
    let oauth = crate::services::identity::oauth::providers(ctx);
    let mut providers = vec!["password".to_owned()];
    providers.extend(oauth.iter().map(|p| p.id.clone()));
    Ok(SetupStatusView {
        bootstrapped: is_bootstrapped(&ctx.db).await?,
        providers,
        oauth_providers: oauth,
        signup_mode: ctx.settings.signup_mode,
    })
}

async fn is_bootstrapped<C: ConnectionTrait>(conn: &C) -> ApiResult<bool> {
    Ok(user::Entity::find().filter(user::Column::IsSuperadmin.eq(true)).count(conn).await? > 0)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetupPayload {
    pub email: String,
    pub name: String,
    pub password: String,
    /// The first tenant, owned by this user.
    pub tenant: TenantPayload,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetupView {
    pub user: UserView,
    pub tenant: TenantView,
}

/// One-shot bootstrap: the platform superadmin and the first tenant. 409 once done.
pub async fn setup(ctx: &AppContext, payload: SetupPayload, actor_ip: Option<String>) -> ApiResult<SetupView> {
    let txn = ctx.db.begin().await?;
    if is_bootstrapped(&txn).await? {
        return Err(ApiError::new(ErrorCode::Conflict, "the platform is already set up; log in instead"));
    }
    let user = create_user(&txn, &payload.email, &payload.name, &payload.password, true).await?;
    let tenant = create_tenant_row(&txn, &payload.tenant).await?;
    add_membership(&txn, tenant.id, user.id, Role::Owner, None).await?;
    let actor = Actor {
        kind: crate::services::audit::ActorKind::User,
        id: Some(user.id.to_string()),
        tenant_id: Some(tenant.id),
        ip: actor_ip,
        request_id: None,
        platform: false,
    };
    audit::record(
        &txn,
        &actor,
        "platform.setup",
        Target::new("tenant", tenant.id),
        serde_json::json!({ "email": user.email }),
    )
    .await?;
    txn.commit().await?;
    Ok(SetupView { user: UserView::from(&user), tenant: TenantView::from(tenant) })
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub locale: Option<String>,
    pub is_superadmin: bool,
    pub created_at: chrono::DateTime<Utc>,
}

impl From<&user::Model> for UserView {
    fn from(u: &user::Model) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            avatar_url: u.avatar_url.clone(),
            locale: u.locale.clone(),
            is_superadmin: u.is_superadmin,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipView {
    pub tenant_id: Uuid,
    pub tenant_name: String,
    pub tenant_slug: String,
    pub role: Role,
    /// Sites the user is limited to; null = all.
    pub site_ids: Option<Vec<Uuid>>,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeView {
    pub user: UserView,
    pub memberships: Vec<MembershipView>,
}

pub async fn me(ctx: &AppContext, principal: &Principal) -> ApiResult<MeView> {
    let user_id =
        principal.user_id.ok_or_else(|| ApiError::invalid("this credential has no user; see GET /v1/auth/test"))?;
    let user = crate::services::identity::principal::active_user(ctx, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::DeletedAt.is_null())
        .all(&ctx.db)
        .await?;
    let rows = with_tenants(&ctx.db, memberships).await?;
    let memberships = rows
        .into_iter()
        .filter_map(|(m, t)| {
            let role: Role = m.role.parse().ok()?;
            let tenant = t?;
            let permissions =
                if user.is_superadmin { Permission::ALL.to_vec() } else { role.permissions().into_iter().collect() };
            Some(MembershipView {
                tenant_id: tenant.id,
                tenant_name: tenant.name,
                tenant_slug: tenant.slug,
                role,
                site_ids: crate::services::identity::principal::site_ids(m.site_ids.as_ref()),
                permissions,
            })
        })
        .collect();
    Ok(MeView { user: UserView::from(&user), memberships })
}

/// Memberships with their tenants, without declaring a SeaORM relation for one query.
async fn with_tenants<C: ConnectionTrait>(
    conn: &C,
    memberships: Vec<membership::Model>,
) -> ApiResult<Vec<(membership::Model, Option<tenant::Model>)>> {
    let ids: Vec<Uuid> = memberships.iter().map(|m| m.tenant_id).collect();
    let tenants = tenant::Entity::find().filter(tenant::Column::Id.is_in(ids)).all(conn).await?;
    Ok(memberships
        .into_iter()
        .map(|m| {
            let t = tenants.iter().find(|t| t.id == m.tenant_id).cloned();
            (m, t)
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMePayload {
    pub name: Option<String>,
    /// An http(s) URL, or null to clear.
    #[serde(default, deserialize_with = "crate::platform::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    /// A locale code such as `en` or `pt-BR`, or null to clear.
    #[serde(default, deserialize_with = "crate::platform::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
}

pub async fn update_me(ctx: &AppContext, principal: &Principal, payload: UpdateMePayload) -> ApiResult<UserView> {
    let user_id = principal.user_id.ok_or_else(|| ApiError::invalid("this credential has no user"))?;
    let user = crate::services::identity::principal::active_user(ctx, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let mut active: user::ActiveModel = user.into();
    if let Some(name) = &payload.name {
        active.name = Set(parse_name("name", name)?);
    }
    if let Some(avatar) = payload.avatar_url {
        if let Some(url) = &avatar {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
                return Err(ApiError::invalid_field("avatarUrl", "must be an http(s) URL of at most 2000 characters"));
            }
        }
        active.avatar_url = Set(avatar);
    }
    if let Some(locale) = payload.locale {
        if let Some(code) = &locale {
            crate::services::identity::sites::parse_locale("locale", code)?;
        }
        active.locale = Set(locale);
    }
    active.updated_at = Set(Utc::now());
    let txn = ctx.db.begin().await?;
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "user.update_profile",
        Target::new("user", user.id),
        serde_json::Value::Null,
    )
    .await?;
    txn.commit().await?;
    Ok(UserView::from(&user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordPayload {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password and ends every other session of theirs.
pub async fn change_password(ctx: &AppContext, principal: &Principal, payload: ChangePasswordPayload) -> ApiResult<()> {
    let user_id = principal.user_id.ok_or_else(|| ApiError::invalid("this credential has no user"))?;
    let user = crate::services::identity::principal::active_user(ctx, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if !verify_password(payload.current_password, user.password_hash.clone()).await {
        return Err(ApiError::invalid_field("currentPassword", "is wrong"));
    }
    set_password(ctx, &user, &payload.new_password, &principal.actor()).await
}

/// Sets a new password (policy checked), revokes all sessions, and audits it.
pub async fn set_password(ctx: &AppContext, user: &user::Model, password: &str, actor: &Actor) -> ApiResult<()> {
    check_password_policy("newPassword", password, &user.email, &user.name)?;
    let hash = hash_password(password.to_owned()).await?;
    let txn = ctx.db.begin().await?;
    store_password(&txn, user, hash, actor).await?;
    txn.commit().await?;
    Ok(())
}

/// The write half of [`set_password`], for callers that need it inside their own transaction.
pub async fn store_password<C: ConnectionTrait>(
    conn: &C,
    user: &user::Model,
    hash: String,
    actor: &Actor,
) -> ApiResult<()> {
    let mut active: user::ActiveModel = user.clone().into();
    active.password_hash = Set(Some(hash));
    active.updated_at = Set(Utc::now());
    active.update(conn).await?;
    revoke_all_for_user(conn, user.id).await?;
    audit::record(conn, actor, "user.change_password", Target::new("user", user.id), serde_json::Value::Null).await?;
    Ok(())
}
