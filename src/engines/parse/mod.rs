//! Document parsers: pure functions from bytes to sections (text with page numbers and heading
//! paths). The type is detected from the content (magic bytes), with the file name and declared
//! type only breaking ties between text formats. No parser panics on bad input or runs without
//! bounds: every failure is a [`ParseError`] with a reason a user can act on.

mod detect;
mod docx;
mod eml;
mod epub;
mod html;
mod layout;
mod markdown;
pub mod ocr;
mod odf;
mod outline;
mod pdf;
mod pdf_lines;
mod pptx;
mod regions;
mod rtf;
mod sheet;
pub mod table;
mod text;
mod zipped;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use detect::detect;
pub use table::Table;

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
    Xlsx,
    Xls,
    Ods,
    Pptx,
    Odt,
    Epub,
    Rtf,
    Eml,
    Png,
    Jpeg,
    Tiff,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 18] = [
        Self::Pdf,
        Self::Docx,
        Self::Html,
        Self::Markdown,
        Self::Text,
        Self::Csv,
        Self::Json,
        Self::Xlsx,
        Self::Xls,
        Self::Ods,
        Self::Pptx,
        Self::Odt,
        Self::Epub,
        Self::Rtf,
        Self::Eml,
        Self::Png,
        Self::Jpeg,
        Self::Tiff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Html => "html",
            Self::Markdown => "markdown",
            Self::Text => "text",
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
            Self::Ods => "ods",
            Self::Pptx => "pptx",
            Self::Odt => "odt",
            Self::Epub => "epub",
            Self::Rtf => "rtf",
            Self::Eml => "eml",
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Tiff => "tiff",
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
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Xls => "application/vnd.ms-excel",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Self::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Epub => "application/epub+zip",
            Self::Rtf => "application/rtf",
            Self::Eml => "message/rfc822",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Tiff => "image/tiff",
        }
    }

    /// Images: their text comes from OCR only.
    pub fn is_image(self) -> bool {
        matches!(self, Self::Png | Self::Jpeg | Self::Tiff)
    }
}

/// A run of text under one heading path, on one page where the format has pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-based page number (PDF, slide of a presentation), else None.
    pub page: Option<u32>,
    /// Enclosing headings, outermost first.
    pub headings: Vec<String>,
    /// The text; for a table its Markdown, one line per row.
    pub text: String,
    /// The structure when the section is a table.
    pub table: Option<Table>,
}

impl Section {
    pub fn prose(page: Option<u32>, headings: Vec<String>, text: String) -> Self {
        Self { page, headings, text, table: None }
    }
}

/// A page (or an image document: page None, or an image inside a document: its name) whose
/// text was recognised by OCR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OcrPage {
    pub page: Option<u32>,
    /// The image's name inside the document (`word/media/image1.png`), for embedded images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Tesseract's mean word confidence, 0–100.
    pub confidence: f32,
    pub words: usize,
}

/// A page or image OCR could not read (its text layer, if any, is kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OcrFailure {
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub reason: String,
}

/// What parsing found besides the text, kept with the document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParseReport {
    /// Pages whose text came from OCR (page null: the document is an image).
    pub ocr_pages: Vec<OcrPage>,
    pub ocr_failures: Vec<OcrFailure>,
    /// Tables kept as tables (chunked by rows under their header).
    pub tables: usize,
}

/// An image inside a document (DOCX), OCRed into the empty section that marks where it appears.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedImage {
    pub section: usize,
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDocument {
    pub kind: DocumentKind,
    pub title: Option<String>,
    /// Pages for PDFs (slides for presentations); None for formats without pages.
    pub pages: Option<u32>,
    pub sections: Vec<Section>,
    /// Pages without a usable text layer (or the image itself: None) still to be OCRed.
    pub needs_ocr: Vec<Option<u32>>,
    /// Pages whose text came from OCR.
    pub ocr: Vec<OcrPage>,
    pub ocr_failures: Vec<OcrFailure>,
    /// Images inside the document still to be OCRed.
    pub images: Vec<EmbeddedImage>,
}

impl ParsedDocument {
    pub fn new(kind: DocumentKind, title: Option<String>, pages: Option<u32>, sections: Vec<Section>) -> Self {
        Self {
            kind,
            title,
            pages,
            sections,
            needs_ocr: Vec::new(),
            ocr: Vec::new(),
            ocr_failures: Vec::new(),
            images: Vec::new(),
        }
    }

    /// All text, sections separated by blank lines.
    pub fn text(&self) -> String {
        self.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n\n")
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().filter_map(|s| s.table.as_ref())
    }

    /// What OCR made of `page`: its text replaces the page's (empty or garbage) text layer; a
    /// failure is recorded and the text layer kept.
    pub fn apply_ocr(&mut self, page: Option<u32>, result: Result<ocr::Recognised, ParseError>) {
        self.needs_ocr.retain(|p| *p != page);
        let found = match result {
            Ok(found) => found,
            Err(error) => {
                let reason = match error {
                    ParseError::Ocr(reason) => reason,
                    other => other.to_string(),
                };
                self.ocr_failures.push(OcrFailure { page, image: None, reason });
                return;
            }
        };
        self.ocr.push(OcrPage { page, image: None, confidence: found.confidence, words: found.words });
        // A blank page read as blank keeps what its text layer had.
        if found.text.trim().is_empty() {
            return;
        }
        // The page's first section gets the recognised text; any others of the page had parts
        // of the replaced text layer.
        let mut text = Some(found.text);
        for section in self.sections.iter_mut().filter(|s| s.page == page) {
            section.text = text.take().unwrap_or_default();
            section.table = None;
        }
        if let Some(text) = text {
            self.sections.push(Section::prose(page, Vec::new(), text));
        }
    }

    /// What OCR made of an embedded image: text it reads with some confidence goes where the
    /// image is; photos (few words, low confidence) add nothing.
    pub fn apply_image_ocr(&mut self, image: &EmbeddedImage, result: Result<ocr::Recognised, ParseError>) {
        let page = self.sections.get(image.section).and_then(|s| s.page);
        let name = Some(image.name.clone());
        match result {
            Ok(found) => {
                self.ocr.push(OcrPage { page, image: name, confidence: found.confidence, words: found.words });
                if found.words >= 3 && found.confidence >= 60.0 {
                    if let Some(section) = self.sections.get_mut(image.section) {
                        section.text = found.text;
                    }
                }
            }
            Err(error) => {
                let reason = match error {
                    ParseError::Ocr(reason) => reason,
                    other => other.to_string(),
                };
                self.ocr_failures.push(OcrFailure { page, image: name, reason });
            }
        }
    }

    pub fn report(&self) -> ParseReport {
        ParseReport {
            ocr_pages: self.ocr.clone(),
            ocr_failures: self.ocr_failures.clone(),
            tables: self.tables().count(),
        }
    }

    /// The document once OCR is done or impossible: an error when it still has no text (the
    /// first OCR failure's, when OCR failed).
    pub fn finish(mut self, ocr_available: bool) -> Result<Self, ParseError> {
        if self.sections.iter().all(|s| s.text.trim().is_empty()) {
            if let Some(failure) = self.ocr_failures.first() {
                return Err(ParseError::Ocr(failure.reason.clone()));
            }
            return Err(if self.kind == DocumentKind::Pdf || self.kind.is_image() {
                if ocr_available {
                    ParseError::NoTextRecognised
                } else {
                    ParseError::NoText
                }
            } else {
                ParseError::Empty
            });
        }
        // Pages OCR could not read keep what their text layer had.
        self.needs_ocr.clear();
        self.images.clear();
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unsupported file type ({detected}); supported: PDF, DOCX, XLSX, XLS, ODS, PPTX, ODT, EPUB, RTF, EML, HTML, Markdown, plain text, CSV, JSON, PNG, JPEG, TIFF")]
    Unsupported { detected: String },
    #[error("the PDF is encrypted with a password; upload it without the password")]
    Encrypted,
    #[error("no text layer (scanned or image-only document); OCR is not available")]
    NoText,
    #[error("no text layer (scanned or image-only document) and OCR recognised no text")]
    NoTextRecognised,
    #[error("the document has no text")]
    Empty,
    #[error("the file is damaged and cannot be read: {0}")]
    Malformed(String),
    #[error("the document has {pages} pages; the limit is {limit}")]
    TooManyPages { pages: u32, limit: u32 },
    #[error("the document unpacks to more than {limit_bytes} bytes; the limit guards against archive bombs")]
    TooLarge { limit_bytes: u64 },
    #[error("the image is {width} x {height} pixels; the limit is {limit} pixels")]
    TooManyPixels { width: u64, height: u64, limit: u64 },
    #[error("OCR failed: {0}")]
    Ocr(String),
}

/// Bounds on the work one document may cause.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pages: u32,
    /// Largest decompressed size of any part (PDF streams, DOCX XML).
    pub max_unpacked_bytes: u64,
    /// Largest image (width × height) decoded or rendered for OCR.
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_pages: 2000, max_unpacked_bytes: 256 * 1024 * 1024, max_pixels: 100_000_000 }
    }
}

/// Parses `bytes` as `kind`. Pages without a usable text layer, and images, are listed in
/// `needs_ocr`: run [`ocr::Ocr`] on them, then [`ParsedDocument::finish`].
pub fn parse(bytes: &[u8], kind: DocumentKind, limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let parsed = match kind {
        DocumentKind::Pdf => pdf::parse(bytes, limits)?,
        DocumentKind::Docx => docx::parse(bytes, limits)?,
        DocumentKind::Xlsx | DocumentKind::Xls | DocumentKind::Ods => sheet::parse(bytes, kind, limits)?,
        DocumentKind::Pptx => pptx::parse(bytes, limits)?,
        DocumentKind::Odt => odf::parse(bytes, limits)?,
        DocumentKind::Epub => epub::parse(bytes, limits)?,
        DocumentKind::Png | DocumentKind::Jpeg | DocumentKind::Tiff => {
            ocr::check_image(bytes, limits)?;
            let mut doc = ParsedDocument::new(kind, None, None, Vec::new());
            doc.needs_ocr.push(None);
            doc
        }
        other => {
            let text = text::decode(bytes)
                .ok_or_else(|| ParseError::Malformed("the text is not valid UTF-8 or UTF-16".to_owned()))?;
            match other {
                DocumentKind::Html => html::parse(&text),
                DocumentKind::Markdown => markdown::parse(&text),
                DocumentKind::Json => text::parse_json(&text),
                DocumentKind::Csv => text::parse_delimited(&text),
                DocumentKind::Rtf => rtf::parse(&text),
                DocumentKind::Eml => eml::parse(bytes, limits)?,
                _ => text::parse_plain(&text, DocumentKind::Text),
            }
        }
    };
    if parsed.needs_ocr.is_empty() && parsed.images.is_empty() {
        return parsed.finish(false);
    }
    Ok(parsed)
}

/// Parses and OCRs in one go (the CLI, analysis previews): no progress, one page at a time.
pub fn parse_with_ocr(
    bytes: &[u8],
    kind: DocumentKind,
    limits: &Limits,
    ocr: Option<&ocr::Ocr>,
) -> Result<ParsedDocument, ParseError> {
    let mut parsed = parse(bytes, kind, limits)?;
    if let (Some(ocr), false) = (ocr, parsed.needs_ocr.is_empty()) {
        let session = ocr.start(bytes, kind)?;
        for page in parsed.needs_ocr.clone() {
            parsed.apply_ocr(page, session.recognise(page, limits));
        }
    }
    if let Some(ocr) = ocr {
        for image in std::mem::take(&mut parsed.images) {
            let found = ocr.recognise_image(&image.bytes, limits);
            parsed.apply_image_ocr(&image, found);
        }
    }
    parsed.finish(ocr.is_some())
}

/// A file of tests/fixtures/formats (written by its generate.py).
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/formats/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[cfg(test)]
mod tests;
