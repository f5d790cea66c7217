//! Stripe does not promise to deliver events in order: the wallet remembers when the
//! subscription event it applied last was created, so an older one arriving late is ignored.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Wallets {
    Table,
    /// Unix seconds of the applied subscription event's `created`.
    SubscriptionEventAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Wallets::Table)
                    .add_column(ColumnDef::new(Wallets::SubscriptionEventAt).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Wallets::Table).drop_column(Wallets::SubscriptionEventAt).to_owned())
            .await
    }
}
