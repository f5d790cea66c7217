//! Document parsers: pure functions from bytes to sections (text with page numbers and heading
//! paths). The type is detected from the content (magic bytes), with the file name and declared
//! type only breaking ties between text formats. No parser panics on bad input or runs without
//! bounds: every failure is a [`ParseError`] with a reason a user can act on.

mod docx;
mod html;
mod markdown;
mod pdf;
mod text;

use serde::Serialize;
use utoipa::ToSchema;

/// A supported document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    Pdf,
    Docx,
    Html,
    Markdown,
    Text,
    Csv,
    Json,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 7] =
        [Self::Pdf, Self::Docx, Self::Html, Self::Markdown, Self::Text, Self::Csv, Self::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Html => "html",
            Self::Markdown => "markdown",
            Self::Text => "text",
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Html => "text/html",
            Self::Markdown => "text/markdown",
            Self::Text => "text/plain",
            Self::Csv => "text/csv",
            Self::Json => "application/json",
        }
    }
}

/// A run of text under one heading path, on one page where the format has pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-based page number (PDF), else None.
    pub page: Option<u32>,
    /// Enclosing headings, outermost first.
    pub headings: Vec<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDocument {
    pub kind: DocumentKind,
    pub title: Option<String>,
    /// Pages for PDFs; None for formats without pages.
    pub pages: Option<u32>,
    pub sections: Vec<Section>,
}

impl ParsedDocument {
    /// All text, sections separated by blank lines.
    pub fn text(&self) -> String {
        self.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n\n")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unsupported file type ({detected}); supported: PDF, DOCX, HTML, Markdown, plain text, CSV, JSON")]
    Unsupported { detected: String },
    #[error("the PDF is encrypted with a password; upload it without the password")]
    Encrypted,
    #[error("no text layer (scanned or image-only document); OCR is not available")]
    NoText,
    #[error("the document has no text")]
    Empty,
    #[error("the file is damaged and cannot be read: {0}")]
    Malformed(String),
    #[error("the document has {pages} pages; the limit is {limit}")]
    TooManyPages { pages: u32, limit: u32 },
    #[error("the document unpacks to more than {limit_bytes} bytes; the limit guards against archive bombs")]
    TooLarge { limit_bytes: u64 },
}

/// Bounds on the work one document may cause.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pages: u32,
    /// Largest decompressed size of any part (PDF streams, DOCX XML).
    pub max_unpacked_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_pages: 2000, max_unpacked_bytes: 256 * 1024 * 1024 }
    }
}

/// Finds the type from the bytes; `name` and `declared` (a MIME type) only choose between
/// text formats that look alike (Markdown, CSV, plain text).
pub fn detect(bytes: &[u8], name: Option<&str>, declared: Option<&str>) -> Result<DocumentKind, ParseError> {
    let head = &bytes[..bytes.len().min(1024)];
    // Damaged files may have lost the `%` (or more) of the header.
    if find(head, b"%PDF-").is_some() || find(head, b"PDF-1").is_some() || find(head, b"PDF-2").is_some() {
        return Ok(DocumentKind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return if docx::is_docx(bytes) {
            Ok(DocumentKind::Docx)
        } else {
            Err(ParseError::Unsupported { detected: "a ZIP archive that is not a Word document".to_owned() })
        };
    }
    if let Some(binary) = binary_signature(bytes) {
        return Err(ParseError::Unsupported { detected: binary.to_owned() });
    }
    let Some(text) = text::decode(bytes) else {
        return Err(ParseError::Unsupported { detected: "binary data".to_owned() });
    };
    let extension = name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let declared = declared.unwrap_or_default().to_ascii_lowercase();
    let trimmed = text.trim_start().to_ascii_lowercase();
    if trimmed.starts_with("<!doctype html")
        || trimmed.starts_with("<html")
        || extension == "html"
        || extension == "htm"
        || declared.starts_with("text/html")
    {
        return Ok(DocumentKind::Html);
    }
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde_json::Value>(&text).is_ok()
    {
        return Ok(DocumentKind::Json);
    }
    if extension == "md" || extension == "markdown" || declared.starts_with("text/markdown") {
        return Ok(DocumentKind::Markdown);
    }
    if extension == "csv" || declared.starts_with("text/csv") {
        return Ok(DocumentKind::Csv);
    }
    if looks_like_markdown(&text) {
        return Ok(DocumentKind::Markdown);
    }
    Ok(DocumentKind::Text)
}

/// Parses `bytes` as `kind`.
pub fn parse(bytes: &[u8], kind: DocumentKind, limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let parsed = match kind {
        DocumentKind::Pdf => pdf::parse(bytes, limits)?,
        DocumentKind::Docx => docx::parse(bytes, limits)?,
        other => {
            let text = text::decode(bytes)
                .ok_or_else(|| ParseError::Malformed("the text is not valid UTF-8 or UTF-16".to_owned()))?;
            match other {
                DocumentKind::Html => html::parse(&text),
                DocumentKind::Markdown => markdown::parse(&text),
                DocumentKind::Json => text::parse_json(&text),
                DocumentKind::Csv => text::parse_plain(&text, DocumentKind::Csv),
                _ => text::parse_plain(&text, DocumentKind::Text),
            }
        }
    };
    if parsed.sections.iter().all(|s| s.text.trim().is_empty()) {
        return Err(if kind == DocumentKind::Pdf { ParseError::NoText } else { ParseError::Empty });
    }
    Ok(parsed)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Well-known binary formats, so the 415 can say what the file was.
fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 10] = [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\x7fELF", "an executable"),
        (b"MZ", "a Windows executable"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc/.xls); save it as .docx"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"OggS", "an audio file"),
    ];
    SIGNATURES.iter().find(|(magic, _)| bytes.starts_with(magic)).map(|(_, name)| *name)
}

fn looks_like_markdown(text: &str) -> bool {
    let mut signals = 0;
    for line in text.lines().take(200) {
        let line = line.trim_start();
        if line.starts_with("# ") || line.starts_with("## ") || line.starts_with("```") || line.starts_with("- [") {
            signals += 1;
        }
    }
    signals >= 2
}

#[cfg(test)]
mod tests;
