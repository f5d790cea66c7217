//! `lectern parse FILE`: what the ingestion pipeline sees in a document (pages, heading
//! paths, tables, OCR), as Markdown or JSON, without a server. For checking a file before an
//! upload, and for comparing parses across versions.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::engines::parse::{self, ocr::Ocr, Limits, ParsedDocument};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ParseFormat {
    Markdown,
    Json,
}

pub struct ParseArgs<'a> {
    pub file: &'a Path,
    pub format: ParseFormat,
    /// Tesseract languages, or None for no OCR.
    pub ocr_languages: Option<&'a str>,
}

/// The parse as text in the chosen format, or why the file cannot be read.
pub fn run(args: &ParseArgs<'_>) -> Result<String, String> {
    let bytes = std::fs::read(args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned());
    let started = Instant::now();
    let kind = parse::detect(&bytes, name.as_deref(), None).map_err(|e| e.to_string())?;
    let ocr = args.ocr_languages.and_then(|languages| Ocr::locate(languages, Duration::from_secs(120), 300));
    let doc = parse::parse_with_ocr(&bytes, kind, &Limits::default(), ocr.as_ref()).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(match args.format {
        ParseFormat::Markdown => markdown(&doc),
        ParseFormat::Json => serde_json::to_string_pretty(&as_json(&doc, seconds)).unwrap_or_default(),
    })
}

/// Headings as Markdown headings where the path changes, a comment where the page changes,
/// tables as Markdown tables.
pub fn markdown(doc: &ParsedDocument) -> String {
    let mut out = String::new();
    if let Some(title) = &doc.title {
        out.push_str(&format!("<!-- title: {title} -->\n\n"));
    }
    let mut headings: &[String] = &[];
    let mut page = None;
    for section in &doc.sections {
        if section.page != page && section.page.is_some() {
            page = section.page;
            out.push_str(&format!("<!-- page {} -->\n\n", section.page.unwrap_or_default()));
        }
        let common = headings.iter().zip(&section.headings).take_while(|(a, b)| a == b).count();
        for (level, heading) in section.headings.iter().enumerate().skip(common) {
            out.push_str(&format!("{} {heading}\n\n", "#".repeat((level + 1).min(6))));
        }
        headings = &section.headings;
        if !section.text.trim().is_empty() {
            out.push_str(section.text.trim());
            out.push_str("\n\n");
        }
    }
    out.trim_end().to_owned() + "\n"
}

fn as_json(doc: &ParsedDocument, seconds: f64) -> serde_json::Value {
    json!({
        "kind": doc.kind,
        "title": doc.title,
        "pages": doc.pages,
        "sections": doc.sections.iter().map(|s| json!({
            "page": s.page,
            "headings": s.headings,
            "text": s.text,
            "table": s.table,
        })).collect::<Vec<_>>(),
        "report": doc.report(),
        "seconds": seconds,
    })
}
