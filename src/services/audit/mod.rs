//! The audit log helper. Every state change calls [`record`] with the same connection or
//! transaction that makes the change, so the log row commits or rolls back with it.

pub mod events;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde_json::Value;
use uuid::Uuid;

use entity::audit_event;

/// Who did it, as the audit log sees it. Built from the authenticated principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub tenant_id: Option<Uuid>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// A superadmin acting on the platform rather than inside a tenant: the row goes to the
    /// platform audit view, never to the log of the tenant the superadmin belongs to.
    pub platform: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    User,
    ApiKey,
    /// The server itself: scheduled jobs, migrations, the CLI.
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::ApiKey => "api_key",
            Self::System => "system",
        }
    }
}

impl Actor {
    pub fn system() -> Self {
        Self { kind: ActorKind::System, id: None, tenant_id: None, ip: None, request_id: None, platform: false }
    }
}

/// What was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: &'static str,
    pub id: Option<String>,
}

impl Target {
    pub fn new(kind: &'static str, id: impl ToString) -> Self {
        Self { kind, id: Some(id.to_string()) }
    }
}

/// Writes one audit row through `conn` (pass the transaction of the change being recorded).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    action: &str,
    target: Target,
    details: Value,
) -> Result<audit_event::Model, DbErr> {
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(actor.tenant_id),
        actor_kind: Set(actor.kind.as_str().to_owned()),
        actor_id: Set(actor.id.clone()),
        action: Set(action.to_owned()),
        target_kind: Set(target.kind.to_owned()),
        target_id: Set(target.id),
        details: Set(details),
        ip: Set(actor.ip.clone()),
        request_id: Set(actor.request_id.clone()),
        created_at: Set(Utc::now()),
        platform: Set(actor.platform),
    }
    .insert(conn)
    .await
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
    use serde_json::json;

    use super::*;
    use crate::engines::store::memory_db;

    fn alice(tenant: Uuid) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: Some("alice".into()),
            tenant_id: Some(tenant),
            ip: Some("203.0.113.9".into()),
            request_id: Some("req-1".into()),
            platform: false,
        }
    }

    #[tokio::test]
    async fn a_committed_change_keeps_its_audit_row_with_every_field() {
        let db = memory_db().await;
        let tenant = Uuid::now_v7();
        let tx = db.begin().await.unwrap();
        record(&tx, &alice(tenant), "site.create", Target::new("site", "s1"), json!({"name": "Blog"})).await.unwrap();
        tx.commit().await.unwrap();

        let rows = audit_event::Entity::find().all(&db).await.unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(
            (row.tenant_id, row.actor_kind.as_str(), row.actor_id.as_deref(), row.action.as_str()),
            (Some(tenant), "user", Some("alice"), "site.create")
        );
        assert_eq!((row.target_kind.as_str(), row.target_id.as_deref()), ("site", Some("s1")));
        assert_eq!(row.details, json!({"name": "Blog"}));
        assert_eq!((row.ip.as_deref(), row.request_id.as_deref()), (Some("203.0.113.9"), Some("req-1")));
    }

    #[tokio::test]
    async fn a_rolled_back_change_leaves_no_audit_row() {
        let db = memory_db().await;
        let tx = db.begin().await.unwrap();
        record(&tx, &Actor::system(), "site.delete", Target::new("site", "s1"), Value::Null).await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(audit_event::Entity::find().count(&db).await.unwrap(), 0);
    }
}
