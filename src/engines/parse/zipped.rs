//! ZIP-packaged formats (Office Open XML, OpenDocument, EPUB): telling them apart by their
//! parts, and reading a part with the unpacked size checked first, so a zip bomb is refused
//! rather than inflated.

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

use super::{DocumentKind, Limits, ParseError};

pub type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

pub fn open(bytes: &[u8]) -> Result<Archive<'_>, ParseError> {
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ParseError::Malformed(e.to_string()))
}

/// The document type a ZIP archive holds, from its parts (and the `mimetype` part of
/// OpenDocument and EPUB files).
pub fn kind(bytes: &[u8]) -> Option<DocumentKind> {
    let mut archive = open(bytes).ok()?;
    let has = |archive: &Archive<'_>, name: &str| archive.index_for_name(name).is_some();
    if has(&archive, "word/document.xml") {
        return Some(DocumentKind::Docx);
    }
    if has(&archive, "xl/workbook.xml") {
        return Some(DocumentKind::Xlsx);
    }
    if has(&archive, "ppt/presentation.xml") {
        return Some(DocumentKind::Pptx);
    }
    let limits = Limits { max_unpacked_bytes: 256, ..Limits::default() };
    let mimetype = read_part(&mut archive, "mimetype", &limits).ok().flatten()?;
    match mimetype.trim() {
        "application/vnd.oasis.opendocument.text" => Some(DocumentKind::Odt),
        "application/vnd.oasis.opendocument.spreadsheet" => Some(DocumentKind::Ods),
        "application/epub+zip" => Some(DocumentKind::Epub),
        _ => None,
    }
}

/// Refuses an archive whose parts together unpack (by their declared sizes) past the limit,
/// for readers that inflate parts themselves.
pub fn check_sizes(bytes: &[u8], limits: &Limits) -> Result<(), ParseError> {
    let archive = open(bytes)?;
    let total: u64 = archive.decompressed_size().map_or(u64::MAX, |size| u64::try_from(size).unwrap_or(u64::MAX));
    if total > limits.max_unpacked_bytes {
        return Err(ParseError::TooLarge { limit_bytes: limits.max_unpacked_bytes });
    }
    Ok(())
}

/// A part's bytes; None when the archive has no such part.
pub fn read_bytes(archive: &mut Archive<'_>, name: &str, limits: &Limits) -> Result<Option<Vec<u8>>, ParseError> {
    let mut file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(ParseError::Malformed(e.to_string())),
    };
    if file.size() > limits.max_unpacked_bytes {
        return Err(ParseError::TooLarge { limit_bytes: limits.max_unpacked_bytes });
    }
    // The declared size can lie: read at most one byte past the limit to notice.
    let mut buffer = Vec::new();
    (&mut file)
        .take(limits.max_unpacked_bytes + 1)
        .read_to_end(&mut buffer)
        .map_err(|e| ParseError::Malformed(e.to_string()))?;
    if buffer.len() as u64 > limits.max_unpacked_bytes {
        return Err(ParseError::TooLarge { limit_bytes: limits.max_unpacked_bytes });
    }
    Ok(Some(buffer))
}

/// Most images of one document that OCR reads.
const MAX_IMAGES: usize = 100;

/// An image part worth OCR: present, not tiny (icons, rules), and fewer than the document's
/// image limit read so far (`already`).
pub fn image_worth_reading(
    archive: &mut Archive<'_>,
    name: &str,
    limits: &Limits,
    already: usize,
) -> Result<Option<Vec<u8>>, ParseError> {
    if already >= MAX_IMAGES {
        return Ok(None);
    }
    let Some(bytes) = read_bytes(archive, name, limits)? else { return Ok(None) };
    let big_enough = imagesize::blob_size(&bytes).is_ok_and(|size| size.width >= 96 && size.height >= 32);
    Ok(big_enough.then_some(bytes))
}

/// A part as UTF-8 text (XML); None when the archive has no such part.
pub fn read_part(archive: &mut Archive<'_>, name: &str, limits: &Limits) -> Result<Option<String>, ParseError> {
    match read_bytes(archive, name, limits)? {
        Some(bytes) => {
            String::from_utf8(bytes).map(Some).map_err(|_| ParseError::Malformed(format!("{name} is not UTF-8 XML")))
        }
        None => Ok(None),
    }
}

/// (Id, Target) of every relationship.
pub fn relationships(xml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"Relationship" => {
                if let (Some(id), Some(target)) = (attr(&e, b"Id"), attr(&e, b"Target")) {
                    out.push((id, target));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// A relationship target relative to `base` (a directory ending in `/`), `..` resolved.
pub fn resolve(base: &str, target: &str) -> String {
    if let Some(absolute) = target.strip_prefix('/') {
        return absolute.to_owned();
    }
    let mut parts: Vec<&str> = base.trim_end_matches('/').split('/').filter(|p| !p.is_empty()).collect();
    for piece in target.split('/') {
        match piece {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The value of the attribute whose local name is `local`.
pub fn attr(e: &quick_xml::events::BytesStart<'_>, local: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.unescape_value().ok())
        .map(|v| v.into_owned())
}

/// The text of an entity reference (`&amp;`, `&#233;`) inside XML text.
pub fn entity(r: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    match String::from_utf8_lossy(r).as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    }
    .to_owned()
}
