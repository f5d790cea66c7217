//! An assistant answer keeps the check of its citations: per cited sentence, the quote of the
//! cited passage that supports it, or that none does.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Messages {
    Table,
    /// JSON: `{supported, unsupported, sentences: [...]}`; NULL for turns without a check.
    Verification,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(ColumnDef::new(Messages::Verification).json().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Messages::Table).drop_column(Messages::Verification).to_owned()).await
    }
}
