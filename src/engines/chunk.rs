//! Structure-aware chunking: a parsed document becomes passages that fit the embedding model.
//!
//! Text is cut at heading changes first, then packed from sentences (UAX #29 sentence
//! boundaries, so CJK `。` and Arabic `؟` count), preferring paragraph ends; a sentence longer
//! than the budget is cut at word boundaries (single ideographs for CJK). Consecutive chunks
//! under the same heading overlap by whole trailing sentences. Every chunk records the pages it
//! spans, its heading path and its character offsets in [`ParsedDocument::text`], so a citation
//! can point at the exact passage. Tables are cut between rows only, and every chunk of a
//! table starts with the table's header (so a row is never read without its column names);
//! its offsets cover its rows. Pure and deterministic.

use unicode_segmentation::UnicodeSegmentation;

use crate::engines::parse::ParsedDocument;

/// Counts tokens the way the embedding model will (its tokenizer in production).
pub trait TokenCounter {
    fn count(&self, text: &str) -> usize;
}

/// An approximation for tests and for models without a tokenizer: one token per word, per
/// ideograph and per punctuation mark, which tracks WordPiece closely for prose.
pub struct WordCounter;

impl TokenCounter for WordCounter {
    fn count(&self, text: &str) -> usize {
        text.split_word_bounds().filter(|w| !w.trim().is_empty()).count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkConfig {
    /// Most tokens in one chunk (leave room for the model's special tokens).
    pub max_tokens: usize,
    /// Tokens of trailing sentences repeated at the start of the next chunk.
    pub overlap_tokens: usize,
}

impl Default for ChunkConfig {
    /// all-MiniLM-L6-v2 reads 256 tokens; 2 are [CLS]/[SEP] and WordPiece may split a word the
    /// counter saw as one, hence the margin.
    fn default() -> Self {
        Self { max_tokens: 200, overlap_tokens: 32 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub index: u32,
    pub text: String,
    /// Pages the chunk spans, ascending; empty for formats without pages.
    pub pages: Vec<u32>,
    pub headings: Vec<String>,
    /// Character (Unicode scalar) offsets into the document's text, end exclusive.
    pub start: usize,
    pub end: usize,
    pub tokens: usize,
}

/// A sentence-sized piece of a section, located in the document text (byte offsets).
#[derive(Debug, Clone)]
struct Unit {
    start: usize,
    end: usize,
    tokens: usize,
    page: Option<u32>,
    group: usize,
    paragraph_start: bool,
    /// A table row: the tokens of its table's header, which every chunk of rows repeats.
    header_tokens: Option<usize>,
}

pub fn chunk(doc: &ParsedDocument, config: &ChunkConfig, counter: &dyn TokenCounter) -> Vec<Chunk> {
    let text = doc.text();
    let max = config.max_tokens.max(1);
    let units = units(doc, &text, max, counter);
    let mut chunks = Vec::new();
    let mut current: Vec<&Unit> = Vec::new();
    let mut tokens = 0;
    for unit in &units {
        let heading_changed = current.last().is_some_and(|last| last.group != unit.group);
        let full = tokens + unit.tokens + unit.header_tokens.unwrap_or(0) > max;
        // Past three quarters of the budget, a new paragraph is a better place to cut.
        let paragraph_break = unit.paragraph_start && tokens * 4 >= max * 3;
        if !current.is_empty() && (heading_changed || full || paragraph_break) {
            chunks.push(build(doc, &text, &current, chunks.len()));
            // Rows never overlap: the header already gives the next chunk its context.
            current = if heading_changed || unit.header_tokens.is_some() {
                Vec::new()
            } else {
                overlap(&current, config.overlap_tokens, max - unit.tokens.min(max))
            };
            tokens = current.iter().map(|u| u.tokens).sum();
        }
        current.push(unit);
        tokens += unit.tokens;
    }
    if !current.is_empty() {
        chunks.push(build(doc, &text, &current, chunks.len()));
    }
    chunks
}

/// The trailing units of `previous` worth at most `budget` tokens (and leaving `room`).
fn overlap<'a>(previous: &[&'a Unit], budget: usize, room: usize) -> Vec<&'a Unit> {
    let limit = budget.min(room);
    let mut taken = Vec::new();
    let mut tokens = 0;
    for unit in previous.iter().rev() {
        if tokens + unit.tokens > limit {
            break;
        }
        tokens += unit.tokens;
        taken.push(*unit);
    }
    // Never repeat the whole previous chunk: that would not move forward.
    if taken.len() == previous.len() {
        taken.pop();
    }
    taken.reverse();
    taken
}

fn build(doc: &ParsedDocument, source: &str, units: &[&Unit], index: usize) -> Chunk {
    let (first, last) = (units[0], units[units.len() - 1]);
    let mut pages: Vec<u32> = units.iter().filter_map(|u| u.page).collect();
    pages.dedup();
    let section = doc.sections.get(first.group);
    let headings = section.map(|s| s.headings.clone()).unwrap_or_default();
    let own = source[first.start..last.end].trim();
    let mut tokens: usize = units.iter().map(|u| u.tokens).sum();
    let text = match (first.header_tokens, section.and_then(|s| s.table.as_ref())) {
        (Some(header_tokens), Some(table)) => {
            tokens += header_tokens;
            format!("{}\n{own}", table.header_markdown())
        }
        _ => own.to_owned(),
    };
    Chunk {
        index: u32::try_from(index).unwrap_or(u32::MAX),
        text,
        pages,
        headings,
        start: source_chars(source, first.start),
        end: source_chars(source, last.end),
        tokens,
    }
}

fn source_chars(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

/// Splits every section into sentence units located in `text` (sections are joined there by
/// blank lines, in order). Sections with the same headings as the previous one share a group,
/// so short PDF pages are packed together.
fn units(doc: &ParsedDocument, text: &str, max: usize, counter: &dyn TokenCounter) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut group = 0;
    for (i, section) in doc.sections.iter().enumerate() {
        if i > 0 {
            offset += 2; // the "\n\n" separator of ParsedDocument::text
                         // A table is a group of its own, and so is what follows it.
            let previous = &doc.sections[i - 1];
            if section.headings != previous.headings || section.table.is_some() || previous.table.is_some() {
                group = i;
            }
        } else {
            group = 0;
        }
        if let Some(table) = &section.table {
            let header_tokens = counter.count(&table.header_markdown());
            // A header that would crowd out the rows is not repeated: the rows are then cut
            // like prose lines (the header being the first of them).
            if header_tokens * 2 <= max {
                table_units(section, offset, group, header_tokens, max, counter, &mut out);
                offset += section.text.len();
                continue;
            }
        }
        let base = offset;
        offset += section.text.len();
        let mut paragraph_start = true;
        for (p_start, paragraph) in paragraphs(&section.text) {
            for (s_start, sentence) in paragraph.split_sentence_bound_indices() {
                if sentence.trim().is_empty() {
                    continue;
                }
                let start = base + p_start + s_start;
                for (w_start, piece) in fit(sentence, max, counter) {
                    let tokens = counter.count(piece);
                    if tokens == 0 {
                        continue;
                    }
                    let begin = start + w_start;
                    out.push(Unit {
                        start: begin,
                        end: begin + piece.len(),
                        tokens,
                        page: section.page,
                        group,
                        paragraph_start,
                        header_tokens: None,
                    });
                    paragraph_start = false;
                }
            }
            paragraph_start = true;
        }
    }
    debug_assert!(out.iter().all(|u| text.is_char_boundary(u.start) && text.is_char_boundary(u.end)));
    out
}

/// One unit per row of a table section (its lines after the header and separator), a row
/// longer than the room left beside the header cut at words.
fn table_units(
    section: &crate::engines::parse::Section,
    base: usize,
    group: usize,
    header_tokens: usize,
    max: usize,
    counter: &dyn TokenCounter,
    out: &mut Vec<Unit>,
) {
    let mut line_start = 0;
    for (n, line) in section.text.split('\n').enumerate() {
        let start = line_start;
        line_start += line.len() + 1;
        if n < 2 || line.trim().is_empty() {
            continue;
        }
        for (w_start, piece) in fit(line, max - header_tokens, counter) {
            let tokens = counter.count(piece);
            if tokens == 0 {
                continue;
            }
            let begin = base + start + w_start;
            out.push(Unit {
                start: begin,
                end: begin + piece.len(),
                tokens,
                page: section.page,
                group,
                paragraph_start: false,
                header_tokens: Some(header_tokens),
            });
        }
    }
}

/// Paragraphs (separated by blank lines) with their byte offsets in `text`.
fn paragraphs(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices("\n\n") {
        if i > start {
            out.push((start, &text[start..i]));
        }
        start = i + 2;
    }
    if start < text.len() {
        out.push((start, &text[start..]));
    }
    out
}

/// A sentence as pieces of at most `max` tokens, cut at word boundaries.
fn fit<'a>(sentence: &'a str, max: usize, counter: &dyn TokenCounter) -> Vec<(usize, &'a str)> {
    if counter.count(sentence) <= max {
        return vec![(0, sentence)];
    }
    let mut pieces = Vec::new();
    let mut piece_start = 0;
    let mut tokens = 0;
    for (i, word) in sentence.split_word_bound_indices() {
        let word_tokens = counter.count(word);
        if tokens + word_tokens > max && i > piece_start {
            pieces.push((piece_start, &sentence[piece_start..i]));
            piece_start = i;
            tokens = 0;
        }
        tokens += word_tokens;
    }
    if piece_start < sentence.len() {
        pieces.push((piece_start, &sentence[piece_start..]));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::parse::{DocumentKind, Section};

    fn doc(sections: Vec<(Option<u32>, &[&str], String)>) -> ParsedDocument {
        let sections = sections
            .into_iter()
            .map(|(page, headings, text)| Section::prose(page, headings.iter().map(|h| h.to_string()).collect(), text))
            .collect();
        ParsedDocument::new(DocumentKind::Text, None, None, sections)
    }

    fn config(max: usize, overlap: usize) -> ChunkConfig {
        ChunkConfig { max_tokens: max, overlap_tokens: overlap }
    }

    fn sentences(n: usize) -> String {
        (0..n).map(|i| format!("Sentence number {i} has six words.")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn offsets_point_at_the_chunk_text_and_limits_hold() {
        let d = doc(vec![(None, &[], format!("{}\n\n{}", sentences(20), sentences(15)))]);
        let chunks = chunk(&d, &config(40, 8), &WordCounter);
        let full: Vec<char> = d.text().chars().collect();
        assert!(chunks.len() > 3);
        for c in &chunks {
            assert!(c.tokens <= 40, "{} tokens", c.tokens);
            assert_eq!(full[c.start..c.end].iter().collect::<String>().trim(), c.text);
            assert_eq!(WordCounter.count(&c.text), c.tokens);
        }
        assert!(chunks.windows(2).all(|w| w[1].start < w[0].end), "consecutive chunks overlap");
        assert!(chunks.windows(2).all(|w| w[1].end > w[0].end), "and move forward");
        assert_eq!(chunks.last().unwrap().end, full.len());
    }

    #[test]
    fn headings_start_new_chunks_and_are_kept() {
        let d = doc(vec![
            (None, &["Guide", "Install"], "Run the installer. It takes a minute.".into()),
            (None, &["Guide", "Use"], "Open the app.".into()),
        ]);
        let chunks = chunk(&d, &config(200, 32), &WordCounter);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].headings, ["Guide", "Install"]);
        assert_eq!(chunks[1].text, "Open the app.");
        assert_eq!(chunks[1].headings, ["Guide", "Use"]);
    }

    #[test]
    fn short_pages_are_packed_together_and_record_their_pages() {
        let d = doc(vec![
            (Some(1), &[], "Page one text.".into()),
            (Some(2), &[], String::new()),
            (Some(3), &[], "Page three text.".into()),
        ]);
        let chunks = chunk(&d, &config(200, 0), &WordCounter);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].pages, [1, 3]);
        assert!(chunks[0].text.starts_with("Page one") && chunks[0].text.ends_with("three text."));
    }

    #[test]
    fn one_giant_paragraph_without_punctuation_is_cut_at_words() {
        let words = vec!["lorem"; 1000].join(" ");
        let d = doc(vec![(None, &[], words)]);
        let chunks = chunk(&d, &config(100, 0), &WordCounter);
        assert_eq!(chunks.len(), 10);
        assert!(chunks.iter().all(|c| c.tokens <= 100 && c.tokens > 90));
    }

    #[test]
    fn cjk_and_right_to_left_text_split_on_their_own_boundaries() {
        let cjk = "東京は日本の首都です。人口は多いです。".repeat(30);
        let chunks = chunk(&doc(vec![(None, &[], cjk.clone())]), &config(50, 10), &WordCounter);
        assert!(chunks.len() > 5);
        assert!(chunks.iter().all(|c| c.tokens <= 50));
        assert!(chunks[0].text.ends_with('。'), "cut at a sentence end: {}", chunks[0].text);
        let no_punctuation = "漢字".repeat(200);
        let pieces = chunk(&doc(vec![(None, &[], no_punctuation)]), &config(50, 0), &WordCounter);
        assert!(pieces.iter().all(|c| c.tokens <= 50) && pieces.len() >= 8);

        let arabic = "هذه جملة عربية قصيرة. وهذه جملة أخرى؟ ".repeat(20);
        let rtl = chunk(&doc(vec![(None, &[], arabic.trim().to_owned())]), &config(30, 5), &WordCounter);
        let full: Vec<char> = arabic.trim().chars().collect();
        for c in &rtl {
            assert_eq!(full[c.start..c.end].iter().collect::<String>().trim(), c.text);
        }
        assert!(rtl.len() > 3);
    }

    #[test]
    fn a_nearly_full_chunk_ends_at_the_paragraph_end() {
        let first = sentences(4); // 28 tokens
        let d = doc(vec![(None, &[], format!("{first}\n\n{}", sentences(4)))]);
        let chunks = chunk(&d, &config(36, 0), &WordCounter);
        assert_eq!(chunks[0].text, first, "the second paragraph starts a new chunk");
    }

    #[test]
    fn a_real_pdf_chunks_within_budget_with_exact_offsets_and_pages() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/pdfs/sf__pdflatex-4-pages.pdf");
        let bytes = std::fs::read(path).unwrap();
        let parsed =
            crate::engines::parse::parse(&bytes, DocumentKind::Pdf, &crate::engines::parse::Limits::default()).unwrap();
        let chunks = chunk(&parsed, &ChunkConfig::default(), &WordCounter);
        let full: Vec<char> = parsed.text().chars().collect();
        assert!(chunks.len() >= 10, "{} chunks", chunks.len());
        for c in &chunks {
            assert!(c.tokens <= 200);
            assert_eq!(full[c.start..c.end].iter().collect::<String>().trim(), c.text);
            assert!(!c.pages.is_empty() && c.pages.iter().all(|p| (1..=4).contains(p)));
        }
        assert_eq!(chunks.last().unwrap().pages.last(), Some(&4));
    }

    #[test]
    fn empty_documents_and_pages_give_no_chunks() {
        assert!(chunk(&doc(vec![]), &ChunkConfig::default(), &WordCounter).is_empty());
        assert!(chunk(&doc(vec![(Some(1), &[], "  \n\n ".into())]), &ChunkConfig::default(), &WordCounter).is_empty());
    }

    #[test]
    fn tables_are_cut_between_rows_and_every_chunk_repeats_the_header() {
        let rows: Vec<Vec<String>> = std::iter::once(vec!["Port".to_owned(), "Berth".to_owned(), "Ship".to_owned()])
            .chain((0..60).map(|i| vec![format!("Harbour {i}"), format!("berth {i}"), format!("ship number {i}")]))
            .collect();
        let table = crate::engines::parse::table::section(None, vec!["Berths".into()], rows).unwrap();
        let mut d = doc(vec![(None, &["Intro"], sentences(3))]);
        d.sections.push(table);
        d.sections.push(Section::prose(None, vec!["Berths".into()], "Ships leave at dawn.".into()));
        let chunks = chunk(&d, &config(60, 20), &WordCounter);
        let full: Vec<char> = d.text().chars().collect();
        let table_chunks: Vec<&Chunk> = chunks.iter().filter(|c| c.text.starts_with("| Port |")).collect();
        assert!(table_chunks.len() >= 4, "{chunks:#?}");
        for c in &table_chunks {
            assert!(c.tokens <= 60, "{} tokens", c.tokens);
            assert!(c.text.starts_with("| Port | Berth | Ship |\n| --- | --- | --- |\n| Harbour "), "{}", c.text);
            assert!(c.text.lines().all(|l| l.starts_with('|') && l.ends_with('|')), "whole rows only: {}", c.text);
            let rows = full[c.start..c.end].iter().collect::<String>();
            assert!(c.text.ends_with(rows.trim()), "offsets cover the rows");
        }
        let all_rows: usize = table_chunks.iter().map(|c| c.text.lines().count() - 2).sum();
        assert_eq!(all_rows, 60, "every row once: no overlap between row groups");
        assert_eq!(chunks.first().unwrap().headings, ["Intro"]);
        assert_eq!(chunks.last().unwrap().text, "Ships leave at dawn.", "prose after a table is a chunk of its own");
    }

    #[test]
    fn overlap_repeats_whole_trailing_sentences_only() {
        let d = doc(vec![(None, &[], sentences(12))]);
        let chunks = chunk(&d, &config(30, 14), &WordCounter);
        for pair in chunks.windows(2) {
            let repeated = &pair[0].text[pair[0].text.len() - 10..];
            assert!(pair[1].text.contains(repeated.trim()), "{pair:?}");
            assert!(pair[1].text.starts_with("Sentence"), "starts at a sentence: {}", pair[1].text);
        }
    }
}
