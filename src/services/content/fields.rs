//! Field definitions of content types and the validation of entry data against them. Pure
//! functions: what exists in the database (referenced media, entries, elements; uniqueness) is
//! checked by the entry service with the references this module collects.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum FieldKind {
    Text,
    /// Markdown (a string) or block JSON (an array of `{"type": …}` objects), by `format`.
    RichText,
    Number,
    Boolean,
    /// RFC 3339 date-time, or a plain `YYYY-MM-DD` date.
    DateTime,
    Enum,
    /// A media id of the same site (an array of ids with `multiple`).
    Media,
    /// An entry id of the same site (an array with `multiple`), optionally of `referenceTypes`.
    Reference,
    /// An ordered array of element ids of the same site.
    Elements,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RichFormat {
    Markdown,
    Blocks,
}

/// One field of a content type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldDef {
    /// Key in the entry's `data`: a letter, then letters, digits or `_` (at most 64).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// No two entries of the type in the same site and locale have the same value.
    #[serde(default)]
    pub unique: bool,
    /// Each translation has its own value; when false the value is shared by all locale
    /// variants (saving one updates the others).
    #[serde(default = "yes")]
    pub localized: bool,
    /// Smallest number, or shortest text / fewest items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest number, or longest text / most items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Regular expression a text value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Allowed values of an `enum` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// `richText` only; default `markdown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RichFormat>,
    /// `media` and `reference`: an array of ids instead of one.
    #[serde(default)]
    pub multiple: bool,
    /// `reference`: the content types (api ids) the referenced entries may have; empty = any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    /// `number`: whole numbers only.
    #[serde(default)]
    pub integer: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn yes() -> bool {
    true
}

pub const MAX_FIELDS: usize = 100;
const MAX_PATTERN_LEN: usize = 500;

/// What an entry points at, for existence checks and where-used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    Media,
    Entry,
    Element,
}

impl RefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Media => "media",
            Self::Entry => "entry",
            Self::Element => "element",
        }
    }
}

/// One reference found in entry data: the field it is in, what it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub field: String,
    pub kind: RefKind,
    pub id: Uuid,
}

/// A value that does not fit its field.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

/// The 400 for invalid entry data: every failing field in `details.errors`.
pub fn invalid_data(errors: Vec<FieldError>) -> ApiError {
    let summary = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
    ApiError::invalid(format!("{} invalid field(s): {summary}", errors.len()))
        .with_details(serde_json::json!({ "errors": errors }))
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

/// Compiles a field pattern with a size limit, so a hostile pattern cannot cost much.
pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(format!("at most {MAX_PATTERN_LEN} characters"));
    }
    regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().map_err(|e| e.to_string())
}

/// Checks a type's field list: names, options and limits that make sense for each kind.
pub fn check_defs(fields: &[FieldDef]) -> ApiResult<()> {
    if fields.len() > MAX_FIELDS {
        return Err(ApiError::invalid_field("fields", format!("at most {MAX_FIELDS} fields")));
    }
    for (i, f) in fields.iter().enumerate() {
        let at = |what: &str| format!("fields[{i}].{what}");
        if !valid_name(&f.name) {
            return Err(ApiError::invalid_field(
                &at("name"),
                format!("`{}` must start with a letter and hold only letters, digits and `_`", f.name),
            ));
        }
        if fields[..i].iter().any(|other| other.name == f.name) {
            return Err(ApiError::invalid_field(&at("name"), format!("`{}` is defined twice", f.name)));
        }
        if let (Some(min), Some(max)) = (f.min, f.max) {
            if min > max {
                return Err(ApiError::invalid_field(&at("min"), "min is larger than max"));
            }
        }
        if let Some(pattern) = &f.pattern {
            if f.kind != FieldKind::Text {
                return Err(ApiError::invalid_field(&at("pattern"), "only text fields take a pattern"));
            }
            compile_pattern(pattern).map_err(|e| ApiError::invalid_field(&at("pattern"), e))?;
        }
        match f.kind {
            FieldKind::Enum if f.options.is_empty() => {
                return Err(ApiError::invalid_field(&at("options"), "an enum field needs at least one option"));
            }
            FieldKind::Enum => {}
            _ if !f.options.is_empty() => {
                return Err(ApiError::invalid_field(&at("options"), "only enum fields take options"));
            }
            _ => {}
        }
        if f.format.is_some() && f.kind != FieldKind::RichText {
            return Err(ApiError::invalid_field(&at("format"), "only richText fields take a format"));
        }
        if f.multiple && !matches!(f.kind, FieldKind::Media | FieldKind::Reference) {
            return Err(ApiError::invalid_field(&at("multiple"), "only media and reference fields can be multiple"));
        }
        if !f.reference_types.is_empty() && f.kind != FieldKind::Reference {
            return Err(ApiError::invalid_field(&at("referenceTypes"), "only reference fields take referenceTypes"));
        }
        if f.unique && !matches!(f.kind, FieldKind::Text | FieldKind::Number | FieldKind::Enum | FieldKind::DateTime) {
            return Err(ApiError::invalid_field(&at("unique"), "only text, number, enum and dateTime can be unique"));
        }
    }
    Ok(())
}

/// Validated and normalised entry data with the references it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub data: Map<String, Value>,
    pub references: Vec<Reference>,
}

/// Validates `data` against `fields`: unknown keys, required values, types, limits, patterns,
/// options. Dates are normalised to RFC 3339 UTC. Every failing field is reported.
pub fn validate(fields: &[FieldDef], data: &Value) -> Result<Checked, Vec<FieldError>> {
    let empty = Map::new();
    let object = match data {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return Err(vec![FieldError::new("data", "must be an object of field values")]),
    };
    let mut errors = Vec::new();
    for key in object.keys() {
        if !fields.iter().any(|f| &f.name == key) {
            errors.push(FieldError::new(key, "is not a field of this content type"));
        }
    }
    let mut out = Map::new();
    let mut references = Vec::new();
    for field in fields {
        let value = object.get(&field.name).unwrap_or(&Value::Null);
        if is_empty(value) {
            if field.required {
                errors.push(FieldError::new(&field.name, "is required"));
            }
            continue;
        }
        match check_value(field, value, &mut references) {
            Ok(normalised) => {
                out.insert(field.name.clone(), normalised);
            }
            Err(message) => errors.push(FieldError::new(&field.name, message)),
        }
    }
    if errors.is_empty() {
        Ok(Checked { data: out, references })
    } else {
        Err(errors)
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn count_within(field: &FieldDef, count: usize, unit: &str) -> Result<(), String> {
    let count = count as f64;
    if let Some(min) = field.min.filter(|min| count < *min) {
        return Err(format!("must have at least {min} {unit}"));
    }
    if let Some(max) = field.max.filter(|max| count > *max) {
        return Err(format!("must have at most {max} {unit}"));
    }
    Ok(())
}

fn id_of(value: &Value) -> Result<Uuid, String> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(|| "must be an id (UUID string)".to_owned())
}

fn check_value(field: &FieldDef, value: &Value, references: &mut Vec<Reference>) -> Result<Value, String> {
    let mut refer = |kind: RefKind, id: Uuid| references.push(Reference { field: field.name.clone(), kind, id });
    match field.kind {
        FieldKind::Text => {
            let text = value.as_str().ok_or("must be a string")?;
            count_within(field, text.chars().count(), "characters")?;
            if let Some(pattern) = &field.pattern {
                let re = compile_pattern(pattern)?;
                if !re.is_match(text) {
                    return Err(format!("does not match the pattern `{pattern}`"));
                }
            }
            Ok(value.clone())
        }
        FieldKind::RichText => match field.format.unwrap_or(RichFormat::Markdown) {
            RichFormat::Markdown => {
                let text = value.as_str().ok_or("must be a Markdown string")?;
                count_within(field, text.chars().count(), "characters")?;
                Ok(value.clone())
            }
            RichFormat::Blocks => {
                let blocks = value.as_array().ok_or("must be an array of blocks")?;
                for (i, block) in blocks.iter().enumerate() {
                    if !block.get("type").is_some_and(Value::is_string) {
                        return Err(format!("block {i} needs a string `type`"));
                    }
                }
                count_within(field, blocks.len(), "blocks")?;
                Ok(value.clone())
            }
        },
        FieldKind::Number => {
            let n = value.as_f64().ok_or("must be a number")?;
            if field.integer && n.fract() != 0.0 {
                return Err("must be a whole number".to_owned());
            }
            if let Some(min) = field.min.filter(|min| n < *min) {
                return Err(format!("must be at least {min}"));
            }
            if let Some(max) = field.max.filter(|max| n > *max) {
                return Err(format!("must be at most {max}"));
            }
            Ok(value.clone())
        }
        FieldKind::Boolean => value.as_bool().map(Value::Bool).ok_or_else(|| "must be true or false".to_owned()),
        FieldKind::DateTime => {
            let text = value.as_str().ok_or("must be a date or date-time string")?;
            normalise_date(text).map(Value::String)
        }
        FieldKind::Enum => {
            let text = value.as_str().ok_or("must be a string")?;
            if field.options.iter().any(|o| o == text) {
                Ok(value.clone())
            } else {
                Err(format!("must be one of: {}", field.options.join(", ")))
            }
        }
        FieldKind::Media | FieldKind::Reference => {
            let kind = if field.kind == FieldKind::Media { RefKind::Media } else { RefKind::Entry };
            if field.multiple {
                let items = value.as_array().ok_or("must be an array of ids")?;
                count_within(field, items.len(), "items")?;
                let mut ids = Vec::new();
                for item in items {
                    let id = id_of(item)?;
                    refer(kind, id);
                    ids.push(Value::String(id.to_string()));
                }
                Ok(Value::Array(ids))
            } else {
                let id = id_of(value)?;
                refer(kind, id);
                Ok(Value::String(id.to_string()))
            }
        }
        FieldKind::Elements => {
            let items = value.as_array().ok_or("must be an array of element ids")?;
            count_within(field, items.len(), "elements")?;
            let mut ids = Vec::new();
            for item in items {
                let id = id_of(item)?;
                refer(RefKind::Element, id);
                ids.push(Value::String(id.to_string()));
            }
            Ok(Value::Array(ids))
        }
        FieldKind::Json => Ok(value.clone()),
    }
}

/// `YYYY-MM-DD` stays a date; a date-time (any offset) becomes RFC 3339 UTC.
pub fn normalise_date(text: &str) -> Result<String, String> {
    let text = text.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.format("%Y-%m-%d").to_string());
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .map_err(|_| format!("`{text}` is not a date (2026-05-01) or date-time (2026-05-01T09:30:00Z)"))
}

/// The value a unique field is compared by (text case-insensitively).
pub fn unique_key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Plain text of the entry's text and rich-text fields, for search indexes.
pub fn plain_text(fields: &[FieldDef], data: &Value) -> String {
    let mut out = String::new();
    for field in fields {
        let Some(value) = data.get(&field.name) else { continue };
        match field.kind {
            FieldKind::Text | FieldKind::RichText => collect_text(value, &mut out),
            _ => {}
        }
    }
    out
}

fn collect_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(&strip_markdown(s));
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        Value::Object(map) => map.iter().filter(|(k, _)| *k != "type").for_each(|(_, v)| collect_text(v, out)),
        _ => {}
    }
}

/// Markdown to its visible text (links keep their words, markup goes).
fn strip_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            // Inline markup ends inside a sentence; anything else ends a block.
            Event::End(TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link | TagEnd::Image) => {}
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
