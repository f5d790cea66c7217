//! The lexical index: tantivy over chunk text, BM25 scoring, tenant- and KB-scoped.
//!
//! Derived data: chunk rows in the database are the source of truth and the index can be
//! rebuilt from them. All calls are blocking (tantivy is synchronous): run them with
//! `spawn_blocking`. Every search is filtered by tenant before anything else.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TokenStream;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use uuid::Uuid;

use crate::engines::analysis;
use crate::engines::group_commit::GroupCommit;
use crate::platform::scope::SearchScope;

#[derive(Debug, thiserror::Error)]
pub enum FulltextError {
    #[error("the search index at {path} cannot be opened ({reason}); rebuild it with `lectern reindex`")]
    Open { path: String, reason: String },
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("committing the search index failed: {0}")]
    Commit(String),
}

/// One chunk as the index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkText {
    pub chunk_id: Uuid,
    pub tenant_id: Uuid,
    pub kb_id: Uuid,
    pub document_id: Uuid,
    pub text: String,
    /// Where the chunk sits: the document title and heading path. Searched with the text, so
    /// every chunk matches its document's title words, not only the first one.
    pub context: String,
}

impl ChunkText {
    /// The context line of a chunk: `Title > Heading > Subheading`.
    pub fn context_of(title: &str, headings: &[String]) -> String {
        std::iter::once(title).chain(headings.iter().map(String::as_str)).collect::<Vec<_>>().join(" > ")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LexicalHit {
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub score: f32,
    /// The best fragment with matches wrapped in `<b>…</b>` (HTML-escaped).
    pub snippet: String,
}

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    tenant_id: Field,
    kb_id: Field,
    document_id: Field,
    /// English stemming: "running" finds "runs".
    text: Field,
    /// Lower-cased words without stemming, for other languages and exact forms.
    text_plain: Field,
    /// Title and headings (stemmed, not stored).
    context: Field,
}

pub struct FulltextIndex {
    /// The index on disk had an older schema and was recreated empty: rebuild it from the
    /// chunk rows (`repair::rebuild_fulltext`).
    pub recreated: bool,
    index: Index,
    reader: IndexReader,
    writer: Arc<Mutex<IndexWriter>>,
    /// Commits shared by the documents being ingested at once ([`Self::commit_shared`]).
    commits: GroupCommit,
    fields: Fields,
}

const WRITER_MEMORY: usize = 50 * 1024 * 1024;

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text_with = |tokenizer: &str, stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        chunk_id: builder.add_text_field("chunk_id", STRING | STORED),
        tenant_id: builder.add_text_field("tenant_id", STRING),
        kb_id: builder.add_text_field("kb_id", STRING),
        document_id: builder.add_text_field("document_id", STRING | STORED),
        text: builder.add_text_field("text", text_with(analysis::STEMMED, true)),
        text_plain: builder.add_text_field("text_plain", text_with(analysis::PLAIN, false)),
        context: builder.add_text_field("context", text_with(analysis::STEMMED, false)),
    };
    (builder.build(), fields)
}

/// The writer, also after a panic elsewhere poisoned its lock (tantivy's state stays valid).
fn lock(writer: &Mutex<IndexWriter>) -> std::sync::MutexGuard<'_, IndexWriter> {
    writer.lock().unwrap_or_else(|p| p.into_inner())
}

impl FulltextIndex {
    /// Opens the index in `dir`, creating it if needed.
    pub fn open(dir: &Path) -> Result<Self, FulltextError> {
        let fail = |reason: String| FulltextError::Open { path: dir.display().to_string(), reason };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let (schema, fields) = schema();
        let directory = MmapDirectory::open(dir).map_err(|e| fail(e.to_string()))?;
        // An index written by an older version lacks fields: start it afresh (the chunk rows
        // are the source of truth) and say so, so startup refills it.
        let outdated = Index::open(directory.clone()).is_ok_and(|old| old.schema() != schema);
        if outdated {
            tracing::warn!(path = %dir.display(), "the search index has an older schema; recreating it");
            drop(directory);
            std::fs::remove_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let directory = MmapDirectory::open(dir).map_err(|e| fail(e.to_string()))?;
        let index = Index::open_or_create(directory, schema).map_err(|e| fail(e.to_string()))?;
        analysis::register(index.tokenizers());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = Arc::new(Mutex::new(index.writer(WRITER_MEMORY)?));
        let (committing, refreshing) = (writer.clone(), reader.clone());
        let commits = GroupCommit::start("fulltext-commit", move || {
            lock(&committing).commit().map_err(|e| e.to_string())?;
            refreshing.reload().map_err(|e| e.to_string())
        })
        .map_err(|e| fail(e.to_string()))?;
        Ok(Self { recreated: outdated, index, reader, writer, commits, fields })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        lock(&self.writer)
    }

    /// Adds chunks and commits once (a batch is visible to searches when this returns).
    pub fn add(&self, chunks: &[ChunkText]) -> Result<(), FulltextError> {
        self.add_uncommitted(chunks)?;
        let mut writer = self.writer();
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Adds chunks without committing: they become durable and searchable at the next commit,
    /// which [`Self::commit_shared`] waits for. All of them go in under one lock, so no commit
    /// holds half of a document.
    pub fn add_uncommitted(&self, chunks: &[ChunkText]) -> Result<(), FulltextError> {
        let f = self.fields;
        let writer = self.writer();
        for c in chunks {
            writer.add_document(doc!(
                f.chunk_id => c.chunk_id.to_string(),
                f.tenant_id => c.tenant_id.to_string(),
                f.kb_id => c.kb_id.to_string(),
                f.document_id => c.document_id.to_string(),
                f.text => c.text.clone(),
                f.text_plain => c.text.clone(),
                f.context => c.context.clone(),
            ))?;
        }
        Ok(())
    }

    /// Waits for a commit (and reader reload) that covers everything added before the call;
    /// concurrent callers share one.
    pub async fn commit_shared(&self) -> Result<(), FulltextError> {
        self.commits.commit().await.map_err(FulltextError::Commit)
    }

    /// Removes every chunk of one tenant's document (safe to repeat).
    pub fn delete_document(&self, tenant_id: Uuid, document_id: Uuid) -> Result<(), FulltextError> {
        self.delete(tenant_id, self.fields.document_id, document_id)
    }

    /// Removes every chunk of one tenant's knowledge base.
    pub fn delete_kb(&self, tenant_id: Uuid, kb_id: Uuid) -> Result<(), FulltextError> {
        self.delete(tenant_id, self.fields.kb_id, kb_id)
    }

    fn delete(&self, tenant_id: Uuid, field: Field, id: Uuid) -> Result<(), FulltextError> {
        let both = BooleanQuery::new(vec![
            (Occur::Must, Box::new(self.exact(self.fields.tenant_id, tenant_id)) as Box<dyn Query>),
            (Occur::Must, Box::new(self.exact(field, id))),
        ]);
        let mut writer = self.writer();
        writer.delete_query(Box::new(both))?;
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Chunks indexed for a tenant (all tenants with None): for consistency checks.
    pub fn count(&self, tenant_id: Option<Uuid>) -> Result<u64, FulltextError> {
        let searcher = self.reader.searcher();
        Ok(match tenant_id {
            None => searcher.num_docs(),
            Some(t) => searcher.search(&self.exact(self.fields.tenant_id, t), &tantivy::collector::Count)? as u64,
        })
    }

    /// Chunks indexed for one document.
    pub fn count_document(&self, document_id: Uuid) -> Result<u64, FulltextError> {
        let searcher = self.reader.searcher();
        Ok(searcher.search(&self.exact(self.fields.document_id, document_id), &tantivy::collector::Count)? as u64)
    }

    fn exact(&self, field: Field, id: Uuid) -> TermQuery {
        TermQuery::new(Term::from_field_text(field, &id.to_string()), IndexRecordOption::Basic)
    }

    /// The words of `text` as BM25 expects them: every term each field's analyzer makes of it
    /// (the stemmed fields: in each of `languages`) is a should-clause over that field. User
    /// text is never read as query syntax, so `Revenue: growth`, `"unbalanced`, `a AND (b` or
    /// `-x^2` find what their words find.
    fn words_query(&self, text: &str, languages: &[&str]) -> Result<Option<Box<dyn Query>>, FulltextError> {
        let f = self.fields;
        let stemmed = analysis::query_terms(text, languages);
        let mut plain = Vec::new();
        let mut analyzer = self.index.tokenizer_for_field(f.text_plain)?;
        let mut tokens = analyzer.token_stream(text);
        while let Some(token) = tokens.next() {
            plain.push(token.text.clone());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = [(f.text, &stemmed), (f.text_plain, &plain), (f.context, &stemmed)]
            .into_iter()
            .flat_map(|(field, terms)| terms.iter().map(move |t| Term::from_field_text(field, t)))
            .map(|term| (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>))
            .collect();
        Ok((!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>))
    }

    /// BM25 search within a scope (one tenant, its knowledge bases, optionally some
    /// documents) for the words of `query` (any text is valid; see [`Self::words_query`]).
    pub fn search(&self, scope: &SearchScope, query: &str, limit: usize) -> Result<Vec<LexicalHit>, FulltextError> {
        if scope.is_empty() || query.trim().is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let Some(text_query) = self.words_query(query, &scope.query_languages(query))? else { return Ok(Vec::new()) };
        let any_of = |field: Field, ids: &[Uuid]| -> Box<dyn Query> {
            Box::new(TermSetQuery::new(ids.iter().map(|id| Term::from_field_text(field, &id.to_string()))))
        };
        // Filters score nothing: tantivy 0.27 has no Occur::Filter, so they are constant-0 musts.
        let filter = |q: Box<dyn Query>| -> Box<dyn Query> { Box::new(ConstScoreQuery::new(q, 0.0)) };
        let mut clauses = vec![
            (Occur::Must, filter(Box::new(self.exact(f.tenant_id, scope.tenant_id)))),
            (Occur::Must, filter(any_of(f.kb_id, &scope.kb_ids))),
            (Occur::Must, text_query.box_clone()),
        ];
        if let Some(documents) = &scope.document_ids {
            clauses.push((Occur::Must, filter(any_of(f.document_id, documents))));
        }
        let combined = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(&combined, &TopDocs::with_limit(limit).order_by_score())?;
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, f.text)?;
        snippets.set_max_num_chars(240);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok());
            let (Some(chunk_id), Some(document_id)) = (id(f.chunk_id), id(f.document_id)) else { continue };
            hits.push(LexicalHit { chunk_id, document_id, score, snippet: snippets.snippet_from_doc(&doc).to_html() });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(tenant: Uuid, kb: Uuid, document: Uuid, text: &str) -> ChunkText {
        ChunkText {
            chunk_id: Uuid::now_v7(),
            tenant_id: tenant,
            kb_id: kb,
            document_id: document,
            text: text.to_owned(),
            context: String::new(),
        }
    }

    #[test]
    fn search_is_scoped_by_tenant_and_kb_and_ranks_by_bm25() {
        let dir = tempfile::tempdir().unwrap();
        let index = FulltextIndex::open(dir.path()).unwrap();
        let (t1, t2, kb1, kb2, kb3, d) =
            (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let same = "The secret launch code is stored in the vault.";
        let mine = chunk(t1, kb1, d, same);
        index
            .add(&[
                mine.clone(),
                chunk(t2, kb3, Uuid::now_v7(), same),
                chunk(t1, kb2, Uuid::now_v7(), same),
                chunk(t1, kb1, d, "Vaults and vaults of vault vault."),
            ])
            .unwrap();

        let hits = index.search(&SearchScope::kbs(t1, &[kb1]), "launch code", 10).unwrap();
        assert_eq!(hits.len(), 1, "other tenant's identical text and other KBs are invisible");
        assert_eq!(hits[0].chunk_id, mine.chunk_id);
        assert!(hits[0].snippet.contains("<b>launch</b> <b>code</b>"), "{}", hits[0].snippet);
        assert_eq!(index.search(&SearchScope::kbs(t1, &[kb1, kb2]), "launch", 10).unwrap().len(), 2);
        let only_d = SearchScope { document_ids: Some(vec![d]), ..SearchScope::kbs(t1, &[kb1, kb2]) };
        assert_eq!(index.search(&only_d, "launch", 10).unwrap().len(), 1, "document filter");
        let none = SearchScope { document_ids: Some(Vec::new()), ..SearchScope::kbs(t1, &[kb1]) };
        assert!(index.search(&none, "launch", 10).unwrap().is_empty());
        let vault = index.search(&SearchScope::kbs(t1, &[kb1]), "vault", 10).unwrap();
        assert!(vault[0].score > vault[1].score && vault[0].chunk_id != mine.chunk_id, "term frequency ranks first");
        assert_eq!(index.count(Some(t2)).unwrap(), 1);
    }

    #[test]
    fn stemming_matches_word_forms_and_any_user_text_is_a_query() {
        let dir = tempfile::tempdir().unwrap();
        let index = FulltextIndex::open(dir.path()).unwrap();
        let (t, kb) = (Uuid::now_v7(), Uuid::now_v7());
        index.add(&[chunk(t, kb, Uuid::now_v7(), "She runs the indexing pipelines daily.")]).unwrap();
        assert_eq!(index.search(&SearchScope::kbs(t, &[kb]), "running pipeline", 5).unwrap().len(), 1);
        for odd in ["AND OR (", "\"unclosed", "title:[a TO", "*", "))))"] {
            index.search(&SearchScope::kbs(t, &[kb]), odd, 5).unwrap();
        }
        assert!(index.search(&SearchScope::kbs(t, &[kb]), "   ", 5).unwrap().is_empty());
    }

    #[test]
    fn punctuation_and_operators_are_words_not_syntax() {
        let dir = tempfile::tempdir().unwrap();
        let index = FulltextIndex::open(dir.path()).unwrap();
        let (t, kb) = (Uuid::now_v7(), Uuid::now_v7());
        let texts = [
            "Revenue growth was strong in the third quarter.",
            "Growth of the team and its revenue targets.",
            "Shipping and delivery times for parcels.",
            "Il fatturato è cresciuto: مرحبا بالعالم 🚀 rocket launch.",
        ];
        index.add(&texts.iter().map(|t_| chunk(t, kb, Uuid::now_v7(), t_)).collect::<Vec<_>>()).unwrap();
        let scope = SearchScope::kbs(t, &[kb]);
        let ids = |q: &str| {
            let mut hits: Vec<_> =
                index.search(&scope, q, 10).unwrap().into_iter().map(|h| (h.chunk_id, h.score.to_bits())).collect();
            hits.sort();
            hits
        };
        let plain = ids("revenue growth");
        assert_eq!(plain.len(), 2);
        for hostile in [
            "Revenue: growth",
            "\"revenue growth",
            "(revenue growth",
            "revenue) growth]",
            "+revenue -growth",
            "revenue AND growth",
            "revenue^2 growth~",
            "revenue* growth\\",
            "text:revenue growth",
            "revenue OR growth",
        ] {
            let words: String = hostile.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
            assert_eq!(ids(hostile), ids(&words), "{hostile}");
            assert!(ids(hostile).len() >= 2, "{hostile}");
        }
        assert_eq!(ids("Revenue: growth"), plain);
        assert_eq!(ids("مرحبا 🚀").len(), 1, "right-to-left words and emoji");
        let long = "revenue growth ".repeat(700);
        assert_eq!(index.search(&scope, &long, 10).unwrap().len(), 2, "10,000 characters");
        assert!(index.search(&scope, "?!: ()", 10).unwrap().is_empty(), "no words, no hits");
    }

    #[test]
    fn deleting_a_document_or_kb_removes_its_chunks_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (t, kb, other_kb, d1, d2) =
            (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        {
            let index = FulltextIndex::open(dir.path()).unwrap();
            index
                .add(&[
                    chunk(t, kb, d1, "alpha beta"),
                    chunk(t, kb, d2, "alpha gamma"),
                    chunk(t, other_kb, Uuid::now_v7(), "alpha delta"),
                ])
                .unwrap();
            index.delete_document(t, d1).unwrap();
            index.delete_document(Uuid::now_v7(), d2).unwrap(); // another tenant's id: nothing
            index.delete_document(t, d1).unwrap();
        }
        let index = FulltextIndex::open(dir.path()).unwrap();
        let hits = index.search(&SearchScope::kbs(t, &[kb]), "alpha", 10).unwrap();
        assert_eq!(hits.iter().map(|h| h.document_id).collect::<Vec<_>>(), [d2]);
        index.delete_kb(t, kb).unwrap();
        assert!(index.search(&SearchScope::kbs(t, &[kb]), "alpha", 10).unwrap().is_empty());
        assert_eq!(index.count(None).unwrap(), 1);
    }

    #[test]
    fn every_chunk_matches_its_documents_title_and_headings() {
        let dir = tempfile::tempdir().unwrap();
        let index = FulltextIndex::open(dir.path()).unwrap();
        assert!(!index.recreated);
        let (t, kb, d) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let later = ChunkText {
            context: ChunkText::context_of("Statins and breast cancer", &["Results".to_owned()]),
            ..chunk(t, kb, d, "Mortality fell in the cohort of users.")
        };
        index.add(&[later.clone(), chunk(t, kb, Uuid::now_v7(), "Mortality rose in another cohort.")]).unwrap();
        let hits = index.search(&SearchScope::kbs(t, &[kb]), "statin mortality", 10).unwrap();
        assert_eq!(hits[0].chunk_id, later.chunk_id, "the title word ranks the chunk first");
        assert!(!hits[0].snippet.contains("Statins"), "snippets come from the text only");
    }

    #[test]
    fn an_index_with_an_older_schema_is_recreated_and_flagged() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut builder = Schema::builder();
            builder.add_text_field("chunk_id", STRING | STORED);
            let old = Index::create_in_dir(dir.path(), builder.build()).unwrap();
            let mut writer: IndexWriter = old.writer(15_000_000).unwrap();
            writer.commit().unwrap();
        }
        let index = FulltextIndex::open(dir.path()).unwrap();
        assert!(index.recreated);
        assert_eq!(index.count(None).unwrap(), 0);
        drop(index);
        assert!(!FulltextIndex::open(dir.path()).unwrap().recreated, "only once");
    }
}
