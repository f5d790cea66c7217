//! The web dashboard: the files of `static/`, compiled into the binary (or read from
//! `LECTERN_DASHBOARD_DIR`), and `index.html` for every other page path so that the single-page
//! app's own URLs (`/knowledge-bases/…`, `/reset-password?token=…`) load on a reload or from a mail.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use include_dir::{include_dir, Dir};

use crate::context::AppContext;
use crate::error::ApiError;

static STATIC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static");

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
        return super::not_found(req).await;
    }
    let relative = path.trim_start_matches('/');
    let asset = if relative.is_empty() { None } else { load(&ctx, relative) };
    let (name, body) = match asset {
        Some(body) => (relative, body),
        // A path with an extension is a missing file (a 404 a developer can see), not a page.
        None if has_extension(relative) => return super::not_found(req).await,
        None => match load(&ctx, "index.html") {
            Some(body) => ("index.html", body),
            None => return super::not_found(req).await,
        },
    };
    Ok(respond(&req, name, body))
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

fn respond(req: &HttpRequest, name: &str, body: Cow<'static, [u8]>) -> HttpResponse {
    let etag = format!("\"{:016x}\"", fingerprint(&body));
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
    fn the_compiled_in_app_has_its_entry_page_and_scripts() {
        assert!(STATIC.get_file("index.html").is_some());
        assert!(STATIC.get_file("app.js").is_some());
        assert_eq!(content_type("pages/chat.js"), "text/javascript; charset=utf-8");
    }
}
