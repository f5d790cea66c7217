//! The public contact form of a site: submissions are stored for the tenant and announced with
//! a `contact.submitted` event. A filled-in honeypot field (`website`) means a bot: the answer
//! looks the same, nothing is stored.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::contact_submission;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::audit::{self, Target};
use crate::services::content::site_search::public_site;
use crate::services::identity::permissions::Permission;
use crate::services::identity::sites::visible;
use crate::services::identity::Principal;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactForm {
    pub name: Option<String>,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    /// Further form fields (flat object of strings, numbers or booleans).
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    /// Honeypot: hidden from people, filled in by bots. Leave it empty.
    #[serde(default)]
    pub website: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub id: Uuid,
    pub site_id: Uuid,
    pub name: Option<String>,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    pub fields: Value,
    /// `new` or `handled`.
    pub status: String,
    pub created_at: chrono::DateTime<Utc>,
    pub handled_at: Option<chrono::DateTime<Utc>>,
    pub handled_by: Option<String>,
}

impl From<contact_submission::Model> for ContactView {
    fn from(c: contact_submission::Model) -> Self {
        Self {
            id: c.id,
            site_id: c.site_id,
            name: c.name,
            email: c.email,
            subject: c.subject,
            message: c.message,
            fields: c.fields,
            status: c.status,
            created_at: c.created_at,
            handled_at: c.handled_at,
            handled_by: c.handled_by,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactPatch {
    /// `handled` or `new`.
    pub status: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactFilter {
    /// `new` or `handled`.
    pub status: Option<String>,
}

fn bounded(field: &str, raw: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if text.chars().count() > max {
        return Err(ApiError::invalid_field(field, format!("at most {max} characters")));
    }
    Ok(Some(text.to_owned()))
}

fn parse_email(raw: &str) -> ApiResult<String> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.contains(char::is_whitespace);
    if valid {
        Ok(email.to_owned())
    } else {
        Err(ApiError::invalid_field("email", "is not an email address"))
    }
}

/// Stores a submission; `Ok(None)` for a bot caught by the honeypot.
pub async fn submit(ctx: &AppContext, site_id: Uuid, ip: Option<&str>, form: ContactForm) -> ApiResult<Option<Uuid>> {
    let site = public_site(ctx, site_id).await?;
    ctx.content
        .contact_limiter
        .check(ip.unwrap_or("unknown"), "too many messages from this address; try again later")?;
    if form.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        return Ok(None);
    }
    let email = parse_email(&form.email)?;
    let message = bounded("message", Some(&form.message), 10_000)?
        .ok_or_else(|| ApiError::invalid_field("message", "is required"))?;
    let name = bounded("name", form.name.as_deref(), 200)?;
    let subject = bounded("subject", form.subject.as_deref(), 300)?;
    if form.fields.len() > 30
        || form.fields.values().any(|v| v.is_object() || v.is_array() || v.to_string().len() > 2000)
    {
        return Err(ApiError::invalid_field("fields", "at most 30 plain values of up to 2000 characters"));
    }
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = contact_submission::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(site.tenant_id),
        site_id: Set(site_id),
        name: Set(name),
        email: Set(email),
        subject: Set(subject),
        message: Set(message),
        fields: Set(Value::Object(form.fields)),
        status: Set("new".to_owned()),
        created_at: Set(Utc::now()),
        handled_at: Set(None),
        handled_by: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = crate::services::webhooks::events::ContactSubmittedV1 {
        submission_id: saved.id,
        site_id,
        email: saved.email.clone(),
        subject: saved.subject.clone(),
    };
    crate::services::webhooks::events::emit(&txn, site.tenant_id, &event).await?;
    txn.commit().await?;
    Ok(Some(saved.id))
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    filter: &ContactFilter,
    params: &ListParams,
) -> ApiResult<Page<ContactView>> {
    let scope = principal.require(Permission::ContentWrite)?;
    visible(ctx, scope, site_id).await?;
    let sort = params.sort_or(&["createdAt"], Sort::desc("createdAt"))?;
    let mut select =
        in_tenant::<contact_submission::Entity>(scope.tenant_id).filter(contact_submission::Column::SiteId.eq(site_id));
    if let Some(status) = &filter.status {
        select = select.filter(contact_submission::Column::Status.eq(status.as_str()));
    }
    Ok(fetch_page(&ctx.db, select, params, Some((contact_submission::Column::CreatedAt, sort.order())))
        .await?
        .map(ContactView::from))
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    site_id: Uuid,
    id: Uuid,
    patch: ContactPatch,
) -> ApiResult<ContactView> {
    let scope = principal.require(Permission::ContentWrite)?;
    visible(ctx, scope, site_id).await?;
    let current = by_id_in_tenant::<contact_submission::Entity>(scope.tenant_id, id)
        .filter(contact_submission::Column::SiteId.eq(site_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("contact submission"))?;
    let handled = match patch.status.as_str() {
        "handled" => true,
        "new" => false,
        _ => return Err(ApiError::invalid_field("status", "must be `handled` or `new`")),
    };
    let actor = principal.actor();
    let mut active: contact_submission::ActiveModel = current.into();
    active.status = Set(patch.status.clone());
    active.handled_at = Set(handled.then(Utc::now));
    active.handled_by =
        Set(handled.then(|| format!("{}:{}", actor.kind.as_str(), actor.id.clone().unwrap_or_default())));
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let saved = active.update(&txn).await?;
    audit::record(
        &txn,
        &actor,
        "contact.update",
        Target::new("contact_submission", id),
        json!({ "status": patch.status }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}
