//! Markdown: sections split at headings, with the heading path kept; code blocks, lists and
//! tables as text; images' alt text kept, link targets dropped.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{DocumentKind, ParsedDocument, Section};

pub fn parse(text: &str) -> ParsedDocument {
    let mut sections = Vec::new();
    let mut headings: Vec<(HeadingLevel, String)> = Vec::new();
    let mut current = String::new();
    let mut heading_text: Option<(HeadingLevel, String)> = None;
    let mut in_metadata = false;
    let flush = |sections: &mut Vec<Section>, headings: &[(HeadingLevel, String)], current: &mut String| {
        let body = current.trim();
        if !body.is_empty() {
            sections.push(Section {
                page: None,
                headings: headings.iter().map(|(_, h)| h.clone()).collect(),
                text: body.to_owned(),
            });
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
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                match heading_text.as_mut() {
                    Some((_, title)) => title.push_str(&t),
                    None => current.push_str(&t),
                }
            }
            Event::SoftBreak | Event::HardBreak => current.push(if heading_text.is_some() { ' ' } else { '\n' }),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::CodeBlock
                | TagEnd::Item
                | TagEnd::BlockQuote(_)
                | TagEnd::TableRow
                | TagEnd::TableHead,
            ) => {
                current.push('\n');
                if matches!(event, Event::End(TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::BlockQuote(_))) {
                    current.push('\n');
                }
            }
            Event::End(TagEnd::TableCell) => current.push_str(" | "),
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
    ParsedDocument { kind: DocumentKind::Markdown, title, pages: None, sections }
}
