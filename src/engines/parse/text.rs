//! Plain text, CSV and JSON, and the decoding every text format shares.

use super::{table, DocumentKind, ParsedDocument, Section};

/// Decodes text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 for legacy
/// files. Data with NUL bytes or many control characters is binary: None.
pub fn decode(bytes: &[u8]) -> Option<String> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (!had_errors).then(|| text.into_owned());
    }
    let controls = bytes.iter().filter(|b| matches!(b, 0..=8 | 14..=26 | 28..=31)).count();
    if bytes.contains(&0) || controls * 100 > bytes.len().max(1) {
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.to_owned()),
        Err(_) => Some(encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned()),
    }
}

/// Normalises line endings and trims trailing spaces; keeps paragraphs (blank lines).
pub fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

pub fn parse_plain(text: &str, kind: DocumentKind) -> ParsedDocument {
    let text = normalise(text);
    let title = text.lines().find(|l| !l.trim().is_empty()).map(|l| l.trim().chars().take(200).collect());
    ParsedDocument::new(kind, title, None, vec![Section::prose(None, Vec::new(), text)])
}

/// CSV/TSV as a table (header row first), or as plain text when it does not parse as one.
pub fn parse_delimited(text: &str) -> ParsedDocument {
    match table::from_delimited(text) {
        Some(table) => {
            let section = Section { page: None, headings: Vec::new(), text: table.markdown(), table: Some(table) };
            ParsedDocument::new(DocumentKind::Csv, None, None, vec![section])
        }
        None => parse_plain(text, DocumentKind::Csv),
    }
}

/// JSON as readable text: pretty-printed so keys and values stay next to each other.
pub fn parse_json(text: &str) -> ParsedDocument {
    let pretty = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned());
    ParsedDocument::new(DocumentKind::Json, None, None, vec![Section::prose(None, Vec::new(), pretty)])
}
