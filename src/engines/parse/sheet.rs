//! Spreadsheets (XLSX, legacy XLS, ODS) with calamine: every sheet becomes a table under the
//! sheet's name, its first non-empty row being the header. XLSX cells are streamed and counted,
//! so a sheet that claims a million rows by a far-away cell allocates nothing for the gap.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataType, Reader};

use super::{table, zipped, DocumentKind, Limits, ParseError, ParsedDocument, Section};

/// Most non-empty cells read from one workbook; the rest is reported as cut.
const MAX_CELLS: usize = 1_000_000;
/// Columns beyond this are dropped (matrices, not records).
const MAX_COLUMN: u32 = 256;

pub fn is_xls(bytes: &[u8]) -> bool {
    calamine::Xls::new(Cursor::new(bytes)).is_ok()
}

pub fn parse(bytes: &[u8], kind: DocumentKind, limits: &Limits) -> Result<ParsedDocument, ParseError> {
    let malformed = |e: &dyn std::fmt::Display| ParseError::Malformed(e.to_string());
    let mut budget = MAX_CELLS;
    let mut sections = Vec::new();
    match kind {
        DocumentKind::Xlsx => {
            zipped::check_sizes(bytes, limits)?;
            let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| malformed(&e))?;
            for name in book.sheet_names() {
                let mut cells = Vec::new();
                let mut reader = book.worksheet_cells_reader(&name).map_err(|e| malformed(&e))?;
                while let Some(cell) = reader.next_cell().map_err(|e| malformed(&e))? {
                    if budget == 0 {
                        break;
                    }
                    let (row, column) = cell.get_position();
                    let value = text(&Data::from(cell.get_value().clone()));
                    if column < MAX_COLUMN && !value.is_empty() {
                        budget -= 1;
                        cells.push((row, column, value));
                    }
                }
                sections.extend(sheet_section(&name, cells));
            }
        }
        DocumentKind::Ods => {
            zipped::check_sizes(bytes, limits)?;
            let book = calamine::Ods::new(Cursor::new(bytes)).map_err(|e| malformed(&e))?;
            sections = ranges(book, &mut budget)?;
        }
        _ => {
            let book = calamine::Xls::new(Cursor::new(bytes)).map_err(|e| malformed(&e))?;
            sections = ranges(book, &mut budget)?;
        }
    }
    Ok(ParsedDocument::new(kind, None, None, sections))
}

/// Every sheet of a reader that only gives whole ranges.
fn ranges<RS: std::io::Read + std::io::Seek, R: Reader<RS>>(
    mut book: R,
    budget: &mut usize,
) -> Result<Vec<Section>, ParseError>
where
    R::Error: std::fmt::Display,
{
    let mut sections = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| ParseError::Malformed(e.to_string()))?;
        let (top, left) = range.start().unwrap_or((0, 0));
        let mut cells = Vec::new();
        for (r, row) in range.rows().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let value = text(value);
                if *budget > 0 && c < MAX_COLUMN as usize && !value.is_empty() {
                    *budget -= 1;
                    cells.push((top + r as u32, left + c as u32, value));
                }
            }
        }
        sections.extend(sheet_section(&name, cells));
    }
    Ok(sections)
}

/// A sheet's cells as a table headed by the sheet's name.
fn sheet_section(name: &str, cells: Vec<(u32, u32, String)>) -> Option<Section> {
    let first_column = cells.iter().map(|c| c.1).min()?;
    let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (row, column, value) in cells {
        let cells = rows.entry(row).or_default();
        let at = (column - first_column) as usize;
        if cells.len() <= at {
            cells.resize(at + 1, String::new());
        }
        cells[at] = value;
    }
    table::section(None, vec![name.to_owned()], rows.into_values().collect())
}

/// A cell as people read it: dates as ISO dates, whole floats without `.0`.
fn text(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(_) => match value.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.to_string(),
            None => value.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::parse::fixture;

    #[test]
    fn an_xlsx_sheet_is_a_table_under_its_name_without_the_gaps() {
        let bytes = fixture("fleet.xlsx");
        assert_eq!(crate::engines::parse::detect(&bytes, Some("fleet.xlsx"), None), Ok(DocumentKind::Xlsx));
        let doc = parse(&bytes, DocumentKind::Xlsx, &Limits::default()).unwrap();
        assert_eq!(doc.sections.len(), 1, "the empty sheet gives nothing");
        assert_eq!(doc.sections[0].headings, ["Fleet"]);
        let table = doc.sections[0].table.as_ref().unwrap();
        assert_eq!(table.header, ["Ship", "Tonnes", "Home port"]);
        assert_eq!(table.rows[..2], [["Aurora", "1240", "Nordhavn"], ["Boreas", "87.5", "Ske"]]);
        assert_eq!(table.rows.len(), 41);
        assert_eq!(table.rows.last().unwrap(), &["Last", "", ""], "a far row is one row, the far column dropped");
    }

    #[test]
    fn an_ods_sheet_is_a_table_too() {
        let bytes = fixture("crew.ods");
        assert_eq!(crate::engines::parse::detect(&bytes, None, None), Ok(DocumentKind::Ods));
        let doc = parse(&bytes, DocumentKind::Ods, &Limits::default()).unwrap();
        assert_eq!(doc.sections[0].headings, ["Crew"]);
        assert_eq!(doc.sections[0].table.as_ref().unwrap().rows, [["Ines", "Pilot"]]);
    }
}
