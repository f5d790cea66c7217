//! Reading uploads: multipart form data (one or many files) streamed with a size limit, or a
//! JSON body with pasted text.

use actix_multipart::Multipart;
use actix_web::web::Payload;
use actix_web::HttpRequest;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::services::knowledge::documents::{too_large, Upload};

/// Most files in one request: with the per-file size limit, this bounds what one request can
/// make the server hold in memory.
const MAX_FILES_PER_REQUEST: usize = 100;

/// The OpenAPI shape of a multipart upload: `file` parts (repeat the part for several files).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FileUpload {
    /// The file's bytes; its name comes from the part's filename.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `{"text": …, "title": …}` (pasted text; Markdown is recognised) or `{"url": …}` (a web page).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TextDocumentPayload {
    pub text: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
}

pub enum Incoming {
    Files(Vec<Upload>),
    Text(TextDocumentPayload),
}

/// Reads the request body by its Content-Type.
pub async fn read(req: &HttpRequest, payload: Payload, limit: usize, json_limit: usize) -> ApiResult<Incoming> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return read_files(req, payload, limit).await.map(Incoming::Files);
    }
    if content_type.starts_with("application/json") {
        let mut body = Vec::new();
        let mut payload = payload;
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::invalid(format!("could not read the request body: {e}")))?;
            if body.len() + chunk.len() > json_limit.max(limit) {
                return Err(too_large(json_limit.max(limit)));
            }
            body.extend_from_slice(&chunk);
        }
        return crate::http::extract::parse_json::<TextDocumentPayload>(&body).map(Incoming::Text);
    }
    Err(ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "send files as multipart/form-data, or text as application/json {\"text\": …}",
    ))
}

/// The files of a `multipart/form-data` request (a 415 for any other body).
pub async fn read_multipart_files(req: &HttpRequest, payload: Payload, limit: usize) -> ApiResult<Vec<Upload>> {
    let multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "send files as multipart/form-data"));
    }
    read_files(req, payload, limit).await
}

/// The files of a multipart body, each up to `limit` bytes (larger ones are marked, not kept).
pub async fn read_files(req: &HttpRequest, payload: Payload, limit: usize) -> ApiResult<Vec<Upload>> {
    let mut form = Multipart::new(req.headers(), payload);
    let mut uploads = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| ApiError::invalid(format!("malformed multipart body: {e}")))?;
        let name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let declared_type = field.content_type().map(|m| m.essence_str().to_owned());
        if uploads.len() >= MAX_FILES_PER_REQUEST {
            return Err(ApiError::invalid_field("file", format!("at most {MAX_FILES_PER_REQUEST} files per request")));
        }
        if name.is_none() {
            // A plain form field, not a file: skip its value.
            while field.next().await.is_some() {}
            continue;
        }
        // A file over the limit is read to its end but not kept: it is rejected on its own and
        // the other files of the upload still go through.
        let mut bytes = Vec::new();
        let mut over_limit = false;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::invalid(format!("malformed multipart body: {e}")))?;
            if over_limit || bytes.len() + chunk.len() > limit {
                over_limit = true;
                bytes = Vec::new();
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        uploads.push(Upload { name, declared_type, bytes, over_limit });
    }
    if uploads.is_empty() {
        return Err(ApiError::invalid_field("file", "no file in the form; send one or more file fields"));
    }
    Ok(uploads)
}
