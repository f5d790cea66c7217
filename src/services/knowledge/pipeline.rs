//! Ingesting one document: parse → chunk → embed → write both indexes → commit chunk rows and
//! mark the document ready. Safe to repeat at every step: it starts by removing whatever an
//! earlier attempt left in the indexes, and the rows are committed last, so a crash at any
//! point leaves either the old state or the new one, never a mix that searches would see.

use std::time::Duration;

use chrono::Utc;
use futures_util::{stream, StreamExt};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use entity::document::DocumentStatus;
use entity::{chunk, document, job, knowledge_base};

use crate::platform::tenancy::by_id_in_tenant;
use crate::services::webhooks::events;

use crate::app::context::AppContext;
use crate::app::engines::Engines;
use crate::engines::chunk::ChunkConfig;
use crate::engines::embed::EmbedError;
use crate::engines::lexical::ChunkText;
use crate::engines::parse::{self, DocumentKind, Limits};
use crate::engines::vectors::VectorPoint;
use crate::platform::jobs::{self, JobError};

/// Texts per embedding call; progress is reported after each.
const EMBED_BATCH: usize = 32;
/// A parser that runs longer than this on one document is abandoned.
const PARSE_TIMEOUT: Duration = Duration::from_secs(300);

/// The text a chunk is embedded as: its own, or with its place in the document in front
/// (`LECTERN_EMBED_CONTEXT`), so a chunk that never names its subject still carries it.
pub fn embedding_input(with_context: bool, context: &str, text: &str) -> String {
    if with_context && !context.trim().is_empty() {
        format!("{context}\n\n{text}")
    } else {
        text.to_owned()
    }
}

pub async fn remove_from_indexes(engines: &Engines, tenant_id: Uuid, document_id: Uuid) -> Result<(), JobError> {
    engines.lexical.delete_document(tenant_id, document_id).await.map_err(JobError::transient)?;
    engines.vectors.delete_document(tenant_id, document_id).await.map_err(JobError::transient)
}

async fn set_status(
    ctx: &AppContext,
    id: Uuid,
    status: DocumentStatus,
    error: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    document::Entity::update_many()
        .col_expr(document::Column::Status, Expr::value(status))
        .col_expr(document::Column::Error, Expr::value(error.map(str::to_owned)))
        .col_expr(document::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(document::Column::Id.eq(id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

pub async fn report(
    ctx: &AppContext,
    job: &job::Model,
    stage: &str,
    done: usize,
    total: usize,
) -> Result<(), JobError> {
    let alive = jobs::progress(
        &ctx.db,
        job.id,
        stage,
        i64::try_from(done).unwrap_or(i64::MAX),
        i64::try_from(total).unwrap_or(i64::MAX),
        jobs::lease(&ctx.settings),
    )
    .await?;
    if alive {
        Ok(())
    } else {
        Err(JobError::Cancelled)
    }
}

/// Runs `work` while renewing `job`'s lease every third of it (reporting `stage` as it stands),
/// so that waiting, for a parse slot or for the shared embedder, never lets another worker take
/// the job over; a job cancelled meanwhile ends with [`JobError::Cancelled`].
async fn renewing_lease<T>(
    ctx: &AppContext,
    job: &job::Model,
    stage: &str,
    done: usize,
    total: usize,
    work: impl std::future::Future<Output = T>,
) -> Result<T, JobError> {
    tokio::pin!(work);
    let mut heartbeat = tokio::time::interval(ctx.settings.job_lease / 3);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return Ok(out),
            _ = heartbeat.tick() => report(ctx, job, stage, done, total).await?,
        }
    }
}

/// Runs one ingestion attempt for `job` (kind `ingest_document`).
pub async fn ingest(ctx: &AppContext, job: &job::Model) -> Result<(), JobError> {
    let engines = ctx.engines().map_err(|_| JobError::transient("engines are not open yet"))?;
    let Some(document_id) = job.target_id else { return Err(JobError::permanent("the job names no document")) };
    let Some(doc) = by_id_in_tenant::<document::Entity>(job.tenant_id, document_id).one(&ctx.db).await? else {
        return Ok(()); // deleted meanwhile: nothing left to do
    };
    let kb = knowledge_base::Entity::find_by_id(doc.kb_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| JobError::permanent("the knowledge base was deleted"))?;
    set_status(ctx, doc.id, DocumentStatus::Processing, None).await?;

    // An earlier attempt, or an earlier ingestion of this document, may have written to the
    // indexes: start clean. A first attempt at a never-indexed document skips the index
    // commits this costs, which dominate the time of short documents.
    let never_indexed = job.attempts <= 1 && doc.chunk_count == 0 && doc.status == DocumentStatus::Queued;
    if !never_indexed {
        remove_from_indexes(engines, doc.tenant_id, doc.id).await?;
    }
    report(ctx, job, "parsing", 0, 0).await?;
    let parsed = parse_stored(ctx, engines, &doc, Some(job)).await?;
    let parse_report = serde_json::to_value(parsed.report()).ok();

    let embedder = engines.embedder().await.map_err(|e| match e {
        EmbedError::Unavailable(m) => JobError::permanent(format!("the embedding model is unavailable: {m}")),
        other => JobError::transient(other),
    })?;
    report(ctx, job, "chunking", 0, 0).await?;
    let config = ChunkConfig {
        max_tokens: usize::try_from(kb.chunk_max_tokens).unwrap_or(200),
        overlap_tokens: usize::try_from(kb.chunk_overlap_tokens).unwrap_or(0),
    };
    let pages = parsed.pages;
    let counter_source = embedder.clone();
    let pieces =
        tokio::task::spawn_blocking(move || crate::engines::chunk::chunk(&parsed, &config, counter_source.tokens()))
            .await
            .map_err(|e| JobError::permanent(format!("chunking failed: {e}")))?;
    if pieces.is_empty() {
        return Err(JobError::permanent("the document has no text"));
    }

    let total = pieces.len();
    report(ctx, job, "embedding", 0, total).await?;
    // Two requests in flight keep the model busy while a result is reported; the embedder
    // joins them with other documents' texts into its calls.
    let with_context = ctx.settings.embed_context;
    let calls: Vec<Vec<String>> = pieces
        .chunks(EMBED_BATCH)
        .map(|batch| {
            batch
                .iter()
                .map(|c| embedding_input(with_context, &ChunkText::context_of(&doc.title, &c.headings), &c.text))
                .collect()
        })
        .collect();
    let mut embedding = stream::iter(calls)
        .map(|texts| {
            let embedder = embedder.clone();
            async move { embedder.embed(texts).await }
        })
        .buffered(2);
    let mut vectors = Vec::with_capacity(total);
    // With many documents in flight a request can wait behind many others' texts.
    while let Some(embedded) = renewing_lease(ctx, job, "embedding", vectors.len(), total, embedding.next()).await? {
        vectors.extend(embedded.map_err(JobError::transient)?);
        report(ctx, job, "embedding", vectors.len(), total).await?;
    }
    drop(embedding);

    report(ctx, job, "indexing", total, total).await?;
    let ids: Vec<Uuid> = pieces.iter().map(|_| Uuid::now_v7()).collect();
    let texts: Vec<ChunkText> = pieces
        .iter()
        .zip(&ids)
        .map(|(c, id)| ChunkText {
            chunk_id: *id,
            tenant_id: doc.tenant_id,
            kb_id: doc.kb_id,
            document_id: doc.id,
            text: c.text.clone(),
            context: ChunkText::context_of(&doc.title, &c.headings),
        })
        .collect();
    let points = ids
        .iter()
        .zip(vectors)
        .map(|(id, vector)| VectorPoint {
            chunk_id: *id,
            tenant_id: doc.tenant_id,
            kb_id: doc.kb_id,
            document_id: doc.id,
            vector,
        })
        .collect();
    // Chunk rows are committed only after both indexes hold the chunks durably; the two
    // commits run side by side, each shared with the other documents in flight.
    let languages = super::languages::detect(texts.iter().map(|t| t.text.clone()).collect());
    let (committed, upserted, languages) =
        tokio::join!(engines.lexical.add(texts), engines.vectors.upsert(points), languages);
    committed.map_err(JobError::transient)?;
    upserted.map_err(JobError::transient)?;
    super::languages::record(&ctx.db, doc.tenant_id, doc.kb_id, &languages).await?;

    let now = Utc::now();
    let txn = ctx.db.begin().await?;
    chunk::Entity::delete_many().filter(chunk::Column::DocumentId.eq(doc.id)).exec(&txn).await?;
    let rows = pieces.iter().zip(&ids).map(|(c, id)| chunk::ActiveModel {
        id: Set(*id),
        tenant_id: Set(doc.tenant_id),
        kb_id: Set(doc.kb_id),
        document_id: Set(doc.id),
        idx: Set(i32::try_from(c.index).unwrap_or(i32::MAX)),
        text: Set(c.text.clone()),
        pages: Set(serde_json::json!(c.pages)),
        headings: Set(serde_json::json!(c.headings)),
        start_char: Set(i32::try_from(c.start).unwrap_or(i32::MAX)),
        end_char: Set(i32::try_from(c.end).unwrap_or(i32::MAX)),
        tokens: Set(i32::try_from(c.tokens).unwrap_or(i32::MAX)),
        created_at: Set(now),
    });
    // Large documents: insert in slices so no statement exceeds the driver's parameter limit.
    let rows: Vec<chunk::ActiveModel> = rows.collect();
    for slice in rows.chunks(500) {
        chunk::Entity::insert_many(slice.to_vec()).exec(&txn).await?;
    }
    let mut active: document::ActiveModel = doc.clone().into();
    active.status = Set(DocumentStatus::Ready);
    active.error = Set(None);
    active.pages = Set(pages.and_then(|p| i32::try_from(p).ok()));
    active.chunk_count = Set(i32::try_from(total).unwrap_or(i32::MAX));
    active.parse = Set(parse_report);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let ingested = events::DocumentIngestedV1 {
        document_id: doc.id,
        knowledge_base_id: doc.kb_id,
        name: doc.title.clone(),
        chunks: total,
        pages,
    };
    events::emit(&txn, doc.tenant_id, &ingested).await?;
    txn.commit().await?;
    // A title changed while this ran is not in the index words above, and its PATCH (seeing the
    // document still processing) left the refresh to us; a later PATCH sees it ready and does it.
    if let Some(current) = document::Entity::find_by_id(doc.id).one(&ctx.db).await? {
        if current.title != doc.title {
            if let Err(error) = crate::services::knowledge::repair::refresh_fulltext(ctx, engines, &current).await {
                tracing::warn!(%error, document = %doc.id, "re-indexing the new title failed; a reindex will fix it");
            }
        }
    }
    crate::platform::telemetry::metrics::ingested(pages.map_or(0, u64::from), total as u64);
    let tokens: usize = pieces.iter().map(|c| c.tokens).sum();
    let used = crate::services::billing::prices::Quantity {
        pages: pages.map_or(1, i64::from),
        embed_tokens: i64::try_from(tokens).unwrap_or(i64::MAX),
        ..Default::default()
    };
    crate::services::billing::meter::settle_later(ctx, doc.tenant_id, doc.id, &used).await;
    Ok(())
}

/// Parses a stored document's original file (in a blocking thread, with a time limit), then
/// recognises the pages without a usable text layer (reporting "ocr" progress on `job`).
pub async fn parse_stored(
    ctx: &AppContext,
    engines: &crate::app::engines::Engines,
    doc: &document::Model,
    job: Option<&job::Model>,
) -> Result<parse::ParsedDocument, JobError> {
    let bytes = engines
        .blobs
        .get(&doc.sha256)
        .await
        .map_err(|e| JobError::permanent(format!("the stored file is missing: {e}")))?;
    let kind = DocumentKind::ALL
        .into_iter()
        .find(|k| Some(k.as_str()) == doc.kind.as_deref())
        .ok_or_else(|| JobError::permanent("unknown document type"))?;
    let limits = Limits {
        max_pages: ctx.settings.max_pages,
        max_unpacked_bytes: ctx.settings.max_unpacked_bytes,
        max_pixels: ctx.settings.max_image_pixels,
    };
    let bytes = std::sync::Arc::new(bytes);
    let input = bytes.clone();
    let parsing = async move {
        // Parsing is CPU work: as many at once as there are cores, however many documents are
        // in flight; the permit lives as long as the parse, even one abandoned on timeout.
        let permit = engines.parsing.clone().acquire_owned().await.map_err(JobError::transient)?;
        let parsing = tokio::task::spawn_blocking(move || {
            let parsed = parse::parse(&input, kind, &limits);
            drop(permit);
            parsed
        });
        tokio::time::timeout(PARSE_TIMEOUT, parsing)
            .await
            .map_err(|_| {
                JobError::permanent(format!(
                    "parsing took longer than {} s; the file may be damaged",
                    PARSE_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| JobError::permanent(format!("the parser failed: {e}")))?
            .map_err(|e| JobError::permanent(e.to_string()))
    };
    // Parses wait for a slot and a big one can outlast the lease.
    let parsed = match job {
        Some(job) => renewing_lease(ctx, job, "parsing", 0, 0, parsing).await??,
        None => parsing.await?,
    };
    let parsed = recognise(ctx, engines, doc, bytes, kind, limits, parsed, job).await?;
    parsed.finish(engines.ocr.is_some()).map_err(|e| JobError::permanent(e.to_string()))
}

/// OCR of the pages parsing could not read, one page at a time in the OCR pool (apart from
/// parsing, so a long scan never holds up other documents), in the knowledge base's languages.
#[allow(clippy::too_many_arguments)]
async fn recognise(
    ctx: &AppContext,
    engines: &crate::app::engines::Engines,
    doc: &document::Model,
    bytes: std::sync::Arc<Vec<u8>>,
    kind: DocumentKind,
    limits: Limits,
    mut parsed: parse::ParsedDocument,
    job: Option<&job::Model>,
) -> Result<parse::ParsedDocument, JobError> {
    let Some(ocr) = &engines.ocr else { return Ok(parsed) };
    if parsed.needs_ocr.is_empty() && parsed.images.is_empty() {
        return Ok(parsed);
    }
    let kb = knowledge_base::Entity::find_by_id(doc.kb_id).one(&ctx.db).await?;
    let languages: Vec<String> =
        kb.as_ref().map(super::languages::of_kb).unwrap_or_default().into_iter().map(str::to_owned).collect();
    let ocr = std::sync::Arc::new(ocr.with_languages(&languages));
    let pages = parsed.needs_ocr.clone();
    let images = std::mem::take(&mut parsed.images);
    let total = pages.len() + images.len();
    let mut done = 0;
    if !pages.is_empty() {
        let starting = ocr.clone();
        let session = tokio::task::spawn_blocking(move || starting.start(&bytes, kind))
            .await
            .map_err(|e| JobError::permanent(format!("OCR failed: {e}")))?
            .map_err(|e| JobError::transient(e.to_string()))?;
        let session = std::sync::Arc::new(session);
        for page in pages {
            let session = session.clone();
            let found = in_ocr_pool(ctx, engines, job, done, total, move || session.recognise(page, &limits)).await?;
            parsed.apply_ocr(page, found);
            done += 1;
        }
    }
    for image in images {
        let (reader, image) = (ocr.clone(), std::sync::Arc::new(image));
        let shown = image.clone();
        let found =
            in_ocr_pool(ctx, engines, job, done, total, move || reader.recognise_image(&shown.bytes, &limits)).await?;
        parsed.apply_image_ocr(&image, found);
        done += 1;
    }
    Ok(parsed)
}

/// Runs one OCR in the OCR pool (a blocking thread), reporting "ocr" progress and keeping the
/// job's lease while it waits or runs.
async fn in_ocr_pool<T: Send + 'static>(
    ctx: &AppContext,
    engines: &crate::app::engines::Engines,
    job: Option<&job::Model>,
    done: usize,
    total: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JobError> {
    let run = async {
        let permit = engines.ocr_slots.clone().acquire_owned().await.map_err(JobError::transient)?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| JobError::permanent(format!("OCR failed: {e}")))
    };
    match job {
        Some(job) => {
            report(ctx, job, "ocr", done, total).await?;
            renewing_lease(ctx, job, "ocr", done, total, run).await?
        }
        None => run.await,
    }
}

/// Marks the document failed with the reason (after the last attempt or a permanent error).
pub async fn mark_failed(ctx: &AppContext, job: &job::Model, message: &str) -> Result<(), sea_orm::DbErr> {
    let Some(id) = job.target_id else { return Ok(()) };
    set_status(ctx, id, DocumentStatus::Failed, Some(message)).await?;
    let kb = document::Entity::find_by_id(id).one(&ctx.db).await?.map(|d| d.kb_id);
    let failed = events::DocumentFailedV1 { document_id: id, knowledge_base_id: kb, error: message.to_owned() };
    events::emit(&ctx.db, job.tenant_id, &failed).await
}
