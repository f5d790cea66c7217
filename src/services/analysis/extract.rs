//! What extractors read and return, and the trait both extractors implement.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::schema::Field;
use crate::engines::parse::ParsedDocument;

/// A document's text, page by page (one page for formats without pages).
pub struct DocText {
    pub pages: Vec<PageText>,
}

pub struct PageText {
    pub number: Option<u32>,
    pub text: String,
}

impl DocText {
    pub fn from_parsed(parsed: &ParsedDocument) -> Self {
        let mut pages: Vec<PageText> = Vec::new();
        for section in &parsed.sections {
            match pages.last_mut() {
                Some(last) if last.number == section.page => {
                    last.text.push('\n');
                    last.text.push_str(&section.text);
                }
                _ => pages.push(PageText { number: section.page, text: section.text.clone() }),
            }
        }
        Self { pages }
    }

    /// Where `quote` occurs (whitespace and case aside): the page and its character offsets.
    pub fn locate(&self, quote: &str) -> Option<Source> {
        let wanted: Vec<char> = squash(quote).chars().collect();
        if wanted.is_empty() {
            return None;
        }
        for page in &self.pages {
            // Compare on a squashed copy, mapping each kept character back to its offset.
            let mut kept = Vec::new();
            let mut offsets = Vec::new();
            let mut last_space = true;
            for (i, c) in page.text.chars().enumerate() {
                if c.is_whitespace() {
                    if !last_space {
                        kept.push(' ');
                        offsets.push(i);
                    }
                    last_space = true;
                } else {
                    kept.extend(c.to_lowercase());
                    offsets.extend(std::iter::repeat_n(i, c.to_lowercase().count()));
                    last_space = false;
                }
            }
            if let Some(at) = kept.windows(wanted.len()).position(|w| w == wanted.as_slice()) {
                let start = offsets[at];
                let end = offsets[at + wanted.len() - 1] + 1;
                let quote: String = page.text.chars().skip(start).take(end - start).collect();
                return Some(Source { page: page.number, quote, start, end });
            }
        }
        None
    }
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Where a value was read: the page (None for formats without pages), the exact text, and its
/// character offsets in that page's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub page: Option<u32>,
    pub quote: String,
    pub start: usize,
    pub end: usize,
}

/// One field's outcome for one document.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub field: String,
    pub value: Option<Value>,
    /// 0–1.
    pub confidence: f64,
    pub source: Option<Source>,
    pub errors: Vec<String>,
}

impl Extracted {
    pub fn missing(field: &Field, why: &str) -> Self {
        let mut errors = vec![why.to_owned()];
        if field.required {
            errors.push("required, but no value was found".to_owned());
        }
        Self { field: field.name.clone(), value: None, confidence: 0.0, source: None, errors }
    }
}

/// Token use of an extraction, for billing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

#[async_trait::async_trait]
pub trait Extractor: Send + Sync {
    /// `rules` or `llm:<model>`: recorded with every value.
    fn name(&self) -> String;
    async fn extract(&self, doc: &DocText, fields: &[Field]) -> Result<(Vec<Extracted>, Usage), String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_found_across_line_breaks_and_case() {
        let doc = DocText {
            pages: vec![
                PageText { number: Some(1), text: "Nothing here".into() },
                PageText { number: Some(2), text: "Invoice No.:\n  INV-2024-0042\nTotal".into() },
            ],
        };
        let found = doc.locate("invoice no.: inv-2024-0042").expect("found");
        assert_eq!(found.page, Some(2));
        assert_eq!(found.quote, "Invoice No.:\n  INV-2024-0042");
        assert_eq!(doc.locate("INV-2024-0043"), None);
    }
}
