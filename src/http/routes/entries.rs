//! `/v1/sites/{site}/entries/*`: entries, publishing, revisions and translations.

use actix_web::web::{self, Data, Path};
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::{Authenticated, Require};
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::platform::paging::{ListParams, Page};
use crate::services::content::entries::{self, EntryFilter, EntryPatch, EntryPayload, EntryView};
use crate::services::content::publishing::{self, PublishRequest};
use crate::services::content::revisions::{self, RevisionSummary, RevisionView};
use crate::services::content::translations::{
    self, MissingFilter, MissingTranslation, TranslationPayload, Translations,
};
use crate::services::identity::permissions::require::{ContentPublish, ContentRead};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/sites/{site}/entries")
            .route(web::get().to(list_entries))
            .route(web::post().to(create_entry)),
    )
    .service(
        web::resource("/v1/sites/{site}/entries/{id}")
            .route(web::get().to(get_entry))
            .route(web::patch().to(update_entry))
            .route(web::delete().to(delete_entry)),
    )
    .service(web::resource("/v1/sites/{site}/entries/{id}/publish").route(web::post().to(publish_entry)))
    .service(web::resource("/v1/sites/{site}/entries/{id}/unpublish").route(web::post().to(unpublish_entry)))
    .service(web::resource("/v1/sites/{site}/entries/{id}/duplicate").route(web::post().to(duplicate_entry)))
    .service(web::resource("/v1/sites/{site}/entries/{id}/revisions").route(web::get().to(list_revisions)))
    .service(web::resource("/v1/sites/{site}/entries/{id}/revisions/{number}").route(web::get().to(get_revision)))
    .service(
        web::resource("/v1/sites/{site}/entries/{id}/revisions/{number}/restore")
            .route(web::post().to(restore_revision)),
    )
    .service(
        web::resource("/v1/sites/{site}/entries/{id}/translations")
            .route(web::get().to(list_translations))
            .route(web::post().to(create_translation)),
    )
    .service(web::resource("/v1/sites/{site}/translations/missing").route(web::get().to(missing_translations)));
}

/// Filter by `type`, `status`, `locale`, `author`, `tag`, words in the title (`q`); sort and page.
#[utoipa::path(get, path = "/v1/sites/{site}/entries", tag = "content", security(("bearer" = [])), params(ListParams, EntryFilter),
    responses((status = 200, body = Page<EntryView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_entries(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    site: Path<Uuid>,
    filter: Query<EntryFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<EntryView>>> {
    Ok(web::Json(entries::list(&ctx, &who, *site, &filter, &params).await?))
}

/// Validated against the content type: a 400 lists every failing field in `details.errors`.
#[utoipa::path(post, path = "/v1/sites/{site}/entries", tag = "content", security(("bearer" = [])), request_body = EntryPayload,
    responses((status = 201, body = EntryView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Slug taken", body = ErrorBody)))]
pub async fn create_entry(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    site: Path<Uuid>,
    Json(payload): Json<EntryPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(entries::create(&ctx, &who, *site, payload).await?))
}

#[utoipa::path(get, path = "/v1/sites/{site}/entries/{id}", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = EntryView), (status = 404, body = ErrorBody)))]
pub async fn get_entry(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<EntryView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(entries::get(&ctx, &who, site, id).await?))
}

/// `data` is merged (a key set to null clears it). Authors may change only their own drafts.
#[utoipa::path(patch, path = "/v1/sites/{site}/entries/{id}", tag = "content", security(("bearer" = [])), request_body = EntryPatch,
    responses((status = 200, body = EntryView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_entry(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    path: Path<(Uuid, Uuid)>,
    Json(patch): Json<EntryPatch>,
) -> ApiResult<web::Json<EntryView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(entries::update(&ctx, &who, site, id, patch).await?))
}

#[utoipa::path(delete, path = "/v1/sites/{site}/entries/{id}", tag = "content", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Other entries reference it", body = ErrorBody)))]
pub async fn delete_entry(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    entries::delete(&ctx, &who, site, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Publishes now, or schedules with a future `publishAt` (a job publishes it on time).
#[utoipa::path(post, path = "/v1/sites/{site}/entries/{id}/publish", tag = "content", security(("bearer" = [])), request_body(content = PublishRequest, description = "Optional"),
    responses((status = 200, body = EntryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn publish_entry(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentPublish>,
    path: Path<(Uuid, Uuid)>,
    body: web::Bytes,
) -> ApiResult<web::Json<EntryView>> {
    let (site, id) = path.into_inner();
    // The body is optional: empty publishes now.
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        PublishRequest::default()
    } else {
        crate::http::extract::parse_json::<PublishRequest>(&body)?
    };
    Ok(web::Json(publishing::publish(&ctx, &who, site, id, request).await?))
}

#[utoipa::path(post, path = "/v1/sites/{site}/entries/{id}/unpublish", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = EntryView), (status = 404, body = ErrorBody), (status = 409, description = "Not published", body = ErrorBody)))]
pub async fn unpublish_entry(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentPublish>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<EntryView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(publishing::unpublish(&ctx, &who, site, id).await?))
}

/// A draft copy with a free slug.
#[utoipa::path(post, path = "/v1/sites/{site}/entries/{id}/duplicate", tag = "content", security(("bearer" = [])),
    responses((status = 201, body = EntryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn duplicate_entry(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    Ok(HttpResponse::Created().json(publishing::duplicate(&ctx, &who, site, id).await?))
}

#[utoipa::path(get, path = "/v1/sites/{site}/entries/{id}/revisions", tag = "content", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<RevisionSummary>), (status = 404, body = ErrorBody)))]
pub async fn list_revisions(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    path: Path<(Uuid, Uuid)>,
    params: ListParams,
) -> ApiResult<web::Json<Page<RevisionSummary>>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(revisions::list(&ctx, &who, site, id, &params).await?))
}

/// One revision with how the current entry differs from it.
#[utoipa::path(get, path = "/v1/sites/{site}/entries/{id}/revisions/{number}", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = RevisionView), (status = 404, body = ErrorBody)))]
pub async fn get_revision(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    path: Path<(Uuid, Uuid, i32)>,
) -> ApiResult<web::Json<RevisionView>> {
    let (site, id, number) = path.into_inner();
    Ok(web::Json(revisions::get(&ctx, &who, site, id, number).await?))
}

#[utoipa::path(post, path = "/v1/sites/{site}/entries/{id}/revisions/{number}/restore", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = EntryView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn restore_revision(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    path: Path<(Uuid, Uuid, i32)>,
) -> ApiResult<web::Json<EntryView>> {
    let (site, id, number) = path.into_inner();
    Ok(web::Json(revisions::restore(&ctx, &who, site, id, number).await?))
}

#[utoipa::path(get, path = "/v1/sites/{site}/entries/{id}/translations", tag = "content", security(("bearer" = [])),
    responses((status = 200, body = Translations), (status = 404, body = ErrorBody)))]
pub async fn list_translations(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<Translations>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(translations::list(&ctx, &who, site, id).await?))
}

/// A new locale variant (a draft), copying what the payload leaves out.
#[utoipa::path(post, path = "/v1/sites/{site}/entries/{id}/translations", tag = "content", security(("bearer" = [])), request_body = TranslationPayload,
    responses((status = 201, body = EntryView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Locale exists or slug taken", body = ErrorBody)))]
pub async fn create_translation(
    ctx: Data<AppContext>,
    Authenticated(who): Authenticated,
    path: Path<(Uuid, Uuid)>,
    Json(payload): Json<TranslationPayload>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    Ok(HttpResponse::Created().json(translations::create(&ctx, &who, site, id, payload).await?))
}

/// Entries lacking some of the site's locales.
#[utoipa::path(get, path = "/v1/sites/{site}/translations/missing", tag = "content", security(("bearer" = [])), params(MissingFilter),
    responses((status = 200, body = Vec<MissingTranslation>), (status = 404, body = ErrorBody)))]
pub async fn missing_translations(
    ctx: Data<AppContext>,
    Require(who, _): Require<ContentRead>,
    site: Path<Uuid>,
    filter: Query<MissingFilter>,
) -> ApiResult<web::Json<Vec<MissingTranslation>>> {
    Ok(web::Json(translations::missing(&ctx, &who, *site, &filter).await?))
}
