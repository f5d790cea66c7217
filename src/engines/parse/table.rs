//! Tables kept as tables: a header and rows of cells, rendered as Markdown (one line per row)
//! so the chunker can cut between rows and repeat the header in every chunk, search finds a
//! cell, and an answer can quote a whole row.

use serde::Serialize;

use super::Section;

/// Most cells a table keeps per row (wider sheets are usually matrices, not records).
const MAX_COLUMNS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table from raw rows, the first non-empty one being the header: cells trimmed with their
    /// whitespace collapsed, empty rows and columns dropped, rows padded to the same width. None
    /// when what is left is not a table (one column, or no row under the header).
    pub fn from_rows(rows: Vec<Vec<String>>) -> Option<Self> {
        let mut rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| row.into_iter().take(MAX_COLUMNS).map(|c| collapse(&c)).collect::<Vec<_>>())
            .filter(|row| row.iter().any(|c| !c.is_empty()))
            .collect();
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let used: Vec<bool> =
            (0..width).map(|i| rows.iter().any(|r| r.get(i).is_some_and(|c| !c.is_empty()))).collect();
        for row in &mut rows {
            row.resize(width, String::new());
            let mut i = 0;
            row.retain(|_| {
                i += 1;
                used[i - 1]
            });
        }
        if rows.len() < 2 || rows[0].len() < 2 {
            return None;
        }
        let header = rows.remove(0);
        Some(Self { header, rows })
    }

    /// The header and its separator line.
    pub fn header_markdown(&self) -> String {
        format!("{}\n|{}", line(&self.header), " --- |".repeat(self.header.len()))
    }

    /// The whole table: header, separator, then one line per row.
    pub fn markdown(&self) -> String {
        let mut out = self.header_markdown();
        for row in &self.rows {
            out.push('\n');
            out.push_str(&line(row));
        }
        out
    }

    /// The cells as plain words, for rows that do not make a table.
    fn plain(rows: &[Vec<String>]) -> String {
        rows.iter()
            .map(|r| r.iter().map(|c| collapse(c)).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A section for `rows`: a table section when they make a table, else their text as prose.
pub fn section(page: Option<u32>, headings: Vec<String>, rows: Vec<Vec<String>>) -> Option<Section> {
    let plain = Table::plain(&rows);
    match Table::from_rows(rows) {
        Some(table) => Some(Section { page, headings, text: table.markdown(), table: Some(table) }),
        None if !plain.is_empty() => Some(Section { page, headings, text: plain, table: None }),
        None => None,
    }
}

/// CSV (or TSV: the delimiter is guessed from the first line) as a table; None when the text
/// does not parse as one.
pub fn from_delimited(text: &str) -> Option<Table> {
    let first = text.lines().next().unwrap_or_default();
    let delimiter =
        [b',', b'\t', b';'].into_iter().max_by_key(|d| first.bytes().filter(|b| b == d).count()).unwrap_or(b',');
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> =
        reader.records().map_while(Result::ok).map(|r| r.iter().map(str::to_owned).collect()).collect();
    Table::from_rows(rows)
}

fn line(cells: &[String]) -> String {
    let mut out = String::from("|");
    for cell in cells {
        out.push(' ');
        out.push_str(&cell.replace('|', "\\|"));
        out.push_str(" |");
    }
    out
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[&[&str]]) -> Vec<Vec<String>> {
        data.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    }

    #[test]
    fn rows_become_markdown_with_empty_rows_and_columns_dropped() {
        let table =
            Table::from_rows(rows(&[&["Region", "", "Revenue"], &["", "", ""], &["North  east", "", "1|2"]])).unwrap();
        assert_eq!(table.header, ["Region", "Revenue"]);
        assert_eq!(table.markdown(), "| Region | Revenue |\n| --- | --- |\n| North east | 1\\|2 |");
    }

    #[test]
    fn one_column_or_a_lone_header_is_prose() {
        assert!(Table::from_rows(rows(&[&["a"], &["b"]])).is_none());
        let s = section(None, vec![], rows(&[&["Only", "a header"]])).unwrap();
        assert!(s.table.is_none());
        assert_eq!(s.text, "Only a header");
        assert!(section(None, vec![], rows(&[&["", ""]])).is_none());
    }

    #[test]
    fn delimited_text_guesses_its_delimiter_and_keeps_quoted_cells() {
        let csv = from_delimited("name,city\n\"Smith, Ann\",Oslo\nBo,\"New\nYork\"\n").unwrap();
        assert_eq!(csv.rows, [["Smith, Ann", "Oslo"], ["Bo", "New York"]]);
        let tsv = from_delimited("a\tb\n1\t2\n").unwrap();
        assert_eq!(tsv.header, ["a", "b"]);
        let semicolons = from_delimited("a;b;c\n1;2;3\n").unwrap();
        assert_eq!(semicolons.rows, [["1", "2", "3"]]);
    }
}
