//! RTF: the document's text with paragraphs, Unicode (`\uN`) and code-page escapes (`\'hh`)
//! decoded, tables (`\cell`, `\row`) kept as tables, and the metadata, font, colour and style
//! tables, pictures and other destinations skipped. The title comes from `{\info{\title}}`.

use super::{table, DocumentKind, ParsedDocument, Section};

/// Destinations whose content is not document text.
const SKIPPED: [&str; 24] = [
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "header",
    "headerl",
    "headerr",
    "footer",
    "footerl",
    "footerr",
    "object",
    "fldinst",
    "themedata",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "mmathPr",
    "colorschememapping",
    "filetbl",
];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    /// Characters to drop after a `\uN` (its ANSI fallback).
    unicode_skip: usize,
    in_title: bool,
}

pub fn parse(text: &str) -> ParsedDocument {
    let mut reader = Rtf {
        sections: Vec::new(),
        current: String::new(),
        rows: Vec::new(),
        row: Vec::new(),
        cell: String::new(),
        in_table: false,
        title: String::new(),
    };
    reader.read(text.as_bytes());
    reader.flush_table();
    reader.flush_text();
    let title = reader.title.split_whitespace().collect::<Vec<_>>().join(" ");
    ParsedDocument::new(DocumentKind::Rtf, (!title.is_empty()).then_some(title), None, reader.sections)
}

struct Rtf {
    sections: Vec<Section>,
    current: String,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
    in_table: bool,
    title: String,
}

impl Rtf {
    fn read(&mut self, bytes: &[u8]) {
        let mut stack: Vec<Group> = Vec::new();
        let mut group = Group { skip: false, unicode_skip: 1, in_title: false };
        let mut pending_skip = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'{' => {
                    stack.push(group);
                    i += 1;
                }
                b'}' => {
                    group = stack.pop().unwrap_or(group);
                    i += 1;
                }
                b'\\' => {
                    let (token, next) = control(bytes, i + 1);
                    i = next;
                    match token {
                        Control::Symbol(c) => self.text(&group, &mut pending_skip, c),
                        Control::Hex(byte) => {
                            let decoded = encoding_rs::WINDOWS_1252.decode(&[byte]).0.chars().next().unwrap_or('?');
                            self.text(&group, &mut pending_skip, decoded);
                        }
                        Control::Word(word, param) => {
                            self.word(&mut group, &mut pending_skip, &word, param);
                        }
                    }
                }
                b'\r' | b'\n' => i += 1,
                _ => {
                    // Plain text up to the next special byte, decoded as UTF-8 or Latin-1.
                    let end = bytes[i..]
                        .iter()
                        .position(|c| matches!(c, b'{' | b'}' | b'\\' | b'\r' | b'\n'))
                        .map_or(bytes.len(), |p| i + p);
                    let chunk = String::from_utf8_lossy(&bytes[i..end]).into_owned();
                    for c in chunk.chars() {
                        self.text(&group, &mut pending_skip, c);
                    }
                    i = end;
                }
            }
        }
    }

    fn word(&mut self, group: &mut Group, pending_skip: &mut usize, word: &str, param: Option<i32>) {
        match word {
            "*" => group.skip = true,
            // The title lives inside `info`: `title` below reads it, the rest is skipped.
            w if SKIPPED.contains(&w) => {
                group.skip = true;
                group.in_title = false;
            }
            "title" => {
                group.in_title = true;
                group.skip = false;
            }
            "uc" => group.unicode_skip = param.unwrap_or(1).max(0) as usize,
            "u" => {
                let code = param.unwrap_or(0);
                let code = if code < 0 { code + 65536 } else { code } as u32;
                self.text(group, &mut 0, char::from_u32(code).unwrap_or('\u{fffd}'));
                *pending_skip = group.unicode_skip;
            }
            "par" | "sect" | "page" => self.push_text(group, "\n\n"),
            "line" => self.push_text(group, "\n"),
            "tab" => self.push_text(group, "\t"),
            "emdash" => self.push_text(group, "—"),
            "endash" => self.push_text(group, "–"),
            "bullet" => self.push_text(group, "•"),
            "lquote" => self.push_text(group, "‘"),
            "rquote" => self.push_text(group, "’"),
            "ldblquote" => self.push_text(group, "“"),
            "rdblquote" => self.push_text(group, "”"),
            "pard" => self.in_table = false,
            "intbl" => self.in_table = true,
            "cell" if !group.skip => {
                let cell = std::mem::take(&mut self.cell);
                self.row.push(cell);
            }
            "row" if !group.skip => {
                let row = std::mem::take(&mut self.row);
                self.rows.push(row);
                self.in_table = false;
            }
            _ => {}
        }
    }

    fn text(&mut self, group: &Group, pending_skip: &mut usize, c: char) {
        if *pending_skip > 0 {
            *pending_skip -= 1;
            return;
        }
        if group.in_title {
            self.title.push(c);
            return;
        }
        if group.skip {
            return;
        }
        let mut buffer = [0; 4];
        self.push_text(group, c.encode_utf8(&mut buffer));
    }

    fn push_text(&mut self, group: &Group, text: &str) {
        if group.skip || group.in_title {
            return;
        }
        if self.in_table {
            self.cell.push_str(if text.trim().is_empty() { " " } else { text });
            return;
        }
        if !text.trim().is_empty() {
            self.flush_table();
        }
        self.current.push_str(text);
    }

    fn flush_table(&mut self) {
        if self.rows.is_empty() {
            return;
        }
        self.flush_text();
        self.sections.extend(table::section(None, Vec::new(), std::mem::take(&mut self.rows)));
    }

    fn flush_text(&mut self) {
        let text = super::text::normalise(&self.current.replace("\n\n\n", "\n\n"));
        if !text.is_empty() {
            self.sections.push(Section::prose(None, Vec::new(), text));
        }
        self.current.clear();
    }
}

enum Control {
    Word(String, Option<i32>),
    Symbol(char),
    Hex(u8),
}

/// The control word or symbol starting at `i` (just after the backslash), and where the text
/// continues.
fn control(bytes: &[u8], mut i: usize) -> (Control, usize) {
    let Some(&first) = bytes.get(i) else { return (Control::Word(String::new(), None), i) };
    if first == b'\'' {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        return match hex {
            Some(byte) => (Control::Hex(byte), i + 3),
            None => (Control::Word(String::new(), None), i + 1),
        };
    }
    if !first.is_ascii_alphabetic() {
        let symbol = match first {
            b'~' => '\u{a0}',
            b'_' => '\u{2011}',
            b'{' | b'}' | b'\\' => first as char,
            // A backslash before a line break is a paragraph.
            b'\n' | b'\r' => return (Control::Word("par".into(), None), i + 1),
            // `\*` marks an ignorable destination; `\-` is an optional hyphen.
            _ => return (Control::Word((first as char).to_string(), None), i + 1),
        };
        return (Control::Symbol(symbol), i + 1);
    }
    let start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
        i += 1;
    }
    let word = String::from_utf8_lossy(&bytes[start..i]).into_owned();
    let number_start = i;
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let param = std::str::from_utf8(&bytes[number_start..i]).ok().and_then(|n| n.parse::<i32>().ok());
    if bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    (Control::Word(word, param), i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_tables_and_the_title_are_read_and_tables_of_fonts_skipped() {
        let letter = String::from_utf8(crate::engines::parse::fixture("notice.rtf")).unwrap();
        let doc = parse(&letter);
        assert_eq!(doc.title.as_deref(), Some("Harbour notice"));
        assert_eq!(doc.sections[0].text, "The ferry to Nørby leaves at 07:15.\n\nCafés open “early”.");
        let table = doc.sections[1].table.as_ref().unwrap();
        assert_eq!(
            (table.header.as_slice(), table.rows.as_slice()),
            (&["Berth".to_owned(), "Ship".to_owned()][..], &[vec!["4".to_owned(), "Aurora".to_owned()]][..])
        );
        assert_eq!(doc.sections[2].text, "After the table.");
        assert!(!doc.text().contains("Helvetica") && !doc.text().contains("Riched"));
        assert_eq!(crate::engines::parse::detect(letter.as_bytes(), None, None), Ok(DocumentKind::Rtf));
    }
}
