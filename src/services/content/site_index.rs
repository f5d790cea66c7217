//! The public search index of sites' published entries (tantivy, beside the knowledge index).
//! One document per published entry, tagged with every locale it answers for: its own, and for
//! a default-locale entry also the site locales its translation group has not published (so
//! search falls back like delivery does).
//!
//! Queries are typo tolerant (1 typo from 5 letters, 2 from 9, a transposition counts as one),
//! match stems, and treat the last word as a prefix while the visitor is still typing.

use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, Schema, TantivyDocument, TextFieldIndexing, TextOptions, Value,
    STORED, STRING,
};
use tantivy::tokenizer::TokenStream;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Term};
use uuid::Uuid;

use crate::engines::analysis;
use crate::engines::fulltext::FulltextError;

/// One published entry as the index sees it.
#[derive(Debug, Clone)]
pub struct IndexedEntry {
    pub entry_id: Uuid,
    pub tenant_id: Uuid,
    pub site_id: Uuid,
    pub group: Uuid,
    /// Locales this document answers for.
    pub locales: Vec<String>,
    /// The entry's own locale.
    pub locale: String,
    pub kind: String,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub published_at: String,
}

#[derive(Debug, Clone)]
pub struct SiteQuery<'a> {
    pub site_id: Uuid,
    pub locale: &'a str,
    pub text: &'a str,
    pub kinds: &'a [String],
    pub tags: &'a [String],
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct SiteHit {
    pub entry_id: Uuid,
    pub kind: String,
    pub slug: String,
    pub locale: String,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub published_at: String,
    pub score: f32,
}

#[derive(Debug, Default)]
pub struct SiteResults {
    pub total: usize,
    pub hits: Vec<SiteHit>,
    /// (type, count) and (tag, count), most frequent first.
    pub kinds: Vec<(String, u64)>,
    pub tags: Vec<(String, u64)>,
    /// The words matched as typed; empty when the query had to be relaxed to any word.
    pub all_words: bool,
}

#[derive(Clone, Copy)]
struct Fields {
    entry_id: Field,
    tenant_id: Field,
    site_id: Field,
    group: Field,
    locales: Field,
    locale: Field,
    kind: Field,
    kind_facet: Field,
    tag_facet: Field,
    tags: Field,
    slug: Field,
    title: Field,
    title_plain: Field,
    body: Field,
    body_plain: Field,
    published_at: Field,
}

pub struct SiteIndex {
    /// The index on disk had an older schema and was recreated empty: startup refills it.
    pub recreated: bool,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            o.set_stored()
        } else {
            o
        }
    };
    let fields = Fields {
        entry_id: b.add_text_field("entry_id", STRING | STORED),
        tenant_id: b.add_text_field("tenant_id", STRING),
        site_id: b.add_text_field("site_id", STRING),
        group: b.add_text_field("group", STRING),
        locales: b.add_text_field("locales", STRING),
        locale: b.add_text_field("locale", STORED),
        kind: b.add_text_field("kind", STORED),
        kind_facet: b.add_facet_field("kind_facet", FacetOptions::default()),
        tag_facet: b.add_facet_field("tag_facet", FacetOptions::default()),
        tags: b.add_text_field("tags", STORED),
        slug: b.add_text_field("slug", STORED),
        title: b.add_text_field("title", text(analysis::STEMMED, true)),
        title_plain: b.add_text_field("title_plain", text(analysis::PLAIN, false)),
        body: b.add_text_field("body", text(analysis::STEMMED, true)),
        body_plain: b.add_text_field("body_plain", text(analysis::PLAIN, false)),
        published_at: b.add_text_field("published_at", STORED),
    };
    (b.build(), fields)
}

/// Typos allowed in a word of `len` characters.
pub fn typos_for(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The query's words as the index tokenises them (lower-cased, split on non-alphanumerics,
/// Chinese/Japanese/Korean as character bigrams).
pub fn words(text: &str) -> Vec<String> {
    let mut analyzer = analysis::analyzer(analysis::PLAIN);
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while words.len() < 16 && stream.advance() {
        words.push(stream.token().text.clone());
    }
    words
}

/// Optimal-string-alignment distance (a swap of neighbours counts once), for highlighting.
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// Whether a word of a result matches a query word the way the index does.
pub fn word_matches(word: &str, query_words: &[String], last_is_prefix: bool) -> bool {
    let word = word.to_lowercase();
    query_words.iter().enumerate().any(|(i, q)| {
        let prefix = last_is_prefix && i + 1 == query_words.len() && word.starts_with(q.as_str());
        prefix
            || crate::services::search::highlight::matches(&word, std::slice::from_ref(q))
            || distance(&word, q) <= usize::from(typos_for(q.chars().count()))
    })
}

impl SiteIndex {
    pub fn open(dir: &Path) -> Result<Self, FulltextError> {
        let fail = |reason: String| FulltextError::Open { path: dir.display().to_string(), reason };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let (schema, fields) = schema();
        let directory = MmapDirectory::open(dir).map_err(|e| fail(e.to_string()))?;
        let recreated = Index::open(directory.clone()).is_ok_and(|old| old.schema() != schema);
        if recreated {
            // Derived data: rebuilt from the entries at startup (see `recreated`).
            drop(directory);
            std::fs::remove_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let directory = MmapDirectory::open(dir).map_err(|e| fail(e.to_string()))?;
        let index = Index::open_or_create(directory, schema).map_err(|e| fail(e.to_string()))?;
        analysis::register(index.tokenizers());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer(20 * 1024 * 1024)?;
        Ok(Self { recreated, reader, writer: Mutex::new(writer), fields })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the documents of translation groups with `entries` (published variants only)
    /// and commits once.
    pub fn replace_groups(&self, groups: &[Uuid], entries: &[IndexedEntry]) -> Result<(), FulltextError> {
        let f = self.fields;
        let mut writer = self.writer();
        for group in groups {
            writer.delete_term(Term::from_field_text(f.group, &group.to_string()));
        }
        for e in entries {
            writer.add_document(self.document(e))?;
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Removes every document of a site.
    pub fn delete_site(&self, site_id: Uuid) -> Result<(), FulltextError> {
        let mut writer = self.writer();
        writer.delete_term(Term::from_field_text(self.fields.site_id, &site_id.to_string()));
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Removes a site's documents (every site's with None) at the next [`Self::commit`], so a
    /// rebuild swaps the old documents for the new ones at once.
    pub fn clear_uncommitted(&self, site_id: Option<Uuid>) -> Result<(), FulltextError> {
        let writer = self.writer();
        match site_id {
            Some(site) => {
                writer.delete_term(Term::from_field_text(self.fields.site_id, &site.to_string()));
            }
            None => writer.delete_all_documents().map(|_| ())?,
        }
        Ok(())
    }

    /// Adds documents without deleting anything first (a rebuild after
    /// [`Self::clear_uncommitted`]); the caller commits with [`Self::commit`].
    pub fn add(&self, entries: &[IndexedEntry]) -> Result<(), FulltextError> {
        let writer = self.writer();
        for e in entries {
            writer.add_document(self.document(e))?;
        }
        Ok(())
    }

    pub fn commit(&self) -> Result<(), FulltextError> {
        self.writer().commit()?;
        self.reader.reload()?;
        Ok(())
    }

    fn document(&self, e: &IndexedEntry) -> TantivyDocument {
        let f = self.fields;
        let mut d = doc!(
            f.entry_id => e.entry_id.to_string(),
            f.tenant_id => e.tenant_id.to_string(),
            f.site_id => e.site_id.to_string(),
            f.group => e.group.to_string(),
            f.locale => e.locale.clone(),
            f.kind => e.kind.clone(),
            f.kind_facet => Facet::from_path([e.kind.as_str()]),
            f.tags => e.tags.join(","),
            f.slug => e.slug.clone(),
            f.title => e.title.clone(),
            f.title_plain => e.title.clone(),
            f.body => e.body.clone(),
            f.body_plain => e.body.clone(),
            f.published_at => e.published_at.clone(),
        );
        for locale in &e.locales {
            d.add_text(f.locales, locale);
        }
        for tag in &e.tags {
            d.add_facet(f.tag_facet, Facet::from_path([tag.as_str()]));
        }
        d
    }

    /// Documents of a site (for consistency checks and statistics).
    pub fn count_site(&self, site_id: Uuid) -> Result<usize, FulltextError> {
        let q = self.exact(self.fields.site_id, &site_id.to_string());
        Ok(self.reader.searcher().search(&q, &Count)?)
    }

    fn exact(&self, field: Field, text: &str) -> TermQuery {
        TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic)
    }

    /// What one query word matches: the exact word (BM25, titles weigh more), its stem in each
    /// of `languages` (entries are stemmed in their detected language), words within its typo
    /// budget, and for the word being typed, words it starts.
    fn word_query(&self, word: &str, prefix: bool, languages: &[&str]) -> Box<dyn Query> {
        let f = self.fields;
        let term = |field: Field, text: &str| Term::from_field_text(field, text);
        let boosted = |q: Box<dyn Query>, boost: f32| -> (Occur, Box<dyn Query>) {
            (Occur::Should, Box::new(BoostQuery::new(q, boost)))
        };
        let mut clauses = vec![
            boosted(Box::new(TermQuery::new(term(f.title_plain, word), IndexRecordOption::WithFreqs)), 3.0),
            boosted(Box::new(TermQuery::new(term(f.body_plain, word), IndexRecordOption::WithFreqs)), 1.0),
        ];
        for stem in analysis::query_terms(word, languages) {
            clauses.push(boosted(Box::new(TermQuery::new(term(f.title, &stem), IndexRecordOption::WithFreqs)), 2.0));
            clauses.push(boosted(Box::new(TermQuery::new(term(f.body, &stem), IndexRecordOption::WithFreqs)), 0.8));
        }
        let typos = typos_for(word.chars().count());
        if typos > 0 {
            for (field, boost) in [(f.title_plain, 0.6), (f.body_plain, 0.3)] {
                clauses.push(boosted(Box::new(FuzzyTermQuery::new(term(field, word), typos, true)), boost));
            }
        }
        if prefix {
            for (field, boost) in [(f.title_plain, 0.5), (f.body_plain, 0.25)] {
                clauses.push(boosted(Box::new(FuzzyTermQuery::new_prefix(term(field, word), 0, true)), boost));
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn filters(&self, q: &SiteQuery<'_>) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.fields;
        let constant = |query: Box<dyn Query>| -> Box<dyn Query> { Box::new(ConstScoreQuery::new(query, 0.0)) };
        let any_facet = |field: Field, values: &[String]| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                values
                    .iter()
                    .map(|v| {
                        let term = Term::from_facet(field, &Facet::from_path([v.as_str()]));
                        (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>)
                    })
                    .collect(),
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, constant(Box::new(self.exact(f.site_id, &q.site_id.to_string())))),
            (Occur::Must, constant(Box::new(self.exact(f.locales, q.locale)))),
        ];
        if !q.kinds.is_empty() {
            clauses.push((Occur::Must, constant(any_facet(f.kind_facet, q.kinds))));
        }
        if !q.tags.is_empty() {
            clauses.push((Occur::Must, constant(any_facet(f.tag_facet, q.tags))));
        }
        clauses
    }

    /// Searches one site in one locale. An empty query lists everything (newest first is up to
    /// the caller's sort; here by index order).
    pub fn search(&self, q: &SiteQuery<'_>) -> Result<SiteResults, FulltextError> {
        let words = words(q.text);
        let languages = crate::engines::language::for_query(q.text, [q.locale]);
        let typing = !q.text.ends_with(char::is_whitespace);
        let build = |occur: Occur| -> Box<dyn Query> {
            let mut clauses = self.filters(q);
            let last = words.len().saturating_sub(1);
            let mut word_clauses: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .enumerate()
                .map(|(i, w)| (occur, self.word_query(w, typing && i == last, &languages)))
                .collect();
            if occur == Occur::Should && !word_clauses.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(std::mem::take(&mut word_clauses)))));
            }
            clauses.extend(word_clauses);
            Box::new(BooleanQuery::new(clauses))
        };
        let mut results = self.run(&*build(Occur::Must), q)?;
        results.all_words = true;
        if results.total == 0 && words.len() > 1 {
            results = self.run(&*build(Occur::Should), q)?;
            results.all_words = false;
        }
        Ok(results)
    }

    fn run(&self, query: &dyn Query, q: &SiteQuery<'_>) -> Result<SiteResults, FulltextError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let mut kinds = FacetCollector::for_field("kind_facet");
        kinds.add_facet(Facet::root());
        let mut tags = FacetCollector::for_field("tag_facet");
        tags.add_facet(Facet::root());
        let top = TopDocs::with_limit(q.limit.max(1)).and_offset(q.offset).order_by_score();
        let (top, total, kind_counts, tag_counts) = searcher.search(query, &(top, Count, kinds, tags))?;
        let facet_list = |counts: &tantivy::collector::FacetCounts| -> Vec<(String, u64)> {
            counts
                .top_k(Facet::root(), 50)
                .into_iter()
                .map(|(facet, n)| (facet.to_path().last().map(|s| (*s).to_owned()).unwrap_or_default(), n))
                .collect()
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top.into_iter().take(q.limit) {
            let d: TantivyDocument = searcher.doc(address)?;
            let text = |field: Field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let Ok(entry_id) = Uuid::parse_str(&text(f.entry_id)) else { continue };
            hits.push(SiteHit {
                entry_id,
                kind: text(f.kind),
                slug: text(f.slug),
                locale: text(f.locale),
                title: text(f.title),
                body: text(f.body),
                tags: text(f.tags).split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                published_at: text(f.published_at),
                score,
            });
        }
        Ok(SiteResults { total, hits, kinds: facet_list(&kind_counts), tags: facet_list(&tag_counts), all_words: true })
    }
}

#[cfg(test)]
mod tests;
