//! Document analysis: extraction schemas (versioned), runs, and extracted values under review.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    double, integer, json_binary, json_binary_null, pk_uuid, string, string_null, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AnalysisSchemas {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Version,
    Fields,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AnalysisSchemaVersions {
    Table,
    Id,
    SchemaId,
    TenantId,
    Version,
    Fields,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AnalysisRuns {
    Table,
    Id,
    TenantId,
    SchemaId,
    SchemaVersion,
    Status,
    Extractor,
    DocumentIds,
    JobId,
    AutoApproveAbove,
    Error,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum AnalysisResults {
    Table,
    Id,
    TenantId,
    RunId,
    DocumentId,
    Field,
    Position,
    Value,
    Confidence,
    Source,
    Extractor,
    Errors,
    Status,
    ReviewedValue,
    Reviewer,
    ReviewedAt,
    Comment,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AnalysisSchemas::Table)
                    .if_not_exists()
                    .col(pk_uuid(AnalysisSchemas::Id))
                    .col(uuid(AnalysisSchemas::TenantId))
                    .col(string(AnalysisSchemas::Name))
                    .col(text_null(AnalysisSchemas::Description))
                    .col(integer(AnalysisSchemas::Version))
                    .col(json_binary(AnalysisSchemas::Fields))
                    .col(string_null(AnalysisSchemas::CreatedBy))
                    .col(timestamp_with_time_zone(AnalysisSchemas::CreatedAt))
                    .col(timestamp_with_time_zone(AnalysisSchemas::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_analysis_schemas_tenant_name")
                    .table(AnalysisSchemas::Table)
                    .col(AnalysisSchemas::TenantId)
                    .col(AnalysisSchemas::Name)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnalysisSchemaVersions::Table)
                    .if_not_exists()
                    .col(pk_uuid(AnalysisSchemaVersions::Id))
                    .col(uuid(AnalysisSchemaVersions::SchemaId))
                    .col(uuid(AnalysisSchemaVersions::TenantId))
                    .col(integer(AnalysisSchemaVersions::Version))
                    .col(json_binary(AnalysisSchemaVersions::Fields))
                    .col(timestamp_with_time_zone(AnalysisSchemaVersions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_analysis_schema_versions_schema_version")
                    .table(AnalysisSchemaVersions::Table)
                    .col(AnalysisSchemaVersions::SchemaId)
                    .col(AnalysisSchemaVersions::Version)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnalysisRuns::Table)
                    .if_not_exists()
                    .col(pk_uuid(AnalysisRuns::Id))
                    .col(uuid(AnalysisRuns::TenantId))
                    .col(uuid(AnalysisRuns::SchemaId))
                    .col(integer(AnalysisRuns::SchemaVersion))
                    .col(string(AnalysisRuns::Status))
                    .col(string(AnalysisRuns::Extractor))
                    .col(json_binary(AnalysisRuns::DocumentIds))
                    .col(uuid_null(AnalysisRuns::JobId))
                    .col(double(AnalysisRuns::AutoApproveAbove))
                    .col(text_null(AnalysisRuns::Error))
                    .col(string_null(AnalysisRuns::CreatedBy))
                    .col(timestamp_with_time_zone(AnalysisRuns::CreatedAt))
                    .col(timestamp_with_time_zone(AnalysisRuns::UpdatedAt))
                    .col(timestamp_with_time_zone_null(AnalysisRuns::CompletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_analysis_runs_tenant")
                    .table(AnalysisRuns::Table)
                    .col(AnalysisRuns::TenantId)
                    .col(AnalysisRuns::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnalysisResults::Table)
                    .if_not_exists()
                    .col(pk_uuid(AnalysisResults::Id))
                    .col(uuid(AnalysisResults::TenantId))
                    .col(uuid(AnalysisResults::RunId))
                    .col(uuid(AnalysisResults::DocumentId))
                    .col(string(AnalysisResults::Field))
                    .col(integer(AnalysisResults::Position))
                    .col(json_binary_null(AnalysisResults::Value))
                    .col(double(AnalysisResults::Confidence))
                    .col(json_binary_null(AnalysisResults::Source))
                    .col(string(AnalysisResults::Extractor))
                    .col(json_binary(AnalysisResults::Errors))
                    .col(string(AnalysisResults::Status))
                    .col(json_binary_null(AnalysisResults::ReviewedValue))
                    .col(string_null(AnalysisResults::Reviewer))
                    .col(timestamp_with_time_zone_null(AnalysisResults::ReviewedAt))
                    .col(text_null(AnalysisResults::Comment))
                    .col(timestamp_with_time_zone(AnalysisResults::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_analysis_results_run", vec![AnalysisResults::RunId, AnalysisResults::DocumentId]),
            ("idx_analysis_results_queue", vec![AnalysisResults::TenantId, AnalysisResults::Status]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AnalysisResults::Table).if_not_exists();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AnalysisResults::Table.into_iden(),
            AnalysisRuns::Table.into_iden(),
            AnalysisSchemaVersions::Table.into_iden(),
            AnalysisSchemas::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
