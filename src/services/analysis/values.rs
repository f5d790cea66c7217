//! Turning extracted text into typed, normalised values: ISO dates, decimal money with an ISO
//! currency, numbers, booleans, allowed values; and checking a value against its field.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde_json::{json, Value};

use super::schema::{Field, FieldType};

/// Reads a date written in any common way; `None` if it is not one.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim().trim_end_matches(['.', ',']).trim();
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, format) {
            return Some(d);
        }
    }
    // 03/04/2024: day first unless that cannot be (month > 12), the European and ISO reading.
    let parts: Vec<&str> = t.split(['/', '-']).collect();
    if let [a, b, y] = parts.as_slice() {
        let (a, b, y): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
        let y = if y < 100 { 2000 + y } else { y };
        return NaiveDate::from_ymd_opt(y, b, a).or_else(|| NaiveDate::from_ymd_opt(y, a, b));
    }
    None
}

const CURRENCIES: &[(&str, &str)] = &[
    ("€", "EUR"),
    ("$", "USD"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("CHF", "CHF"),
    ("EUR", "EUR"),
    ("USD", "USD"),
    ("GBP", "GBP"),
    ("JPY", "JPY"),
    ("CAD", "CAD"),
    ("AUD", "AUD"),
    ("SEK", "SEK"),
    ("NOK", "NOK"),
    ("DKK", "DKK"),
    ("PLN", "PLN"),
    ("INR", "INR"),
    ("CNY", "CNY"),
];

/// The first currency mark in `text` whose code `accept`s: the code and the mark's byte range.
pub fn currency_mark(text: &str, accept: impl Fn(&str) -> bool) -> Option<(&'static str, usize, usize)> {
    CURRENCIES
        .iter()
        .filter(|(_, code)| accept(code))
        .filter_map(|(mark, code)| text.find(mark).map(|at| (*code, at, at + mark.len())))
        .min_by_key(|(_, at, _)| *at)
}

/// The currency named in `text` (a symbol or an ISO code), if any.
pub fn currency_in(text: &str) -> Option<&'static str> {
    let upper = text.to_uppercase();
    CURRENCIES.iter().find(|(mark, _)| upper.contains(mark)).map(|(_, code)| *code)
}

/// A decimal number written with `,` or `.` as thousands or decimal separator: `1.234,50`,
/// `1,234.50`, `1234.5`, `-12`. Returned as a plain decimal string (`1234.50`).
pub fn parse_decimal(text: &str) -> Option<String> {
    let found = NUMBER.as_ref()?.find(text)?.as_str();
    let negative = found.starts_with('-');
    let digits: String = found.trim_start_matches('-').chars().filter(|c| !c.is_whitespace()).collect();
    let last_sep = digits.rfind([',', '.']);
    let normalised = match last_sep {
        // A separator followed by exactly 1–2 digits is the decimal point; otherwise thousands.
        Some(i) if digits.len() - i - 1 <= 2 => {
            let (whole, fraction) = digits.split_at(i);
            format!("{}.{}", whole.replace([',', '.'], ""), &fraction[1..])
        }
        _ => digits.replace([',', '.'], ""),
    };
    let sign = if negative { "-" } else { "" };
    Some(format!("{sign}{normalised}"))
}

/// Grouped thousands first (`1.234,50`, `12 500`), then plain numbers (`1234.5`).
static NUMBER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-?\d{1,3}(?:[ ,.]\d{3})+(?:[.,]\d{1,2})?|-?\d+(?:[.,]\d+)?").ok());

/// Reads `text` as a value of `field`'s type; an error says why it is not one.
pub fn normalise(field: &Field, text: &str) -> Result<Value, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty".to_owned());
    }
    match field.r#type {
        FieldType::String => Ok(json!(t)),
        FieldType::Number => parse_decimal(t)
            .and_then(|d| d.parse::<f64>().ok())
            .map(|n| json!(n))
            .ok_or_else(|| format!("`{t}` is not a number")),
        FieldType::Money => {
            let amount = parse_decimal(t).ok_or_else(|| format!("`{t}` has no amount"))?;
            let amount = match amount.split_once('.') {
                Some((w, f)) => format!("{w}.{f:0<2}"),
                None => format!("{amount}.00"),
            };
            Ok(json!({ "amount": amount, "currency": currency_in(t) }))
        }
        FieldType::Date => {
            parse_date(t).map(|d| json!(d.format("%Y-%m-%d").to_string())).ok_or_else(|| format!("`{t}` is not a date"))
        }
        FieldType::Boolean => match t.to_lowercase().as_str() {
            "yes" | "true" | "y" | "x" | "☑" | "checked" | "ja" | "oui" => Ok(json!(true)),
            "no" | "false" | "n" | "☐" | "unchecked" | "nein" | "non" => Ok(json!(false)),
            _ => Err(format!("`{t}` is not yes or no")),
        },
        FieldType::Enum => field
            .values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(t) || t.to_lowercase().contains(&v.to_lowercase()))
            .map(|v| json!(v))
            .ok_or_else(|| format!("`{t}` is not one of {}", field.values.join(", "))),
        FieldType::StringList => {
            let items: Vec<&str> = t.split([',', ';', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
            Ok(json!(items))
        }
        FieldType::Table => Err("tables are read from rows, not from one value".to_owned()),
    }
}

/// What is wrong with `value` for `field` (pattern, allowed values, a money without currency).
pub fn check(field: &Field, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if value.is_null() {
        if field.required {
            errors.push("required, but no value was found".to_owned());
        }
        return errors;
    }
    if let (Some(pattern), Some(text)) = (&field.pattern, value.as_str()) {
        if Regex::new(pattern).is_ok_and(|re| !re.is_match(text)) {
            errors.push(format!("does not match the pattern {pattern}"));
        }
    }
    match field.r#type {
        FieldType::Money if value["currency"].is_null() => errors.push("no currency found with the amount".to_owned()),
        FieldType::Enum if !value.as_str().is_some_and(|v| field.values.iter().any(|a| a == v)) => {
            errors.push(format!("not one of {}", field.values.join(", ")))
        }
        _ => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(t: FieldType) -> Field {
        Field {
            name: "f".into(),
            r#type: t,
            description: None,
            required: true,
            pattern: None,
            values: vec![],
            columns: vec![],
        }
    }

    #[test]
    fn dates_in_common_formats_become_iso() {
        for (text, iso) in [
            ("2024-03-15", "2024-03-15"),
            ("15.03.2024", "2024-03-15"),
            ("March 15, 2024", "2024-03-15"),
            ("15 March 2024", "2024-03-15"),
            ("15/03/2024", "2024-03-15"),
            ("03/15/2024", "2024-03-15"),
        ] {
            assert_eq!(normalise(&field(FieldType::Date), text), Ok(json!(iso)), "{text}");
        }
        assert!(normalise(&field(FieldType::Date), "soon").is_err());
    }

    #[test]
    fn money_keeps_decimals_and_finds_the_currency() {
        let m = field(FieldType::Money);
        assert_eq!(normalise(&m, "€ 1.234,50"), Ok(json!({"amount": "1234.50", "currency": "EUR"})));
        assert_eq!(normalise(&m, "USD 12,500.00"), Ok(json!({"amount": "12500.00", "currency": "USD"})));
        assert_eq!(normalise(&m, "$99"), Ok(json!({"amount": "99.00", "currency": "USD"})));
        assert_eq!(check(&m, &json!({"amount": "5.00", "currency": null})).len(), 1);
    }

    #[test]
    fn patterns_and_allowed_values_are_checked() {
        let mut f = field(FieldType::String);
        f.pattern = Some("^INV-\\d+$".into());
        assert!(check(&f, &json!("INV-2024")).is_empty());
        assert_eq!(check(&f, &json!("2024")).len(), 1);
        assert_eq!(check(&f, &Value::Null), ["required, but no value was found"]);
        let mut e = field(FieldType::Enum);
        e.values = vec!["Net 30".into(), "Net 60".into()];
        assert_eq!(normalise(&e, "payable net 30 days"), Ok(json!("Net 30")));
    }
}
