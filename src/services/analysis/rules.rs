//! The extractor that needs no language model: it finds a field's label (words of its name,
//! common synonyms, words of its description) on a line and reads the value after it by the
//! field's type — dates, amounts with currency, numbers, patterns, e-mail addresses, allowed
//! values, table rows under a header. Its confidence is honest: at most 0.8 with a clear label,
//! 0.35 for a value found without one.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{json, Value};

use super::extract::{DocText, Extracted, Extractor, Source, Usage};
use super::schema::{Field, FieldType};
use super::values::{self, currency_in};

pub struct Rules;

static DATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4})\b",
    )
    .ok()
});
static AMOUNT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:[€$£¥]|\b[A-Z]{3}\b)?\s?-?\d{1,3}(?:[ ,.]\d{3})*(?:[.,]\d{1,2})?(?:\s?(?:[€$£¥]|\b[A-Z]{3}\b))?")
        .ok()
});
static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").ok());

const STOP: &[&str] = &["the", "and", "for", "with", "from", "that", "this", "labelled", "labeled", "called", "value"];

fn synonyms(word: &str) -> &'static [&'static str] {
    match word {
        "number" | "no" | "id" => &["number", "no", "nr", "num", "#", "id"],
        "date" => &["date", "dated"],
        "total" => &["total", "due", "payable"],
        "amount" => &["amount", "total", "sum"],
        "email" | "mail" => &["email", "e-mail", "mail"],
        "name" => &["name"],
        _ => &[],
    }
}

/// Words of a camelCase / snake_case name, lowercased.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in name.chars() {
        if (c == '_' || c.is_uppercase()) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c != '_' {
            current.extend(c.to_lowercase());
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The label words of a field: each word of its name with synonyms (groups), plus description words.
fn label_of(field: &Field) -> (Vec<Vec<String>>, Vec<String>) {
    let groups = name_words(&field.name)
        .into_iter()
        .map(|w| {
            let mut group: Vec<String> = synonyms(&w).iter().map(|s| (*s).to_owned()).collect();
            group.push(w);
            group
        })
        .collect();
    let extra = field
        .description
        .as_deref()
        .unwrap_or_default()
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.len() >= 3 && !STOP.contains(&w.as_str()))
        .collect();
    (groups, extra)
}

/// Words of a line with their byte ranges (`#` counts as a word).
fn words(line: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        let part = c.is_alphanumeric() || (c == '-' && start.is_some());
        if c == '#' {
            if let Some(s) = start.take() {
                out.push((line[s..i].to_lowercase(), s, i));
            }
            out.push(("#".to_owned(), i, i + 1));
        } else if part && start.is_none() {
            start = Some(i);
        } else if !part {
            if let Some(s) = start.take() {
                out.push((line[s..i].to_lowercase(), s, i));
            }
        }
    }
    if let Some(s) = start {
        out.push((line[s..].to_lowercase(), s, line.len()));
    }
    out
}

struct Candidate {
    value: Value,
    confidence: f64,
    page: usize,
    /// Byte range in the page text.
    range: (usize, usize),
}

fn to_source(doc: &DocText, c: &Candidate) -> Source {
    let text = &doc.pages[c.page].text;
    let start = text[..c.range.0].chars().count();
    let quote = text[c.range.0..c.range.1].to_owned();
    Source { page: doc.pages[c.page].number, end: start + quote.chars().count(), quote, start }
}

/// Reads a value of `field`'s type at the start of `region`; the value and its byte range in it.
fn read_value(field: &Field, region: &str, document_currency: Option<&str>) -> Option<(Value, usize, usize, f64)> {
    let find = |re: &LazyLock<Option<Regex>>| re.as_ref().and_then(|r| r.find(region)).map(|m| (m.start(), m.end()));
    match field.r#type {
        FieldType::Date => {
            let (s, e) = find(&DATE)?;
            let value = values::normalise(field, &region[s..e]).ok()?;
            Some((value, s, e, 0.0))
        }
        FieldType::Money => {
            let m = AMOUNT.as_ref()?.find_iter(region).find(|m| m.as_str().chars().any(|c| c.is_ascii_digit()))?;
            let mut value = values::normalise(field, m.as_str()).ok()?;
            let mut penalty = 0.0;
            if value["currency"].is_null() {
                value["currency"] = json!(currency_in(region).or(document_currency));
                penalty = if currency_in(region).is_some() { 0.0 } else { 0.15 };
            }
            Some((value, m.start(), m.end(), penalty))
        }
        FieldType::Number => {
            let (s, e) = find(&AMOUNT)?;
            Some((values::normalise(field, &region[s..e]).ok()?, s, e, 0.0))
        }
        FieldType::String => {
            let (s, e) = match (&field.pattern, field.name.to_lowercase().contains("mail")) {
                (Some(p), _) => Regex::new(p).ok()?.find(region).map(|m| (m.start(), m.end()))?,
                (None, true) => find(&EMAIL)?,
                (None, false) => {
                    let trimmed = region.trim_start();
                    let s = region.len() - trimmed.len();
                    // A value ends at a wide gap (the next column) or at the line's end.
                    let len = trimmed.find("  ").or_else(|| trimmed.find(" | ")).unwrap_or(trimmed.len());
                    let e = s + trimmed[..len].trim_end().len();
                    (s < e).then_some((s, e))?
                }
            };
            Some((json!(region[s..e].trim()), s, e, 0.0))
        }
        FieldType::Enum | FieldType::Boolean | FieldType::StringList => {
            let trimmed = region.trim();
            let s = region.find(trimmed).unwrap_or(0);
            let value = values::normalise(field, trimmed).ok()?;
            Some((value, s, s + trimmed.len(), 0.0))
        }
        FieldType::Table => None,
    }
}

fn label_candidates(doc: &DocText, field: &Field, document_currency: Option<&str>) -> Vec<Candidate> {
    let (groups, extra) = label_of(field);
    let mut out = Vec::new();
    for (p, page) in doc.pages.iter().enumerate() {
        let lines: Vec<(usize, &str)> = page
            .text
            .split('\n')
            .scan(0usize, |offset, line| {
                let start = *offset;
                *offset += line.len() + 1;
                Some((start, line))
            })
            .collect();
        for (n, (line_start, line)) in lines.iter().enumerate() {
            let ws = words(line);
            let matched: Vec<usize> =
                groups.iter().filter_map(|g| ws.iter().rposition(|(w, ..)| g.contains(w))).collect();
            if matched.is_empty() {
                continue;
            }
            let label_end = matched.iter().map(|&i| ws[i].2).max().unwrap_or(0);
            let extra_hits = ws.iter().filter(|(w, ..)| extra.contains(w)).count();
            let ratio = matched.len() as f64 / groups.len().max(1) as f64;
            let base = 0.5 + 0.25 * ratio + (0.05 * extra_hits as f64).min(0.05);
            let rest = line[label_end..].trim_start_matches([':', '.', '#', '-', ' ', '\t']);
            let rest_start = line.len() - rest.len();
            // The value follows the label on its line, or stands on the next non-empty line.
            let (region, region_start, next_line) = if rest.trim().is_empty() {
                match lines[n + 1..].iter().find(|(_, l)| !l.trim().is_empty()) {
                    Some((s, l)) => (*l, *s, true),
                    None => continue,
                }
            } else {
                (rest, line_start + rest_start, false)
            };
            if let Some((value, s, e, penalty)) = read_value(field, region, document_currency) {
                let confidence = (base - penalty - if next_line { 0.1 } else { 0.0 }).min(0.8);
                out.push(Candidate { value, confidence, page: p, range: (region_start + s, region_start + e) });
            }
        }
    }
    out
}

/// A value without a label: the first thing of the field's kind that only it can be.
fn unlabelled(doc: &DocText, field: &Field) -> Option<Candidate> {
    let re = match (&field.r#type, &field.pattern) {
        (FieldType::String, Some(p)) => Regex::new(p).ok()?,
        (FieldType::String, None) if field.name.to_lowercase().contains("mail") => EMAIL.as_ref()?.clone(),
        (FieldType::Enum, _) => {
            let alternatives: Vec<String> = field.values.iter().map(|v| regex::escape(v)).collect();
            Regex::new(&format!(r"(?i)\b(?:{})\b", alternatives.join("|"))).ok()?
        }
        _ => return None,
    };
    let literal = doc.pages.iter().enumerate().find_map(|(p, page)| {
        let m = re.find(&page.text)?;
        let value = values::normalise(field, m.as_str()).ok()?;
        Some(Candidate { value, confidence: 0.35, page: p, range: (m.start(), m.end()) })
    });
    // An enum of currency codes is also answered by a symbol: `€ 238.00` → EUR.
    literal.or_else(|| {
        (field.r#type == FieldType::Enum).then_some(())?;
        doc.pages.iter().enumerate().find_map(|(p, page)| {
            let (code, s, e) = values::currency_mark(&page.text, |c| field.values.iter().any(|v| v == c))?;
            Some(Candidate { value: json!(code), confidence: 0.35, page: p, range: (s, e) })
        })
    })
}

/// Table cells are separated by tabs, `|` or runs of 2+ spaces.
static CELL_GAP: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\t+|\s*\|\s*|\s{2,}").ok());

/// Cells of a table line (called for every line of a document, so the regex is compiled once).
fn cells(line: &str) -> Vec<String> {
    CELL_GAP
        .as_ref()
        .map(|re| {
            re.split(line.trim().trim_matches('|')).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect()
        })
        .unwrap_or_default()
}

fn table(doc: &DocText, field: &Field) -> Option<Candidate> {
    let columns: Vec<String> = field.columns.iter().map(|c| c.to_lowercase()).collect();
    for (p, page) in doc.pages.iter().enumerate() {
        let lines: Vec<&str> = page.text.split('\n').collect();
        let Some(header) = lines.iter().position(|l| {
            let cs: Vec<String> = cells(l).iter().map(|c| c.to_lowercase()).collect();
            cs.len() >= 2 && columns.iter().filter(|c| cs.contains(c)).count() >= columns.len().min(2)
        }) else {
            continue;
        };
        // Each schema column's place in the header, so a table with more columns (or another
        // order) still fills the right fields.
        let header_cells: Vec<String> = cells(lines[header]).iter().map(|c| c.to_lowercase()).collect();
        let places: Vec<Option<usize>> = columns.iter().map(|c| header_cells.iter().position(|h| h == c)).collect();
        let mut rows = Vec::new();
        let mut last = header;
        for (i, line) in lines.iter().enumerate().skip(header + 1) {
            let cs = cells(line);
            // The rule under a Markdown table's header.
            if i == header + 1 && !cs.is_empty() && cs.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':'))) {
                continue;
            }
            if cs.len() != header_cells.len() {
                break;
            }
            let row: serde_json::Map<String, Value> = field
                .columns
                .iter()
                .zip(&places)
                .map(|(name, place)| (name.clone(), place.map_or(Value::Null, |p| Value::String(cs[p].clone()))))
                .collect();
            rows.push(Value::Object(row));
            last = i;
        }
        if rows.is_empty() {
            continue;
        }
        let start: usize = lines[..header].iter().map(|l| l.len() + 1).sum();
        let end: usize = lines[..=last].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
        return Some(Candidate { value: Value::Array(rows), confidence: 0.5, page: p, range: (start, end) });
    }
    None
}

pub fn extract_field(doc: &DocText, field: &Field) -> Extracted {
    let document_currency =
        doc.pages.iter().find_map(|p| p.text.lines().find_map(|l| currency_in(l).filter(|_| l.len() < 200)));
    let best = if field.r#type == FieldType::Table {
        table(doc, field)
    } else {
        let mut candidates = label_candidates(doc, field, document_currency);
        // Highest confidence wins; the earliest among equals (stable sort).
        candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        candidates.into_iter().next().or_else(|| unlabelled(doc, field))
    };
    let Some(found) = best else { return Extracted::missing(field, "no labelled value of this type was found") };
    let errors = values::check(field, &found.value);
    let confidence = if errors.is_empty() { found.confidence } else { found.confidence * 0.5 };
    Extracted {
        field: field.name.clone(),
        source: Some(to_source(doc, &found)),
        value: Some(found.value),
        confidence: (confidence * 100.0).round() / 100.0,
        errors,
    }
}

#[async_trait::async_trait]
impl Extractor for Rules {
    fn name(&self) -> String {
        "rules".to_owned()
    }

    async fn extract(&self, doc: &DocText, fields: &[Field]) -> Result<(Vec<Extracted>, Usage), String> {
        Ok((fields.iter().map(|f| extract_field(doc, f)).collect(), Usage::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::extract::PageText;
    use super::*;

    fn field(name: &str, t: FieldType) -> Field {
        Field {
            name: name.into(),
            r#type: t,
            description: None,
            required: true,
            pattern: None,
            values: vec![],
            columns: vec![],
        }
    }

    fn invoice() -> DocText {
        let page1 = "ACME Supplies Ltd.\nInvoice No.: INV-2024-0042\nInvoice date: 15 March 2024\nDue date: 14 April 2024\n\
            Bill to: Example GmbH\nContact: billing@example.com\n\nDescription    Qty    Price\nWidgets    10    €12.50\nBolts    100    €0.75";
        let page2 = "Subtotal: € 200.00\nVAT 19%: € 38.00\nTotal due: € 238.00\nPayment terms: Net 30";
        DocText {
            pages: vec![
                PageText { number: Some(1), text: page1.into() },
                PageText { number: Some(2), text: page2.into() },
            ],
        }
    }

    #[test]
    fn an_invoice_gives_its_number_date_total_and_currency_with_sources() {
        let doc = invoice();
        let number = extract_field(&doc, &field("invoiceNumber", FieldType::String));
        assert_eq!(number.value, Some(json!("INV-2024-0042")));
        assert_eq!(number.source.as_ref().map(|s| (s.page, s.quote.as_str())), Some((Some(1), "INV-2024-0042")));
        let date = extract_field(&doc, &field("invoiceDate", FieldType::Date));
        assert_eq!(date.value, Some(json!("2024-03-15")));
        let total = extract_field(&doc, &field("total", FieldType::Money));
        assert_eq!(total.value, Some(json!({"amount": "238.00", "currency": "EUR"})));
        assert_eq!(total.source.as_ref().and_then(|s| s.page), Some(2));
        let mut currency = field("currency", FieldType::Enum);
        currency.values = vec!["EUR".into(), "USD".into()];
        assert_eq!(extract_field(&doc, &currency).value, Some(json!("EUR")));
        let email = extract_field(&doc, &field("contactEmail", FieldType::String));
        assert_eq!(email.value, Some(json!("billing@example.com")));
        for e in [&number, &date, &total] {
            assert!(e.confidence > 0.5 && e.confidence <= 0.8, "{e:?}");
            assert!(e.errors.is_empty(), "{e:?}");
        }
        // The quoted text is at its offsets.
        let s = total.source.unwrap();
        let page: String = doc.pages[1].text.chars().skip(s.start).take(s.end - s.start).collect();
        assert_eq!(page, s.quote);
    }

    #[test]
    fn tables_are_read_under_their_header_and_missing_values_say_so() {
        let doc = invoice();
        let mut lines = field("lineItems", FieldType::Table);
        lines.columns = vec!["Description".into(), "Qty".into(), "Price".into()];
        let items = extract_field(&doc, &lines);
        assert_eq!(items.value.as_ref().and_then(|v| v.as_array()).map(Vec::len), Some(2), "{items:?}");
        assert_eq!(items.value.unwrap()[1]["Qty"], "100");
        // A Markdown table (as tables are kept at ingestion) with a column the schema lacks.
        let markdown = DocText { pages: vec![PageText {
            number: Some(1),
            text: "Items\n| Qty | Description | SKU | Price |\n| --- | --- | --- | --- |\n| 2 | Bolts | B-1 | 4.00 |\n| 1 | Nuts | N-7 | 1.50 |".into(),
        }] };
        let items = extract_field(&markdown, &lines).value.unwrap();
        assert_eq!(
            items,
            serde_json::json!([
                {"Description": "Bolts", "Qty": "2", "Price": "4.00"},
                {"Description": "Nuts", "Qty": "1", "Price": "1.50"}
            ])
        );
        let missing = extract_field(&doc, &field("purchaseOrder", FieldType::String));
        assert_eq!(missing.value, None);
        assert!(missing.errors.iter().any(|e| e.contains("required")));
    }
}
