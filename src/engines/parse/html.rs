//! HTML: the readable text of the page. Scripts, styles, navigation and other page furniture
//! are dropped; `<main>`/`<article>` is preferred when present; headings split sections; link
//! text is kept and link targets dropped.

use scraper::{ElementRef, Html, Node, Selector};

use super::{table, DocumentKind, ParsedDocument, Section};

const SKIP: [&str; 14] = [
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "button", "svg", "iframe",
    "select", "head",
];
const BLOCKS: [&str; 22] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "br",
    "hr",
    "td",
    "th",
    "body",
];

pub fn parse(text: &str) -> ParsedDocument {
    let document = Html::parse_document(text);
    let title = Selector::parse("title")
        .ok()
        .and_then(|s| document.select(&s).next())
        .map(|t| collapse(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let root = ["main", "article", "[role=main]", "body"]
        .iter()
        .filter_map(|css| Selector::parse(css).ok())
        .find_map(|s| document.select(&s).next())
        .unwrap_or_else(|| document.root_element());
    let mut walker = Walker { sections: Vec::new(), headings: Vec::new(), current: String::new() };
    walker.visit(root);
    walker.flush();
    ParsedDocument::new(DocumentKind::Html, title, None, walker.sections)
}

struct Walker {
    sections: Vec<Section>,
    headings: Vec<(u8, String)>,
    current: String,
}

impl Walker {
    fn visit(&mut self, element: ElementRef<'_>) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.push_text(text),
                Node::Element(el) => {
                    let name = el.name();
                    if SKIP.contains(&name) || el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
                        continue;
                    }
                    let Some(child) = ElementRef::wrap(child) else { continue };
                    if let Some(level) = heading_level(name) {
                        self.flush();
                        let title = collapse(&child.text().collect::<String>());
                        if !title.is_empty() {
                            self.headings.retain(|(l, _)| *l < level);
                            self.headings.push((level, title));
                        }
                        continue;
                    }
                    if name == "table" {
                        if let Some(rows) = data_rows(child) {
                            self.flush();
                            let headings = self.headings.iter().map(|(_, h)| h.clone()).collect();
                            self.sections.extend(table::section(None, headings, rows));
                            continue;
                        }
                    }
                    let block = BLOCKS.contains(&name);
                    if block {
                        self.break_line();
                    }
                    if name == "td" || name == "th" {
                        self.current.push_str(" | ");
                    }
                    self.visit(child);
                    if block {
                        self.break_line();
                    }
                }
                _ => {}
            }
        }
    }

    fn push_text(&mut self, text: &str) {
        let collapsed = collapse(text);
        if collapsed.is_empty() {
            if !text.is_empty() && !self.current.ends_with([' ', '\n']) && !self.current.is_empty() {
                self.current.push(' ');
            }
            return;
        }
        if text.starts_with(char::is_whitespace) && !self.current.ends_with([' ', '\n']) && !self.current.is_empty() {
            self.current.push(' ');
        }
        self.current.push_str(&collapsed);
        if text.ends_with(char::is_whitespace) {
            self.current.push(' ');
        }
    }

    fn break_line(&mut self) {
        let trimmed = self.current.trim_end_matches(' ').len();
        self.current.truncate(trimmed);
        if !self.current.is_empty() && !self.current.ends_with("\n\n") {
            self.current.push_str(if self.current.ends_with('\n') { "\n" } else { "\n\n" });
        }
    }

    fn flush(&mut self) {
        let text = self.current.trim().to_owned();
        if !text.is_empty() {
            self.sections.push(Section::prose(None, self.headings.iter().map(|(_, h)| h.clone()).collect(), text));
        }
        self.current.clear();
    }
}

/// The rows of a data table, cells as text; None for a layout table (tables inside it, or
/// cells holding whole paragraphs), which is read as the page's text instead.
fn data_rows(table: ElementRef<'_>) -> Option<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    let mut cells = 0usize;
    let mut chars = 0usize;
    collect_rows(table, &mut rows)?;
    for cell in rows.iter().flatten() {
        cells += 1;
        chars += cell.chars().count();
    }
    (cells > 0 && chars / cells <= 300).then_some(rows)
}

fn collect_rows(element: ElementRef<'_>, rows: &mut Vec<Vec<String>>) -> Option<()> {
    for child in element.children().filter_map(ElementRef::wrap) {
        match child.value().name() {
            "thead" | "tbody" | "tfoot" => collect_rows(child, rows)?,
            "tr" => {
                let mut row = Vec::new();
                for cell in child.children().filter_map(ElementRef::wrap) {
                    if !matches!(cell.value().name(), "td" | "th") {
                        continue;
                    }
                    if cell.descendants().filter_map(ElementRef::wrap).any(|e| e.value().name() == "table") {
                        return None;
                    }
                    let span = cell.value().attr("colspan").and_then(|s| s.parse::<usize>().ok()).unwrap_or(1);
                    let text = collapse(&cell.text().collect::<String>());
                    // A spanning cell repeats, so every column of the row has its value.
                    row.extend(std::iter::repeat_n(text, span.clamp(1, 16)));
                }
                rows.push(row);
            }
            _ => {}
        }
    }
    Some(())
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
