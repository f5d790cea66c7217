//! Credits: a wallet per tenant, the append-only ledger, price settings, and the Stripe events
//! already applied (so each is applied once).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, json_binary, pk_uuid, string, string_null, timestamp_with_time_zone, uuid,
    uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Wallets {
    Table,
    TenantId,
    Balance,
    OverdraftLimit,
    MonthlyCap,
    LowBalanceThreshold,
    LowBalanceNotified,
    HardStop,
    StripeCustomerId,
    Plan,
    SubscriptionId,
    SubscriptionStatus,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CreditTransactions {
    Table,
    Id,
    TenantId,
    Amount,
    BalanceAfter,
    Kind,
    Reference,
    Operation,
    Model,
    Sandbox,
    Actor,
    Metadata,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CostSettings {
    Table,
    Id,
    TenantId,
    Prices,
    Allowances,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    Id,
    Kind,
    TenantId,
    Outcome,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Wallets::Table)
                    .if_not_exists()
                    .col(uuid(Wallets::TenantId).primary_key())
                    .col(big_integer(Wallets::Balance))
                    .col(big_integer(Wallets::OverdraftLimit))
                    .col(big_integer_null(Wallets::MonthlyCap))
                    .col(big_integer_null(Wallets::LowBalanceThreshold))
                    .col(boolean(Wallets::LowBalanceNotified))
                    .col(boolean(Wallets::HardStop))
                    .col(string_null(Wallets::StripeCustomerId))
                    .col(string_null(Wallets::Plan))
                    .col(string_null(Wallets::SubscriptionId))
                    .col(string_null(Wallets::SubscriptionStatus))
                    .col(timestamp_with_time_zone(Wallets::UpdatedAt))
                    // The balance never goes below the tenant's overdraft limit, whatever the code does.
                    .check(Expr::cust("balance + overdraft_limit >= 0"))
                    .foreign_key(
                        ForeignKey::create().from(Wallets::Table, Wallets::TenantId).to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CreditTransactions::Table)
                    .if_not_exists()
                    .col(pk_uuid(CreditTransactions::Id))
                    .col(uuid(CreditTransactions::TenantId))
                    .col(big_integer(CreditTransactions::Amount))
                    .col(big_integer(CreditTransactions::BalanceAfter))
                    .col(string(CreditTransactions::Kind))
                    .col(string(CreditTransactions::Reference))
                    .col(string_null(CreditTransactions::Operation))
                    .col(string_null(CreditTransactions::Model))
                    .col(boolean(CreditTransactions::Sandbox))
                    .col(string(CreditTransactions::Actor))
                    .col(json_binary(CreditTransactions::Metadata))
                    .col(timestamp_with_time_zone(CreditTransactions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CreditTransactions::Table, CreditTransactions::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credit_transactions_reference")
                    .table(CreditTransactions::Table)
                    .col(CreditTransactions::TenantId)
                    .col(CreditTransactions::Reference)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credit_transactions_created")
                    .table(CreditTransactions::Table)
                    .col(CreditTransactions::TenantId)
                    .col(CreditTransactions::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CostSettings::Table)
                    .if_not_exists()
                    .col(pk_uuid(CostSettings::Id))
                    .col(uuid_null(CostSettings::TenantId).unique_key())
                    .col(json_binary(CostSettings::Prices))
                    .col(json_binary(CostSettings::Allowances))
                    .col(timestamp_with_time_zone(CostSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StripeEvents::Table)
                    .if_not_exists()
                    .col(string(StripeEvents::Id).primary_key())
                    .col(string(StripeEvents::Kind))
                    .col(uuid_null(StripeEvents::TenantId))
                    .col(string(StripeEvents::Outcome))
                    .col(timestamp_with_time_zone(StripeEvents::ReceivedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StripeEvents::Table.into_iden(),
            CostSettings::Table.into_iden(),
            CreditTransactions::Table.into_iden(),
            Wallets::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
