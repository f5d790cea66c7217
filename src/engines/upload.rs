//! A file as it arrives (an upload, or a page fetched for ingestion), and the 413 for one over
//! the size limit.

use crate::error::{ApiError, ErrorCode};

/// An incoming file.
pub struct Upload {
    pub name: Option<String>,
    pub declared_type: Option<String>,
    pub bytes: Vec<u8>,
    /// The file went past the size limit while streaming; its bytes were not kept.
    pub over_limit: bool,
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, format!("the file is over the limit of {limit} bytes"))
        .with_details(serde_json::json!({ "limitBytes": limit }))
}
