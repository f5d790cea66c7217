//! `entries`: one locale variant of a piece of content in a site.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub site_id: Uuid,
    pub content_type_id: Uuid,
    /// The type's api id, copied so public routes can look entries up by it.
    pub type_api_id: String,
    /// Locale variants of the same content share this id.
    pub translation_group: Uuid,
    pub locale: String,
    /// Unique per site, type and locale.
    pub slug: String,
    pub title: String,
    /// `draft`, `scheduled`, `published` or `archived`.
    pub status: String,
    /// Field values, keyed by field name.
    pub data: Json,
    /// Tags as `,a,b,` so one portable `LIKE` filters by a tag.
    pub tags: String,
    pub author_id: Option<Uuid>,
    pub publish_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    /// Number of the latest revision.
    pub revision: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
