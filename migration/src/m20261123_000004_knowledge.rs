//! Knowledge bases, documents, chunks (the source of truth for both search indexes), jobs and
//! the event outbox.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, integer, integer_null, json_binary, pk_uuid, string, string_null, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum KnowledgeBases {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    EmbeddingModel,
    ChunkMaxTokens,
    ChunkOverlapTokens,
    Visibility,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    TenantId,
    KbId,
    Title,
    SourceKind,
    SourceName,
    Kind,
    Bytes,
    Sha256,
    Status,
    Error,
    Pages,
    ChunkCount,
    Metadata,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Chunks {
    Table,
    Id,
    TenantId,
    KbId,
    DocumentId,
    Idx,
    Text,
    Pages,
    Headings,
    StartChar,
    EndChar,
    Tokens,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    TenantId,
    Kind,
    TargetId,
    Status,
    Attempts,
    MaxAttempts,
    RunAfter,
    LockedUntil,
    LockedBy,
    Stage,
    Done,
    Total,
    Error,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    TenantId,
    Kind,
    Payload,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnowledgeBases::Table)
                    .if_not_exists()
                    .col(pk_uuid(KnowledgeBases::Id))
                    .col(uuid(KnowledgeBases::TenantId))
                    .col(string(KnowledgeBases::Name))
                    .col(text(KnowledgeBases::Description))
                    .col(string(KnowledgeBases::EmbeddingModel))
                    .col(integer(KnowledgeBases::ChunkMaxTokens))
                    .col(integer(KnowledgeBases::ChunkOverlapTokens))
                    .col(string(KnowledgeBases::Visibility))
                    .col(timestamp_with_time_zone(KnowledgeBases::CreatedAt))
                    .col(timestamp_with_time_zone(KnowledgeBases::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KnowledgeBases::Table, KnowledgeBases::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .if_not_exists()
                    .col(pk_uuid(Documents::Id))
                    .col(uuid(Documents::TenantId))
                    .col(uuid(Documents::KbId))
                    .col(string(Documents::Title))
                    .col(string(Documents::SourceKind))
                    .col(string_null(Documents::SourceName))
                    .col(string_null(Documents::Kind))
                    .col(big_integer(Documents::Bytes))
                    .col(string(Documents::Sha256))
                    .col(string(Documents::Status))
                    .col(text_null(Documents::Error))
                    .col(integer_null(Documents::Pages))
                    .col(integer(Documents::ChunkCount))
                    .col(json_binary(Documents::Metadata))
                    .col(timestamp_with_time_zone(Documents::CreatedAt))
                    .col(timestamp_with_time_zone(Documents::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Documents::Table, Documents::KbId)
                            .to(KnowledgeBases::Table, KnowledgeBases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_documents_kb_sha")
                    .table(Documents::Table)
                    .col(Documents::KbId)
                    .col(Documents::Sha256)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Chunks::Table)
                    .if_not_exists()
                    .col(pk_uuid(Chunks::Id))
                    .col(uuid(Chunks::TenantId))
                    .col(uuid(Chunks::KbId))
                    .col(uuid(Chunks::DocumentId))
                    .col(integer(Chunks::Idx))
                    .col(text(Chunks::Text))
                    .col(json_binary(Chunks::Pages))
                    .col(json_binary(Chunks::Headings))
                    .col(integer(Chunks::StartChar))
                    .col(integer(Chunks::EndChar))
                    .col(integer(Chunks::Tokens))
                    .col(timestamp_with_time_zone(Chunks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Chunks::Table, Chunks::DocumentId)
                            .to(Documents::Table, Documents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chunks_document")
                    .table(Chunks::Table)
                    .col(Chunks::DocumentId)
                    .col(Chunks::Idx)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(pk_uuid(Jobs::Id))
                    .col(uuid(Jobs::TenantId))
                    .col(string(Jobs::Kind))
                    .col(uuid_null(Jobs::TargetId))
                    .col(string(Jobs::Status))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(timestamp_with_time_zone(Jobs::RunAfter))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(string_null(Jobs::LockedBy))
                    .col(string(Jobs::Stage))
                    .col(big_integer(Jobs::Done))
                    .col(big_integer(Jobs::Total))
                    .col(text_null(Jobs::Error))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_claim")
                    .table(Jobs::Table)
                    .col(Jobs::Status)
                    .col(Jobs::RunAfter)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .if_not_exists()
                    .col(pk_uuid(OutboxEvents::Id))
                    .col(uuid(OutboxEvents::TenantId))
                    .col(string(OutboxEvents::Kind))
                    .col(json_binary(OutboxEvents::Payload))
                    .col(timestamp_with_time_zone(OutboxEvents::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboxEvents::DeliveredAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OutboxEvents::Table.into_iden(),
            Jobs::Table.into_iden(),
            Chunks::Table.into_iden(),
            Documents::Table.into_iden(),
            KnowledgeBases::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
