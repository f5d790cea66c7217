//! Groups, sign-up waitlist, password resets, and OAuth/OIDC login state and linked identities.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    json_binary_null, pk_uuid, string, string_null, string_uniq, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    TenantId,
    Name,
    Role,
    SiteIds,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupId,
    UserId,
    TenantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Waitlist {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    TenantName,
    Status,
    CreatedAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    Id,
    StateHash,
    Provider,
    PkceVerifier,
    Nonce,
    RedirectTo,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserIdentities {
    Table,
    Id,
    UserId,
    Provider,
    Subject,
    Email,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .if_not_exists()
                    .col(pk_uuid(Groups::Id))
                    .col(uuid(Groups::TenantId))
                    .col(string(Groups::Name))
                    .col(string(Groups::Role))
                    .col(json_binary_null(Groups::SiteIds))
                    .col(timestamp_with_time_zone(Groups::CreatedAt))
                    .col(timestamp_with_time_zone(Groups::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Groups::Table, Groups::TenantId).to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_groups_tenant_name")
                    .table(Groups::Table)
                    .col(Groups::TenantId)
                    .col(Groups::Name)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .if_not_exists()
                    .col(uuid(GroupMembers::GroupId))
                    .col(uuid(GroupMembers::UserId))
                    .col(uuid(GroupMembers::TenantId))
                    .col(timestamp_with_time_zone(GroupMembers::CreatedAt))
                    .primary_key(Index::create().col(GroupMembers::GroupId).col(GroupMembers::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_user")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::UserId)
                    .col(GroupMembers::TenantId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Waitlist::Table)
                    .if_not_exists()
                    .col(pk_uuid(Waitlist::Id))
                    .col(string(Waitlist::Email))
                    .col(string(Waitlist::Name))
                    .col(string(Waitlist::PasswordHash))
                    .col(string(Waitlist::TenantName))
                    .col(string(Waitlist::Status))
                    .col(timestamp_with_time_zone(Waitlist::CreatedAt))
                    .col(timestamp_with_time_zone_null(Waitlist::DecidedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .if_not_exists()
                    .col(pk_uuid(PasswordResets::Id))
                    .col(uuid(PasswordResets::UserId))
                    .col(string_uniq(PasswordResets::TokenHash))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordResets::Table, PasswordResets::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .if_not_exists()
                    .col(pk_uuid(OauthStates::Id))
                    .col(string_uniq(OauthStates::StateHash))
                    .col(string(OauthStates::Provider))
                    .col(string(OauthStates::PkceVerifier))
                    .col(string(OauthStates::Nonce))
                    .col(string_null(OauthStates::RedirectTo))
                    .col(timestamp_with_time_zone(OauthStates::ExpiresAt))
                    .col(timestamp_with_time_zone(OauthStates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserIdentities::Table)
                    .if_not_exists()
                    .col(pk_uuid(UserIdentities::Id))
                    .col(uuid(UserIdentities::UserId))
                    .col(string(UserIdentities::Provider))
                    .col(string(UserIdentities::Subject))
                    .col(string(UserIdentities::Email))
                    .col(timestamp_with_time_zone(UserIdentities::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserIdentities::Table, UserIdentities::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_user_identities_provider_subject")
                    .table(UserIdentities::Table)
                    .col(UserIdentities::Provider)
                    .col(UserIdentities::Subject)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UserIdentities::Table.into_iden(),
            OauthStates::Table.into_iden(),
            PasswordResets::Table.into_iden(),
            Waitlist::Table.into_iden(),
            GroupMembers::Table.into_iden(),
            Groups::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
