//! Markdown: sections split at headings, with the heading path kept; code blocks, lists and
//! tables as tables; images' alt text kept, link targets dropped.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{table, DocumentKind, ParsedDocument, Section};

pub fn parse(text: &str) -> ParsedDocument {
    let mut sections = Vec::new();
    let mut headings: Vec<(HeadingLevel, String)> = Vec::new();
    let mut current = String::new();
    let mut heading_text: Option<(HeadingLevel, String)> = None;
    let mut in_metadata = false;
    // Inside a table: its rows, the last one being filled.
    let mut rows: Option<Vec<Vec<String>>> = None;
    let flush = |sections: &mut Vec<Section>, headings: &[(HeadingLevel, String)], current: &mut String| {
        let body = current.trim();
        if !body.is_empty() {
            sections.push(Section::prose(None, headings.iter().map(|(_, h)| h.clone()).collect(), body.to_owned()));
        }
        current.clear();
    };
    for event in Parser::new_ext(
        text,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS,
    ) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut sections, &headings, &mut current);
                heading_text = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, title)) = heading_text.take() {
                    headings.retain(|(l, _)| *l < level);
                    headings.push((level, title.trim().to_owned()));
                }
            }
            // Front matter (`---` YAML `---`) is metadata, not content.
            Event::Start(Tag::MetadataBlock(_)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            Event::Text(_) if in_metadata => {}
            Event::Start(Tag::Table(_)) => {
                flush(&mut sections, &headings, &mut current);
                rows = Some(Vec::new());
            }
            Event::End(TagEnd::Table) => {
                let headings = headings.iter().map(|(_, h)| h.clone()).collect();
                sections.extend(table::section(None, headings, rows.take().unwrap_or_default()));
            }
            Event::Start(Tag::TableHead | Tag::TableRow) => rows.iter_mut().for_each(|r| r.push(Vec::new())),
            Event::Start(Tag::TableCell) => {
                if let Some(row) = rows.as_mut().and_then(|r| r.last_mut()) {
                    row.push(String::new());
                }
            }
            Event::Text(t) | Event::Code(t) if rows.is_some() => {
                if let Some(cell) = rows.as_mut().and_then(|r| r.last_mut()).and_then(|row| row.last_mut()) {
                    cell.push_str(&t);
                }
            }
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                match heading_text.as_mut() {
                    Some((_, title)) => title.push_str(&t),
                    None => current.push_str(&t),
                }
            }
            Event::SoftBreak | Event::HardBreak => current.push(if heading_text.is_some() { ' ' } else { '\n' }),
            Event::End(TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::Item | TagEnd::BlockQuote(_)) => {
                current.push('\n');
                if matches!(event, Event::End(TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::BlockQuote(_))) {
                    current.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                if !current.is_empty() && !current.ends_with('\n') {
                    current.push('\n');
                }
                current.push_str("- ");
            }
            Event::Html(_) | Event::InlineHtml(_) => {}
            _ => {}
        }
    }
    flush(&mut sections, &headings, &mut current);
    let title = sections.first().and_then(|s| s.headings.first().cloned());
    ParsedDocument::new(DocumentKind::Markdown, title, None, sections)
}
