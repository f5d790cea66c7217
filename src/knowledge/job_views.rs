//! The tenant's background jobs (ingestion, reindexing, analysis) as the API shows them.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::identity::permissions::Permission;
use crate::identity::Principal;
use crate::jobs::{self, JobView};
use crate::list::{fetch_page, ListParams, Page};

const STATUSES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

/// One job of the caller's tenant, else 404.
pub async fn job(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<JobView> {
    let tenant_id = principal.require(Permission::KbRead)?.tenant_id;
    entity::job::Entity::find_by_id(id)
        .filter(entity::job::Column::TenantId.eq(tenant_id))
        .one(&ctx.db)
        .await?
        .map(JobView::from)
        .ok_or_else(|| ApiError::not_found("job"))
}

/// The jobs of the tenant, newest first, optionally of one status.
pub async fn list_jobs(
    ctx: &AppContext,
    principal: &Principal,
    status: Option<String>,
    params: &ListParams,
) -> ApiResult<Page<JobView>> {
    let tenant_id = principal.require(Permission::KbRead)?.tenant_id;
    if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(ApiError::invalid_field("status", format!("must be one of {}", STATUSES.join(", "))));
    }
    let mut select = entity::job::Entity::find()
        .filter(entity::job::Column::TenantId.eq(tenant_id))
        .order_by_desc(entity::job::Column::CreatedAt);
    if let Some(status) = status {
        select = select.filter(entity::job::Column::Status.eq(status));
    }
    Ok(fetch_page(&ctx.db, select, params, None).await?.map(JobView::from))
}

/// Cancels a queued or running job; 409 once it has ended.
pub async fn cancel_job(ctx: &AppContext, principal: &Principal, id: Uuid) -> ApiResult<JobView> {
    principal.require(Permission::KbWrite)?;
    let current = job(ctx, principal, id).await?;
    if !jobs::cancel(&ctx.db, current.id).await? {
        return Err(ApiError::new(ErrorCode::Conflict, format!("the job has already {}", current.status)));
    }
    job(ctx, principal, id).await
}
