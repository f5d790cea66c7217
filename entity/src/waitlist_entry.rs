//! `waitlist`: sign-ups waiting for a superadmin's approval (sign-up mode `approval`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "waitlist")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// argon2id hash of the password chosen at sign-up, moved to the user on approval.
    pub password_hash: String,
    pub tenant_name: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
