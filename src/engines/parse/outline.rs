//! The PDF outline (bookmarks) as heading paths: a page is split where an entry's title starts
//! and each part gets the path of the entries before it.

use super::layout::headings;
use super::Section;

/// One bookmark: its depth (1 = top), title and 1-based page.
pub struct OutlineEntry {
    pub level: usize,
    pub title: String,
    pub page: u32,
}

/// Splits page sections where outline entries start (at the line that carries the entry's
/// title; at the top of the page when no line does) and gives every part its heading path.
pub fn apply_outline(sections: Vec<Section>, outline: &[OutlineEntry]) -> Vec<Section> {
    if outline.is_empty() {
        return sections;
    }
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::with_capacity(sections.len());
    for section in sections {
        let entries: Vec<&OutlineEntry> = outline.iter().filter(|e| Some(e.page) == section.page).collect();
        let mut rest = section.text.as_str();
        let mut pieces: Vec<(Vec<String>, String)> = Vec::new();
        for entry in entries {
            let found = find_title(rest, &entry.title);
            let (before, after) = match found {
                Some((start, end)) => (&rest[..start], &rest[end..]),
                None => ("", rest),
            };
            pieces.push((headings(&path), before.to_owned()));
            path.retain(|(level, _)| *level < entry.level);
            path.push((entry.level, entry.title.trim().to_owned()));
            rest = after;
        }
        pieces.push((headings(&path), rest.to_owned()));
        let before = out.len();
        for (headings, text) in pieces {
            let text = text.trim();
            if !text.is_empty() {
                out.push(Section::prose(section.page, headings, text.to_owned()));
            }
        }
        // Every page keeps a section, even an empty one, so pages still count.
        if out.len() == before {
            out.push(Section::prose(section.page, headings(&path), String::new()));
        }
    }
    out
}

/// Where a heading's title starts a passage of `text`: the first occurrence at a line start,
/// else the first after a section number ("2.1 Scope"), else the first anywhere, as whole
/// words, case and spacing aside (PDF text layers often have no line breaks). The span covers
/// the number too.
fn find_title(text: &str, title: &str) -> Option<(usize, usize)> {
    let words: Vec<String> = title.split_whitespace().map(regex::escape).collect();
    if words.is_empty() {
        return None;
    }
    let body = words.join(r"\s+");
    let number = r"(?:[0-9]+(?:\.[0-9]+)*\.?|[ivxlcIVXLC]+\.)\s+";
    let patterns = [
        format!(r"(?im)^[ \t]*(?:{number})?{body}(?:\s|$)"),
        format!(r"(?i)(?:^|\s){number}{body}(?:\s|$)"),
        format!(r"(?i)(?:^|\s){body}(?:\s|$)"),
    ];
    patterns.iter().find_map(|pattern| {
        let found = regex::Regex::new(pattern).ok()?.find(text)?;
        let start = found.start() + (found.as_str().len() - found.as_str().trim_start().len());
        Some((start, found.end()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_entries_split_pages_at_their_titles_and_give_heading_paths() {
        let sections = vec![
            Section::prose(Some(1), vec![], "Preface words.\n1 Introduction\nIntro text.".into()),
            Section::prose(Some(2), vec![], "More intro.\n1.1 Scope\nScope text.".into()),
            Section::prose(Some(3), vec![], "2 Methods\nMethod text.".into()),
        ];
        let outline = vec![
            OutlineEntry { level: 1, title: "1 Introduction".into(), page: 1 },
            OutlineEntry { level: 2, title: "1.1  Scope".into(), page: 2 },
            OutlineEntry { level: 1, title: "2 Methods".into(), page: 3 },
        ];
        let out = apply_outline(sections, &outline);
        let got: Vec<(Option<u32>, Vec<String>, &str)> =
            out.iter().map(|s| (s.page, s.headings.clone(), s.text.as_str())).collect();
        assert_eq!(
            got,
            [
                (Some(1), vec![], "Preface words."),
                (Some(1), vec!["1 Introduction".to_owned()], "Intro text."),
                (Some(2), vec!["1 Introduction".to_owned()], "More intro."),
                (Some(2), vec!["1 Introduction".to_owned(), "1.1  Scope".to_owned()], "Scope text."),
                (Some(3), vec!["2 Methods".to_owned()], "Method text."),
            ]
        );
    }
}
