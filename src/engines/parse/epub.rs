//! EPUB: the chapters in reading order (the package's spine), each read as HTML; the title
//! from the package metadata.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::zipped::{self, attr};
use super::{html, DocumentKind, Limits, ParseError, ParsedDocument};

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let mut archive = zipped::open(bytes)?;
    let container = zipped::read_part(&mut archive, "META-INF/container.xml", limits)?
        .ok_or_else(|| ParseError::Malformed("META-INF/container.xml is missing".to_owned()))?;
    let package_path = first_attr(&container, b"rootfile", b"full-path")
        .ok_or_else(|| ParseError::Malformed("the container names no package".to_owned()))?;
    let package = zipped::read_part(&mut archive, &package_path, limits)?
        .ok_or_else(|| ParseError::Malformed(format!("{package_path} is missing")))?;
    let base = package_path.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default();
    let package = Package::read(&package);
    let count = u32::try_from(package.spine.len()).unwrap_or(u32::MAX);
    if count > limits.max_pages {
        return Err(ParseError::TooManyPages { pages: count, limit: limits.max_pages });
    }
    let mut sections = Vec::new();
    for href in &package.spine {
        let path = format!("{base}{}", href.split('#').next().unwrap_or_default());
        let Some(bytes) = zipped::read_bytes(&mut archive, &path, limits)? else { continue };
        let chapter = html::parse(&String::from_utf8_lossy(&bytes));
        sections.extend(chapter.sections);
    }
    Ok(ParsedDocument::new(DocumentKind::Epub, package.title, None, sections))
}

#[derive(Default)]
struct Package {
    title: Option<String>,
    /// Chapter file names (relative to the package), in reading order.
    spine: Vec<String>,
}

impl Package {
    fn read(xml: &str) -> Self {
        let mut manifest: Vec<(String, String)> = Vec::new();
        let mut order: Vec<String> = Vec::new();
        let mut title = String::new();
        let mut in_title = false;
        let mut reader = Reader::from_str(xml);
        loop {
            match reader.read_event() {
                Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                    b"item" => {
                        if let (Some(id), Some(href)) = (attr(&e, b"id"), attr(&e, b"href")) {
                            manifest.push((id, href));
                        }
                    }
                    b"itemref" => order.extend(attr(&e, b"idref")),
                    b"title" if title.is_empty() => in_title = true,
                    _ => {}
                },
                Ok(Event::Text(t)) if in_title => title.push_str(&t.xml_content().unwrap_or_default()),
                Ok(Event::End(e)) if e.local_name().as_ref() == b"title" => in_title = false,
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
        let spine = order
            .iter()
            .filter_map(|id| manifest.iter().find(|(m, _)| m == id).map(|(_, href)| decode_href(href)))
            .collect();
        let title = title.trim().to_owned();
        Self { title: (!title.is_empty()).then_some(title), spine }
    }
}

/// Hrefs are URLs: `%20` and friends name the file's real characters.
fn decode_href(href: &str) -> String {
    form_urlencoded::parse(format!("x={}", href.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| href.to_owned())
}

fn first_attr(xml: &str, element: &[u8], name: &[u8]) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == element => return attr(&e, name),
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn chapters_are_read_in_spine_order_under_their_headings() {
        let bytes = crate::engines::parse::fixture("book.epub");
        assert_eq!(crate::engines::parse::detect(&bytes, None, None), Ok(DocumentKind::Epub));
        let doc = parse(&bytes, &Limits::default()).unwrap();
        assert_eq!(doc.title.as_deref(), Some("The Lighthouse Keeper"));
        let read: Vec<(&str, &str)> = doc.sections.iter().map(|s| (s.headings[0].as_str(), s.text.as_str())).collect();
        assert_eq!(read, [("Arrival", "She reached the island in May."), ("Storm", "The lamp burned all night.")]);
    }
}
