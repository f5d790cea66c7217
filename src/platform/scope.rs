//! What a search may see: one tenant, some knowledge bases, optionally only some documents.
//! Both indexes take the same scope, so lexical and dense results are filtered alike.

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchScope {
    pub tenant_id: Uuid,
    pub kb_ids: Vec<Uuid>,
    /// Only these documents (None: every document of the knowledge bases).
    pub document_ids: Option<Vec<Uuid>>,
}

impl SearchScope {
    pub fn kbs(tenant_id: Uuid, kb_ids: &[Uuid]) -> Self {
        Self { tenant_id, kb_ids: kb_ids.to_vec(), document_ids: None }
    }

    /// Nothing can match: no knowledge base, or a document filter that matched nothing.
    pub fn is_empty(&self) -> bool {
        self.kb_ids.is_empty() || self.document_ids.as_ref().is_some_and(Vec::is_empty)
    }
}
