//! `/v1/jobs/*`: the tenant's background jobs (ingestion, reindexing, scheduled publishing,
//! analysis runs), each visible with the permission of its own area.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Authenticated;
use crate::http::extract::Query;
use crate::platform::jobs::JobView;
use crate::platform::paging::{ListParams, Page};
use crate::services::jobs::views as job_views;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/jobs").route(web::get().to(list_jobs)))
        .service(web::resource("/v1/jobs/{id}").route(web::get().to(get_job)))
        .service(web::resource("/v1/jobs/{id}/cancel").route(web::post().to(cancel_job)))
        .service(web::resource("/v1/jobs/{id}/events").route(web::get().to(job_events)));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobFilter {
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: Option<String>,
}

/// Jobs of the tenant, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "knowledge", security(("bearer" = [])), params(ListParams, JobFilter),
    responses((status = 200, body = Page<JobView>)))]
pub async fn list_jobs(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    Query(filter): Query<JobFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<JobView>>> {
    Ok(web::Json(job_views::list_jobs(&ctx, &who, filter.status, &params).await?))
}

/// A job's status and progress (`stage`, `done` of `total`).
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "knowledge", security(("bearer" = [])),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<JobView>> {
    Ok(web::Json(job_views::job(&ctx, &who, *id).await?))
}

/// Cancels a queued or running job.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "knowledge", security(("bearer" = [])),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody), (status = 409, description = "Already finished", body = ErrorBody)))]
pub async fn cancel_job(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<web::Json<JobView>> {
    Ok(web::Json(job_views::cancel_job(&ctx, &who, *id).await?))
}

/// Progress as Server-Sent Events: a `progress` event with the job view whenever it changes,
/// then one `done` event (succeeded, failed or cancelled) and the stream ends.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "knowledge", security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream of `progress` and `done` events carrying JobView", content_type = "text/event-stream"),
        (status = 404, body = ErrorBody)))]
pub async fn job_events(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let first = job_views::job(&ctx, &who, *id).await?;
    let state = (ctx, who, first.id, None::<String>, false);
    let stream = futures_util::stream::unfold(state, |(ctx, who, id, last, finished)| async move {
        if finished {
            return None;
        }
        loop {
            let view = job_views::job(&ctx, &who, id).await.ok()?;
            let body = serde_json::to_string(&view).ok()?;
            let done = !matches!(view.status.as_str(), "queued" | "running");
            if last.as_deref() != Some(body.as_str()) || done {
                let event = if done { "done" } else { "progress" };
                let frame = web::Bytes::from(format!("event: {event}\ndata: {body}\n\n"));
                return Some((Ok::<_, actix_web::Error>(frame), (ctx, who, id, Some(body), done)));
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
