//! The text analyzers of every lexical index (knowledge bases in tantivy or Qdrant, site search).
//!
//! tantivy's own tokenizer cuts words at non-alphanumeric characters, which leaves Chinese and
//! Japanese (written without spaces) as one token per sentence, longer than the 40-byte limit and
//! so dropped: such text had no keyword hits at all. Here runs of CJK characters (Han, kana,
//! Hangul) become overlapping character bigrams, as Lucene's CJK analyzer does: no dictionary to
//! ship, and a query's bigrams match wherever the same characters appear. Words of other scripts
//! are cut as before; a lone CJK character stays a token of its own.
//!
//! The stemmed analyzer stems each text in its own language ([`language::of_text`]: detected,
//! or English), so "Häuser" and "Haus" meet in a German chunk. A query has no reliable
//! language of its own, so it is stemmed in several ([`query_terms`]) and matches either way.

use std::str::CharIndices;
use std::sync::OnceLock;

use tantivy::tokenizer::{
    BoxTokenStream, Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
    TokenizerManager,
};

use crate::engines::language;

/// Lower-cased words and CJK bigrams, stemmed in the text's language. (The name changed when
/// the language started to be detected: indexes made with English-only stemming are rebuilt.)
pub const STEMMED: &str = "lectern_stem_detected";
/// Lower-cased words and CJK bigrams, unstemmed.
pub const PLAIN: &str = "lectern_plain";

/// Words and bigrams, lower-cased, stemmed in `language` (unstemmed with None).
fn words(language: Option<Language>) -> TextAnalyzer {
    let builder =
        TextAnalyzer::builder(WordsAndBigrams::default()).filter(RemoveLongFilter::limit(40)).filter(LowerCaser);
    match language {
        Some(language) => builder.filter(Stemmer::new(language)).build(),
        None => builder.build(),
    }
}

/// Adds the analyzers to an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) {
    manager.register(STEMMED, DetectingStemmer::default());
    manager.register(PLAIN, words(None));
}

/// Stems each text it is given in that text's language (one analyzer per stemmed language,
/// picked per field value).
#[derive(Clone)]
pub struct DetectingStemmer {
    analyzers: Vec<TextAnalyzer>,
}

impl Default for DetectingStemmer {
    fn default() -> Self {
        Self { analyzers: language::stemmed().map(|(_, stemmer)| words(Some(stemmer))).collect() }
    }
}

impl Tokenizer for DetectingStemmer {
    type TokenStream<'a> = BoxTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BoxTokenStream<'a> {
        self.analyzers[language::position(language::of_text(text))].token_stream(text)
    }
}

/// A query's stemmed terms in each of `languages`, in order: per word its stems, each once
/// (a word stemmed alike in two languages is one term). Every analyzer splits the same words,
/// so the streams run side by side.
pub fn query_terms(text: &str, languages: &[&str]) -> Vec<String> {
    let mut analyzers: Vec<TextAnalyzer> = languages.iter().map(|code| words(Some(language::stemmer(code)))).collect();
    let mut streams: Vec<BoxTokenStream<'_>> = analyzers.iter_mut().map(|a| a.token_stream(text)).collect();
    let mut terms = Vec::new();
    loop {
        let mut word: Vec<String> = Vec::new();
        for stream in &mut streams {
            if stream.advance() && !word.contains(&stream.token().text) {
                word.push(stream.token().text.clone());
            }
        }
        if word.is_empty() {
            return terms;
        }
        terms.extend(word);
    }
}

/// An analyzer by name, outside any index (for sparse vectors).
pub fn analyzer(name: &str) -> TextAnalyzer {
    static MANAGER: OnceLock<TokenizerManager> = OnceLock::new();
    let manager = MANAGER.get_or_init(|| {
        let manager = TokenizerManager::default();
        register(&manager);
        manager
    });
    manager.get(name).unwrap_or_default()
}

/// Characters of scripts written without spaces between words (and Hangul, whose spaced units
/// carry attached particles): indexed as bigrams.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x1100..=0x11FF    // Hangul Jamo
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0x20000..=0x2EBEF  // CJK extensions B–F
    )
}

#[derive(Clone, Default)]
pub struct WordsAndBigrams {
    token: Token,
}

pub struct WordsAndBigramsStream<'a> {
    text: &'a str,
    chars: std::iter::Peekable<CharIndices<'a>>,
    token: &'a mut Token,
    /// Inside a CJK run: the previous character and whether the run has given a bigram yet.
    run: Option<(usize, char, bool)>,
}

impl Tokenizer for WordsAndBigrams {
    type TokenStream<'a> = WordsAndBigramsStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordsAndBigramsStream<'a> {
        self.token.reset();
        WordsAndBigramsStream { text, chars: text.char_indices().peekable(), token: &mut self.token, run: None }
    }
}

impl WordsAndBigramsStream<'_> {
    fn emit(&mut self, from: usize, to: usize) -> bool {
        self.token.text.clear();
        self.token.text.push_str(&self.text[from..to]);
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.token.position.wrapping_add(1);
        true
    }
}

impl TokenStream for WordsAndBigramsStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            if let Some((from, previous, paired)) = self.run {
                match self.chars.peek().copied() {
                    Some((offset, c)) if is_cjk(c) => {
                        self.chars.next();
                        self.run = Some((offset, c, true));
                        return self.emit(from, offset + c.len_utf8());
                    }
                    _ => {
                        self.run = None;
                        if !paired {
                            return self.emit(from, from + previous.len_utf8());
                        }
                    }
                }
            }
            let Some((from, c)) = self.chars.next() else { return false };
            if is_cjk(c) {
                self.run = Some((from, c, false));
            } else if c.is_alphanumeric() {
                let mut to = from + c.len_utf8();
                while let Some((offset, c)) = self.chars.peek().copied() {
                    if !c.is_alphanumeric() || is_cjk(c) {
                        break;
                    }
                    to = offset + c.len_utf8();
                    self.chars.next();
                }
                return self.emit(from, to);
            }
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(name: &str, text: &str) -> Vec<String> {
        let mut analyzer = analyzer(name);
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    #[test]
    fn chinese_and_japanese_become_bigrams_and_words_stay_words() {
        assert_eq!(tokens(PLAIN, "机器学习"), ["机器", "器学", "学习"]);
        assert_eq!(tokens(PLAIN, "東京タワー"), ["東京", "京タ", "タワ", "ワー"]);
        assert_eq!(tokens(STEMMED, "Running 深度学习 models"), ["run", "深度", "度学", "学习", "model"]);
        assert_eq!(tokens(PLAIN, "GPT4与人"), ["gpt4", "与人"]);
    }

    #[test]
    fn each_text_is_stemmed_in_its_own_language() {
        let german = "Die Zeitungen der Stadt berichten täglich über die neuen Bibliotheken und ihre Leser.";
        assert!(tokens(STEMMED, german).contains(&"bibliothek".to_owned()), "German stemming");
        assert!(tokens(PLAIN, german).contains(&"bibliotheken".to_owned()));
        let french = "Les chevaux de l'université courent chaque matin dans le grand parc de la ville.";
        assert!(tokens(STEMMED, french).contains(&"cheval".to_owned()), "French stemming");
        let english = "The newspapers of the city report daily on the new libraries and their readers.";
        assert!(tokens(STEMMED, english).contains(&"librari".to_owned()), "English as before");
    }

    #[test]
    fn a_query_is_stemmed_in_every_language_asked_for() {
        assert_eq!(query_terms("Zeitungen chevaux", &["en"]), ["zeitungen", "chevaux"]);
        assert_eq!(
            query_terms("Zeitungen chevaux", &["en", "de", "fr"]),
            ["zeitungen", "zeitung", "chevaux", "cheval"]
        );
        assert_eq!(
            query_terms("running 学习", &["en", "de"]),
            ["run", "running", "学习"],
            "one term per distinct stem"
        );
        assert!(query_terms("?!", &["en", "de"]).is_empty());
    }

    #[test]
    fn a_lone_cjk_character_is_a_token_and_punctuation_splits_runs() {
        assert_eq!(tokens(PLAIN, "猫。犬が好き"), ["猫", "犬が", "が好", "好き"]);
        assert_eq!(tokens(PLAIN, "a 字 b"), ["a", "字", "b"]);
    }

    /// On the Chinese/Japanese fixture (tests/fixtures/cjk): with tantivy's own analyzer almost
    /// no query shares a single token with the document it is about; with bigrams every one does.
    #[test]
    fn cjk_queries_share_tokens_with_their_documents_only_with_bigrams() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cjk");
        let lines = |file: &str| -> Vec<serde_json::Value> {
            std::fs::read_to_string(format!("{root}/{file}"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let corpus = lines("corpus.jsonl");
        let queries = lines("queries.jsonl");
        let sharing = |analyzer: &mut TextAnalyzer| {
            let mut set = |text: &str| {
                let mut stream = analyzer.token_stream(text);
                let mut out = std::collections::HashSet::new();
                while let Some(token) = stream.next() {
                    out.insert(token.text.clone());
                }
                out
            };
            let mut shared = 0;
            for (query, doc) in queries.iter().zip(&corpus) {
                let doc_tokens = set(&format!("{} {}", doc["title"].as_str().unwrap(), doc["text"].as_str().unwrap()));
                shared += usize::from(set(query["text"].as_str().unwrap()).iter().any(|t| doc_tokens.contains(t)));
            }
            shared
        };
        let before = sharing(&mut TokenizerManager::default().get("default").unwrap());
        let after = sharing(&mut analyzer(PLAIN));
        eprintln!("queries sharing a token with their document: tantivy default {before}/60, bigrams {after}/60");
        assert_eq!(queries.len(), 60);
        assert!(before <= 6, "tantivy's analyzer: {before} of 60");
        assert_eq!(after, 60, "bigrams: {after} of 60");
    }

    #[test]
    fn offsets_point_at_the_characters() {
        let mut analyzer = analyzer(PLAIN);
        let text = "Ab 学习";
        let mut stream = analyzer.token_stream(text);
        let mut spans = Vec::new();
        while let Some(token) = stream.next() {
            spans.push(&text[token.offset_from..token.offset_to]);
        }
        assert_eq!(spans, ["Ab", "学习"]);
    }
}
