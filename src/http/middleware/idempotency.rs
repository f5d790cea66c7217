//! `Idempotency-Key` (or `X-Idempotency-Key`) on POST, PUT, PATCH and DELETE: the first
//! successful response to a key is stored (in the database, so it survives restarts) and
//! replayed byte for byte with `Idempotent-Replayed: true` for 24 hours to the same principal
//! sending the same request. The same key with a different request is a 409; a request still
//! running with the key is a 409 too. Failed requests (4xx, 5xx) and streams are not stored: a
//! retry with the key runs again.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpResponse};
use base64::Engine;
use chrono::{Duration, Utc};
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::idempotency_key;

use crate::app::context::AppContext;
use crate::error::{ApiError, ErrorCode};
use crate::http::extract::principal::Authenticated;

const TTL_HOURS: i64 = 24;
/// A `running` key older than this belongs to a request that died with its process.
const ABANDONED_SECS: i64 = 300;
/// Larger responses are not stored (the request is then not idempotent).
const MAX_STORED: usize = 1024 * 1024;

fn key_of(req: &ServiceRequest) -> Option<String> {
    let header = req.headers().get("Idempotency-Key").or_else(|| req.headers().get("X-Idempotency-Key"))?;
    Some(header.to_str().unwrap_or_default().trim().to_owned())
}

fn conflict(message: &str) -> actix_web::Error {
    ApiError::new(ErrorCode::Conflict, message.to_owned()).into()
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    let (Some(key), true) = (key_of(&req), writes) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field("Idempotency-Key", "1 to 255 visible ASCII characters").into());
    }
    let Some(ctx) = req.app_data::<Data<AppContext>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Keys belong to a principal; without valid credentials the handler answers 401 anyway.
    let Ok(Authenticated(principal)) = Authenticated::from_request(req.request(), &mut Payload::None).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let actor = principal.actor();
    let who = format!(
        "{}:{}@{}",
        actor.kind.as_str(),
        actor.id.unwrap_or_default(),
        actor.tenant_id.map(|t| t.to_string()).unwrap_or_default()
    );
    // The body is read whole to fingerprint it, then handed on unchanged.
    let mut stream = req.take_payload();
    let mut body = BytesMut::new();
    let limit = ctx.settings.max_upload_bytes.max(ctx.settings.max_json_bytes).saturating_mul(2);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large").into());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b" ");
    hasher.update(req.uri().path_and_query().map_or("", |p| p.as_str()));
    hasher.update(b"\n");
    hasher.update(&body);
    let fingerprint = hex::encode(hasher.finalize());
    req.set_payload(Payload::from(body));

    match claim(&ctx, &who, &key, &fingerprint).await.map_err(ApiError::from)? {
        Claim::Replay(stored) => Ok(req.into_response(replay(&stored)).map_into_boxed_body()),
        Claim::Conflict(message) => Err(conflict(message)),
        Claim::Run(id) => {
            let res = match next.call(req).await {
                Ok(res) => res,
                Err(e) => {
                    release(&ctx, id).await;
                    return Err(e);
                }
            };
            finish(&ctx, id, res).await
        }
    }
}

enum Claim {
    Run(Uuid),
    Replay(Box<idempotency_key::Model>),
    Conflict(&'static str),
}

/// Takes the key for this request, or says why not.
async fn claim(ctx: &AppContext, who: &str, key: &str, fingerprint: &str) -> Result<Claim, sea_orm::DbErr> {
    let now = Utc::now();
    for _ in 0..2 {
        let existing = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::Principal.eq(who))
            .filter(idempotency_key::Column::Key.eq(key))
            .one(&ctx.db)
            .await?;
        match existing {
            Some(row) if row.expires_at < now => {
                idempotency_key::Entity::delete_by_id(row.id).exec(&ctx.db).await?;
            }
            Some(row) if row.fingerprint != fingerprint => {
                return Ok(Claim::Conflict("this Idempotency-Key was used for a different request"));
            }
            Some(row) if row.state == "done" => return Ok(Claim::Replay(Box::new(row))),
            Some(row) if now.signed_duration_since(row.created_at).num_seconds() > ABANDONED_SECS => {
                idempotency_key::Entity::delete_by_id(row.id).exec(&ctx.db).await?;
            }
            Some(_) => return Ok(Claim::Conflict("a request with this Idempotency-Key is still in progress")),
            None => {
                let id = Uuid::now_v7();
                let inserted = idempotency_key::ActiveModel {
                    id: Set(id),
                    principal: Set(who.to_owned()),
                    key: Set(key.to_owned()),
                    fingerprint: Set(fingerprint.to_owned()),
                    state: Set("running".to_owned()),
                    status: Set(None),
                    headers: Set(None),
                    body: Set(None),
                    created_at: Set(now),
                    expires_at: Set(now + Duration::hours(TTL_HOURS)),
                }
                .insert(&ctx.db)
                .await;
                match inserted {
                    Ok(_) => return Ok(Claim::Run(id)),
                    // Another request with the key got there first: look again.
                    Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(Claim::Conflict("a request with this Idempotency-Key is still in progress"))
}

async fn release(ctx: &AppContext, id: Uuid) {
    if let Err(error) = idempotency_key::Entity::delete_by_id(id).exec(&ctx.db).await {
        tracing::warn!(%error, "releasing an idempotency key failed");
    }
}

const REPLAYED: [HeaderName; 2] = [CONTENT_TYPE, LOCATION];

/// Stores a successful, complete response under the key (or lets the key go).
async fn finish(
    ctx: &AppContext,
    id: Uuid,
    res: ServiceResponse<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let streaming = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !res.status().is_success() || streaming {
        release(ctx, id).await;
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes: Bytes =
        body::to_bytes(body).await.map_err(|_| ApiError::from(anyhow::anyhow!("reading a response failed")))?;
    let headers: serde_json::Map<String, serde_json::Value> = REPLAYED
        .iter()
        .filter_map(|name| head.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| (name.to_string(), v.into())))
        .collect();
    if bytes.len() <= MAX_STORED {
        let stored = idempotency_key::ActiveModel {
            id: Set(id),
            state: Set("done".to_owned()),
            status: Set(Some(i32::from(head.status().as_u16()))),
            headers: Set(Some(serde_json::Value::Object(headers))),
            body: Set(Some(base64::engine::general_purpose::STANDARD.encode(&bytes))),
            ..Default::default()
        };
        if let Err(error) = stored.update(&ctx.db).await {
            tracing::warn!(%error, "storing an idempotent response failed");
        }
    } else {
        release(ctx, id).await;
    }
    Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(bytes))))
}

fn replay(stored: &idempotency_key::Model) -> HttpResponse {
    let status = stored.status.and_then(|s| u16::try_from(s).ok()).and_then(|s| StatusCode::from_u16(s).ok());
    let mut builder = HttpResponse::build(status.unwrap_or(StatusCode::OK));
    if let Some(headers) = stored.headers.as_ref().and_then(|h| h.as_object()) {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) =
                (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str))
            {
                builder.insert_header((name, value));
            }
        }
    }
    builder.insert_header(("Idempotent-Replayed", "true"));
    let body = stored.body.as_deref().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
    builder.body(body.unwrap_or_default())
}
