//! Telling a tenant's owners that one of their webhook endpoints was switched off.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use entity::{membership, user, webhook_endpoint};

use crate::app::context::AppContext;
use crate::engines::mail::Mail;
use crate::platform::tenancy::in_tenant;

pub async fn endpoint_disabled(ctx: &AppContext, endpoint: &webhook_endpoint::Model) {
    let owners = in_tenant::<membership::Entity>(endpoint.tenant_id)
        .filter(membership::Column::Role.eq("owner"))
        .filter(membership::Column::DeletedAt.is_null())
        .all(&ctx.db)
        .await
        .unwrap_or_default();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(owners.iter().map(|m| m.user_id)))
        .filter(user::Column::Status.eq("active"))
        .all(&ctx.db)
        .await
        .unwrap_or_default();
    for owner in users {
        let mail = Mail {
            to: owner.email,
            subject: "A webhook endpoint was switched off".to_owned(),
            body: format!(
                "Lectern could not deliver events to {} and has switched the endpoint off.\n\n\
                 Fix the receiver, then switch it back on in the dashboard (Webhooks) or with\n\
                 PATCH /v1/webhooks/{} {{\"active\": true}}. Failed deliveries can be replayed from there.\n",
                endpoint.url, endpoint.id
            ),
        };
        if let Err(error) = ctx.identity.mailer.send(mail).await {
            tracing::warn!(%error, "mailing the owner about a disabled webhook failed");
        }
    }
}
