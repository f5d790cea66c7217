//! Counts every API request against its caller's limits (see [`crate::platform::rate_limits`]) and says
//! where the caller stands: `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds) on every
//! limited response; over a limit, a 429 `RATE_LIMIT_EXCEEDED` with `Retry-After`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{FromRequest, ResponseError};
use sea_orm::EntityTrait;
use uuid::Uuid;

use entity::wallet;

use crate::app::context::AppContext;
use crate::error::{ApiError, ErrorCode};
use crate::http::extract::principal::{client_ip, Authenticated};
use crate::platform::rate_limits::{Class, Decision, Limits, Overrides};
use crate::services::identity::principal::Credential;

fn limited(path: &str) -> bool {
    (path.starts_with("/v1/") || path.starts_with("/public/")) && path != "/v1/billing/stripe/webhook"
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let ctx = match req.app_data::<Data<AppContext>>() {
        Some(ctx) if limited(req.path()) && ctx.readiness.is_ready() => ctx.clone(),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let class = Class::of(req.method().as_str(), req.path());
    let (who, limits) = caller(&ctx, &req, class).await;
    let mut binding: Option<Decision> = None;
    let classes = match class {
        Some(Class::Public) => vec![Class::Public],
        Some(c) => vec![c, Class::Global],
        None => vec![Class::Global],
    };
    for class in classes {
        let Some(decision) = ctx.rate_limits.check_shared(&ctx.coordination, &limits, class, &who).await else {
            continue;
        };
        if !decision.allowed {
            let error = ApiError::new(
                ErrorCode::RateLimitExceeded,
                format!("too many {} requests; retry in {} s", class.as_str(), decision.reset_secs),
            )
            .with_details(serde_json::json!({
                "class": class.as_str(), "limit": decision.limit, "retryAfter": decision.reset_secs,
            }));
            let mut response = error.error_response();
            set_headers(response.headers_mut(), &decision);
            return Ok(req.into_response(response));
        }
        // The headers describe the limit closest to running out.
        let share = |d: &Decision| u64::from(d.remaining) * 1_000_000 / u64::from(d.limit.max(1));
        if binding.is_none_or(|b| share(&decision) < share(&b)) {
            binding = Some(decision);
        }
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    if let Some(decision) = binding {
        set_headers(response.headers_mut(), &decision);
    }
    Ok(response)
}

fn set_headers(headers: &mut HeaderMap, d: &Decision) {
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(d.limit)),
        ("x-ratelimit-remaining", u64::from(d.remaining)),
        ("x-ratelimit-reset", d.reset_secs),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// Who to count the request against, and the limits that apply: an API key or user with its
/// tenant's limits, else the client's IP with the defaults. Visitors and logins are per IP.
async fn caller(ctx: &AppContext, req: &ServiceRequest, class: Option<Class>) -> (String, Limits) {
    let anonymous = || format!("ip:{}", client_ip(req.request()).unwrap_or_default());
    let has_bearer = req.headers().contains_key(actix_web::http::header::AUTHORIZATION);
    if matches!(class, Some(Class::Public | Class::Auth)) || !has_bearer {
        return (anonymous(), ctx.rate_limits.defaults());
    }
    // The principal is kept in the request, so handlers do not authenticate twice.
    let Ok(Authenticated(principal)) = Authenticated::from_request(req.request(), &mut Payload::None).await else {
        return (anonymous(), ctx.rate_limits.defaults());
    };
    let who = match &principal.credential {
        Credential::ApiKey { key_id, .. } => format!("key:{key_id}"),
        Credential::User { .. } => format!("user:{}", principal.user_id.unwrap_or_default()),
    };
    let limits = match principal.tenant.as_ref() {
        Some(scope) => tenant_limits(ctx, scope.tenant_id).await,
        None => ctx.rate_limits.defaults(),
    };
    (who, limits)
}

/// A tenant's limits: defaults, then its plan's, then its own (cached for a few seconds).
pub async fn tenant_limits(ctx: &AppContext, tenant: Uuid) -> Limits {
    if let Some(limits) = ctx.rate_limits.cached_tenant(tenant) {
        return limits;
    }
    let wallet = wallet::Entity::find_by_id(tenant).one(&ctx.db).await.ok().flatten();
    let own = wallet.as_ref().and_then(|w| w.rate_limits.as_ref()).and_then(|j| Overrides::from_json(j).ok());
    let limits = ctx.rate_limits.resolve(wallet.as_ref().and_then(|w| w.plan.as_deref()), own.as_ref());
    ctx.rate_limits.remember_tenant(tenant, limits);
    limits
}
