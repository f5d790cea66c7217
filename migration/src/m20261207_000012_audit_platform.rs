//! Platform actions (a superadmin creating, changing, suspending or deleting tenants, deciding
//! sign-ups, setting global prices) get a home of their own: `platform = true`, shown only in
//! the superadmin's platform audit view. Before, they were filed under the superadmin's own
//! home tenant, whose admins could read other tenants' names and slugs in their audit log;
//! the rows written that way are moved out of that tenant's log here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Platform,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column(ColumnDef::new(AuditEvents::Platform).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE audit_events SET platform = TRUE, tenant_id = NULL WHERE action IN \
             ('tenant.create', 'tenant.suspend', 'tenant.resume', 'tenant.delete', 'signup.approve', \
             'signup.reject', 'billing.cost_settings')",
        )
        .await?;
        // A superadmin's rename of another tenant was filed under the superadmin's tenant too.
        let other_tenant = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "tenant_id::text <> target_id",
            _ => "lower(hex(tenant_id)) <> replace(lower(target_id), '-', '')",
        };
        db.execute_unprepared(&format!(
            "UPDATE audit_events SET platform = TRUE, tenant_id = NULL \
             WHERE action = 'tenant.update' AND tenant_id IS NOT NULL AND {other_tenant}"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(AuditEvents::Table).drop_column(AuditEvents::Platform).to_owned())
            .await
    }
}
