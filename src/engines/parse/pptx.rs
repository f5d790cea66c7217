//! PPTX (Office Open XML presentations): one page per slide, in the presentation's order; the
//! slide's title placeholder is its heading, its text boxes and tables follow, then the
//! speaker notes.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::zipped::{self, attr, Archive};
use super::{table, DocumentKind, EmbeddedImage, Limits, ParseError, ParsedDocument, Section};

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let mut archive = zipped::open(bytes)?;
    let slides = slide_paths(&mut archive, limits)?;
    let count = u32::try_from(slides.len()).unwrap_or(u32::MAX);
    if count > limits.max_pages {
        return Err(ParseError::TooManyPages { pages: count, limit: limits.max_pages });
    }
    let mut sections = Vec::new();
    let mut images = Vec::new();
    for (number, path) in (1..).zip(&slides) {
        let Some(xml) = zipped::read_part(&mut archive, path, limits)? else { continue };
        let slide = read_slide(&xml)?;
        let headings: Vec<String> = slide.title.iter().cloned().collect();
        let mut text = slide.paragraphs.join("\n");
        if let Some(notes) = notes_path(&mut archive, path, limits)? {
            if let Some(xml) = zipped::read_part(&mut archive, &notes, limits)? {
                let notes = read_slide(&xml)?.paragraphs.join("\n");
                if !notes.trim().is_empty() {
                    text.push_str("\n\nNotes: ");
                    text.push_str(&notes);
                }
            }
        }
        // Every slide is a page, even an empty one, so page numbers stay slide numbers.
        sections.push(Section::prose(Some(number), headings.clone(), text.trim().to_owned()));
        for rows in slide.tables {
            sections.extend(table::section(Some(number), headings.clone(), rows));
        }
        // Pictures on the slide (a scanned chart, a screenshot) are OCRed onto its page.
        if !slide.images.is_empty() {
            let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
            let rels =
                zipped::read_part(&mut archive, &format!("{dir}/_rels/{file}.rels"), limits)?.unwrap_or_default();
            let targets = zipped::relationships(&rels);
            for id in &slide.images {
                let Some(target) = targets.iter().find(|(rid, _)| rid == id).map(|(_, t)| t) else { continue };
                let name = zipped::resolve(&format!("{dir}/"), target);
                if let Some(bytes) = zipped::image_worth_reading(&mut archive, &name, limits, images.len())? {
                    images.push(EmbeddedImage { section: sections.len(), name, bytes });
                    sections.push(Section::prose(Some(number), headings.clone(), String::new()));
                }
            }
        }
    }
    let title = sections.iter().find_map(|s| s.headings.first().cloned());
    let mut parsed = ParsedDocument::new(DocumentKind::Pptx, title, Some(count), sections);
    parsed.images = images;
    Ok(parsed)
}

/// The slides' part names in presentation order (from `presentation.xml` and its
/// relationships), or by their file numbers when those are missing.
fn slide_paths(archive: &mut Archive<'_>, limits: &Limits) -> Result<Vec<String>, ParseError> {
    let presentation = zipped::read_part(archive, "ppt/presentation.xml", limits)?.unwrap_or_default();
    let rels = zipped::relationships(
        &zipped::read_part(archive, "ppt/_rels/presentation.xml.rels", limits)?.unwrap_or_default(),
    );
    let mut ordered = Vec::new();
    let mut reader = Reader::from_str(&presentation);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"sldId" => {
                // The relationship id is the prefixed `r:id`, not the slide's own `id`.
                let target = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.prefix().is_some() && a.key.local_name().as_ref() == b"id")
                    .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                    .and_then(|id| rels.iter().find(|(rid, _)| *rid == id).map(|(_, t)| t.clone()));
                if let Some(target) = target {
                    ordered.push(zipped::resolve("ppt/", &target));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if ordered.is_empty() {
        let mut numbered: Vec<(u32, String)> = archive
            .file_names()
            .filter_map(|n| {
                let number = n.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?.parse().ok()?;
                Some((number, n.to_owned()))
            })
            .collect();
        numbered.sort();
        ordered = numbered.into_iter().map(|(_, n)| n).collect();
    }
    Ok(ordered)
}

/// The notes slide of a slide, from the slide's relationships.
fn notes_path(archive: &mut Archive<'_>, slide: &str, limits: &Limits) -> Result<Option<String>, ParseError> {
    let (dir, file) = slide.rsplit_once('/').unwrap_or(("", slide));
    let Some(xml) = zipped::read_part(archive, &format!("{dir}/_rels/{file}.rels"), limits)? else { return Ok(None) };
    Ok(zipped::relationships(&xml)
        .into_iter()
        .find(|(_, t)| t.contains("notesSlide"))
        .map(|(_, t)| zipped::resolve(&format!("{dir}/"), &t)))
}

#[derive(Default)]
struct Slide {
    title: Option<String>,
    paragraphs: Vec<String>,
    tables: Vec<Vec<Vec<String>>>,
    /// Relationship ids of the pictures it shows.
    images: Vec<String>,
}

/// The text of a slide (or notes slide): paragraphs of its shapes, the title placeholder's text
/// as the title, tables as rows; slide-number and date placeholders are skipped.
fn read_slide(xml: &str) -> Result<Slide, ParseError> {
    let mut slide = Slide::default();
    let mut reader = Reader::from_str(xml);
    let mut paragraph = String::new();
    let mut in_text = false;
    // The placeholder type of the shape being read.
    let mut placeholder: Option<String> = None;
    let mut rows: Option<Vec<Vec<String>>> = None;
    let mut cell = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                b"sp" | b"graphicFrame" => placeholder = None,
                b"t" => in_text = true,
                b"p" => paragraph.clear(),
                b"tbl" => rows = Some(Vec::new()),
                b"tr" => rows.iter_mut().for_each(|r| r.push(Vec::new())),
                b"tc" => cell.clear(),
                b"ph" => placeholder = Some(attr(&e, b"type").unwrap_or_else(|| "body".to_owned())),
                b"blip" => slide.images.extend(attr(&e, b"embed")),
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                b"blip" => slide.images.extend(attr(&e, b"embed")),
                b"ph" => placeholder = Some(attr(&e, b"type").unwrap_or_else(|| "body".to_owned())),
                b"br" => paragraph.push('\n'),
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
                    let skipped = matches!(placeholder.as_deref(), Some("sldNum" | "dt" | "ftr" | "sldImg"));
                    if text.is_empty() || skipped {
                    } else if rows.is_some() {
                        cell.push_str(&text);
                        cell.push(' ');
                    } else if matches!(placeholder.as_deref(), Some("title" | "ctrTitle")) {
                        let title = slide.title.get_or_insert_with(String::new);
                        if !title.is_empty() {
                            title.push(' ');
                        }
                        title.push_str(&text);
                    } else {
                        slide.paragraphs.push(text);
                    }
                }
                b"tc" => {
                    if let Some(row) = rows.as_mut().and_then(|r| r.last_mut()) {
                        row.push(std::mem::take(&mut cell));
                    }
                }
                b"tbl" => slide.tables.extend(rows.take()),
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => return Err(ParseError::Malformed(format!("a slide: {e}"))),
            _ => {}
        }
    }
    Ok(slide)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn slides_are_pages_in_show_order_with_titles_notes_and_tables() {
        let bytes = crate::engines::parse::fixture("deck.pptx");
        assert_eq!(crate::engines::parse::detect(&bytes, None, None), Ok(DocumentKind::Pptx));
        let doc = parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(doc.pages, Some(2));
        assert_eq!(doc.title.as_deref(), Some("Welcome"));
        assert_eq!(doc.sections[0].page, Some(1));
        assert_eq!(doc.sections[0].text, "The agenda for today.");
        let second = &doc.sections[1];
        assert_eq!((second.page, second.headings.as_slice()), (Some(2), &["Results".to_owned()][..]));
        assert_eq!(second.text, "Sales grew in the third quarter.\n\nNotes: Mention the harbour & the ferry.");
        let table = doc.sections[2].table.as_ref().unwrap();
        assert_eq!(
            (table.header.clone(), table.rows.clone()),
            (vec!["Quarter".into(), "Sales".into()], vec![vec!["Q3".into(), "1,240 units".into()]])
        );
        assert!(!doc.text().contains('7'), "slide numbers are not text");
    }
}
