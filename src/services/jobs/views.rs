//! The tenant's background jobs as the API shows them. Each kind is read and cancelled with the
//! permissions of its own area: ingestion with the knowledge base's, scheduled publishing and
//! site reindexing with content's and sites', analysis runs with analysis's.

use sea_orm::{ColumnTrait, Iterable, QueryFilter, QueryOrder};
use uuid::Uuid;

use entity::job::JobStatus;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::jobs::{self, JobKind, JobView};
use crate::platform::paging::{fetch_page, ListParams, Page};
use crate::platform::tenancy::{by_id_in_tenant, in_tenant};
use crate::services::identity::permissions::Permission;
use crate::services::identity::Principal;

/// Who may see a job of `kind`.
pub fn read_permission(kind: JobKind) -> Permission {
    match kind {
        JobKind::IngestDocument | JobKind::ReindexKb => Permission::KbRead,
        JobKind::PublishEntry => Permission::ContentRead,
        JobKind::ReindexSite => Permission::SitesRead,
        JobKind::AnalyzeRun => Permission::AnalysisRun,
    }
}

/// Who may cancel a job of `kind`: whoever may start it.
pub fn cancel_permission(kind: JobKind) -> Permission {
    match kind {
        JobKind::IngestDocument | JobKind::ReindexKb => Permission::KbWrite,
        JobKind::PublishEntry => Permission::ContentPublish,
        JobKind::ReindexSite => Permission::SitesManage,
        JobKind::AnalyzeRun => Permission::AnalysisRun,
    }
}

/// The kinds the caller may read; 403 when there is none.
fn readable_kinds(principal: &Principal) -> ApiResult<(Uuid, Vec<&'static str>)> {
    let scope = principal.scope()?;
    let kinds: Vec<&'static str> = JobKind::ALL
        .into_iter()
        .filter(|kind| principal.require(read_permission(*kind)).is_ok())
        .map(JobKind::as_str)
        .collect();
    if kinds.is_empty() {
        // The permission every role that sees jobs at all has; named so the 403 says what is missing.
        principal.require(Permission::KbRead)?;
    }
    Ok((scope.tenant_id, kinds))
}

/// One job of the caller's tenant that the caller may read; another tenant's is a 404.
pub async fn job(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<JobView> {
    let tenant_id = principal.scope()?.tenant_id;
    let row = by_id_in_tenant::<entity::job::Entity>(tenant_id, id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    if let Some(kind) = JobKind::parse(&row.kind) {
        principal.require(read_permission(kind))?;
    }
    Ok(row.into())
}

/// The jobs of the tenant the caller may read, newest first, optionally of one status.
pub async fn list_jobs(
    ctx: &AppContext,
    principal: &Principal,
    status: Option<String>,
    params: &ListParams,
) -> ApiResult<Page<JobView>> {
    let (tenant_id, kinds) = readable_kinds(principal)?;
    let status = match status.as_deref().map(JobStatus::parse) {
        Some(None) => {
            let names: Vec<&str> = JobStatus::iter().map(JobStatus::as_str).collect();
            return Err(ApiError::invalid_field("status", format!("must be one of {}", names.join(", "))));
        }
        Some(Some(status)) => Some(status),
        None => None,
    };
    let mut select = in_tenant::<entity::job::Entity>(tenant_id)
        .filter(entity::job::Column::Kind.is_in(kinds))
        .order_by_desc(entity::job::Column::CreatedAt);
    if let Some(status) = status {
        select = select.filter(entity::job::Column::Status.eq(status));
    }
    Ok(fetch_page(&ctx.db, select, params, None).await?.map(JobView::from))
}

/// Cancels a queued or running job; 409 once it has ended.
pub async fn cancel_job(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<JobView> {
    let current = job(ctx, principal, id).await?;
    match JobKind::parse(&current.kind) {
        Some(kind) => principal.require(cancel_permission(kind))?,
        None => principal.require(Permission::TenantManage)?,
    };
    if !jobs::cancel(&ctx.db, current.id).await? {
        return Err(ApiError::new(ErrorCode::Conflict, format!("the job has already {}", current.status)));
    }
    job(ctx, principal, id).await
}
