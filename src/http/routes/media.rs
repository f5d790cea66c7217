//! `/v1/sites/{site}/media/*`: the media library and its folders.

use actix_web::web::{self, Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::app::context::AppContext;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::principal::Require;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::platform::paging::{ListParams, Page};
use crate::services::content::entries::EntryView;
use crate::services::identity::permissions::require::{MediaRead, MediaWrite};
use crate::services::knowledge::documents::Upload;
use crate::services::media::folders::{self, FolderPatch, FolderPayload, FolderView};
use crate::services::media::library::{self, MediaFilter, MediaPatch, MediaView, UploadTarget};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/sites/{site}/media").route(web::get().to(list_media)).route(web::post().to(upload_media)),
    )
    .service(
        web::resource("/v1/sites/{site}/media-folders")
            .route(web::get().to(list_folders))
            .route(web::post().to(create_folder)),
    )
    .service(
        web::resource("/v1/sites/{site}/media-folders/{id}")
            .route(web::patch().to(update_folder))
            .route(web::delete().to(delete_folder)),
    )
    .service(
        web::resource("/v1/sites/{site}/media/{id}")
            .route(web::get().to(get_media))
            .route(web::patch().to(update_media))
            .route(web::delete().to(delete_media)),
    )
    .service(web::resource("/v1/sites/{site}/media/{id}/file").route(web::put().to(replace_media)))
    .service(web::resource("/v1/sites/{site}/media/{id}/usage").route(web::get().to(media_usage)));
}

async fn files(ctx: &AppContext, req: &HttpRequest, payload: Payload) -> ApiResult<Vec<Upload>> {
    crate::http::extract::uploads::read_multipart_files(req, payload, ctx.settings.max_media_bytes).await
}

/// Filter by `folderId` (`root` for none), `q` (name or alt text), `mime` prefix.
#[utoipa::path(get, path = "/v1/sites/{site}/media", tag = "media", security(("bearer" = [])), params(ListParams, MediaFilter),
    responses((status = 200, body = Page<MediaView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_media(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaRead>,
    site: Path<Uuid>,
    filter: Query<MediaFilter>,
    params: ListParams,
) -> ApiResult<web::Json<Page<MediaView>>> {
    Ok(web::Json(library::list(&ctx, &who, *site, &filter, &params).await?))
}

/// One or more files as `multipart/form-data`, streamed with a size limit
/// (`LECTERN_MAX_MEDIA_BYTES`). Types are sniffed from the bytes; identical bytes are stored once.
#[utoipa::path(post, path = "/v1/sites/{site}/media", tag = "media", security(("bearer" = [])), params(UploadTarget),
    request_body(content = crate::http::extract::uploads::FileUpload, content_type = "multipart/form-data", description = "file fields"),
    responses((status = 201, body = Vec<MediaView>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn upload_media(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaWrite>,
    site: Path<Uuid>,
    target: Query<UploadTarget>,
    req: HttpRequest,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let uploads = files(&ctx, &req, payload).await?;
    Ok(HttpResponse::Created().json(library::upload(&ctx, &who, *site, &target, uploads).await?))
}

#[utoipa::path(get, path = "/v1/sites/{site}/media/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = MediaView), (status = 404, body = ErrorBody)))]
pub async fn get_media(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<MediaView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(library::get(&ctx, &who, site, id).await?))
}

/// Rename, move, set alt text and captions per locale.
#[utoipa::path(patch, path = "/v1/sites/{site}/media/{id}", tag = "media", security(("bearer" = [])), request_body = MediaPatch,
    responses((status = 200, body = MediaView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_media(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaWrite>,
    path: Path<(Uuid, Uuid)>,
    Json(patch): Json<MediaPatch>,
) -> ApiResult<web::Json<MediaView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(library::update(&ctx, &who, site, id, patch).await?))
}

/// New bytes for the same id (one file, multipart).
#[utoipa::path(put, path = "/v1/sites/{site}/media/{id}/file", tag = "media", security(("bearer" = [])),
    request_body(content = crate::http::extract::uploads::FileUpload, content_type = "multipart/form-data", description = "one file field"),
    responses((status = 200, body = MediaView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn replace_media(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaWrite>,
    path: Path<(Uuid, Uuid)>,
    req: HttpRequest,
    payload: Payload,
) -> ApiResult<web::Json<MediaView>> {
    let (site, id) = path.into_inner();
    let uploads = files(&ctx, &req, payload).await?;
    Ok(web::Json(library::replace(&ctx, &who, site, id, uploads).await?))
}

/// Entries that use the file.
#[utoipa::path(get, path = "/v1/sites/{site}/media/{id}/usage", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = Vec<EntryView>), (status = 404, body = ErrorBody)))]
pub async fn media_usage(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaRead>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<Vec<EntryView>>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(library::usage(&ctx, &who, site, id).await?))
}

#[utoipa::path(delete, path = "/v1/sites/{site}/media/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "Entries use it", body = ErrorBody)))]
pub async fn delete_media(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaWrite>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    library::delete(&ctx, &who, site, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v1/sites/{site}/media-folders", tag = "media", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<FolderView>), (status = 404, body = ErrorBody)))]
pub async fn list_folders(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaRead>,
    site: Path<Uuid>,
    params: ListParams,
) -> ApiResult<web::Json<Page<FolderView>>> {
    Ok(web::Json(folders::list(&ctx, &who, *site, &params).await?))
}

#[utoipa::path(post, path = "/v1/sites/{site}/media-folders", tag = "media", security(("bearer" = [])), request_body = FolderPayload,
    responses((status = 201, body = FolderView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Name taken", body = ErrorBody)))]
pub async fn create_folder(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaWrite>,
    site: Path<Uuid>,
    Json(payload): Json<FolderPayload>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(folders::create(&ctx, &who, *site, payload).await?))
}

/// Rename or move (`parentId`; null = top level).
#[utoipa::path(patch, path = "/v1/sites/{site}/media-folders/{id}", tag = "media", security(("bearer" = [])), request_body = FolderPatch,
    responses((status = 200, body = FolderView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_folder(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaWrite>,
    path: Path<(Uuid, Uuid)>,
    Json(patch): Json<FolderPatch>,
) -> ApiResult<web::Json<FolderView>> {
    let (site, id) = path.into_inner();
    Ok(web::Json(folders::update(&ctx, &who, site, id, patch).await?))
}

#[utoipa::path(delete, path = "/v1/sites/{site}/media-folders/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "Not empty", body = ErrorBody)))]
pub async fn delete_folder(
    ctx: Data<AppContext>,
    Require(who, _): Require<MediaWrite>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    folders::delete(&ctx, &who, site, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
