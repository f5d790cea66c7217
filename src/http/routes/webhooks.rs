//! `/v1/webhooks/*`: endpoints, their deliveries, replays and test events.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::platform::paging::{ListParams, Page};
use crate::services::identity::permissions::require::WebhooksManage;
use crate::services::webhooks::deliveries::DeliveryView;
use crate::services::webhooks::endpoints::{self, DeliveryFilter, EndpointPatch, EndpointView, EventType, NewEndpoint};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/webhooks/event-types").route(web::get().to(list_event_types)))
        .service(
            web::resource("/v1/webhooks").route(web::get().to(list_webhooks)).route(web::post().to(create_webhook)),
        )
        .service(
            web::resource("/v1/webhooks/{id}")
                .route(web::get().to(get_webhook))
                .route(web::patch().to(update_webhook))
                .route(web::delete().to(delete_webhook)),
        )
        .service(web::resource("/v1/webhooks/{id}/rotate-secret").route(web::post().to(rotate_webhook_secret)))
        .service(web::resource("/v1/webhooks/{id}/test").route(web::post().to(test_webhook)))
        .service(web::resource("/v1/webhooks/{id}/deliveries").route(web::get().to(list_deliveries)))
        .service(
            web::resource("/v1/webhooks/{id}/deliveries/{delivery}/replay").route(web::post().to(replay_delivery)),
        );
}

/// The event types an endpoint can subscribe to, with their payload schemas.
#[utoipa::path(get, path = "/v1/webhooks/event-types", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<EventType>)))]
pub async fn list_event_types(_who: Require<WebhooksManage>) -> web::Json<Vec<EventType>> {
    web::Json(endpoints::event_types())
}

/// Sort: `createdAt`, `url`.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<EndpointView>), (status = 403, body = ErrorBody)))]
pub async fn list_webhooks(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    params: ListParams,
) -> ApiResult<web::Json<Page<EndpointView>>> {
    Ok(web::Json(endpoints::list(&ctx, &who, &params).await?))
}

/// Registers an endpoint; the answer holds its signing secret, which is never shown again.
/// The URL must resolve to public addresses.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = NewEndpoint,
    responses((status = 201, body = EndpointView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_webhook(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    Json(new): Json<NewEndpoint>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(endpoints::create(&ctx, &who, new).await?))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
pub async fn get_webhook(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<EndpointView>> {
    Ok(web::Json(endpoints::get(&ctx, &who, *id).await?))
}

/// Changes the URL, events or description; `active: true` switches a disabled endpoint back on.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), request_body = EndpointPatch,
    responses((status = 200, body = EndpointView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_webhook(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    id: Path<Uuid>,
    Json(patch): Json<EndpointPatch>,
) -> ApiResult<web::Json<EndpointView>> {
    Ok(web::Json(endpoints::update(&ctx, &who, *id, patch).await?))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    endpoints::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret (shown once); the old one stops being used at once.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)))]
pub async fn rotate_webhook_secret(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<EndpointView>> {
    Ok(web::Json(endpoints::rotate_secret(&ctx, &who, *id).await?))
}

/// Queues a `webhook.test` event to this endpoint.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorBody)))]
pub async fn test_webhook(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Accepted().json(endpoints::test(&ctx, &who, *id).await?))
}

/// Newest first; filter by `status` and `eventType`.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(ListParams, DeliveryFilter),
    responses((status = 200, body = Page<DeliveryView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    id: Path<Uuid>,
    filter: Query<DeliveryFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<DeliveryView>>> {
    Ok(web::Json(endpoints::deliveries(&ctx, &who, *id, &filter, &params).await?))
}

/// Sends the delivery's event again (same event id and body) as a new delivery.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery}/replay", tag = "webhooks", security(("bearer" = [])),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorBody)))]
pub async fn replay_delivery(
    ctx: Data<AppContext>,
    Require(who, _): Require<WebhooksManage>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, delivery) = path.into_inner();
    Ok(HttpResponse::Accepted().json(endpoints::replay(&ctx, &who, id, delivery).await?))
}
