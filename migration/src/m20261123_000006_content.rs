//! Content and media: content types, entries with revisions and references, elements, the
//! media library, contact submissions, daily view and search aggregates, and site settings for
//! public delivery.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, integer, integer_null, json_binary, json_binary_null, pk_uuid, string, string_null, text,
    text_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
    AllowedOrigins,
    KnowledgeBaseId,
}

#[derive(DeriveIden)]
enum ContentTypes {
    Table,
    Id,
    TenantId,
    Name,
    ApiId,
    Description,
    Fields,
    Builtin,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Entries {
    Table,
    Id,
    TenantId,
    SiteId,
    ContentTypeId,
    TypeApiId,
    TranslationGroup,
    Locale,
    Slug,
    Title,
    Status,
    Data,
    Tags,
    AuthorId,
    PublishAt,
    PublishedAt,
    Revision,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EntryRevisions {
    Table,
    Id,
    TenantId,
    EntryId,
    Number,
    Title,
    Slug,
    Status,
    Data,
    Tags,
    Actor,
    Note,
    Changed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EntryRefs {
    Table,
    Id,
    TenantId,
    EntryId,
    Kind,
    TargetId,
}

#[derive(DeriveIden)]
enum Elements {
    Table,
    Id,
    TenantId,
    SiteId,
    Name,
    Kind,
    Data,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MediaFolders {
    Table,
    Id,
    TenantId,
    SiteId,
    ParentId,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Media {
    Table,
    Id,
    TenantId,
    SiteId,
    FolderId,
    Name,
    Sha256,
    Mime,
    Size,
    Width,
    Height,
    Alt,
    Caption,
    UploadedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ContactSubmissions {
    Table,
    Id,
    TenantId,
    SiteId,
    Name,
    Email,
    Subject,
    Message,
    Fields,
    Status,
    CreatedAt,
    HandledAt,
    HandledBy,
}

#[derive(DeriveIden)]
enum PageViewDays {
    Table,
    Id,
    TenantId,
    SiteId,
    EntryId,
    Day,
    Views,
}

#[derive(DeriveIden)]
enum SearchQueryDays {
    Table,
    Id,
    TenantId,
    SiteId,
    Day,
    Query,
    Searches,
    ZeroResults,
    Clicks,
}

fn tenant_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(Tenants::Table, Tenants::Id).to_owned()
}

/// Site-owned rows go with their site.
fn site_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(Sites::Table, Sites::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn entry_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Entries::Table, Entries::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table).if_not_exists();
    for column in columns {
        statement.col(column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Sites::Table).add_column(json_binary_null(Sites::AllowedOrigins)).to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Sites::Table).add_column(uuid_null(Sites::KnowledgeBaseId)).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContentTypes::Table)
                    .if_not_exists()
                    .col(pk_uuid(ContentTypes::Id))
                    .col(uuid(ContentTypes::TenantId))
                    .col(string(ContentTypes::Name))
                    .col(string(ContentTypes::ApiId))
                    .col(text(ContentTypes::Description))
                    .col(json_binary(ContentTypes::Fields))
                    .col(boolean(ContentTypes::Builtin))
                    .col(timestamp_with_time_zone(ContentTypes::CreatedAt))
                    .col(timestamp_with_time_zone(ContentTypes::UpdatedAt))
                    .foreign_key(&mut tenant_fk(ContentTypes::Table, ContentTypes::TenantId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_content_types_tenant_api_id",
            ContentTypes::Table,
            vec![ContentTypes::TenantId.into_iden(), ContentTypes::ApiId.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Entries::Table)
                    .if_not_exists()
                    .col(pk_uuid(Entries::Id))
                    .col(uuid(Entries::TenantId))
                    .col(uuid(Entries::SiteId))
                    .col(uuid(Entries::ContentTypeId))
                    .col(string(Entries::TypeApiId))
                    .col(uuid(Entries::TranslationGroup))
                    .col(string(Entries::Locale))
                    .col(string(Entries::Slug))
                    .col(string(Entries::Title))
                    .col(string(Entries::Status))
                    .col(json_binary(Entries::Data))
                    .col(text(Entries::Tags))
                    .col(uuid_null(Entries::AuthorId))
                    .col(timestamp_with_time_zone_null(Entries::PublishAt))
                    .col(timestamp_with_time_zone_null(Entries::PublishedAt))
                    .col(integer(Entries::Revision))
                    .col(timestamp_with_time_zone(Entries::CreatedAt))
                    .col(timestamp_with_time_zone(Entries::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Entries::Table, Entries::TenantId))
                    .foreign_key(&mut site_fk(Entries::Table, Entries::SiteId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Entries::Table, Entries::ContentTypeId)
                            .to(ContentTypes::Table, ContentTypes::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_entries_slug",
            Entries::Table,
            vec![
                Entries::SiteId.into_iden(),
                Entries::ContentTypeId.into_iden(),
                Entries::Locale.into_iden(),
                Entries::Slug.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "idx_entries_translation",
            Entries::Table,
            vec![Entries::TranslationGroup.into_iden(), Entries::Locale.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "idx_entries_site_status",
            Entries::Table,
            vec![Entries::SiteId.into_iden(), Entries::Status.into_iden(), Entries::Locale.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(EntryRevisions::Table)
                    .if_not_exists()
                    .col(pk_uuid(EntryRevisions::Id))
                    .col(uuid(EntryRevisions::TenantId))
                    .col(uuid(EntryRevisions::EntryId))
                    .col(integer(EntryRevisions::Number))
                    .col(string(EntryRevisions::Title))
                    .col(string(EntryRevisions::Slug))
                    .col(string(EntryRevisions::Status))
                    .col(json_binary(EntryRevisions::Data))
                    .col(text(EntryRevisions::Tags))
                    .col(string(EntryRevisions::Actor))
                    .col(string_null(EntryRevisions::Note))
                    .col(json_binary(EntryRevisions::Changed))
                    .col(timestamp_with_time_zone(EntryRevisions::CreatedAt))
                    .foreign_key(&mut entry_fk(EntryRevisions::Table, EntryRevisions::EntryId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_entry_revisions_number",
            EntryRevisions::Table,
            vec![EntryRevisions::EntryId.into_iden(), EntryRevisions::Number.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(EntryRefs::Table)
                    .if_not_exists()
                    .col(pk_uuid(EntryRefs::Id))
                    .col(uuid(EntryRefs::TenantId))
                    .col(uuid(EntryRefs::EntryId))
                    .col(string(EntryRefs::Kind))
                    .col(uuid(EntryRefs::TargetId))
                    .foreign_key(&mut entry_fk(EntryRefs::Table, EntryRefs::EntryId))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_entry_refs_target", EntryRefs::Table, vec![EntryRefs::TargetId.into_iden()], false).await?;
        index(manager, "idx_entry_refs_entry", EntryRefs::Table, vec![EntryRefs::EntryId.into_iden()], false).await?;
        manager
            .create_table(
                Table::create()
                    .table(Elements::Table)
                    .if_not_exists()
                    .col(pk_uuid(Elements::Id))
                    .col(uuid(Elements::TenantId))
                    .col(uuid(Elements::SiteId))
                    .col(string(Elements::Name))
                    .col(string(Elements::Kind))
                    .col(json_binary(Elements::Data))
                    .col(timestamp_with_time_zone(Elements::CreatedAt))
                    .col(timestamp_with_time_zone(Elements::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Elements::Table, Elements::TenantId))
                    .foreign_key(&mut site_fk(Elements::Table, Elements::SiteId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MediaFolders::Table)
                    .if_not_exists()
                    .col(pk_uuid(MediaFolders::Id))
                    .col(uuid(MediaFolders::TenantId))
                    .col(uuid(MediaFolders::SiteId))
                    .col(uuid_null(MediaFolders::ParentId))
                    .col(string(MediaFolders::Name))
                    .col(timestamp_with_time_zone(MediaFolders::CreatedAt))
                    .col(timestamp_with_time_zone(MediaFolders::UpdatedAt))
                    .foreign_key(&mut tenant_fk(MediaFolders::Table, MediaFolders::TenantId))
                    .foreign_key(&mut site_fk(MediaFolders::Table, MediaFolders::SiteId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .if_not_exists()
                    .col(pk_uuid(Media::Id))
                    .col(uuid(Media::TenantId))
                    .col(uuid(Media::SiteId))
                    .col(uuid_null(Media::FolderId))
                    .col(string(Media::Name))
                    .col(string(Media::Sha256))
                    .col(string(Media::Mime))
                    .col(big_integer(Media::Size))
                    .col(integer_null(Media::Width))
                    .col(integer_null(Media::Height))
                    .col(json_binary(Media::Alt))
                    .col(json_binary(Media::Caption))
                    .col(string(Media::UploadedBy))
                    .col(timestamp_with_time_zone(Media::CreatedAt))
                    .col(timestamp_with_time_zone(Media::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Media::Table, Media::TenantId))
                    .foreign_key(&mut site_fk(Media::Table, Media::SiteId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_media_site",
            Media::Table,
            vec![Media::SiteId.into_iden(), Media::FolderId.into_iden()],
            false,
        )
        .await?;
        index(manager, "idx_media_sha256", Media::Table, vec![Media::Sha256.into_iden()], false).await?;
        manager
            .create_table(
                Table::create()
                    .table(ContactSubmissions::Table)
                    .if_not_exists()
                    .col(pk_uuid(ContactSubmissions::Id))
                    .col(uuid(ContactSubmissions::TenantId))
                    .col(uuid(ContactSubmissions::SiteId))
                    .col(string_null(ContactSubmissions::Name))
                    .col(string(ContactSubmissions::Email))
                    .col(string_null(ContactSubmissions::Subject))
                    .col(text(ContactSubmissions::Message))
                    .col(json_binary(ContactSubmissions::Fields))
                    .col(string(ContactSubmissions::Status))
                    .col(timestamp_with_time_zone(ContactSubmissions::CreatedAt))
                    .col(timestamp_with_time_zone_null(ContactSubmissions::HandledAt))
                    .col(text_null(ContactSubmissions::HandledBy))
                    .foreign_key(&mut tenant_fk(ContactSubmissions::Table, ContactSubmissions::TenantId))
                    .foreign_key(&mut site_fk(ContactSubmissions::Table, ContactSubmissions::SiteId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PageViewDays::Table)
                    .if_not_exists()
                    .col(pk_uuid(PageViewDays::Id))
                    .col(uuid(PageViewDays::TenantId))
                    .col(uuid(PageViewDays::SiteId))
                    .col(uuid(PageViewDays::EntryId))
                    .col(string(PageViewDays::Day))
                    .col(big_integer(PageViewDays::Views))
                    .foreign_key(&mut site_fk(PageViewDays::Table, PageViewDays::SiteId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_page_view_days_key",
            PageViewDays::Table,
            vec![PageViewDays::SiteId.into_iden(), PageViewDays::Day.into_iden(), PageViewDays::EntryId.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(SearchQueryDays::Table)
                    .if_not_exists()
                    .col(pk_uuid(SearchQueryDays::Id))
                    .col(uuid(SearchQueryDays::TenantId))
                    .col(uuid(SearchQueryDays::SiteId))
                    .col(string(SearchQueryDays::Day))
                    .col(string(SearchQueryDays::Query))
                    .col(big_integer(SearchQueryDays::Searches))
                    .col(big_integer(SearchQueryDays::ZeroResults))
                    .col(big_integer(SearchQueryDays::Clicks))
                    .foreign_key(&mut site_fk(SearchQueryDays::Table, SearchQueryDays::SiteId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_search_query_days_key",
            SearchQueryDays::Table,
            vec![
                SearchQueryDays::SiteId.into_iden(),
                SearchQueryDays::Day.into_iden(),
                SearchQueryDays::Query.into_iden(),
            ],
            true,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SearchQueryDays::Table.into_iden(),
            PageViewDays::Table.into_iden(),
            ContactSubmissions::Table.into_iden(),
            Media::Table.into_iden(),
            MediaFolders::Table.into_iden(),
            Elements::Table.into_iden(),
            EntryRefs::Table.into_iden(),
            EntryRevisions::Table.into_iden(),
            Entries::Table.into_iden(),
            ContentTypes::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(Sites::Table).drop_column(Sites::KnowledgeBaseId).to_owned()).await?;
        manager.alter_table(Table::alter().table(Sites::Table).drop_column(Sites::AllowedOrigins).to_owned()).await
    }
}
