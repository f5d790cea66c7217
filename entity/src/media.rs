//! `media`: files of a site's media library; the bytes live in the blob store by sha256.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub site_id: Uuid,
    pub folder_id: Option<Uuid>,
    /// File name as uploaded (or renamed).
    pub name: String,
    pub sha256: String,
    /// Sniffed from the bytes, not taken from the client.
    pub mime: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Alt text per locale: `{"en": "…"}`.
    pub alt: Json,
    /// Caption per locale.
    pub caption: Json,
    pub uploaded_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
