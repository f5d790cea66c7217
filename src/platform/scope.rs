//! What a search may see: one tenant, some knowledge bases, optionally only some documents.
//! Both indexes take the same scope, so lexical and dense results are filtered alike.

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchScope {
    pub tenant_id: Uuid,
    pub kb_ids: Vec<Uuid>,
    /// Only these documents (None: every document of the knowledge bases).
    pub document_ids: Option<Vec<Uuid>>,
    /// Languages found in the knowledge bases (codes, see `engines::language`): the query is
    /// stemmed in each of them as well as in English and its own detected language.
    pub languages: Vec<String>,
}

impl SearchScope {
    pub fn kbs(tenant_id: Uuid, kb_ids: &[Uuid]) -> Self {
        Self { tenant_id, kb_ids: kb_ids.to_vec(), document_ids: None, languages: Vec::new() }
    }

    /// The languages to stem the query in.
    pub fn query_languages(&self, query: &str) -> Vec<&'static str> {
        crate::engines::language::for_query(query, self.languages.iter().map(String::as_str))
    }

    /// Nothing can match: no knowledge base, or a document filter that matched nothing.
    pub fn is_empty(&self) -> bool {
        self.kb_ids.is_empty() || self.document_ids.as_ref().is_some_and(Vec::is_empty)
    }
}
