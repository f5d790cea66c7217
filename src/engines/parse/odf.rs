//! ODT (OpenDocument text): headings by outline level, paragraphs and lists, tables as tables;
//! the title from the document's metadata.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::zipped::{self, attr};
use super::{table, DocumentKind, Limits, ParseError, ParsedDocument, Section};

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let mut archive = zipped::open(bytes)?;
    let content = zipped::read_part(&mut archive, "content.xml", limits)?
        .ok_or_else(|| ParseError::Malformed("content.xml is missing".to_owned()))?;
    let title = zipped::read_part(&mut archive, "meta.xml", limits)?.and_then(|meta| element_text(&meta, b"title"));
    let sections = body_sections(&content)?;
    let title = title.or_else(|| sections.iter().find_map(|s| s.headings.first().cloned()));
    Ok(ParsedDocument::new(DocumentKind::Odt, title, None, sections))
}

/// The text of the first element named `local`.
fn element_text(xml: &str, local: &[u8]) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == local => inside = true,
            Ok(Event::Text(t)) if inside => text.push_str(&t.xml_content().ok()?),
            Ok(Event::GeneralRef(r)) if inside => text.push_str(&zipped::entity(&r)),
            Ok(Event::End(e)) if inside && e.local_name().as_ref() == local => break,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn body_sections(xml: &str) -> Result<Vec<Section>, ParseError> {
    let mut reader = Reader::from_str(xml);
    let mut sections = Vec::new();
    let mut headings: Vec<(u8, String)> = Vec::new();
    let mut current = String::new();
    let mut block = String::new();
    // The outline level of the heading being read.
    let mut heading: Option<u8> = None;
    let mut in_body = false;
    let mut table_depth = 0u32;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cell = String::new();
    let mut repeat = 1usize;
    let path = |headings: &[(u8, String)]| headings.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>();
    let flush = |sections: &mut Vec<Section>, headings: &[(u8, String)], current: &mut String| {
        let text = current.trim().to_owned();
        if !text.is_empty() {
            sections.push(Section::prose(None, path(headings), text));
        }
        current.clear();
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                b"text" if e.name().as_ref() == b"office:text" => in_body = true,
                b"h" => {
                    block.clear();
                    heading = attr(&e, b"outline-level").and_then(|l| l.parse().ok()).or(Some(1));
                }
                b"p" => block.clear(),
                b"table" => table_depth += 1,
                b"table-row" if table_depth == 1 => rows.push(Vec::new()),
                b"table-cell" if table_depth == 1 => {
                    cell.clear();
                    repeat = attr(&e, b"number-columns-repeated").and_then(|n| n.parse().ok()).unwrap_or(1);
                }
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                b"s" => block.push(' '),
                b"tab" => block.push('\t'),
                b"line-break" => block.push('\n'),
                // An empty cell still holds its place in the row.
                b"table-cell" if table_depth == 1 => {
                    let repeat = attr(&e, b"number-columns-repeated").and_then(|n| n.parse().ok()).unwrap_or(1usize);
                    if let Some(row) = rows.last_mut() {
                        row.extend(std::iter::repeat_n(String::new(), repeat.min(16)));
                    }
                }
                _ => {}
            },
            Ok(Event::Text(t)) if in_body => {
                block.push_str(&t.xml_content().map_err(|e| ParseError::Malformed(e.to_string()))?)
            }
            Ok(Event::GeneralRef(r)) if in_body => block.push_str(&zipped::entity(&r)),
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"h" | b"p" => {
                    let text = block.trim().to_owned();
                    block.clear();
                    if text.is_empty() {
                    } else if table_depth > 0 {
                        cell.push_str(&text);
                        cell.push(' ');
                    } else if let (b"h", Some(level)) = (e.local_name().as_ref(), heading.take()) {
                        flush(&mut sections, &headings, &mut current);
                        headings.retain(|(l, _)| *l < level);
                        headings.push((level, text));
                    } else {
                        current.push_str(&text);
                        current.push_str("\n\n");
                    }
                }
                b"table-cell" if table_depth == 1 => {
                    if let Some(row) = rows.last_mut() {
                        row.extend(std::iter::repeat_n(std::mem::take(&mut cell), repeat.clamp(1, 16)));
                    }
                }
                b"table" => {
                    table_depth = table_depth.saturating_sub(1);
                    if table_depth == 0 {
                        flush(&mut sections, &headings, &mut current);
                        sections.extend(table::section(None, path(&headings), std::mem::take(&mut rows)));
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => return Err(ParseError::Malformed(format!("content.xml: {e}"))),
            _ => {}
        }
    }
    flush(&mut sections, &headings, &mut current);
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn headings_paragraphs_lists_and_tables_are_read() {
        let bytes = crate::engines::parse::fixture("ferry.odt");
        assert_eq!(crate::engines::parse::detect(&bytes, None, None), Ok(DocumentKind::Odt));
        let doc = parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Island ferries"));
        assert_eq!(doc.sections[0].headings, ["Ferry timetable"]);
        assert_eq!(doc.sections[0].text, "Boats leave the harbour every hour.");
        assert_eq!(doc.sections[1].headings, ["Ferry timetable", "Winter"]);
        assert_eq!(doc.sections[1].text, "Fewer crossings & no night boat.");
        let table = doc.sections[2].table.as_ref().unwrap();
        assert_eq!(table.rows, [["Nordhavn", "07:15"]]);
    }
}
