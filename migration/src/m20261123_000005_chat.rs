//! Conversations and their messages, assistants, and the usage record of every model call.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    double_null, integer, json_binary, pk_uuid, string, string_null, text, text_null, timestamp_with_time_zone, uuid,
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
enum Conversations {
    Table,
    Id,
    TenantId,
    UserId,
    ApiKeyId,
    Title,
    SystemPrompt,
    KnowledgeBaseIds,
    AssistantId,
    Model,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    TenantId,
    ConversationId,
    Role,
    Content,
    Status,
    Citations,
    Model,
    PromptTokens,
    CompletionTokens,
    LatencyMs,
    Feedback,
    FeedbackComment,
    Error,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Assistants {
    Table,
    Id,
    TenantId,
    Name,
    Instructions,
    Model,
    KnowledgeBaseIds,
    Retrieval,
    Temperature,
    Starters,
    PublicSiteId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LlmUsage {
    Table,
    Id,
    TenantId,
    Actor,
    Operation,
    Model,
    PromptTokens,
    CompletionTokens,
    LatencyMs,
    CreatedAt,
}

fn tenant_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(Tenants::Table, Tenants::Id).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .if_not_exists()
                    .col(pk_uuid(Conversations::Id))
                    .col(uuid(Conversations::TenantId))
                    .col(uuid_null(Conversations::UserId))
                    .col(uuid_null(Conversations::ApiKeyId))
                    .col(string(Conversations::Title))
                    .col(text_null(Conversations::SystemPrompt))
                    .col(json_binary(Conversations::KnowledgeBaseIds))
                    .col(uuid_null(Conversations::AssistantId))
                    .col(string_null(Conversations::Model))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Conversations::Table, Conversations::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_tenant_updated")
                    .table(Conversations::Table)
                    .col(Conversations::TenantId)
                    .col(Conversations::UpdatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .if_not_exists()
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::TenantId))
                    .col(uuid(Messages::ConversationId))
                    .col(string(Messages::Role))
                    .col(text(Messages::Content))
                    .col(string(Messages::Status))
                    .col(json_binary(Messages::Citations))
                    .col(string_null(Messages::Model))
                    .col(integer(Messages::PromptTokens))
                    .col(integer(Messages::CompletionTokens))
                    .col(integer(Messages::LatencyMs))
                    .col(string_null(Messages::Feedback))
                    .col(text_null(Messages::FeedbackComment))
                    .col(text_null(Messages::Error))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_conversation_created")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Assistants::Table)
                    .if_not_exists()
                    .col(pk_uuid(Assistants::Id))
                    .col(uuid(Assistants::TenantId))
                    .col(string(Assistants::Name))
                    .col(text(Assistants::Instructions))
                    .col(string_null(Assistants::Model))
                    .col(json_binary(Assistants::KnowledgeBaseIds))
                    .col(json_binary(Assistants::Retrieval))
                    .col(double_null(Assistants::Temperature))
                    .col(json_binary(Assistants::Starters))
                    .col(uuid_null(Assistants::PublicSiteId))
                    .col(timestamp_with_time_zone(Assistants::CreatedAt))
                    .col(timestamp_with_time_zone(Assistants::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Assistants::Table, Assistants::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LlmUsage::Table)
                    .if_not_exists()
                    .col(pk_uuid(LlmUsage::Id))
                    .col(uuid(LlmUsage::TenantId))
                    .col(string(LlmUsage::Actor))
                    .col(string(LlmUsage::Operation))
                    .col(string(LlmUsage::Model))
                    .col(integer(LlmUsage::PromptTokens))
                    .col(integer(LlmUsage::CompletionTokens))
                    .col(integer(LlmUsage::LatencyMs))
                    .col(timestamp_with_time_zone(LlmUsage::CreatedAt))
                    .foreign_key(&mut tenant_fk(LlmUsage::Table, LlmUsage::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_llm_usage_tenant_created")
                    .table(LlmUsage::Table)
                    .col(LlmUsage::TenantId)
                    .col(LlmUsage::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [LlmUsage::Table.into_iden(), Assistants::Table.into_iden(), Messages::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(Conversations::Table).if_exists().to_owned()).await
    }
}
