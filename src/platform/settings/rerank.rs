//! The reranker's settings: a local cross-encoder (`LECTERN_RERANK_MODEL`, a directory under
//! the models dir or an absolute path, with the embedding model's file layout) or a `/rerank` upstream
//! (`LECTERN_RERANK_URL`, `_API_KEY`, `_UPSTREAM_MODEL`, `_FORMAT`, `_TIMEOUT_SECS`).

use std::path::Path;
use std::time::Duration;

use super::{invalid, parsers, Secret, SettingsError};
use crate::engines::embed::ModelFiles;
use crate::engines::rerank::{RerankConfig, UpstreamConfig, UpstreamFormat};

pub(super) fn rerank(
    var: &impl Fn(&str) -> Option<String>,
    models_dir: &Path,
    runtime: &Path,
) -> Result<Option<RerankConfig>, SettingsError> {
    match (var("LECTERN_RERANK_MODEL"), var("LECTERN_RERANK_URL")) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => {
            Err(invalid("LECTERN_RERANK_URL", "set LECTERN_RERANK_MODEL (local) or LECTERN_RERANK_URL, not both"))
        }
        (Some(name), None) => {
            let path = Path::new(&name);
            let dir = if path.is_absolute() {
                path.to_path_buf()
            } else if name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(invalid(
                    "LECTERN_RERANK_MODEL",
                    "must be a model directory name under the models dir, or an absolute path",
                ));
            } else {
                models_dir.join(&name)
            };
            let name = dir.file_name().map_or(name.clone(), |n| n.to_string_lossy().into_owned());
            Ok(Some(RerankConfig::Local(ModelFiles { dir, name, runtime: runtime.to_path_buf() })))
        }
        (None, Some(url)) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid("LECTERN_RERANK_URL", "must start with http:// or https://"));
            }
            let format = match var("LECTERN_RERANK_FORMAT").as_deref() {
                None | Some("cohere") | Some("jina") => UpstreamFormat::Cohere,
                Some("tei") => UpstreamFormat::Tei,
                Some(other) => {
                    return Err(invalid("LECTERN_RERANK_FORMAT", format!("`{other}` is not one of: cohere, jina, tei")))
                }
            };
            Ok(Some(RerankConfig::Upstream(UpstreamConfig {
                url,
                api_key: var("LECTERN_RERANK_API_KEY").map(Secret::new),
                model: var("LECTERN_RERANK_UPSTREAM_MODEL"),
                format,
                timeout: Duration::from_secs(parsers::number(var, "LECTERN_RERANK_TIMEOUT_SECS", 10, 1..=120)?),
            })))
        }
    }
}

/// `LECTERN_RERANK_CANDIDATES`: how many fused candidates the reranker reorders by default.
pub(super) fn candidates(var: &impl Fn(&str) -> Option<String>) -> Result<usize, SettingsError> {
    parsers::number(var, "LECTERN_RERANK_CANDIDATES", DEFAULT_CANDIDATES, 1..=200)
}

pub const DEFAULT_CANDIDATES: usize = 50;
