//! The events webhooks carry: each type has a typed payload (its schema is in the OpenAPI
//! document as `<Name>V1`) and a version; events are written to the outbox in the same
//! transaction as the change they describe, so none is lost and none is sent for a rollback.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::outbox_event;

/// The payload version every event is sent with (`"version": 1` in the envelope).
pub const VERSION: u32 = 1;

/// A domain event: its type name and payload.
pub trait Event: Serialize {
    const TYPE: &'static str;
}

/// Every event type, with what it means and its payload schema, for `/v1/webhooks/event-types`.
pub const TYPES: &[(&str, &str, &str)] = &[
    ("document.ingested", "A document was parsed, chunked, embedded and is searchable.", "DocumentIngestedV1"),
    ("document.failed", "A document could not be ingested (after its last attempt).", "DocumentFailedV1"),
    ("job.completed", "A background job finished for good: succeeded or failed.", "JobCompletedV1"),
    ("entry.published", "A content entry went live (now or at its scheduled time).", "EntryPublishedV1"),
    ("entry.unpublished", "A content entry was taken offline.", "EntryPublishedV1"),
    ("credits.low", "The credit balance fell below the tenant's threshold.", "CreditsLowV1"),
    ("contact.submitted", "A site visitor sent the contact form.", "ContactSubmittedV1"),
    ("conversation.created", "A chat conversation was started.", "ConversationCreatedV1"),
    ("analysis.completed", "A document analysis run has every required value approved.", "AnalysisCompletedV1"),
    ("webhook.disabled", "An endpoint was switched off after its deliveries kept failing.", "WebhookDisabledV1"),
    ("webhook.test", "Sent by `POST /v1/webhooks/{id}/test`; never fanned out.", "WebhookTestV1"),
];

pub fn is_known(kind: &str) -> bool {
    TYPES.iter().any(|(t, ..)| *t == kind)
}

macro_rules! event {
    ($(#[$doc:meta])* $name:ident = $type:literal { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }
        impl Event for $name { const TYPE: &'static str = $type; }
    };
}

event!(DocumentIngestedV1 = "document.ingested" {
    document_id: Uuid, knowledge_base_id: Uuid, name: String, chunks: usize, pages: Option<u32>,
});
event!(DocumentFailedV1 = "document.failed" { document_id: Uuid, knowledge_base_id: Option<Uuid>, error: String });
event!(JobCompletedV1 = "job.completed" {
    job_id: Uuid, kind: String, target_id: Option<Uuid>,
    /// `succeeded` or `failed`.
    status: String,
    error: Option<String>,
});
event!(EntryPublishedV1 = "entry.published" {
    entry_id: Uuid, site_id: Uuid,
    /// The content type's API id.
    r#type: String, locale: String, slug: String,
});
event!(
    /// Same payload as `entry.published`.
    EntryUnpublishedV1 = "entry.unpublished" { entry_id: Uuid, site_id: Uuid, r#type: String, locale: String, slug: String }
);
event!(CreditsLowV1 = "credits.low" {
    /// Decimal credits, e.g. `"4.5"`.
    balance: String, threshold: String,
});
event!(ContactSubmittedV1 = "contact.submitted" {
    submission_id: Uuid, site_id: Uuid, email: String, subject: Option<String>,
});
event!(ConversationCreatedV1 = "conversation.created" {
    conversation_id: Uuid, assistant_id: Option<Uuid>, user_id: Option<Uuid>,
});
event!(AnalysisCompletedV1 = "analysis.completed" { run_id: Uuid, schema_id: Uuid, documents: usize });
event!(WebhookDisabledV1 = "webhook.disabled" { endpoint_id: Uuid, url: String, reason: String });
event!(WebhookTestV1 = "webhook.test" { endpoint_id: Uuid, message: String });

/// The body of every delivery: the event with its payload under `data`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The event id, also in `Lectern-Event-Id`: the same on every attempt and replay.
    pub id: Uuid,
    pub r#type: String,
    /// The payload's schema version.
    pub version: u32,
    pub tenant_id: Uuid,
    pub created_at: chrono::DateTime<Utc>,
    /// The payload: see the `<Name>V1` schemas.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Writes `event` to the outbox on `conn` (inside the caller's transaction).
pub async fn emit<C: ConnectionTrait, E: Event>(conn: &C, tenant_id: Uuid, event: &E) -> Result<(), DbErr> {
    let payload = serde_json::to_value(event).map_err(|e| DbErr::Custom(e.to_string()))?;
    outbox_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        kind: Set(E::TYPE.to_owned()),
        payload: Set(payload),
        created_at: Set(Utc::now()),
        delivered_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}
