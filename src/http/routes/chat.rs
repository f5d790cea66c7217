//! `/v1/conversations/*`, `/v1/chat/*` and `/v1/assistants/*`.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::platform::paging::{ListParams, Page};
use crate::services::chat::assistants::{self, AssistantPayload, AssistantView};
use crate::services::chat::conversations::{
    self, BranchPayload, ConversationPatch, ConversationPayload, ConversationView, MessageView,
};
use crate::services::chat::events::ChatEvent;
use crate::services::chat::messages::{self, CancelOutcome, FeedbackPayload};
use crate::services::chat::turn::{self, ChatRequest};
use crate::services::identity::permissions::require::{ChatUse, KbWrite};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/conversations")
            .route(web::get().to(list_conversations))
            .route(web::post().to(create_conversation)),
    )
    .service(
        web::resource("/v1/conversations/{id}")
            .route(web::get().to(get_conversation))
            .route(web::patch().to(update_conversation))
            .route(web::delete().to(delete_conversation)),
    )
    .service(web::resource("/v1/conversations/{id}/messages").route(web::get().to(list_messages)))
    .service(web::resource("/v1/conversations/{id}/title").route(web::post().to(retitle)))
    .service(web::resource("/v1/conversations/{id}/branch").route(web::post().to(branch)))
    .service(web::resource("/v1/chat").route(web::post().to(chat)))
    .service(web::resource("/v1/chat/{id}/cancel").route(web::post().to(cancel)))
    .service(web::resource("/v1/chat/{id}/feedback").route(web::post().to(feedback)))
    .service(
        web::resource("/v1/assistants").route(web::get().to(list_assistants)).route(web::post().to(create_assistant)),
    )
    .service(
        web::resource("/v1/assistants/{id}")
            .route(web::get().to(get_assistant))
            .route(web::put().to(update_assistant))
            .route(web::delete().to(delete_assistant)),
    )
    .service(web::resource("/v1/assistants/{id}/duplicate").route(web::post().to(duplicate_assistant)));
}

#[utoipa::path(get, path = "/v1/conversations", tag = "chat", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<ConversationView>)))]
pub async fn list_conversations(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    params: ListParams,
) -> ApiResult<web::Json<Page<ConversationView>>> {
    Ok(web::Json(conversations::list(&ctx, &who, &params).await?))
}

#[utoipa::path(post, path = "/v1/conversations", tag = "chat", security(("bearer" = [])), request_body = ConversationPayload,
    responses((status = 201, body = ConversationView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_conversation(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    Json(payload): Json<ConversationPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(conversations::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<ConversationView>> {
    Ok(web::Json(conversations::find(&ctx, &who, *id).await?.into()))
}

#[utoipa::path(delete, path = "/v1/conversations/{id}", tag = "chat", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_conversation(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    conversations::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "chat", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<MessageView>), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
    params: ListParams,
) -> ApiResult<web::Json<Page<MessageView>>> {
    Ok(web::Json(conversations::messages(&ctx, &who, *id, &params).await?))
}

/// Renames the conversation or changes its system prompt, knowledge bases or model.
#[utoipa::path(patch, path = "/v1/conversations/{id}", tag = "chat", security(("bearer" = [])), request_body = ConversationPatch,
    responses((status = 200, body = ConversationView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_conversation(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
    Json(patch): Json<ConversationPatch>,
) -> ApiResult<web::Json<ConversationView>> {
    Ok(web::Json(conversations::update(&ctx, &who, *id, patch).await?))
}

/// Regenerates the title (by the model when an upstream serves the conversation).
#[utoipa::path(post, path = "/v1/conversations/{id}/title", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retitle(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<ConversationView>> {
    Ok(web::Json(conversations::retitle(&ctx, &who, *id).await?))
}

/// A new conversation with this one's settings and its messages up to `messageId`.
#[utoipa::path(post, path = "/v1/conversations/{id}/branch", tag = "chat", security(("bearer" = [])), request_body = BranchPayload,
    responses((status = 201, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn branch(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
    Json(payload): Json<BranchPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(conversations::branch(&ctx, &who, *id, payload).await?))
}

/// The events as `text/event-stream`, ending after `done` or `error`.
pub fn sse(events: mpsc::Receiver<ChatEvent>) -> HttpResponse {
    let stream = futures_util::stream::unfold((events, false), |(mut events, finished)| async move {
        if finished {
            return None;
        }
        let event = events.recv().await?;
        let last = event.is_last();
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(event.to_sse())), (events, last)))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

/// Waits for the turn to end; the stored answer, or the error it ended with.
pub async fn finish(
    ctx: &AppContext,
    who: &crate::services::identity::Principal,
    mut events: mpsc::Receiver<ChatEvent>,
) -> ApiResult<MessageView> {
    while let Some(event) = events.recv().await {
        match event {
            ChatEvent::Error { code, message } => {
                let code = ErrorCode::ALL.into_iter().find(|c| c.as_str() == code).unwrap_or(ErrorCode::InternalError);
                return Err(ApiError::new(code, message));
            }
            ChatEvent::Done { message_id, .. } => return conversations::message(ctx, who, message_id).await,
            _ => {}
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("the turn ended without an answer")))
}

/// One turn: retrieves from the knowledge bases, answers with citations. With `stream` (the
/// default) the answer is `text/event-stream` of `start`, `indexing`, `token`, `citation`,
/// `done` and `error` events; otherwise one JSON message.
#[utoipa::path(post, path = "/v1/chat", tag = "chat", security(("bearer" = [])), request_body = ChatRequest,
    responses((status = 200, description = "Server-sent events (`stream`, the default) or the stored answer",
            content((String = "text/event-stream"), (MessageView = "application/json"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn chat(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    Json(request): Json<ChatRequest>,
) -> ApiResult<HttpResponse> {
    let stream = request.stream;
    let started = turn::start(ctx.clone().into_inner(), &who, request).await?;
    if stream {
        return Ok(sse(started.events));
    }
    Ok(HttpResponse::Ok().json(finish(&ctx, &who, started.events).await?))
}

/// Stops an answer that is still streaming; what was generated so far is kept.
#[utoipa::path(post, path = "/v1/chat/{id}/cancel", tag = "chat", security(("bearer" = [])),
    responses((status = 202, body = CancelOutcome), (status = 404, body = ErrorBody), (status = 409, description = "Already finished", body = ErrorBody)))]
pub async fn cancel(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Accepted().json(messages::cancel(&ctx, &who, *id).await?))
}

/// Rates an answer up or down, with an optional comment.
#[utoipa::path(post, path = "/v1/chat/{id}/feedback", tag = "chat", security(("bearer" = [])), request_body = FeedbackPayload,
    responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)))]
pub async fn feedback(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
    Json(payload): Json<FeedbackPayload>,
) -> ApiResult<web::Json<MessageView>> {
    Ok(web::Json(messages::feedback(&ctx, &who, *id, payload).await?))
}

#[utoipa::path(get, path = "/v1/assistants", tag = "chat", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<AssistantView>)))]
pub async fn list_assistants(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    params: ListParams,
) -> ApiResult<web::Json<Page<AssistantView>>> {
    Ok(web::Json(assistants::list(&ctx, &who, &params).await?))
}

#[utoipa::path(post, path = "/v1/assistants", tag = "chat", security(("bearer" = [])), request_body = AssistantPayload,
    responses((status = 201, body = AssistantView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_assistant(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    Json(payload): Json<AssistantPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(assistants::create(&ctx, &who, payload).await?))
}

#[utoipa::path(get, path = "/v1/assistants/{id}", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = AssistantView), (status = 404, body = ErrorBody)))]
pub async fn get_assistant(
    ctx: Data<AppContext>,
    Require(who, _): Require<ChatUse>,
    id: Path<Uuid>,
) -> ApiResult<web::Json<AssistantView>> {
    Ok(web::Json(assistants::get(&ctx, &who, *id).await?))
}

#[utoipa::path(put, path = "/v1/assistants/{id}", tag = "chat", security(("bearer" = [])), request_body = AssistantPayload,
    responses((status = 200, body = AssistantView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_assistant(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    id: Path<Uuid>,
    Json(payload): Json<AssistantPayload>,
) -> ApiResult<web::Json<AssistantView>> {
    Ok(web::Json(assistants::update(&ctx, &who, *id, payload).await?))
}

#[utoipa::path(delete, path = "/v1/assistants/{id}", tag = "chat", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_assistant(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    assistants::delete(&ctx, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/v1/assistants/{id}/duplicate", tag = "chat", security(("bearer" = [])),
    responses((status = 201, body = AssistantView), (status = 404, body = ErrorBody)))]
pub async fn duplicate_assistant(
    ctx: Data<AppContext>,
    Require(who, _): Require<KbWrite>,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(assistants::duplicate(&ctx, &who, *id).await?))
}
