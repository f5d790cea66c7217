//! `lectern eval-parse --dataset DIR`: parse quality against reference Markdown or text.
//! Every document in DIR with a reference in DIR/expected/ (named `<stem>__<anything>.md` or
//! `.txt`) is parsed as ingestion would (OCR included when installed) and scored: text
//! similarity (1 − normalised word-level edit distance over the reading-order text), heading
//! recall (the reference's `#` headings found among the parse's heading paths), table-cell F1
//! (cells of the reference's Markdown tables against the parse's tables), and seconds per page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engines::parse::{self, ocr::Ocr, Limits, ParsedDocument};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentScore {
    pub file: String,
    pub reference: String,
    pub pages: u32,
    pub text_similarity: f64,
    /// None when the reference has no headings.
    pub heading_recall: Option<f64>,
    /// None when neither side has a table.
    pub table_cell_f1: Option<f64>,
    pub seconds_per_page: f64,
    /// Why the document could not be parsed (it then scores 0).
    pub error: Option<String>,
}

/// Scores every document of `dir` that has a reference.
pub fn run(dir: &Path) -> Result<Vec<DocumentScore>, String> {
    let references = references(dir)?;
    if references.is_empty() {
        return Err(format!("{}: no document has a reference in expected/", dir.display()));
    }
    let ocr = Ocr::locate("eng", Duration::from_secs(120), 300);
    let mut scores = Vec::new();
    for (file, reference) in references {
        let expected = std::fs::read_to_string(&reference).map_err(|e| format!("{}: {e}", reference.display()))?;
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let started = Instant::now();
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let parsed = parse::detect(&bytes, Some(&name), None)
            .and_then(|kind| parse::parse_with_ocr(&bytes, kind, &Limits::default(), ocr.as_ref()));
        let seconds = started.elapsed().as_secs_f64();
        let reference_name = reference.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        scores.push(match parsed {
            Ok(doc) => score(&name, &reference_name, &doc, &expected, seconds),
            Err(error) => DocumentScore {
                file: name,
                reference: reference_name,
                pages: 0,
                text_similarity: 0.0,
                heading_recall: None,
                table_cell_f1: None,
                seconds_per_page: seconds,
                error: Some(error.to_string()),
            },
        });
    }
    Ok(scores)
}

/// (document, reference) pairs: `expected/<stem>__*.md|txt` for each file `<stem>.<ext>`.
fn references(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let expected_dir = dir.join("expected");
    let mut expected: Vec<PathBuf> = std::fs::read_dir(&expected_dir)
        .map_err(|e| format!("{}: {e}", expected_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("md" | "txt")))
        .collect();
    expected.sort();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut pairs = Vec::new();
    for file in files {
        let Some(stem) = file.file_stem().and_then(|s| s.to_str()) else { continue };
        let prefix = format!("{stem}__");
        if let Some(reference) =
            expected.iter().find(|r| r.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
        {
            pairs.push((file.clone(), reference.clone()));
        }
    }
    Ok(pairs)
}

fn score(file: &str, reference: &str, doc: &ParsedDocument, expected: &str, seconds: f64) -> DocumentScore {
    let got = crate::cli::parse::markdown(doc);
    let pages = doc.pages.unwrap_or(1).max(1);
    DocumentScore {
        file: file.to_owned(),
        reference: reference.to_owned(),
        pages,
        text_similarity: text_similarity(&words(&strip_markup(expected)), &words(&strip_markup(&got))),
        heading_recall: heading_recall(expected, doc),
        table_cell_f1: table_cell_f1(
            &table_cells(expected),
            &doc.tables()
                .flat_map(|t| {
                    t.header
                        .iter()
                        .chain(t.rows.iter().flatten())
                        .map(|c| normal(c))
                        .filter(|c| !c.is_empty())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>(),
        ),
        seconds_per_page: seconds / f64::from(pages),
        error: None,
    }
}

/// Markdown markup that is not text: table rules, heading marks, emphasis, comments.
fn strip_markup(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("<!--") && !is_rule(l))
        .map(|l| l.trim_start_matches('#').replace(['|', '*', '_', '`'], " "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// 1 − word-level Levenshtein distance ÷ the longer length.
pub fn text_similarity(expected: &[String], got: &[String]) -> f64 {
    let longest = expected.len().max(got.len());
    if longest == 0 {
        return 1.0;
    }
    let mut previous: Vec<u32> = (0..=got.len() as u32).collect();
    let mut current = vec![0u32; got.len() + 1];
    for (i, e) in expected.iter().enumerate() {
        current[0] = i as u32 + 1;
        for (j, g) in got.iter().enumerate() {
            let substitute = previous[j] + u32::from(e != g);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    1.0 - f64::from(previous[got.len()]) / longest as f64
}

fn normal(text: &str) -> String {
    words(text).join(" ")
}

/// Share of the reference's headings (`#` lines) found among the parse's heading paths.
fn heading_recall(expected: &str, doc: &ParsedDocument) -> Option<f64> {
    let wanted: Vec<String> = expected
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .map(|h| normal(h.trim_start_matches('#')))
        .filter(|h| !h.is_empty())
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let found: Vec<String> = doc.sections.iter().flat_map(|s| s.headings.iter().map(|h| normal(h))).collect();
    let hits = wanted.iter().filter(|h| found.contains(h)).count();
    Some(hits as f64 / wanted.len() as f64)
}

/// Cells of the Markdown tables in `text` (rule lines left out), normalised.
fn table_cells(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.trim_start().starts_with('|') && !is_rule(l))
        .flat_map(|l| l.trim().trim_matches('|').split('|').map(normal).collect::<Vec<_>>())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Multiset F1 of two cell lists; None when both are empty.
pub fn table_cell_f1(expected: &[String], got: &[String]) -> Option<f64> {
    if expected.is_empty() && got.is_empty() {
        return None;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for cell in expected {
        *counts.entry(cell).or_default() += 1;
    }
    let mut matched = 0usize;
    for cell in got {
        if let Some(n) = counts.get_mut(cell.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            matched += 1;
        }
    }
    if matched == 0 {
        return Some(0.0);
    }
    let precision = matched as f64 / got.len() as f64;
    let recall = matched as f64 / expected.len() as f64;
    Some(2.0 * precision * recall / (precision + recall))
}

/// The scores as a table, with the means over documents that have each measure.
pub fn table(scores: &[DocumentScore]) -> String {
    let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    let mut out =
        format!("{:<48} {:>5} {:>8} {:>9} {:>8} {:>8}\n", "document", "pages", "text", "headings", "cells", "s/page");
    for s in scores {
        out.push_str(&format!(
            "{:<48} {:>5} {:>8.3} {:>9} {:>8} {:>8.3}{}\n",
            s.file,
            s.pages,
            s.text_similarity,
            fmt(s.heading_recall),
            fmt(s.table_cell_f1),
            s.seconds_per_page,
            s.error.as_ref().map(|e| format!("  ({e})")).unwrap_or_default()
        ));
    }
    let mean = |values: Vec<f64>| (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    let pages: u32 = scores.iter().map(|s| s.pages).sum();
    let seconds: f64 = scores.iter().map(|s| s.seconds_per_page * f64::from(s.pages.max(1))).sum();
    out.push_str(&format!(
        "{:<48} {:>5} {:>8} {:>9} {:>8} {:>8.3}\n",
        "mean",
        pages,
        fmt(mean(scores.iter().map(|s| s.text_similarity).collect())),
        fmt(mean(scores.iter().filter_map(|s| s.heading_recall).collect())),
        fmt(mean(scores.iter().filter_map(|s| s.table_cell_f1).collect())),
        seconds / f64::from(pages.max(1)),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> Vec<String> {
        words(text)
    }

    #[test]
    fn similarity_is_one_minus_the_normalised_word_edit_distance() {
        assert_eq!(text_similarity(&w("a b c d"), &w("a b c d")), 1.0);
        assert_eq!(text_similarity(&w("a b c d"), &w("a x c d")), 0.75);
        // Interleaved columns cost more than a missing word.
        let columns = w("one two three four five six");
        assert!(
            text_similarity(&columns, &w("one four two five three six"))
                < text_similarity(&columns, &w("one two three four five"))
        );
        assert_eq!(text_similarity(&[], &[]), 1.0);
    }

    #[test]
    fn table_cells_are_compared_as_multisets() {
        let expected = table_cells("| A | B |\n|---|---|\n| 1 | 2 |\n| 1 | 3 |\n");
        assert_eq!(expected, ["a", "b", "1", "2", "1", "3"]);
        let got: Vec<String> = ["a", "b", "1", "2"].iter().map(|s| s.to_string()).collect();
        let f1 = table_cell_f1(&expected, &got).unwrap();
        assert!((f1 - 0.8).abs() < 1e-9, "{f1}");
        assert_eq!(table_cell_f1(&[], &[]), None);
    }
}
