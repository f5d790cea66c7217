//! Authentication extractors: `Authenticated` (any valid credential), `Require<P>` (a tenant
//! scope holding permission P), `MaybeAuthenticated`. Handlers never check permissions themselves.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiError, ErrorCode};
use crate::http::middleware::request_context::RequestId;
use crate::services::identity::permissions::require::PermissionMarker;
use crate::services::identity::principal::authenticate;
use crate::services::identity::Principal;

pub const TENANT_HEADER: &str = "X-Tenant-ID";

/// The parts of a request authentication needs, taken before the future runs.
struct Credentials {
    ctx: Option<Data<AppContext>>,
    bearer: Option<String>,
    tenant: Result<Option<Uuid>, ApiError>,
    ip: Option<String>,
    request_id: Option<String>,
    /// Already resolved for this request (by the rate limiter).
    resolved: Option<Principal>,
}

/// A principal resolved earlier in this request, reused by the extractors.
#[derive(Clone)]
struct Resolved(Principal);

fn credentials(req: &HttpRequest) -> Credentials {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let tenant = match req.headers().get(TENANT_HEADER) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .map(Some)
            .ok_or_else(|| ApiError::invalid_field(TENANT_HEADER, "must be a tenant id (UUID)")),
    };
    Credentials {
        ctx: req.app_data::<Data<AppContext>>().cloned(),
        bearer,
        tenant,
        ip: client_ip(req),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        resolved: req.extensions().get::<Resolved>().map(|r| r.0.clone()),
    }
}

/// The caller's address: the peer's, or the one a trusted proxy forwarded (`LECTERN_TRUSTED_PROXIES`).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let trusted = req.app_data::<Data<AppContext>>().map_or(&[][..], |ctx| ctx.settings.trusted_proxies.as_slice());
    Some(super::forwarded::client_address(peer, req.headers(), trusted).to_string())
}

async fn resolve(parts: Credentials) -> Result<Principal, ApiError> {
    if let Some(principal) = parts.resolved {
        return Ok(principal);
    }
    let ctx = parts.ctx.ok_or_else(|| ApiError::from(anyhow::anyhow!("application context missing")))?;
    let bearer = parts.bearer.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthorized,
            "authentication required: send `Authorization: Bearer <access token or API key>`",
        )
    })?;
    let principal = authenticate(&ctx, &bearer, parts.tenant?, parts.ip, parts.request_id).await?;
    if let Some(scope) = &principal.tenant {
        tracing::Span::current().record("tenant", tracing::field::display(scope.tenant_id));
    }
    Ok(principal)
}

/// Any valid access token or API key.
pub struct Authenticated(pub Principal);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parts = credentials(req);
        let req = req.clone();
        Box::pin(async move {
            let principal = resolve(parts).await?;
            req.extensions_mut().insert(Resolved(principal.clone()));
            Ok(Authenticated(principal))
        })
    }
}

/// A principal if credentials were sent (and are valid), else None.
pub struct MaybeAuthenticated(pub Option<Principal>);

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parts = credentials(req);
        Box::pin(async move {
            if parts.bearer.is_none() {
                return Ok(MaybeAuthenticated(None));
            }
            resolve(parts).await.map(|p| MaybeAuthenticated(Some(p)))
        })
    }
}

/// A principal acting in a tenant where it holds permission `P`: 401 without valid
/// credentials, 400 without a tenant, 404 for a tenant it cannot see, 403 without `P`.
pub struct Require<P>(pub Principal, pub PhantomData<P>);

impl<P: PermissionMarker + 'static> FromRequest for Require<P> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parts = credentials(req);
        Box::pin(async move {
            let principal = resolve(parts).await?;
            principal.require(P::PERMISSION)?;
            Ok(Require(principal, PhantomData))
        })
    }
}
