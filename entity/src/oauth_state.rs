//! `oauth_states`: a started OAuth/OIDC login (state, PKCE verifier, nonce), used once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// sha256 of the `state` parameter.
    #[sea_orm(unique)]
    pub state_hash: String,
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    /// Where the browser goes after login (a path on this server).
    pub redirect_to: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
