//! The settings of a deployment of several nodes: the node mode, Redis and the blob store.

use super::{invalid, parsers, Secret, SettingsError};

/// `LECTERN_NODE_MODE`: `single` or `cluster`. A cluster node refuses to start with a backend
/// that only this node can see, naming every setting that is missing.
pub(super) fn node_mode(var: &impl Fn(&str) -> Option<String>) -> Result<bool, SettingsError> {
    match var("LECTERN_NODE_MODE").as_deref() {
        None | Some("single") => return Ok(false),
        Some("cluster") => {}
        Some(other) => return Err(invalid("LECTERN_NODE_MODE", format!("`{other}` is not one of: single, cluster"))),
    }
    let postgres = var("DATABASE_URL").is_some_and(|u| u.starts_with("postgres"));
    let s3 = var("LECTERN_BLOB_STORE").is_some_and(|b| b.starts_with("s3://"));
    let needs = [
        (!postgres, "DATABASE_URL=postgres://… (one database for every node)"),
        (var("QDRANT_URL").is_none(), "QDRANT_URL (vectors and lexical search every node sees)"),
        (var("REDIS_URL").is_none(), "REDIS_URL (shared rate limits and signals)"),
        (!s3, "LECTERN_BLOB_STORE=s3://bucket/prefix (uploads every node can read)"),
        (var("LECTERN_JWT_SECRET").is_none(), "LECTERN_JWT_SECRET (tokens every node accepts)"),
    ];
    let missing: Vec<&str> = needs.iter().filter(|(missing, _)| *missing).map(|(_, what)| *what).collect();
    if missing.is_empty() {
        Ok(true)
    } else {
        Err(invalid("LECTERN_NODE_MODE", format!("cluster mode needs {}", missing.join("; "))))
    }
}

pub(super) fn redis_url(var: &impl Fn(&str) -> Option<String>) -> Result<Option<Secret<String>>, SettingsError> {
    let Some(url) = var("REDIS_URL") else { return Ok(None) };
    if !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://")) {
        return Err(invalid("REDIS_URL", "must start with redis://, rediss:// or unix://"));
    }
    Ok(Some(Secret::new(url)))
}

/// `LECTERN_BLOB_STORE`: `local` (default) or `s3://bucket[/prefix]`, with `LECTERN_S3_ENDPOINT`
/// (an S3-compatible server; unset = AWS), `_REGION`, `_ACCESS_KEY_ID` + `_SECRET_ACCESS_KEY`
/// (unset = the AWS_* environment or the instance's role) and `_PATH_STYLE` (default: on with an
/// endpoint, off for AWS).
pub(super) fn blob_s3(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::engines::blobs::S3Location>, SettingsError> {
    const KEY: &str = "LECTERN_BLOB_STORE";
    let location = match var(KEY) {
        None => return Ok(None),
        Some(v) if v == "local" => return Ok(None),
        Some(v) => v,
    };
    let Some(rest) = location.strip_prefix("s3://") else {
        return Err(invalid(KEY, "must be `local` or `s3://bucket/prefix`"));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !valid_bucket {
        return Err(invalid(
            KEY,
            format!("`{bucket}` is not a bucket name (3-63 lower-case letters, digits, `-`, `.`)"),
        ));
    }
    let endpoint = var("LECTERN_S3_ENDPOINT");
    if endpoint.as_ref().is_some_and(|e| !(e.starts_with("http://") || e.starts_with("https://"))) {
        return Err(invalid("LECTERN_S3_ENDPOINT", "must start with http:// or https://"));
    }
    let (access_key_id, secret_access_key) = (var("LECTERN_S3_ACCESS_KEY_ID"), var("LECTERN_S3_SECRET_ACCESS_KEY"));
    if access_key_id.is_some() != secret_access_key.is_some() {
        return Err(invalid(
            "LECTERN_S3_SECRET_ACCESS_KEY",
            "set both LECTERN_S3_ACCESS_KEY_ID and LECTERN_S3_SECRET_ACCESS_KEY, or neither",
        ));
    }
    Ok(Some(crate::engines::blobs::S3Location {
        bucket: bucket.to_owned(),
        prefix: prefix.trim_matches('/').to_owned(),
        path_style: parsers::switch(var, "LECTERN_S3_PATH_STYLE", endpoint.is_some())?,
        endpoint,
        region: var("LECTERN_S3_REGION"),
        access_key_id,
        secret_access_key: secret_access_key.map(Secret::new),
    }))
}
