//! A passage given to a model as context: what the model may cite as `[n]`, and where it came
//! from so the citation can be checked and shown.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One numbered source of a prompt's context.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextSource {
    /// The number the context and a model's answer cite it by: `[n]`.
    pub n: usize,
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub document_title: String,
    pub knowledge_base_id: Uuid,
    pub pages: Vec<u32>,
    pub snippet: String,
    pub score: f32,
    #[serde(skip)]
    pub text: String,
}
