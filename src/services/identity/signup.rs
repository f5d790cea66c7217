//! Self-service sign-up under the platform's sign-up mode, and the approval waitlist.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::{user, waitlist_entry};

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::paging::{ListParams, Page};
use crate::platform::settings::SignupMode;
use crate::services::audit::{self, Actor, ActorKind, Target};
use crate::services::identity::accounts::{add_membership, insert_user, parse_email, parse_name};
use crate::services::identity::credentials::{check_password_policy, hash_password};
use crate::services::identity::permissions::Role;
use crate::services::identity::sessions::{start_session, TokensView};
use crate::services::identity::tenants::{create_tenant_row, TenantPayload};
use crate::services::identity::Principal;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupPayload {
    pub email: String,
    pub name: String,
    pub password: String,
    /// The new account's own tenant; defaults to "<name>'s workspace".
    pub tenant_name: Option<String>,
}

/// Either a session (open sign-up) or a place on the waitlist (approval mode).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all_fields = "camelCase", tag = "status")]
pub enum SignupOutcome {
    /// The account exists and is logged in.
    #[serde(rename = "active")]
    Active { tokens: TokensView },
    /// A superadmin must approve the sign-up first.
    #[serde(rename = "pending")]
    Pending { waitlist_id: Uuid },
}

async fn email_taken(ctx: &AppContext, email: &str) -> ApiResult<bool> {
    Ok(user::Entity::find().filter(user::Column::Email.eq(email)).count(&ctx.db).await? > 0)
}

pub async fn signup(ctx: &AppContext, payload: SignupPayload) -> ApiResult<SignupOutcome> {
    match ctx.settings.signup_mode {
        SignupMode::Off => return Err(ApiError::new(ErrorCode::Forbidden, "sign-up is closed on this server")),
        SignupMode::Invite => return Err(ApiError::new(ErrorCode::Forbidden, "sign-up is by invitation only")),
        SignupMode::Open | SignupMode::Approval => {}
    }
    let email = parse_email("email", &payload.email)?;
    let name = parse_name("name", &payload.name)?;
    check_password_policy("password", &payload.password, &email, &name)?;
    let tenant_name = match &payload.tenant_name {
        Some(t) => parse_name("tenantName", t)?,
        None => format!("{name}'s workspace"),
    };
    if email_taken(ctx, &email).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "an account with this email already exists; log in or reset the password",
        ));
    }
    let hash = hash_password(payload.password).await?;
    if ctx.settings.signup_mode == SignupMode::Approval {
        let txn = crate::engines::store::begin_write(&ctx.db).await?;
        let entry = waitlist_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.clone()),
            name: Set(name),
            password_hash: Set(hash),
            tenant_name: Set(tenant_name),
            status: Set("pending".to_owned()),
            created_at: Set(Utc::now()),
            decided_at: Set(None),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &Actor::system(),
            "signup.waitlist",
            Target::new("waitlist", entry.id),
            serde_json::json!({ "email": email }),
        )
        .await?;
        txn.commit().await?;
        return Ok(SignupOutcome::Pending { waitlist_id: entry.id });
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let (user, _) = activate(&txn, &email, &name, hash, &tenant_name).await?;
    let tokens = start_session(ctx, &txn, user.id, Uuid::now_v7()).await?;
    txn.commit().await?;
    Ok(SignupOutcome::Active { tokens })
}

/// Creates the user (with an already-hashed password) and their own tenant, as its owner.
async fn activate<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    name: &str,
    hash: String,
    tenant_name: &str,
) -> ApiResult<(user::Model, Uuid)> {
    let user = insert_user(conn, email, name, Some(hash), None, false).await?;
    let tenant_id = create_own_tenant(conn, &user, tenant_name).await?;
    Ok((user, tenant_id))
}

/// A tenant of their own for a self-registered user, named after them.
pub async fn own_tenant<C: ConnectionTrait>(conn: &C, user: &user::Model) -> ApiResult<()> {
    create_own_tenant(conn, user, &format!("{}'s workspace", user.name)).await.map(|_| ())
}

async fn create_own_tenant<C: ConnectionTrait>(conn: &C, user: &user::Model, tenant_name: &str) -> ApiResult<Uuid> {
    // A suffix from the user id keeps slugs unique when two people share a name.
    let slug =
        format!("{}-{}", crate::services::identity::tenants::slugify(tenant_name), &user.id.simple().to_string()[24..]);
    let tenant = create_tenant_row(conn, &TenantPayload { name: tenant_name.to_owned(), slug: Some(slug) }).await?;
    add_membership(conn, tenant.id, user.id, Role::Owner, None).await?;
    let actor = Actor {
        kind: ActorKind::User,
        id: Some(user.id.to_string()),
        tenant_id: Some(tenant.id),
        ip: None,
        request_id: None,
        platform: false,
    };
    audit::record(
        conn,
        &actor,
        "signup.complete",
        Target::new("user", user.id),
        serde_json::json!({ "tenantId": tenant.id }),
    )
    .await?;
    Ok(tenant.id)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub tenant_name: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<waitlist_entry::Model> for WaitlistView {
    fn from(w: waitlist_entry::Model) -> Self {
        Self {
            id: w.id,
            email: w.email,
            name: w.name,
            tenant_name: w.tenant_name,
            status: w.status,
            created_at: w.created_at,
            decided_at: w.decided_at,
        }
    }
}

pub async fn list_waitlist(
    ctx: &AppContext,
    principal: &Principal,
    params: &ListParams,
) -> ApiResult<Page<WaitlistView>> {
    principal.require_superadmin()?;
    let rows = waitlist_entry::Entity::find().order_by_asc(waitlist_entry::Column::CreatedAt).all(&ctx.db).await?;
    Ok(Page::from_vec(rows.into_iter().map(WaitlistView::from).collect(), params))
}

/// Approves (creating the account and its tenant) or rejects a pending sign-up.
pub async fn decide(ctx: &AppContext, principal: &Principal, id: Uuid, approve: bool) -> ApiResult<WaitlistView> {
    principal.require_superadmin()?;
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let entry =
        waitlist_entry::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| ApiError::not_found("waitlist entry"))?;
    if entry.status != "pending" {
        return Err(ApiError::new(ErrorCode::Conflict, format!("this sign-up was already {}", entry.status)));
    }
    let created = if approve {
        Some(activate(&txn, &entry.email, &entry.name, entry.password_hash.clone(), &entry.tenant_name).await?.1)
    } else {
        None
    };
    let mut active: waitlist_entry::ActiveModel = entry.into();
    active.status = Set(if approve { "approved" } else { "rejected" }.to_owned());
    active.decided_at = Set(Some(Utc::now()));
    // The hash is no longer needed on the waitlist either way.
    active.password_hash = Set(String::new());
    let entry = active.update(&txn).await?;
    let action = if approve { "signup.approve" } else { "signup.reject" };
    audit::record(
        &txn,
        &principal.platform_actor(created),
        action,
        Target::new("waitlist", id),
        serde_json::json!({ "email": entry.email }),
    )
    .await?;
    txn.commit().await?;
    Ok(entry.into())
}
