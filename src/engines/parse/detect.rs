//! What a file is, from its bytes: magic numbers, the parts of ZIP packages, mail headers; the
//! name and declared type only choose between text formats that look alike.

use super::{eml, sheet, text, zipped, DocumentKind, ParseError};

/// Finds the type from the bytes; `name` and `declared` (a MIME type) only choose between
/// text formats that look alike (Markdown, CSV, plain text).
pub fn detect(bytes: &[u8], name: Option<&str>, declared: Option<&str>) -> Result<DocumentKind, ParseError> {
    let head = &bytes[..bytes.len().min(1024)];
    // Damaged files may have lost the `%` (or more) of the header.
    if find(head, b"%PDF-").is_some() || find(head, b"PDF-1").is_some() || find(head, b"PDF-2").is_some() {
        return Ok(DocumentKind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return zipped::kind(bytes).ok_or_else(|| ParseError::Unsupported {
            detected: "a ZIP archive that is not an Office, OpenDocument or EPUB document".to_owned(),
        });
    }
    if let Some(kind) = image_kind(bytes) {
        return Ok(kind);
    }
    if bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return if sheet::is_xls(bytes) {
            Ok(DocumentKind::Xls)
        } else {
            Err(ParseError::Unsupported {
                detected: "a legacy Office file (.doc/.ppt/.msg); save it as .docx, .pptx or .eml".to_owned(),
            })
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
    if trimmed.starts_with("{\\rtf") {
        return Ok(DocumentKind::Rtf);
    }
    if eml::looks_like_mail(&text) || ((extension == "eml" || declared == "message/rfc822") && text.contains(':')) {
        return Ok(DocumentKind::Eml);
    }
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
    if extension == "csv" || extension == "tsv" || declared.starts_with("text/csv") {
        return Ok(DocumentKind::Csv);
    }
    if looks_like_markdown(&text) {
        return Ok(DocumentKind::Markdown);
    }
    Ok(DocumentKind::Text)
}

fn image_kind(bytes: &[u8]) -> Option<DocumentKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(DocumentKind::Png)
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some(DocumentKind::Jpeg)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(DocumentKind::Tiff)
    } else {
        None
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Well-known binary formats, so the 415 can say what the file was.
fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 7] = [
        (b"GIF8", "a GIF image"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\x7fELF", "an executable"),
        (b"MZ", "a Windows executable"),
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
