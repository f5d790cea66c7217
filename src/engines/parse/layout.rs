//! Page text cleanup shared by the PDF parser and OCR: running headers, footers and page
//! numbers removed, words hyphenated at line ends joined, and the PDF outline (bookmarks)
//! turned into heading paths at the lines where its entries start.

use std::collections::HashMap;

use super::Section;

/// Lines looked at as header or footer candidates at each end of a page.
const EDGE_LINES: usize = 2;

/// Removes, from the first and last lines of each page, the lines that repeat on at least half
/// of the pages (at least three) once digits are ignored ("Page 3 of 9", "ACME manual – 12"),
/// and lone page numbers.
pub fn strip_running_lines(pages: &mut [String]) {
    let with_text = pages.iter().filter(|p| !p.trim().is_empty()).count();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for page in pages.iter() {
        let mut seen: Vec<String> = edges(page).into_iter().map(|(_, line)| shape(line)).collect();
        seen.sort();
        seen.dedup();
        for key in seen {
            *counts.entry(key).or_default() += 1;
        }
    }
    // Running lines are short; a long line that repeats is content (a boilerplate paragraph).
    let repeated = |line: &str| {
        let key = shape(line);
        line.chars().count() <= 100
            && with_text >= 3
            && !key.trim().is_empty()
            && counts.get(&key).is_some_and(|n| n * 2 >= with_text && *n >= 3)
    };
    for page in pages.iter_mut() {
        let drop: Vec<usize> = edges(page)
            .into_iter()
            .filter(|(_, line)| repeated(line) || is_page_number(line))
            .map(|(i, _)| i)
            .collect();
        if drop.is_empty() {
            continue;
        }
        *page =
            page.lines().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, l)| l).collect::<Vec<_>>().join("\n");
    }
}

/// The first and last non-empty lines of a page, with their line numbers.
fn edges(page: &str) -> Vec<(usize, &str)> {
    let lines: Vec<(usize, &str)> = page.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
    let mut out: Vec<(usize, &str)> = lines.iter().take(EDGE_LINES).copied().collect();
    for line in lines.iter().rev().take(EDGE_LINES) {
        if !out.contains(line) {
            out.push(*line);
        }
    }
    out
}

/// A line with its digits replaced, so "Page 3" and "Page 4" are the same running line.
fn shape(line: &str) -> String {
    line.split_whitespace()
        .map(|w| w.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// "12", "- 12 -", "Page 12", "12 / 40", "Page 3 of 9", "iv".
fn is_page_number(line: &str) -> bool {
    let words: Vec<String> = line
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '–' | '/' | '|'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() || words.len() > 4 {
        return false;
    }
    let numeric =
        |w: &str| w.chars().all(|c| c.is_ascii_digit()) || (w.len() <= 4 && w.chars().all(|c| "ivxlc".contains(c)));
    words.iter().any(|w| numeric(w))
        && words.iter().all(|w| numeric(w) || matches!(w.as_str(), "page" | "of" | "p." | "seite" | "von"))
}

/// Joins words hyphenated at line ends ("recog-\nnised" → "recognised"); a hyphen before a
/// capital ("Jean-\nPaul") or a number is kept.
pub fn join_hyphenated(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let joins = line.len() > 1
            && line.ends_with('-')
            && line[..line.len() - 1].ends_with(|c: char| c.is_lowercase())
            && lines.peek().is_some_and(|next| next.starts_with(|c: char| c.is_lowercase()));
        if joins {
            out.push_str(&line[..line.len() - 1]);
        } else {
            out.push_str(line);
            if lines.peek().is_some() {
                out.push('\n');
            }
        }
    }
    out
}

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

fn headings(path: &[(usize, String)]) -> Vec<String> {
    path.iter().map(|(_, t)| t.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_headers_footers_and_page_numbers_go_and_the_body_stays() {
        let topics = ["pumps", "valves", "pipes", "seals", "gauges", "filters", "motors", "belts", "fans", "tanks"];
        let mut pages: Vec<String> = topics
            .iter()
            .enumerate()
            .map(|(n, t)| {
                format!("ACME Field Manual\nThis page is about {t}.\nCheck the {t} weekly.\nPage {} of 10", n + 1)
            })
            .collect();
        pages[4] = "ACME Field Manual\nA page that ends with a number\n42".to_owned();
        strip_running_lines(&mut pages);
        assert_eq!(pages[0], "This page is about pumps.\nCheck the pumps weekly.");
        assert_eq!(pages[4], "A page that ends with a number");
        let mut short = vec!["Title\nBody".to_owned(), "Title\nOther".to_owned()];
        strip_running_lines(&mut short);
        assert_eq!(short[0], "Title\nBody", "two pages are too few to call a line running");
    }

    #[test]
    fn hyphenated_words_are_joined_but_compounds_kept() {
        assert_eq!(
            join_hyphenated("recog-\nnised text\nJean-\nPaul and 1990-\n2000"),
            "recognised text\nJean-\nPaul and 1990-\n2000"
        );
    }

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
