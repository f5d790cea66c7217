//! `/public/v1/sites/{site}/*`: what a site's visitors may use without an account. Every
//! response carries CORS headers for the site's allowed origins; preflights are answered here.
//! Content responses are cached in-process with a strong ETag (`If-None-Match` → 304).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::web::{self, Data, Path};
use actix_web::{guard, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::extract::principal::client_ip;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::routes::chat::sse;
use crate::services::chat::public::{self, VisitorChat};
use crate::services::content::cache::Cached;
use crate::services::content::contact::{self, ContactForm};
use crate::services::content::delivery::{self, DeliveryParams, PublicEntries, PublicEntry};
use crate::services::content::site_search::{self, SearchClick, SiteSearchParams, SiteSearchResponse, Suggestions};
use crate::services::media::library;
use crate::services::media::variants::VariantParams;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/public/v1/sites/{site}")
            .wrap(from_fn(cors))
            .service(web::resource("/{tail:.*}").guard(guard::Options()).to(preflight))
            .service(web::resource("/assistants/{id}/chat").route(web::post().to(visitor_chat)))
            .service(web::resource("/entries").route(web::get().to(public_list_entries)))
            .service(web::resource("/entries/{type}/{slug}").route(web::get().to(public_get_entry)))
            .service(web::resource("/media/{id}").route(web::get().to(public_get_media)))
            .service(web::resource("/search").route(web::get().to(public_search)))
            .service(web::resource("/search/click").route(web::post().to(public_search_click)))
            .service(web::resource("/suggest").route(web::get().to(public_suggest)))
            .service(web::resource("/contact").route(web::post().to(public_contact_form)))
            .service(web::resource("/views").route(web::post().to(public_page_view))),
    );
}

/// The site's allowed origins (cached until the site changes).
async fn origins(ctx: &AppContext, site_id: Uuid) -> ApiResult<Arc<Vec<String>>> {
    if let Some(origins) = ctx.content.public_cache.origins(site_id) {
        return Ok(origins);
    }
    let generation = ctx.content.public_cache.generation(site_id);
    let site = site_search::public_site(ctx, site_id).await?;
    let view = crate::services::identity::sites::SiteView::from(site);
    Ok(ctx.content.public_cache.put_origins(site_id, generation, view.allowed_origins))
}

fn allowed<'a>(origins: &[String], origin: &'a str) -> Option<&'a str> {
    let lower = origin.to_ascii_lowercase();
    if origins.iter().any(|o| o == "*") {
        Some("*")
    } else if origins.contains(&lower) {
        Some(origin)
    } else {
        None
    }
}

/// Adds `Access-Control-Allow-Origin` when the request's origin is one the site allows.
async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let site = req.match_info().get("site").and_then(|s| Uuid::parse_str(s).ok());
    let ctx = req.app_data::<Data<AppContext>>().cloned();
    let mut res = next.call(req).await?;
    res.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    if let (Some(origin), Some(site), Some(ctx)) = (origin, site, ctx) {
        if let Ok(list) = origins(&ctx, site).await {
            if let Some(value) = allowed(&list, &origin).and_then(|o| HeaderValue::from_str(o).ok()) {
                res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                res.headers_mut().insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static("ETag, X-Request-ID, Retry-After"),
                );
            }
        }
    }
    Ok(res)
}

/// CORS preflight: 204 with what the browser may send when the origin is allowed, else 403.
async fn preflight(ctx: Data<AppContext>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let site = req
        .match_info()
        .get("site")
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::not_found("site"))?;
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let list = origins(&ctx, site).await?;
    if allowed(&list, origin).is_none() {
        return Err(ApiError::new(ErrorCode::Forbidden, "this origin may not call the site's public API")
            .with_details(serde_json::json!({ "origin": origin, "hint": "add it to the site's allowedOrigins" })));
    }
    Ok(HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type, If-None-Match, Accept"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
        .finish())
}

fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// The hot path of public delivery: no allocation beyond the response itself.
fn respond(ctx: &AppContext, req: &HttpRequest, cached: &Cached) -> HttpResponse {
    let fresh = !not_modified(req, &cached.etag);
    let mut builder = if fresh { HttpResponse::Ok() } else { HttpResponse::NotModified() };
    builder
        .insert_header((header::ETAG, cached.etag_header.clone()))
        .insert_header((header::CACHE_CONTROL, ctx.content.public_cache.cache_control.clone()));
    if !fresh {
        return builder.finish();
    }
    builder
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(cached.body.clone())
}

/// Serves `compute`'s JSON from the site's cache, keyed by path and query.
async fn cached_json<T: Serialize>(
    ctx: &AppContext,
    req: &HttpRequest,
    site: Uuid,
    compute: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<HttpResponse> {
    let key = req.uri().path_and_query().map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    if let Some(hit) = ctx.content.public_cache.get(site, &key) {
        return Ok(respond(ctx, req, &hit));
    }
    let generation = ctx.content.public_cache.generation(site);
    let value = compute.await?;
    let body = serde_json::to_vec(&value).map_err(anyhow::Error::from)?;
    let etag = format!("\"{}\"", &crate::engines::blobs::BlobStore::sha256(&body)[..32]);
    let etag_header = HeaderValue::from_str(&etag).map_err(anyhow::Error::from)?;
    let cached = Cached { body: body.into(), etag, etag_header, stored_at: std::time::Instant::now() };
    let cached = ctx.content.public_cache.put(site, generation, key, cached);
    Ok(respond(ctx, req, &cached))
}

/// A visitor asks a site's published assistant: the same `start`, `token`, `citation`, `done`
/// and `error` events as `/v1/chat`, from the assistant's public knowledge bases only.
#[utoipa::path(post, path = "/public/v1/sites/{site}/assistants/{id}/chat", tag = "public", request_body = VisitorChat,
    responses((status = 200, description = "text/event-stream of chat events", content_type = "text/event-stream"),
        (status = 400, body = ErrorBody), (status = 404, description = "No such published assistant", body = ErrorBody),
        (status = 429, description = "Too many turns from this address", body = ErrorBody)))]
pub async fn visitor_chat(
    ctx: Data<AppContext>,
    path: Path<(Uuid, Uuid)>,
    req: HttpRequest,
    Json(request): Json<VisitorChat>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    Ok(sse(public::start(ctx.into_inner(), site, id, client_ip(&req), request).await?))
}

/// Published entries (`type`, `locale` with fallback to the default locale, `tag`, `sort`,
/// paging, reference `depth`). Cached; `If-None-Match` gets 304.
#[utoipa::path(get, path = "/public/v1/sites/{site}/entries", tag = "public", params(DeliveryParams),
    responses((status = 200, body = PublicEntries), (status = 304, description = "Not modified"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_list_entries(ctx: Data<AppContext>, site: Path<Uuid>, req: HttpRequest) -> ApiResult<HttpResponse> {
    cached_json(&ctx, &req, *site, async {
        let params = delivery_params(&req)?;
        delivery::list(&ctx, *site, &params).await
    })
    .await
}

/// Query parameters are read only on a cache miss (the cache key is the raw query string).
fn delivery_params(req: &HttpRequest) -> ApiResult<DeliveryParams> {
    Query::<DeliveryParams>::from_query(req.query_string()).map(Query::into_inner)
}

/// One published entry by type and slug (drafts, scheduled and archived entries are 404).
#[utoipa::path(get, path = "/public/v1/sites/{site}/entries/{type}/{slug}", tag = "public", params(DeliveryParams),
    responses((status = 200, body = PublicEntry), (status = 304, description = "Not modified"), (status = 404, body = ErrorBody)))]
pub async fn public_get_entry(
    ctx: Data<AppContext>,
    path: Path<(Uuid, String, String)>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (site, kind, slug) = path.into_inner();
    cached_json(&ctx, &req, site, async {
        let params = delivery_params(&req)?;
        delivery::get(&ctx, site, &kind, &slug, &params).await
    })
    .await
}

/// A media file, or an image variant with `w`, `h` (allowed sizes only) and `fit`.
#[utoipa::path(get, path = "/public/v1/sites/{site}/media/{id}", tag = "public", params(VariantParams),
    responses((status = 200, description = "The file"), (status = 304, description = "Not modified"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_get_media(
    ctx: Data<AppContext>,
    path: Path<(Uuid, Uuid)>,
    params: Query<VariantParams>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let served = library::serve(&ctx, site, id, &params).await?;
    let mut builder = if not_modified(&req, &served.etag) { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    builder
        .insert_header((header::ETAG, served.etag.clone()))
        .insert_header((header::CACHE_CONTROL, ctx.content.public_cache.cache_control.clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // An SVG opened directly must not run script in the API's origin.
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; sandbox"));
    if not_modified(&req, &served.etag) {
        return Ok(builder.finish());
    }
    let name: String =
        served.name.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| *c != '"').collect();
    Ok(builder
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")))
        .content_type(served.mime)
        .body(served.bytes))
}

/// Search published entries: typo tolerant, the last word as a prefix while typing, facets by
/// type and tag, highlights.
#[utoipa::path(get, path = "/public/v1/sites/{site}/search", tag = "public", params(SiteSearchParams),
    responses((status = 200, body = SiteSearchResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_search(
    ctx: Data<AppContext>,
    site: Path<Uuid>,
    params: Query<SiteSearchParams>,
) -> ApiResult<web::Json<SiteSearchResponse>> {
    Ok(web::Json(site_search::search(&ctx, *site, &params).await?))
}

/// Titles for autocomplete.
#[utoipa::path(get, path = "/public/v1/sites/{site}/suggest", tag = "public", params(SiteSearchParams),
    responses((status = 200, body = Suggestions), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_suggest(
    ctx: Data<AppContext>,
    site: Path<Uuid>,
    params: Query<SiteSearchParams>,
) -> ApiResult<web::Json<Suggestions>> {
    Ok(web::Json(site_search::suggest(&ctx, *site, &params).await?))
}

/// Reports that a visitor opened a search result (for click-through analytics).
#[utoipa::path(post, path = "/public/v1/sites/{site}/search/click", tag = "public", request_body = SearchClick,
    responses((status = 202), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_search_click(
    ctx: Data<AppContext>,
    site: Path<Uuid>,
    Json(click): Json<SearchClick>,
) -> ApiResult<HttpResponse> {
    site_search::click(&ctx, *site, &click).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    pub received: bool,
}

/// A contact form message for the site's team (rate limited per address).
#[utoipa::path(post, path = "/public/v1/sites/{site}/contact", tag = "public", request_body = ContactForm,
    responses((status = 202, body = Received), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn public_contact_form(
    ctx: Data<AppContext>,
    site: Path<Uuid>,
    req: HttpRequest,
    Json(form): Json<ContactForm>,
) -> ApiResult<HttpResponse> {
    contact::submit(&ctx, *site, client_ip(&req).as_deref(), form).await?;
    Ok(HttpResponse::Accepted().json(Received { received: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageView {
    /// The published entry being viewed.
    pub entry_id: Uuid,
}

/// Counts one view of a published entry (nothing about the visitor is stored).
#[utoipa::path(post, path = "/public/v1/sites/{site}/views", tag = "public", request_body = PageView,
    responses((status = 202), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_page_view(
    ctx: Data<AppContext>,
    site: Path<Uuid>,
    Json(view): Json<PageView>,
) -> ApiResult<HttpResponse> {
    let (site, entry) = delivery::published_entry(&ctx, *site, view.entry_id).await?;
    ctx.content.analytics.view(site.tenant_id, site.id, entry.id);
    Ok(HttpResponse::Accepted().finish())
}
