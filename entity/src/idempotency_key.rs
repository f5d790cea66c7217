//! `idempotency_keys`: the first response to a request made with an `Idempotency-Key`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Who sent it (`user:<id>@<tenant>`, `api_key:<id>`): keys are per principal.
    pub principal: String,
    pub key: String,
    /// sha256 of method, path and query, and body.
    pub fingerprint: String,
    /// `running` or `done`.
    pub state: String,
    pub status: Option<i32>,
    /// The response headers worth replaying (content type, location).
    pub headers: Option<Json>,
    /// The response body, base64.
    pub body: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
