//! `assistants`: saved chat settings (instructions, model, knowledge bases, retrieval).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assistants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub instructions: String,
    pub model: Option<String>,
    pub knowledge_base_ids: Json,
    /// `{mode, topK, minScore}`.
    pub retrieval: Json,
    #[sea_orm(column_type = "Double", nullable)]
    pub temperature: Option<f64>,
    /// JSON array of suggested first questions.
    pub starters: Json,
    /// The site whose visitors may chat with it publicly (None: private).
    pub public_site_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
