//! Tenant scoping of reads: every query of a tenant's rows starts from [`in_tenant`] or
//! [`by_id_in_tenant`], so the tenant filter is part of how a query is written and cannot be
//! forgotten. Another tenant's id finds nothing (the API's 404).

use sea_orm::{ColumnTrait, EntityTrait, PrimaryKeyTrait, QueryFilter, Select};
use uuid::Uuid;

/// An entity whose rows belong to one tenant (audit events may also belong to none: the
/// platform's own).
pub trait TenantOwned: EntityTrait {
    /// The column holding the owning tenant's id.
    fn tenant_column() -> Self::Column;
}

macro_rules! tenant_owned {
    ($($table:ident),* $(,)?) => {
        $(impl TenantOwned for entity::$table::Entity {
            fn tenant_column() -> Self::Column {
                entity::$table::Column::TenantId
            }
        })*
    };
}

tenant_owned!(
    analysis_result,
    analysis_run,
    analysis_schema,
    analysis_schema_version,
    api_key,
    assistant,
    audit_event,
    chunk,
    contact_submission,
    content_type,
    conversation,
    credit_transaction,
    document,
    element,
    entry,
    entry_ref,
    entry_revision,
    group,
    group_member,
    invite,
    job,
    knowledge_base,
    llm_usage,
    media,
    media_folder,
    membership,
    message,
    outbox_event,
    page_view_day,
    search_query_day,
    site,
    wallet,
    webhook_delivery,
    webhook_endpoint,
);

/// The rows of `E` that belong to `tenant_id`.
pub fn in_tenant<E: TenantOwned>(tenant_id: Uuid) -> Select<E> {
    E::find().filter(E::tenant_column().eq(tenant_id))
}

/// The row of `E` with primary key `id`, if it belongs to `tenant_id`.
pub fn by_id_in_tenant<E: TenantOwned>(
    tenant_id: Uuid,
    id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
) -> Select<E> {
    E::find_by_id(id).filter(E::tenant_column().eq(tenant_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::store::memory_db;
    use crate::platform::jobs::{enqueue, JobKind};
    use crate::services::identity::tenants::{create_tenant_row, TenantPayload};

    #[tokio::test]
    async fn another_tenants_rows_are_never_found() {
        let db = memory_db().await;
        let tenant = |name: &str| TenantPayload { name: name.into(), slug: None };
        let a = create_tenant_row(&db, &tenant("A")).await.unwrap().id;
        let b = create_tenant_row(&db, &tenant("B")).await.unwrap().id;
        let job = enqueue(&db, a, JobKind::IngestDocument, Uuid::now_v7()).await.unwrap();

        assert_eq!(in_tenant::<entity::job::Entity>(a).all(&db).await.unwrap().len(), 1);
        assert!(in_tenant::<entity::job::Entity>(b).all(&db).await.unwrap().is_empty());
        assert!(by_id_in_tenant::<entity::job::Entity>(a, job.id).one(&db).await.unwrap().is_some());
        assert!(by_id_in_tenant::<entity::job::Entity>(b, job.id).one(&db).await.unwrap().is_none());
    }
}
