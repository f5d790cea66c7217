//! `GET /v1/ws?token=…`: chat over a WebSocket. Send `{"type": "chat", …}` (the fields of
//! `POST /v1/chat`) or `{"type": "cancel", "messageId": …}`; receive the same typed events as
//! the SSE stream. Browsers cannot set headers on a WebSocket, hence the token in the query.

use std::sync::atomic::Ordering;

use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message, Session};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::extract::principal::client_ip;
use crate::http::extract::Query;
use crate::services::chat::messages;
use crate::services::chat::turn::{self, ChatRequest};
use crate::services::identity::principal::authenticate;
use crate::services::identity::Principal;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/ws").route(web::get().to(connect)));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsParams {
    /// An access token or API key.
    pub token: String,
    /// The tenant to act in (users with several tenants).
    pub tenant: Option<Uuid>,
}

/// Counts a session while it lives.
struct SessionSlot<'a>(&'a AppContext);

impl Drop for SessionSlot<'_> {
    fn drop(&mut self) {
        self.0.chat.ws_sessions.fetch_sub(1, Ordering::SeqCst);
    }
}

fn error_frame(error: &ApiError) -> String {
    let (message, _) = error.public_parts();
    json!({"type": "error", "code": error.code().as_str(), "message": message}).to_string()
}

/// Upgrades to a WebSocket for chat. When the node already holds `LECTERN_WS_MAX_SESSIONS`
/// sessions, the socket opens, receives one `error` frame and is closed.
#[utoipa::path(get, path = "/v1/ws", tag = "chat", params(WsParams),
    responses((status = 101, description = "WebSocket of chat events"), (status = 401, body = ErrorBody)))]
pub async fn connect(
    ctx: Data<AppContext>,
    req: HttpRequest,
    body: Payload,
    Query(params): Query<WsParams>,
) -> ApiResult<HttpResponse> {
    let principal = authenticate(&ctx, &params.token, params.tenant, client_ip(&req), None).await?;
    let (response, mut session, stream) =
        actix_ws::handle(&req, body).map_err(|e| ApiError::invalid(format!("not a WebSocket upgrade: {e}")))?;
    let open = ctx.chat.ws_sessions.fetch_add(1, Ordering::SeqCst);
    actix_web::rt::spawn(async move {
        let _slot = SessionSlot(&ctx);
        if open >= ctx.settings.ws_max_sessions {
            let full =
                ApiError::new(ErrorCode::ServiceUnavailable, "too many chat sessions on this server; try again later")
                    .with_details(json!({"retryAfter": 5}));
            let _ = session.text(error_frame(&full)).await;
            let _ = session.close(Some(CloseReason { code: CloseCode::Again, description: Some("full".into()) })).await;
            return;
        }
        serve(&ctx, &principal, session, stream).await;
    });
    Ok(response)
}

async fn serve(
    ctx: &Data<AppContext>,
    principal: &Principal,
    mut session: Session,
    mut stream: actix_ws::MessageStream,
) {
    while let Some(Ok(message)) = stream.next().await {
        match message {
            Message::Text(text) => {
                if let Err(error) = handle(ctx, principal, &mut session, &text).await {
                    if session.text(error_frame(&error)).await.is_err() {
                        return;
                    }
                }
            }
            Message::Ping(bytes) if session.pong(&bytes).await.is_err() => return,
            Message::Close(_) => break,
            _ => {}
        }
    }
    let _ = session.close(None).await;
}

/// One client frame: starts a chat turn (its events are forwarded as they come, so a `cancel`
/// frame can stop it meanwhile), or cancels one.
async fn handle(ctx: &Data<AppContext>, principal: &Principal, session: &mut Session, text: &str) -> ApiResult<()> {
    let mut frame: Value =
        serde_json::from_str(text).map_err(|e| ApiError::invalid(format!("frames are JSON: {e}")))?;
    let kind = frame.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    if let Some(object) = frame.as_object_mut() {
        object.remove("type");
    }
    match kind.as_str() {
        "chat" => {
            let request: ChatRequest = serde_json::from_value(frame).map_err(|e| ApiError::invalid(e.to_string()))?;
            let mut started = turn::start(ctx.clone().into_inner(), principal, request).await?;
            let mut out = session.clone();
            actix_web::rt::spawn(async move {
                while let Some(event) = started.events.recv().await {
                    let last = event.is_last();
                    let frame = serde_json::to_string(&event).unwrap_or_default();
                    if out.text(frame).await.is_err() || last {
                        break;
                    }
                }
            });
            Ok(())
        }
        "cancel" => {
            let id = frame.get("messageId").and_then(Value::as_str).and_then(|s| s.parse::<Uuid>().ok());
            let id = id.ok_or_else(|| ApiError::invalid_field("messageId", "must be a message id"))?;
            let outcome = messages::cancel(ctx, principal, id).await?;
            let _ =
                session.text(json!({"type": "cancel", "messageId": id, "status": outcome.status}).to_string()).await;
            Ok(())
        }
        other => Err(ApiError::invalid_field("type", format!("unknown frame type `{other}`; use chat or cancel"))),
    }
}
