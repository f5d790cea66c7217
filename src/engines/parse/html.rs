//! HTML: the readable text of the page. Scripts, styles, navigation and other page furniture
//! are dropped; `<main>`/`<article>` is preferred when present; headings split sections; link
//! text is kept and link targets dropped.

use scraper::{ElementRef, Html, Node, Selector};

use super::{DocumentKind, ParsedDocument, Section};

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
    ParsedDocument { kind: DocumentKind::Html, title, pages: None, sections: walker.sections }
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
            self.sections.push(Section {
                page: None,
                headings: self.headings.iter().map(|(_, h)| h.clone()).collect(),
                text,
            });
        }
        self.current.clear();
    }
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
