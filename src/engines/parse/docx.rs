//! DOCX (Office Open XML): paragraphs, headings (from the document's own style names, so
//! localised styles work) and tables as tables (nested ones read into their cells). Unpacked sizes are checked before reading, so a
//! zip bomb is refused rather than inflated.

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::zipped::{self, attr};
use super::{table, DocumentKind, EmbeddedImage, Limits, ParseError, ParsedDocument, Section};

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let mut archive = zipped::open(bytes)?;
    let styles =
        zipped::read_part(&mut archive, "word/styles.xml", limits)?.map(|xml| heading_styles(&xml)).unwrap_or_default();
    let document = zipped::read_part(&mut archive, "word/document.xml", limits)?
        .ok_or_else(|| ParseError::Malformed("word/document.xml is missing".to_owned()))?;
    let (sections, blips) = body_sections(&document, &styles)?;
    let title = sections.iter().find_map(|s| s.headings.first().cloned());
    let mut parsed = ParsedDocument::new(DocumentKind::Docx, title, None, sections);
    parsed.images = images(&mut archive, &blips, limits)?;
    Ok(parsed)
}

/// The images the body shows (their section and relationship id), read from the package.
fn images(
    archive: &mut zipped::Archive<'_>,
    blips: &[Blip],
    limits: &Limits,
) -> Result<Vec<EmbeddedImage>, ParseError> {
    if blips.is_empty() {
        return Ok(Vec::new());
    }
    let rels = zipped::read_part(archive, "word/_rels/document.xml.rels", limits)?.unwrap_or_default();
    let targets = zipped::relationships(&rels);
    let mut out = Vec::new();
    for (section, id) in blips {
        let Some(target) = targets.iter().find(|(rid, _)| rid == id).map(|(_, t)| t) else { continue };
        let name = zipped::resolve("word/", target);
        if let Some(bytes) = zipped::image_worth_reading(archive, &name, limits, out.len())? {
            out.push(EmbeddedImage { section: *section, name, bytes });
        }
    }
    Ok(out)
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

/// A table being read: its rows of cells, and the cell being filled.
#[derive(Default)]
struct TableReader {
    rows: Vec<Vec<String>>,
    cell: String,
}

/// Where an image appears (its placeholder section) and its relationship id.
type Blip = (usize, String);

/// The body's sections, and the images it shows: an empty section where each appears, with
/// the image's relationship id.
fn body_sections(xml: &str, styles: &HashMap<String, u8>) -> Result<(Vec<Section>, Vec<Blip>), ParseError> {
    let mut reader = Reader::from_str(xml);
    let mut sections = Vec::new();
    let mut headings: Vec<(u8, String)> = Vec::new();
    let mut current = String::new();
    let mut paragraph = String::new();
    let mut level: Option<u8> = None;
    let mut in_text = false;
    // Nested tables are read into the cells of the outermost one.
    let mut table_depth = 0u32;
    let mut table = TableReader::default();
    let mut blips: Vec<Blip> = Vec::new();
    let heading_path = |headings: &[(u8, String)]| headings.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>();
    let flush = |sections: &mut Vec<Section>, headings: &[(u8, String)], current: &mut String| {
        let text = current.trim().to_owned();
        if !text.is_empty() {
            sections.push(Section::prose(None, heading_path(headings), text));
        }
        current.clear();
    };
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e) | Event::Start(e)) if e.local_name().as_ref() == b"blip" && table_depth == 0 => {
                if let Some(id) = attr(&e, b"embed") {
                    current.push_str(&paragraph);
                    paragraph.clear();
                    flush(&mut sections, &headings, &mut current);
                    blips.push((sections.len(), id));
                    sections.push(Section::prose(None, heading_path(&headings), String::new()));
                }
            }
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                b"t" => in_text = true,
                b"p" => {
                    paragraph.clear();
                    level = None;
                }
                b"tbl" => table_depth += 1,
                b"tr" if table_depth == 1 => table.rows.push(Vec::new()),
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
            Ok(Event::GeneralRef(r)) if in_text => paragraph.push_str(&zipped::entity(&r)),
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    let text = paragraph.trim().to_owned();
                    match level {
                        _ if table_depth > 0 => {
                            table.cell.push_str(&text);
                            table.cell.push(' ');
                        }
                        Some(level) if !text.is_empty() => {
                            flush(&mut sections, &headings, &mut current);
                            headings.retain(|(l, _)| *l < level);
                            headings.push((level, text));
                        }
                        _ if !text.is_empty() => {
                            current.push_str(&text);
                            current.push_str("\n\n");
                        }
                        _ => {}
                    }
                }
                b"tc" if table_depth == 1 => {
                    let cell = std::mem::take(&mut table.cell);
                    if let Some(row) = table.rows.last_mut() {
                        row.push(cell);
                    }
                }
                b"tbl" => {
                    table_depth = table_depth.saturating_sub(1);
                    if table_depth == 0 {
                        flush(&mut sections, &headings, &mut current);
                        let rows = std::mem::take(&mut table).rows;
                        sections.extend(table::section(None, heading_path(&headings), rows));
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => return Err(ParseError::Malformed(format!("word/document.xml: {e}"))),
            _ => {}
        }
    }
    flush(&mut sections, &headings, &mut current);
    Ok((sections, blips))
}
