//! The web dashboard: the files of `static/`, compiled into the binary (or read from
//! `LECTERN_DASHBOARD_DIR`), and `index.html` for every other page path so that the single-page
//! app's own URLs (`/knowledge-bases/…`, `/reset-password?token=…`) load on a reload or from a mail.
//! Text files are sent gzipped to browsers that accept it, compressed once per process.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use include_dir::{include_dir, Dir};

use crate::app::context::AppContext;
use crate::error::ApiError;

static STATIC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static");

/// Gzipped copies of the compiled-in text files, by path. Made on first use (tens of milliseconds,
/// once) rather than at build time, so static/ stays the only source. The middleware
/// `Compress` is not an option: it would also buffer the API's event streams.
static GZIPPED: LazyLock<HashMap<&'static str, Vec<u8>>> = LazyLock::new(|| {
    let mut files = HashMap::new();
    let mut dirs = vec![&STATIC];
    while let Some(dir) = dirs.pop() {
        dirs.extend(dir.dirs());
        for file in dir.files() {
            let Some(path) = file.path().to_str() else { continue };
            if compressible(path) {
                files.insert(path, gzip(file.contents()));
            }
        }
    }
    files
});

/// Path prefixes that belong to the API: an unknown path there is a JSON 404, never the app.
const API_PREFIXES: [&str; 6] = ["/v1/", "/public/", "/health", "/docs", "/metrics", "/openapi.json"];

/// The app's scripts are ES modules loaded by path without a build step, so browsers must ask
/// again every time (a 304 when unchanged) or they would mix old and new modules after an upgrade.
const REVALIDATE: &str = "no-cache";

/// Only what the dashboard itself needs: its own scripts and the API on the same origin;
/// `blob:` for documents opened from the API with the caller's token.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob: https:; media-src 'self' blob:; frame-src 'self' blob:; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The default service: a dashboard file, the app's entry page for a page path, or the API's 404.
pub async fn serve(req: HttpRequest, ctx: Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    if !readable || API_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return crate::http::not_found(req).await;
    }
    let relative = path.trim_start_matches('/');
    let asset = if relative.is_empty() { None } else { load(&ctx, relative) };
    let (name, body) = match asset {
        Some(body) => (relative, body),
        // A path with an extension is a missing file (a 404 a developer can see), not a page.
        None if has_extension(relative) => return crate::http::not_found(req).await,
        None => match load(&ctx, "index.html") {
            Some(body) => ("index.html", body),
            None => return crate::http::not_found(req).await,
        },
    };
    // Files read from LECTERN_DASHBOARD_DIR are for editing the app and are sent as they are.
    let gzipped = match (&body, accepts_gzip(&req)) {
        (Cow::Borrowed(_), true) => GZIPPED.get(name).map(Vec::as_slice),
        _ => None,
    };
    Ok(respond(&req, name, body, gzipped))
}

fn has_extension(relative: &str) -> bool {
    relative.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

/// A file of the dashboard, from the configured directory or the compiled-in copy. Paths with
/// `..` or other tricks are refused, so nothing outside the directory can be read.
fn load(ctx: &AppContext, relative: &str) -> Option<Cow<'static, [u8]>> {
    let safe = relative.split('/').all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if !safe {
        return None;
    }
    match &ctx.settings.dashboard_dir {
        Some(dir) => {
            let file = dir.join(relative);
            file.is_file().then(|| std::fs::read(file).ok()).flatten().map(Cow::Owned)
        }
        None => STATIC.get_file(relative).map(|file| Cow::Borrowed(file.contents())),
    }
}

fn compressible(name: &str) -> bool {
    let kind = content_type(name);
    kind.starts_with("text/") || kind == "application/json" || kind == "image/svg+xml"
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    encoder.write_all(bytes).and_then(|()| encoder.finish()).unwrap_or_default()
}

/// Whether `Accept-Encoding` admits gzip (`gzip` or `*`, not with `q=0`).
fn accepts_gzip(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
        (coding == "gzip" || coding == "*") && !refused
    })
}

fn respond(req: &HttpRequest, name: &str, body: Cow<'static, [u8]>, gzipped: Option<&'static [u8]>) -> HttpResponse {
    // Each encoding is its own representation with its own tag, as caches expect.
    let suffix = if gzipped.is_some() { "-gz" } else { "" };
    let etag = format!("\"{:016x}{suffix}\"", fingerprint(&body));
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    let mut response = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if name.ends_with(".html") {
        response
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::REFERRER_POLICY, "no-referrer"));
    }
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type(name))));
    if compressible(name) {
        response.insert_header((header::VARY, "Accept-Encoding"));
    }
    if let Some(gzipped) = gzipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
        if !unchanged && req.method() != Method::HEAD {
            return response.body(gzipped);
        }
    }
    if unchanged || req.method() == Method::HEAD {
        return response.finish();
    }
    response.body(body.into_owned())
}

fn fingerprint(body: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_paths_and_files_are_told_apart() {
        assert!(has_extension("app.js"));
        assert!(has_extension("pages/chat.js"));
        assert!(!has_extension("knowledge-bases/0f6c"));
        assert!(!has_extension("v1.2/thing/plain"));
    }

    #[test]
    fn every_text_file_has_a_gzipped_copy_that_inflates_to_it() {
        use std::io::Read;
        let app = STATIC.get_file("app.js").unwrap().contents();
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(GZIPPED["app.js"].as_slice()).read_to_end(&mut inflated).unwrap();
        assert_eq!(inflated, app);
        assert!(GZIPPED["app.js"].len() < app.len() / 2);
        assert!(GZIPPED.contains_key("pages/chat.js") && GZIPPED.contains_key("index.html"));
    }

    #[test]
    fn the_compiled_in_app_has_its_entry_page_and_scripts() {
        assert!(STATIC.get_file("index.html").is_some());
        assert!(STATIC.get_file("app.js").is_some());
        assert_eq!(content_type("pages/chat.js"), "text/javascript; charset=utf-8");
    }
}
