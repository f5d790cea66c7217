//! Reading the audit log: a tenant's events filtered by actor, action, target and dates, as a
//! page or as CSV.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::audit_event;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::platform::paging::{fetch_page, ListParams, Page, Sort};
use crate::platform::tenancy::in_tenant;
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

/// The most rows one CSV export holds.
const CSV_LIMIT: u64 = 100_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// `user:<id>`, `api_key:<id>`, `system`, or just the id.
    pub actor: Option<String>,
    /// An action (`entry.publish`) or a prefix ending in `*` (`entry.*`).
    pub action: Option<String>,
    /// A target kind (`entry`) or `kind:id`.
    pub target: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    pub id: Uuid,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub details: Value,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The tenant the event belongs to (null for platform events of no tenant).
    pub tenant_id: Option<Uuid>,
    /// True for a superadmin's platform action (done to this tenant, not by one of its members).
    pub platform: bool,
}

impl From<audit_event::Model> for AuditEventView {
    fn from(e: audit_event::Model) -> Self {
        Self {
            id: e.id,
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            action: e.action,
            target_kind: e.target_kind,
            target_id: e.target_id,
            details: e.details,
            ip: e.ip,
            request_id: e.request_id,
            created_at: e.created_at,
            tenant_id: e.tenant_id,
            platform: e.platform,
        }
    }
}

fn day(field: &str, raw: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    raw.map(|s| {
        crate::platform::paging::parse_day(field, s)?
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| ApiError::invalid_field(field, format!("`{s}` is not a date like 2026-05-01")))
    })
    .transpose()
}

/// Where events are read from: one tenant's log, or the platform's (a superadmin's view of
/// platform actions and of events that belong to no tenant).
enum Log {
    Tenant(Uuid),
    Platform,
}

impl Log {
    fn of(principal: &Principal) -> ApiResult<Self> {
        Ok(Self::Tenant(principal.require(Permission::AuditRead)?.tenant_id))
    }

    fn platform(principal: &Principal) -> ApiResult<Self> {
        principal.require_superadmin()?;
        Ok(Self::Platform)
    }
}

fn select(log: &Log, filter: &AuditFilter) -> ApiResult<sea_orm::Select<audit_event::Entity>> {
    let mut select = match log {
        Log::Tenant(tenant_id) => in_tenant::<audit_event::Entity>(*tenant_id),
        Log::Platform => audit_event::Entity::find().filter(
            sea_orm::Condition::any()
                .add(audit_event::Column::Platform.eq(true))
                .add(audit_event::Column::TenantId.is_null()),
        ),
    };
    if let Some(actor) = filter.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        select = match actor.split_once(':') {
            Some((kind, id)) => {
                select.filter(audit_event::Column::ActorKind.eq(kind)).filter(audit_event::Column::ActorId.eq(id))
            }
            None if ["user", "api_key", "system"].contains(&actor) => {
                select.filter(audit_event::Column::ActorKind.eq(actor))
            }
            None => select.filter(audit_event::Column::ActorId.eq(actor)),
        };
    }
    if let Some(action) = filter.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        select = match action.strip_suffix('*') {
            Some(prefix) => select.filter(audit_event::Column::Action.starts_with(prefix)),
            None => select.filter(audit_event::Column::Action.eq(action)),
        };
    }
    if let Some(target) = filter.target.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        select = match target.split_once(':') {
            Some((kind, id)) => {
                select.filter(audit_event::Column::TargetKind.eq(kind)).filter(audit_event::Column::TargetId.eq(id))
            }
            None => select.filter(audit_event::Column::TargetKind.eq(target)),
        };
    }
    if let Some(from) = day("from", filter.from.as_deref())? {
        select = select.filter(audit_event::Column::CreatedAt.gte(from));
    }
    if let Some(to) = day("to", filter.to.as_deref())? {
        select = select.filter(audit_event::Column::CreatedAt.lt(to + chrono::Duration::days(1)));
    }
    Ok(select)
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    filter: &AuditFilter,
    params: &ListParams,
) -> ApiResult<Page<AuditEventView>> {
    page(ctx, &Log::of(principal)?, filter, params).await
}

/// Platform actions of superadmins and events of no tenant, across tenants (superadmins only).
pub async fn list_platform(
    ctx: &AppContext,
    principal: &Principal,
    filter: &AuditFilter,
    params: &ListParams,
) -> ApiResult<Page<AuditEventView>> {
    page(ctx, &Log::platform(principal)?, filter, params).await
}

async fn page(
    ctx: &AppContext,
    log: &Log,
    filter: &AuditFilter,
    params: &ListParams,
) -> ApiResult<Page<AuditEventView>> {
    let select = select(log, filter)?;
    let sort = params.sort_or(&["createdAt"], Sort::desc("createdAt"))?;
    Ok(fetch_page(&ctx.db, select, params, Some((audit_event::Column::CreatedAt, sort.order())))
        .await?
        .map(AuditEventView::from))
}

/// Quotes a CSV field and defuses spreadsheet formulas.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Matching events as CSV, oldest first (at most 100,000 rows).
pub async fn csv(ctx: &AppContext, principal: &Principal, filter: &AuditFilter) -> ApiResult<String> {
    let rows = select(&Log::of(principal)?, filter)?
        .order_by_asc(audit_event::Column::CreatedAt)
        .limit(CSV_LIMIT)
        .all(&ctx.db)
        .await?;
    let mut out =
        String::from("id,created_at,actor_kind,actor_id,action,target_kind,target_id,ip,request_id,details\n");
    for e in rows {
        let fields = [
            e.id.to_string(),
            e.created_at.to_rfc3339(),
            e.actor_kind,
            e.actor_id.unwrap_or_default(),
            e.action,
            e.target_kind,
            e.target_id.unwrap_or_default(),
            e.ip.unwrap_or_default(),
            e.request_id.unwrap_or_default(),
            e.details.to_string(),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    Ok(out)
}
