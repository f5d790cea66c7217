//! PDF text as positioned lines. pdf-extract (on lopdf) decodes every glyph with its font's
//! encoding and widths; here the glyphs become words and lines with their position and font
//! size, which the page layout needs: line breaks (lopdf's own extraction has none), paragraph
//! gaps, and heading candidates by size.

use std::collections::BTreeMap;

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// One line of a page, in the order the page draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    /// Top-down baseline position (points from the top of the page).
    pub y: f64,
    pub x: f64,
    /// Font size (points), of the line's widest run.
    pub size: f64,
    /// The line's runs separated by gaps wider than any word space (table cells, when lines
    /// above and below line up with them): where each starts, and its text.
    pub cells: Vec<(f64, String)>,
}

/// Lines per page number, or None when pdf-extract cannot read the document (it then falls
/// back to lopdf's plain extraction). pdf-extract is not panic-free on damaged files: a panic
/// is a failure, not a crash.
pub fn read(bytes: &[u8]) -> Option<BTreeMap<u32, Vec<Line>>> {
    std::panic::catch_unwind(|| {
        let doc = pdf_extract::Document::load_mem(bytes).ok()?;
        if doc.is_encrypted() {
            return None;
        }
        let mut collector = Collector::default();
        pdf_extract::output_doc(&doc, &mut collector).ok()?;
        Some(collector.pages)
    })
    .ok()
    .flatten()
}

#[derive(Default)]
struct Collector {
    pages: BTreeMap<u32, Vec<Line>>,
    page: u32,
    height: f64,
    lines: Vec<Line>,
    /// Where the last glyph ended (x) and its baseline, to tell word gaps and new lines.
    last_end: f64,
    last_y: f64,
    /// Characters per font size on the current line, to give the line its main size.
    sizes: Vec<(f64, usize)>,
}

impl Collector {
    fn finish_line(&mut self) {
        if let Some(line) = self.lines.last_mut() {
            line.size = self.sizes.iter().max_by_key(|(_, n)| *n).map_or(line.size, |(s, _)| *s);
            line.text = line.text.trim_end().to_owned();
            line.cells.retain(|(_, c)| !c.trim().is_empty());
            for (_, cell) in &mut line.cells {
                *cell = cell.trim().to_owned();
            }
        }
        self.sizes.clear();
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        page: u32,
        media_box: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page = page;
        self.height = media_box.ury - media_box.lly;
        self.lines.clear();
        self.sizes.clear();
        self.last_end = f64::MIN;
        self.last_y = f64::MIN;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.finish_line();
        let lines = std::mem::take(&mut self.lines).into_iter().filter(|l| !l.text.trim().is_empty()).collect();
        self.pages.insert(self.page, lines);
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        let (x, y) = (trm.m31, self.height - trm.m32);
        let scaled = ((font_size * (trm.m11 + trm.m21)) * (font_size * (trm.m12 + trm.m22))).abs().sqrt();
        let size = if scaled.is_finite() && scaled > 0.0 { scaled } else { font_size.abs().max(1.0) };
        // Judged against the line's own size, so a superscript (a footnote mark, smaller and
        // raised) stays on its line.
        let line_size = self.lines.last().map_or(size, |l| l.size.max(size));
        let new_line = self.lines.is_empty()
            || (y - self.last_y).abs() > line_size * 0.5
            // Moved back left on the same baseline by more than a word: another column.
            || x + size * 4.0 < self.last_end;
        if new_line {
            self.finish_line();
            self.lines.push(Line { text: String::new(), y, x, size, cells: vec![(x, String::new())] });
        } else if x > self.last_end + size * 1.5 {
            if let Some(line) = self.lines.last_mut() {
                line.text.push(' ');
                line.cells.push((x, String::new()));
            }
        } else if x > self.last_end + size * 0.15 {
            if let Some(line) = self.lines.last_mut() {
                if !line.text.ends_with(' ') {
                    line.text.push(' ');
                    if let Some((_, cell)) = line.cells.last_mut() {
                        cell.push(' ');
                    }
                }
            }
        }
        if let Some(line) = self.lines.last_mut() {
            // Ligatures (ﬁ, ﬂ) as their letters, so "ﬁlled" is found by "filled".
            let mut letters = String::new();
            for c in text.chars() {
                match c {
                    '\u{fb00}' => letters.push_str("ff"),
                    '\u{fb01}' => letters.push_str("fi"),
                    '\u{fb02}' => letters.push_str("fl"),
                    '\u{fb03}' => letters.push_str("ffi"),
                    '\u{fb04}' => letters.push_str("ffl"),
                    c if c.is_control() => {}
                    c => letters.push(c),
                }
            }
            line.text.push_str(&letters);
            if let Some((_, cell)) = line.cells.last_mut() {
                cell.push_str(&letters);
            }
        }
        let rounded = (size * 2.0).round() / 2.0;
        match self.sizes.iter_mut().find(|(s, _)| *s == rounded) {
            Some((_, n)) => *n += text.chars().count(),
            None => self.sizes.push((rounded, text.chars().count())),
        }
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
