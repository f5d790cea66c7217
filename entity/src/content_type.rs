//! `content_types`: a tenant's content types and their field definitions.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "content_types")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// Unique per tenant; names the type in URLs (`post`, `page`, `product`).
    pub api_id: String,
    pub description: String,
    /// JSON array of field definitions (see `lectern::content::fields`).
    pub fields: Json,
    /// `post` and `page`: present in every tenant, cannot be deleted.
    pub builtin: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
