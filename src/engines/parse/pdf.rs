//! PDF text per page: positioned lines from pdf-extract where it reads the page (line breaks,
//! paragraphs, headings by font size), lopdf's extraction otherwise; the outline gives heading
//! paths, running headers and footers go. Encrypted files are opened with the empty password (the common
//! "protected against editing" case); anything else that fails is reported, never a panic.

use std::panic::AssertUnwindSafe;

use lopdf::{Document, Object};

use super::text::normalise;
use super::{layout, outline, pdf_lines, DocumentKind, Limits, ParseError, ParsedDocument};

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    // lopdf is robust but not panic-free on hostile input: a panic is a damaged file.
    std::panic::catch_unwind(AssertUnwindSafe(|| parse_inner(bytes, limits)))
        .unwrap_or_else(|_| Err(ParseError::Malformed("the PDF structure could not be parsed".to_owned())))
}

fn parse_inner(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let mut doc = Document::load_mem(bytes).map_err(|e| classify(&e))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(ParseError::Encrypted);
    }
    let pages = doc.get_pages();
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if count == 0 {
        return Err(ParseError::Malformed("the PDF has no pages".to_owned()));
    }
    if count > limits.max_pages {
        return Err(ParseError::TooManyPages { pages: count, limit: limits.max_pages });
    }
    let max_unpacked = usize::try_from(limits.max_unpacked_bytes).unwrap_or(usize::MAX);
    let mut texts = Vec::with_capacity(pages.len());
    let mut first_error = None;
    for &number in pages.keys() {
        match doc.extract_text_with_limit(&[number], max_unpacked) {
            Ok(text) => texts.push(normalise(&clean(&text))),
            Err(error) => {
                first_error.get_or_insert(error.to_string());
                texts.push(String::new());
            }
        }
    }
    // No readable page at all because reading failed is damage, not a missing text layer.
    if let Some(error) = first_error {
        if texts.iter().all(String::is_empty) {
            return Err(ParseError::Malformed(format!("no page could be read ({error})")));
        }
    }
    // Positioned lines where pdf-extract reads the page at least as well as lopdf (it gives
    // line breaks, paragraph gaps and font sizes); lopdf's text otherwise.
    let positioned = pdf_lines::read(bytes).unwrap_or_default();
    let numbers: Vec<u32> = pages.keys().copied().collect();
    let mut page_lines: Vec<(u32, Vec<pdf_lines::Line>)> = numbers
        .iter()
        .zip(&texts)
        .map(|(n, text)| {
            let lines = positioned
                .get(n)
                .filter(|lines| {
                    letters(lines.iter().map(|l| l.text.as_str())) * 5 >= letters(std::iter::once(text.as_str())) * 4
                })
                .cloned()
                .unwrap_or_else(|| plain_lines(text));
            (*n, lines)
        })
        .collect();
    let line_texts: Vec<Vec<&str>> =
        page_lines.iter().map(|(_, lines)| lines.iter().map(|l| l.text.as_str()).collect()).collect();
    let running = layout::running_lines(&line_texts);
    for ((_, lines), drop) in page_lines.iter_mut().zip(running) {
        let mut i = 0;
        lines.retain(|_| {
            i += 1;
            !drop.contains(&(i - 1))
        });
    }
    let needs_ocr = page_lines
        .iter()
        .filter(|(_, lines)| !usable(&lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")))
        .map(|(n, _)| Some(*n))
        .collect();
    let bookmarks = bookmarks(&doc);
    let sections = layout::sections_from_lines(page_lines, bookmarks.is_empty());
    let sections = outline::apply_outline(sections, &bookmarks);
    let mut parsed = ParsedDocument::new(DocumentKind::Pdf, title(&doc), Some(count), sections);
    parsed.needs_ocr = needs_ocr;
    Ok(parsed)
}

fn letters<'a>(texts: impl Iterator<Item = &'a str>) -> usize {
    texts.map(|t| t.chars().filter(|c| c.is_alphanumeric()).count()).sum()
}

/// lopdf's text of a page as lines without positions.
fn plain_lines(text: &str) -> Vec<pdf_lines::Line> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| pdf_lines::Line { text: l.to_owned(), y: 0.0, x: 0.0, size: 0.0, cells: Vec::new() })
        .collect()
}

/// The bookmarks, when the PDF has any that point at pages.
fn bookmarks(doc: &Document) -> Vec<outline::OutlineEntry> {
    let Ok(toc) = doc.get_toc() else { return Vec::new() };
    toc.toc
        .into_iter()
        .filter(|e| !e.title.trim().is_empty())
        .map(|e| outline::OutlineEntry {
            level: e.level,
            title: e.title.chars().filter(|c| !c.is_control()).collect(),
            page: u32::try_from(e.page).unwrap_or(u32::MAX),
        })
        .collect()
}

/// Whether a page's text layer is worth keeping: a scanned page has none, or only a page
/// number; a broken one (fonts without a Unicode map) gives mostly symbols.
fn usable(text: &str) -> bool {
    let visible = text.chars().filter(|c| !c.is_whitespace()).count();
    let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
    letters >= 16 && letters * 2 >= visible
}

fn classify(error: &lopdf::Error) -> ParseError {
    let message = error.to_string();
    if message.to_lowercase().contains("decrypt") || message.to_lowercase().contains("password") {
        ParseError::Encrypted
    } else {
        ParseError::Malformed(message)
    }
}

/// lopdf marks unmapped glyphs and page breaks with control characters; keep letters only.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect()
}

fn title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = match info {
        Object::Reference(id) => doc.get_object(*id).ok()?,
        other => other,
    };
    let title = info.as_dict().ok()?.get(b"Title").ok()?;
    let text = match title {
        Object::String(bytes, _) => decode_pdf_string(bytes),
        _ => return None,
    };
    let text: String = text.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// PDF text strings are UTF-16BE with a BOM or PDFDocEncoding (close to Latin-1).
fn decode_pdf_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|&b| b as char).collect()
}
