//! `users`: people who log in. Belong to tenants through memberships.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-cased.
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    /// argon2id PHC string; null for users who only log in through OAuth.
    pub password_hash: Option<String>,
    pub is_superadmin: bool,
    pub avatar_url: Option<String>,
    pub locale: Option<String>,
    /// `active` or `disabled`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
