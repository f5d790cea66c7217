//! A PDF page's lines as sections: running headers, footers and page numbers removed, words
//! hyphenated at line ends joined, paragraphs by the gaps between lines, headings by type size,
//! tables and columns found by `regions`.

use std::collections::HashMap;

use super::pdf_lines::Line;
use super::{regions, table, Section};

/// Lines looked at as header or footer candidates at each end of a page.
const EDGE_LINES: usize = 2;

/// For each page (its lines), the numbers of the lines that are running headers, footers or
/// page numbers: among the first and last lines of each page, those that repeat on at least
/// half of the pages (at least three) once digits are ignored ("Page 3 of 9", "ACME manual –
/// 12"), and lone page numbers.
pub fn running_lines(pages: &[Vec<&str>]) -> Vec<Vec<usize>> {
    let with_text = pages.iter().filter(|p| p.iter().any(|l| !l.trim().is_empty())).count();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for page in pages {
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
    pages
        .iter()
        .map(|page| {
            edges(page).into_iter().filter(|(_, line)| repeated(line) || is_page_number(line)).map(|(i, _)| i).collect()
        })
        .collect()
}

/// The first and last non-empty lines of a page, with their line numbers.
fn edges<'a>(page: &[&'a str]) -> Vec<(usize, &'a str)> {
    let lines: Vec<(usize, &str)> = page.iter().copied().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
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

/// A page's lines as text: words hyphenated at line ends joined, a blank line where the gap to
/// the next line is wider than a line's (a new paragraph), and heading lines (set in a font
/// clearly larger than the body's, short, no final full stop) as heading paths when
/// `font_headings` (no outline to go by). Pages keep at least one section each.
pub fn sections_from_lines(pages: Vec<(u32, Vec<Line>)>, font_headings: bool) -> Vec<Section> {
    let body = body_size(&pages);
    let levels = heading_levels(&pages, body, font_headings);
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for (page, lines) in pages {
        let lines = regions::in_column_order(lines);
        let before = out.len();
        let mut text = String::new();
        let mut previous: Option<&Line> = None;
        let mut pending_heading: Option<(usize, String)> = None;
        let tables = regions::tables_in(&lines);
        for (i, line) in lines.iter().enumerate() {
            if let Some(found) = tables.iter().find(|t| t.start <= i && i < t.end) {
                if i == found.start {
                    flush(&mut out, page, &path, &mut text);
                    out.extend(table::section(Some(page), headings(&path), found.rows.clone()));
                }
                previous = None;
                continue;
            }
            if let Some(level) = levels.get(&size_key(line.size)).filter(|_| is_heading_text(&line.text)) {
                // A title set over two lines is one heading.
                match pending_heading.as_mut() {
                    Some((l, title)) if l == level && previous.is_some_and(|p| p.size == line.size) => {
                        title.push(' ');
                        title.push_str(line.text.trim());
                    }
                    _ => {
                        flush(&mut out, page, &path, &mut text);
                        if let Some((l, title)) = pending_heading.take() {
                            path.retain(|(level, _)| *level < l);
                            path.push((l, title));
                        }
                        pending_heading = Some((*level, line.text.trim().to_owned()));
                    }
                }
                previous = Some(line);
                continue;
            }
            if let Some((l, title)) = pending_heading.take() {
                flush(&mut out, page, &path, &mut text);
                path.retain(|(level, _)| *level < l);
                path.push((l, title));
                previous = None;
            }
            match previous {
                Some(p) if p.text.ends_with('-') && ends_lower(&p.text) && starts_lower(&line.text) => {
                    text.pop();
                }
                Some(p) if (line.y - p.y).abs() > p.size.max(line.size) * 1.75 => text.push_str("\n\n"),
                Some(_) => text.push('\n'),
                None if !text.is_empty() => text.push_str("\n\n"),
                None => {}
            }
            text.push_str(line.text.trim());
            previous = Some(line);
        }
        if let Some((l, title)) = pending_heading.take() {
            flush(&mut out, page, &path, &mut text);
            path.retain(|(level, _)| *level < l);
            path.push((l, title));
        }
        flush(&mut out, page, &path, &mut text);
        if out.len() == before {
            out.push(Section::prose(Some(page), headings(&path), String::new()));
        }
    }
    out
}

fn flush(out: &mut Vec<Section>, page: u32, path: &[(usize, String)], text: &mut String) {
    let body = text.trim();
    if !body.is_empty() {
        out.push(Section::prose(Some(page), headings(path), body.to_owned()));
    }
    text.clear();
}

fn ends_lower(text: &str) -> bool {
    text.trim_end_matches('-').ends_with(|c: char| c.is_lowercase())
}

fn starts_lower(text: &str) -> bool {
    text.trim_start().starts_with(|c: char| c.is_lowercase())
}

fn size_key(size: f64) -> i64 {
    (size * 2.0).round() as i64
}

/// The font size most characters are set in.
fn body_size(pages: &[(u32, Vec<Line>)]) -> f64 {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for line in pages.iter().flat_map(|(_, lines)| lines) {
        *counts.entry(size_key(line.size)).or_default() += line.text.chars().count();
    }
    counts.into_iter().max_by_key(|(k, n)| (*n, -*k)).map_or(0.0, |(k, _)| k as f64 / 2.0)
}

/// Heading level by font size: sizes clearly above the body's, largest first, at most four,
/// used by short lines only (a size used for whole paragraphs is a body style, not headings).
fn heading_levels(pages: &[(u32, Vec<Line>)], body: f64, enabled: bool) -> HashMap<i64, usize> {
    if !enabled || body <= 0.0 {
        return HashMap::new();
    }
    let mut lines_by_size: HashMap<i64, (usize, usize)> = HashMap::new();
    for line in pages.iter().flat_map(|(_, lines)| lines) {
        if line.size >= body * 1.1 && line.size >= body + 1.0 {
            let entry = lines_by_size.entry(size_key(line.size)).or_default();
            entry.0 += 1;
            entry.1 += usize::from(is_heading_text(&line.text));
        }
    }
    let mut sizes: Vec<i64> =
        lines_by_size.into_iter().filter(|(_, (all, short))| *short * 2 >= *all).map(|(k, _)| k).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    sizes.into_iter().take(4).enumerate().map(|(i, k)| (k, i + 1)).collect()
}

/// Short, has letters, does not end like a sentence.
fn is_heading_text(text: &str) -> bool {
    let text = text.trim();
    text.chars().count() <= 120
        && text.chars().any(char::is_alphabetic)
        && !text.ends_with(['.', ',', ';'])
        && text.split_whitespace().count() <= 16
}

pub(super) fn headings(path: &[(usize, String)]) -> Vec<String> {
    path.iter().map(|(_, t)| t.clone()).collect()
}

#[cfg(test)]
pub(super) mod tests {
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
        let lines: Vec<Vec<&str>> = pages.iter().map(|p| p.lines().collect()).collect();
        let running = running_lines(&lines);
        assert_eq!(running[0], [0, 3], "the title line and the page footer of {:?}", lines[0]);
        assert_eq!(running[4], [0, 2], "the title line and the lone page number");
        let short = vec![vec!["Title", "Body"], vec!["Title", "Other"]];
        assert_eq!(
            running_lines(&short),
            [Vec::<usize>::new(), vec![]],
            "two pages are too few to call a line running"
        );
    }

    pub(in crate::engines::parse) fn line(text: &str, y: f64, size: f64) -> Line {
        Line { text: text.to_owned(), y, x: 72.0, size, cells: vec![(72.0, text.to_owned())] }
    }

    #[test]
    fn lines_become_paragraphs_under_headings_set_in_larger_type() {
        let page_one = vec![
            line("Pump Manual", 60.0, 18.0),
            line("Installation", 100.0, 14.0),
            line("Bolt the pump to a level base and con-", 120.0, 10.0),
            line("nect the inlet first.", 132.0, 10.0),
            line("Check the seals after a week.", 160.0, 10.0),
        ];
        let page_two = vec![line("Maintenance", 60.0, 14.0), line("Replace the filter every month.", 80.0, 10.0)];
        let sections = sections_from_lines(vec![(1, page_one), (2, page_two)], true);
        let got: Vec<(Option<u32>, Vec<String>, &str)> =
            sections.iter().map(|s| (s.page, s.headings.clone(), s.text.as_str())).collect();
        assert_eq!(
            got,
            [
                (
                    Some(1),
                    vec!["Pump Manual".to_owned(), "Installation".to_owned()],
                    "Bolt the pump to a level base and connect the inlet first.\n\nCheck the seals after a week."
                ),
                (Some(2), vec!["Pump Manual".to_owned(), "Maintenance".to_owned()], "Replace the filter every month."),
            ]
        );
        let plain = sections_from_lines(
            vec![(1, vec![line("Pump Manual", 60.0, 18.0), line("Body text here", 80.0, 10.0)])],
            false,
        );
        assert_eq!(plain[0].headings, Vec::<String>::new(), "with an outline, type size gives no headings");
    }

    #[test]
    fn hyphenated_words_are_joined_but_compounds_kept() {
        assert_eq!(
            join_hyphenated("recog-\nnised text\nJean-\nPaul and 1990-\n2000"),
            "recognised text\nJean-\nPaul and 1990-\n2000"
        );
    }
}
