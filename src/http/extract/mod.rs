//! Request extractors that fail in the project's error shape and name the offending field.
//!
//! actix's own `web::Json`/`web::Query` report serde errors without the field path; these use
//! `serde_path_to_error` so a client learns exactly which field is wrong and why.

pub mod forwarded;
pub mod principal;
pub mod uploads;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::app::context::AppContext;
use crate::error::{ApiError, ErrorCode};
use crate::platform::paging::ListParams;

/// Used when the app data is missing (unit tests of extractors alone).
const FALLBACK_JSON_LIMIT: usize = 1024 * 1024;

/// A JSON request body, limited to `LECTERN_MAX_JSON_BYTES`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<Data<AppContext>>().map_or(FALLBACK_JSON_LIMIT, |ctx| ctx.settings.max_json_bytes);
        let content_type_ok = is_json(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "Content-Type must be application/json")
                    .with_details(json!({ "expected": "application/json" })));
            }
            if declared_length.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let mut body = Vec::with_capacity(declared_length.unwrap_or(1024).min(limit));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::invalid(format!("could not read the request body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Json)
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"),
        _ => false,
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, format!("request body is over the limit of {limit} bytes"))
        .with_details(json!({ "limitBytes": limit }))
}

/// Parses JSON, turning a serde error into a 400 that names the field path and the reason.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("request body is empty; expected a JSON document"));
    }
    if let Some(field) = nul_field(body) {
        return Err(ApiError::invalid_field(&field, "must not contain the NUL character (\\u0000)"));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::invalid(format!("request body is not valid JSON: {inner}"))
                .with_details(json!({ "line": inner.line(), "column": inner.column() }));
        }
        let reason = strip_position(&inner.to_string());
        let field = field_path(&path, &reason);
        match &field {
            Some(field) => ApiError::invalid_field(field, reason),
            None => {
                ApiError::invalid(format!("invalid request body: {reason}")).with_details(json!({ "reason": reason }))
            }
        }
    })
}

/// The field of a JSON body holding U+0000, which no text field means and PostgreSQL cannot
/// store (in text or jsonb): found up front so that it is a 400 naming the field on every
/// database. Raw NUL bytes are not valid JSON, so only the `\u0000` escape needs looking for.
fn nul_field(body: &[u8]) -> Option<String> {
    let escaped_nul = body
        .windows(6)
        .enumerate()
        .any(|(i, w)| w == b"\\u0000" && body[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0);
    if !escaped_nul {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    fn walk(value: &serde_json::Value, at: &str) -> Option<String> {
        let join = |key: &str| if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") };
        match value {
            serde_json::Value::String(text) if text.contains('\0') => {
                Some(if at.is_empty() { "body".to_owned() } else { at.to_owned() })
            }
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{}[{i}]", if at.is_empty() { "body" } else { at }))),
            serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
                if key.contains('\0') {
                    Some(join(&key.replace('\0', "\\u0000")))
                } else {
                    walk(item, &join(key))
                }
            }),
            _ => None,
        }
    }
    walk(&value, "")
}

/// Query-string parameters with the same field-naming errors.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::from_query(req.query_string()))
    }
}

impl<T: DeserializeOwned> Query<T> {
    /// Parses a raw query string; an error is a 400 naming the parameter.
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(deserializer).map(Query).map_err(|error| {
            let path = error.path().to_string();
            let reason = error.into_inner().to_string();
            let field = field_path(&path, &reason).unwrap_or_else(|| "query".to_owned());
            ApiError::invalid_field(&field, reason)
        })
    }
}

/// The first query parameter whose name or value holds U+0000 (see [`nul_field`]); the
/// request-context middleware refuses such a request whatever the route.
pub fn query_nul_key(query: &str) -> Option<String> {
    form_urlencoded_parse(query)
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
        .map(|(key, _)| key.replace('\0', "%00"))
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// The field a serde error is about: the path it failed at, or for a missing field (reported at
/// the enclosing object) that path plus the field's name.
fn field_path(path: &str, reason: &str) -> Option<String> {
    let at = if path == "." { None } else { Some(path.to_owned()) };
    let missing = reason.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (at, missing) {
        (Some(at), Some(name)) => Some(format!("{at}.{name}")),
        (None, Some(name)) => Some(name.to_owned()),
        (at, None) => at,
    }
}

/// serde_json appends " at line 1 column 9": useful for syntax errors, noise once the field is named.
fn strip_position(reason: &str) -> String {
    match reason.rfind(" at line ") {
        Some(i) => reason[..i].to_owned(),
        None => reason.to_owned(),
    }
}

/// `?page=&limit=&sort=`, validated (see [`ListParams::parse`]).
impl FromRequest for ListParams {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::parse(req.query_string()))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Payload {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn details(body: &str) -> serde_json::Value {
        parse_json::<Payload>(body.as_bytes()).unwrap_err().public_parts().1
    }

    #[test]
    fn wrong_types_name_the_nested_field() {
        let d = details(r#"{"name": "x", "inner": {"count": "seven"}}"#);
        assert_eq!(d["field"], "inner.count");
        assert!(d["reason"].as_str().unwrap().starts_with("invalid type: string \"seven\""), "{d}");
    }

    #[test]
    fn nul_characters_are_refused_with_the_field_named() {
        assert_eq!(details(r#"{"name": "a\u0000b"}"#)["field"], "name");
        assert_eq!(details(r#"{"name": "x", "tags": ["ok", "\u0000"]}"#)["field"], "tags[1]");
        // An escaped backslash followed by `u0000` is ordinary text.
        assert!(parse_json::<Payload>(br#"{"name": "a\\u0000"}"#).is_ok());
        assert_eq!(query_nul_key("a=1&q=x%00y").as_deref(), Some("q"));
        assert_eq!(query_nul_key("q=x%2500"), None);
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(details(r#"{}"#)["field"], "name");
        assert_eq!(details(r#"{"name": "x", "inner": {}}"#)["field"], "inner.count");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let d = details("{\"name\": ");
        assert_eq!(d["line"], 1);
        assert!(parse_json::<Payload>(b"   ").unwrap_err().to_string().contains("empty"));
    }
}
