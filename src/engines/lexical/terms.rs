//! BM25 as a sparse vector, for lexical search in a Qdrant server.
//!
//! A chunk becomes one sparse vector whose dimensions are hashed terms and whose values are
//! BM25's term-frequency part; the server multiplies by the IDF of each dimension (the `idf`
//! modifier) at query time, so the score is BM25's. The terms come from the same tantivy
//! analyzers as the embedded index, in three namespaces that mirror its three fields: the
//! stemmed text, the plain (unstemmed, lower-cased) text and the stemmed title/headings.
//! Each namespace is length-normalised on its own, as tantivy does per field.

use std::collections::BTreeMap;

use crate::engines::analysis::{self, analyzer};

/// BM25's parameters, tantivy's values.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// A field as the sparse vector sees it: the analyzer, a namespace byte mixed into every hashed
/// term, and the average length (in terms) of that field over chunks. tantivy knows the true
/// average; the server does not, so a typical value stands in (chunks are ~200 tokens of text;
/// the title and heading path a dozen words).
struct Field {
    analyzer: &'static str,
    namespace: u8,
    average_terms: f32,
}

const TEXT: Field = Field { analyzer: analysis::STEMMED, namespace: b's', average_terms: 150.0 };
const TEXT_PLAIN: Field = Field { analyzer: analysis::PLAIN, namespace: b'p', average_terms: 150.0 };
const CONTEXT: Field = Field { analyzer: analysis::STEMMED, namespace: b'c', average_terms: 12.0 };

/// Sparse dimensions and values, sorted by dimension, each dimension once.
pub type Sparse = Vec<(u32, f32)>;

/// FNV-1a over the namespace and the term: stable across versions and machines, which the
/// stored vectors depend on (std's hasher makes no such promise).
fn dimension(namespace: u8, term: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in std::iter::once(namespace).chain(term.bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Term counts of `text` under a field's analyzer.
fn counts(field: &Field, text: &str, into: &mut BTreeMap<u32, f32>) -> usize {
    let mut analyzer = analyzer(field.analyzer);
    let mut stream = analyzer.token_stream(text);
    let mut length = 0;
    while let Some(token) = stream.next() {
        *into.entry(dimension(field.namespace, &token.text)).or_default() += 1.0;
        length += 1;
    }
    length
}

/// The vector stored for a chunk: per term, `tf·(k1+1) / (tf + k1·(1 − b + b·len/avg))`.
pub fn document(text: &str, context: &str) -> Sparse {
    let mut vector = BTreeMap::new();
    for (field, source) in [(&TEXT, text), (&TEXT_PLAIN, text), (&CONTEXT, context)] {
        let mut tf = BTreeMap::new();
        let length = counts(field, source, &mut tf) as f32;
        let norm = K1 * (1.0 - B + B * length / field.average_terms);
        for (dim, f) in tf {
            // A hash collision across namespaces adds up, as two matching fields would.
            *vector.entry(dim).or_insert(0.0) += f * (K1 + 1.0) / (f + norm);
        }
    }
    vector.into_iter().collect()
}

/// The vector of a query: each term of each namespace weighted by how often the query has it
/// (tantivy's boolean query scores a repeated word once per occurrence); the stemmed
/// namespaces hold its stems in each of `languages`, as the embedded index's query does.
pub fn query(text: &str, languages: &[&str]) -> Sparse {
    let mut vector = BTreeMap::new();
    counts(&TEXT_PLAIN, text, &mut vector);
    for term in analysis::query_terms(text, languages) {
        for field in [&TEXT, &CONTEXT] {
            *vector.entry(dimension(field.namespace, &term)).or_default() += 1.0;
        }
    }
    vector.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(v: &Sparse) -> Vec<u32> {
        v.iter().map(|(d, _)| *d).collect()
    }

    #[test]
    fn a_query_shares_dimensions_with_its_word_forms_and_title() {
        let doc = document("She runs the indexing pipelines daily.", "Operations > Pipelines");
        let q = query("running pipeline", &["en"]);
        let shared = dims(&q).into_iter().filter(|d| dims(&doc).contains(d)).count();
        // "run" and "pipelin" in the stemmed text, "pipelin" in the stemmed context.
        assert_eq!(shared, 3, "{q:?}");
        assert!(query("?!: ()", &["en"]).is_empty());
        assert!(doc.windows(2).all(|w| w[0].0 < w[1].0), "sorted, unique dimensions");
    }

    #[test]
    fn term_frequency_saturates_and_long_chunks_weigh_less() {
        let weight = |text: &str| {
            let v = document(text, "");
            let d = dimension(TEXT.namespace, "vault");
            v.iter().find(|(dim, _)| *dim == d).map(|(_, w)| *w).unwrap_or(0.0)
        };
        let once = weight("vault");
        let four = weight("vault vault vault vault");
        assert!(four > once && four < K1 + 1.0, "{once} {four}");
        let padded = format!("vault {}", "filler ".repeat(300));
        assert!(weight(&padded) < once);
    }

    #[test]
    fn dimensions_are_stable() {
        // Stored vectors depend on these values never changing.
        assert_eq!(dimension(b's', "vault"), dimension(b's', "vault"));
        assert_ne!(dimension(b's', "vault"), dimension(b'p', "vault"));
        assert_eq!(dimension(b'x', ""), 0xfd0c_5087, "FNV-1a of one byte");
    }
}
