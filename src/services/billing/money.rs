//! Credits as integer micro-credits (1 credit = 1,000,000): never floats. Decimal strings in and
//! out of the API.

use crate::error::{ApiError, ApiResult};

pub const MICROS: i64 = 1_000_000;

/// `"12.5"`, `"-3"`, `"0.000001"` → micro-credits; at most 6 decimals.
pub fn parse(field: &str, text: &str) -> ApiResult<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let valid = !whole.is_empty()
        && whole.len() <= 12
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= 6
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(ApiError::invalid_field(
            field,
            format!("`{text}` is not an amount like 12.5 (at most 6 decimals)"),
        ));
    }
    let whole: i64 = whole.parse().map_err(|_| ApiError::invalid_field(field, "too large"))?;
    let fraction: i64 = format!("{fraction:0<6}").parse().unwrap_or(0);
    let micros = whole * MICROS + fraction;
    Ok(if negative { -micros } else { micros })
}

/// A JSON amount: a string (`"12.5"`) or a number, read from its decimal text.
pub fn from_json(field: &str, value: &serde_json::Value) -> ApiResult<i64> {
    match value {
        serde_json::Value::String(s) => parse(field, s),
        serde_json::Value::Number(n) => parse(field, &n.to_string()),
        _ => Err(ApiError::invalid_field(field, "must be an amount of credits, e.g. \"12.5\"")),
    }
}

/// Micro-credits → `"12.5"` (no trailing zeros).
pub fn format(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let (whole, fraction) = (abs / MICROS as u64, abs % MICROS as u64);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{fraction:06}");
    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_round_trips_without_floats() {
        for (text, micros) in [("12.5", 12_500_000), ("-3", -3_000_000), ("0.000001", 1), ("0.1", 100_000)] {
            assert_eq!(parse("a", text).unwrap(), micros, "{text}");
            assert_eq!(format(micros), text.trim_start_matches('+'));
        }
        assert_eq!(from_json("a", &serde_json::json!(0.1)).unwrap(), 100_000);
        for bad in ["", "1.2345678", "abc", "1e3", ".5", "1,5"] {
            assert!(parse("a", bad).is_err(), "{bad}");
        }
    }
}
