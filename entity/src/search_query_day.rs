//! `search_query_days`: public site searches per normalised query per day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "search_query_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub site_id: Uuid,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Lower-cased, whitespace collapsed.
    pub query: String,
    pub searches: i64,
    /// Searches of this query that found nothing.
    pub zero_results: i64,
    /// Result clicks reported by the site.
    pub clicks: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
