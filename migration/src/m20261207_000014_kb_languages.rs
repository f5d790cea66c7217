//! A knowledge base remembers the languages its chunks are stemmed in, so a query is stemmed
//! in each of them too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KnowledgeBases {
    Table,
    /// Comma-led language codes (`,de,fr`), appended to as languages appear; English, the
    /// default, is not listed.
    Languages,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(KnowledgeBases::Table)
                    .add_column(ColumnDef::new(KnowledgeBases::Languages).string().not_null().default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(KnowledgeBases::Table).drop_column(KnowledgeBases::Languages).to_owned())
            .await
    }
}
