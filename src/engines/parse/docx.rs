//! DOCX (Office Open XML): paragraphs, headings (from the document's own style names, so
//! localised styles work) and tables as text. Unpacked sizes are checked before reading, so a
//! zip bomb is refused rather than inflated.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

use super::{DocumentKind, Limits, ParseError, ParsedDocument, Section};

pub fn is_docx(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(Cursor::new(bytes)).is_ok_and(|z| z.index_for_name("word/document.xml").is_some())
}

fn read_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
) -> Result<Option<String>, ParseError> {
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
    String::from_utf8(buffer).map(Some).map_err(|_| ParseError::Malformed(format!("{name} is not UTF-8 XML")))
}

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ParseError::Malformed(e.to_string()))?;
    let styles =
        read_part(&mut archive, "word/styles.xml", limits)?.map(|xml| heading_styles(&xml)).unwrap_or_default();
    let document = read_part(&mut archive, "word/document.xml", limits)?
        .ok_or_else(|| ParseError::Malformed("word/document.xml is missing".to_owned()))?;
    let sections = body_sections(&document, &styles)?;
    let title = sections.iter().find_map(|s| s.headings.first().cloned());
    Ok(ParsedDocument { kind: DocumentKind::Docx, title, pages: None, sections })
}

/// Heading level by style id: from `w:name` ("heading 1", "Title") in styles.xml, plus the
/// built-in ids when styles.xml is missing.
fn heading_styles(xml: &str) -> HashMap<String, u8> {
    let mut map = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                b"style" => current = attr(&e, b"styleId"),
                b"name" => {
                    if let (Some(id), Some(name)) = (&current, attr(&e, b"val")) {
                        if let Some(level) = level_of(&name) {
                            map.insert(id.clone(), level);
                        }
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    map
}

fn level_of(style: &str) -> Option<u8> {
    let lower = style.to_lowercase().replace(' ', "");
    if lower == "title" {
        return Some(1);
    }
    lower.strip_prefix("heading").and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=9).contains(n))
}

fn attr(e: &quick_xml::events::BytesStart<'_>, local: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.unescape_value().ok())
        .map(|v| v.into_owned())
}

fn body_sections(xml: &str, styles: &HashMap<String, u8>) -> Result<Vec<Section>, ParseError> {
    let mut reader = Reader::from_str(xml);
    let mut sections = Vec::new();
    let mut headings: Vec<(u8, String)> = Vec::new();
    let mut current = String::new();
    let mut paragraph = String::new();
    let mut level: Option<u8> = None;
    let mut in_text = false;
    let mut table_depth = 0u32;
    let flush = |sections: &mut Vec<Section>, headings: &[(u8, String)], current: &mut String| {
        let text = current.trim().to_owned();
        if !text.is_empty() {
            sections.push(Section { page: None, headings: headings.iter().map(|(_, h)| h.clone()).collect(), text });
        }
        current.clear();
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                b"t" => in_text = true,
                b"p" => {
                    paragraph.clear();
                    level = None;
                }
                b"tbl" => table_depth += 1,
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                b"pStyle" => {
                    level = attr(&e, b"val").and_then(|id| styles.get(&id).copied().or_else(|| level_of(&id)));
                }
                b"tab" => paragraph.push('\t'),
                b"br" | b"cr" => paragraph.push('\n'),
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                paragraph.push_str(&t.xml_content().map_err(|e| ParseError::Malformed(e.to_string()))?)
            }
            Ok(Event::GeneralRef(r)) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    paragraph.push(c);
                } else {
                    let name = String::from_utf8_lossy(&r);
                    paragraph.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    let text = paragraph.trim().to_owned();
                    match level {
                        Some(level) if table_depth == 0 && !text.is_empty() => {
                            flush(&mut sections, &headings, &mut current);
                            headings.retain(|(l, _)| *l < level);
                            headings.push((level, text));
                        }
                        _ if table_depth > 0 => {
                            current.push_str(&text);
                            current.push(' ');
                        }
                        _ if !text.is_empty() => {
                            current.push_str(&text);
                            current.push_str("\n\n");
                        }
                        _ => {}
                    }
                }
                b"tc" => current.push_str("| "),
                b"tr" => current.push('\n'),
                b"tbl" => {
                    table_depth = table_depth.saturating_sub(1);
                    current.push('\n');
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => return Err(ParseError::Malformed(format!("word/document.xml: {e}"))),
            _ => {}
        }
    }
    flush(&mut sections, &headings, &mut current);
    Ok(sections)
}
