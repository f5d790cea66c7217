//! `analysis_results`: one extracted value of one field of one document, and its review.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "analysis_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub run_id: Uuid,
    pub document_id: Uuid,
    pub field: String,
    /// The field's place in the schema, to list results in schema order.
    pub position: i32,
    /// The typed, normalised value; None when nothing was found.
    pub value: Option<Json>,
    pub confidence: f64,
    /// Where it came from: `{"page", "quote", "start", "end"}` (offsets into the page's text).
    pub source: Option<Json>,
    pub extractor: String,
    /// Validation errors against the schema.
    pub errors: Json,
    /// `pending`, `approved`, `corrected` or `rejected`.
    pub status: String,
    pub reviewed_value: Option<Json>,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub comment: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
