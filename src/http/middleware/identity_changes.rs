//! After a successful write to an identity endpoint (logout, password, keys, members, groups,
//! tenants), every node forgets the principals it cached, so a revoked session or key, or a
//! lowered role, is refused on the very next request wherever it lands.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Data;

use crate::app::context::AppContext;
use crate::platform::coordination::Signal;
use crate::services::identity::principal_cache::changes_identities;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let changes = changes_identities(req.method().as_str(), req.path());
    let ctx = req.app_data::<Data<AppContext>>().cloned();
    let response = next.call(req).await?;
    // Failed writes change nothing; a refresh-token reuse (401) revokes a session family, so
    // client errors count too: only server errors are skipped (and those roll back).
    if let (true, Some(ctx)) = (changes && !response.status().is_server_error(), ctx) {
        ctx.identity.principals.invalidate();
        if let Err(error) = ctx.coordination.publish(&Signal::IdentitiesChanged).await {
            tracing::warn!(%error, "other nodes keep cached principals until they expire (30 s)");
        }
    }
    Ok(response)
}
