//! `/public/v1/*`: what a site's visitors may use without an account.

use actix_web::web::{self, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::chat::public::{self, VisitorChat};
use crate::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::chat::sse;
use crate::http::extract::Json;
use crate::http::principal::client_ip;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/public/v1/sites/{site}/assistants/{id}/chat").route(web::post().to(visitor_chat)));
}

/// A visitor asks a site's published assistant: the same `start`, `token`, `citation`, `done`
/// and `error` events as `/v1/chat`, from the assistant's public knowledge bases only.
#[utoipa::path(post, path = "/public/v1/sites/{site}/assistants/{id}/chat", tag = "public", request_body = VisitorChat,
    responses((status = 200, description = "text/event-stream of chat events", content_type = "text/event-stream"),
        (status = 400, body = ErrorBody), (status = 404, description = "No such published assistant", body = ErrorBody),
        (status = 429, description = "Too many turns from this address", body = ErrorBody)))]
pub async fn visitor_chat(
    ctx: Data<AppContext>,
    path: Path<(Uuid, Uuid)>,
    req: HttpRequest,
    Json(request): Json<VisitorChat>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    Ok(sse(public::start(ctx, site, id, client_ip(&req), request).await?))
}
