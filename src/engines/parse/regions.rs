//! Regions of a page that are not plain running text: tables set with whitespace, and two
//! columns drawn line by line across the page.

use super::pdf_lines::Line;

/// A two-column page drawn line by line across both columns (each line then holds a left and a
/// right run of prose at the same height) read column by column: the lines above the columns
/// (title, authors) first, then the left column top to bottom, then the right one, then what
/// follows. Pages drawn column by column already come in that order and are left alone.
pub fn in_column_order(lines: Vec<Line>) -> Vec<Line> {
    let split: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.cells.len() == 2 && l.cells.iter().all(|(_, c)| c.chars().count() >= 20))
        .map(|(i, _)| i)
        .collect();
    let (Some(&first), Some(&last)) = (split.first(), split.last()) else { return lines };
    // Most of the stretch between the first and last split line must be split, at one gutter.
    let span = last - first + 1;
    let gutters: Vec<f64> = split.iter().map(|&i| lines[i].cells[1].0).collect();
    let gutter = gutters.iter().sum::<f64>() / gutters.len() as f64;
    let aligned = gutters.iter().all(|g| (g - gutter).abs() <= lines[first].size.max(1.0) * 2.0);
    if split.len() < 3 || split.len() * 10 < span * 6 || !aligned {
        return lines;
    }
    let mut left = Vec::new();
    let mut right = Vec::new();
    for line in &lines[first..=last] {
        let mut parts = line.cells.iter().map(|(x, text)| Line {
            text: text.clone(),
            y: line.y,
            x: *x,
            size: line.size,
            cells: vec![(*x, text.clone())],
        });
        match (line.cells.len(), line.cells.first()) {
            (2, _) => {
                left.extend(parts.next());
                right.extend(parts.next());
            }
            (_, Some((x, _))) if *x >= gutter - line.size => right.push(line.clone()),
            _ => left.push(line.clone()),
        }
    }
    let mut out: Vec<Line> = lines[..first].to_vec();
    out.extend(left);
    out.extend(right);
    out.extend(lines[last + 1..].iter().cloned());
    out
}

/// Lines `start..end` of a page that form a table, as rows of cells.
pub struct FoundTable {
    pub start: usize,
    pub end: usize,
    pub rows: Vec<Vec<String>>,
}

/// Tables set with whitespace (ruled ones too: their rules are not text): at least three
/// consecutive lines of two or more cells, every cell starting at one of the column positions
/// of the first (its header) within a character or two, cells short (columns of prose are not
/// a table).
pub fn tables_in(lines: &[Line]) -> Vec<FoundTable> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let header = &lines[i];
        if header.cells.len() < 2 {
            i += 1;
            continue;
        }
        let columns: Vec<f64> = header.cells.iter().map(|(x, _)| *x).collect();
        let tolerance = header.size.max(1.0) * 1.5;
        let place = |x: f64| columns.iter().position(|c| (c - x).abs() <= tolerance);
        let mut end = i + 1;
        while end < lines.len() {
            let cells = &lines[end].cells;
            let aligned = cells.len() >= 2 && cells.iter().all(|(x, _)| place(*x).is_some());
            if !aligned {
                break;
            }
            end += 1;
        }
        let rows: Vec<Vec<String>> = lines[i..end]
            .iter()
            .map(|line| {
                let mut row = vec![String::new(); columns.len()];
                for (x, text) in &line.cells {
                    if let Some(at) = place(*x) {
                        if !row[at].is_empty() {
                            row[at].push(' ');
                        }
                        row[at].push_str(text);
                    }
                }
                row
            })
            .collect();
        let cells: Vec<&String> = rows.iter().flatten().filter(|c| !c.is_empty()).collect();
        let short = !cells.is_empty() && cells.iter().map(|c| c.chars().count()).sum::<usize>() / cells.len() <= 40;
        if end - i >= 3 && short {
            found.push(FoundTable { start: i, end, rows });
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::layout::sections_from_lines;
    use super::super::layout::tests::line;
    use super::*;

    fn row(cells: &[(f64, &str)], y: f64) -> Line {
        let text = cells.iter().map(|(_, t)| *t).collect::<Vec<_>>().join(" ");
        Line { text, y, x: cells[0].0, size: 10.0, cells: cells.iter().map(|(x, t)| (*x, t.to_string())).collect() }
    }

    #[test]
    fn aligned_short_cells_are_a_table_and_prose_columns_are_not() {
        let lines = vec![
            line("Fares from May.", 40.0, 10.0),
            row(&[(72.0, "Route"), (220.0, "Adult"), (300.0, "Child")], 60.0),
            row(&[(72.0, "Nordhavn to Ske"), (221.0, "12 EUR"), (301.0, "6 EUR")], 72.0),
            row(&[(72.0, "Ske to Ostby"), (219.5, "9 EUR")], 84.0),
            line("Children under four travel free of charge on every route.", 110.0, 10.0),
        ];
        let sections = sections_from_lines(vec![(1, lines)], true);
        assert_eq!(sections.len(), 3, "{sections:#?}");
        let table = sections[1].table.as_ref().unwrap();
        assert_eq!(table.header, ["Route", "Adult", "Child"]);
        assert_eq!(table.rows, [["Nordhavn to Ske", "12 EUR", "6 EUR"], ["Ske to Ostby", "9 EUR", ""]]);
        assert_eq!(sections[2].text, "Children under four travel free of charge on every route.");

        let prose = "a long sentence of running text set in the left column of a page";
        let columns: Vec<Line> =
            (0..5).map(|n| row(&[(72.0, prose), (320.0, prose)], 60.0 + 12.0 * n as f64)).collect();
        assert!(sections_from_lines(vec![(1, columns)], true).iter().all(|s| s.table.is_none()));
    }

    #[test]
    fn a_page_drawn_across_both_columns_is_read_column_by_column() {
        let left = [
            "The left column starts the story here",
            "and the left column goes on with it",
            "until the left column ends its part",
        ];
        let right = [
            "The right column continues the story",
            "and the right column carries it on",
            "until the right column ends it all",
        ];
        let mut lines = vec![line("A Two Column Title", 40.0, 10.0)];
        for (i, (l, r)) in left.iter().zip(right).enumerate() {
            lines.push(row(&[(72.0, l), (320.0, r)], 60.0 + 12.0 * i as f64));
        }
        let text = sections_from_lines(vec![(1, lines)], false).remove(0).text;
        assert_eq!(text, format!("A Two Column Title\n\n{}\n\n{}", left.join("\n"), right.join("\n")));
    }
}
