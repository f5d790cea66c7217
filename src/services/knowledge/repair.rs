//! Keeping the derived indexes in step with the chunk rows (the source of truth).
//!
//! - [`rebuild`] (`lectern reindex`): rewrites tantivy and the vectors of the chosen documents
//!   from their chunk rows, re-embedding the text.
//! - [`check_at_startup`]: compares the totals of the three stores; when they disagree (a crash
//!   between index writes, an index restored from an old backup), each ready document whose
//!   counts differ is queued for re-ingestion, which starts by clearing its index entries.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use entity::document::DocumentStatus;
use entity::{chunk, document};

use crate::app::context::AppContext;
use crate::app::engines::Engines;
use crate::engines::lexical::ChunkText;
use crate::engines::vectors::VectorPoint;
use crate::platform::jobs::{self, JobKind};

/// Counts of what each store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub rows: u64,
    pub fulltext: u64,
    pub vectors: u64,
}

pub async fn totals(ctx: &AppContext, engines: &Engines) -> anyhow::Result<Totals> {
    let rows = chunk::Entity::find().count(&ctx.db).await?;
    let fulltext = engines.lexical.count(None).await?;
    let vectors = engines.vectors.count(None).await?;
    Ok(Totals { rows, fulltext, vectors })
}

/// Queues a repair when the stores disagree; returns the totals it found.
pub async fn check_at_startup(ctx: &AppContext, engines: &Engines) -> anyhow::Result<Totals> {
    let found = totals(ctx, engines).await?;
    if found.rows == found.fulltext && found.rows == found.vectors {
        return Ok(found);
    }
    let ready =
        document::Entity::find().filter(document::Column::Status.eq(DocumentStatus::Ready)).all(&ctx.db).await?;
    let mut repairs = 0;
    for doc in ready {
        let rows = u64::try_from(doc.chunk_count).unwrap_or(0);
        let in_fulltext = engines.lexical.count_document(doc.tenant_id, doc.id).await?;
        let in_vectors = engines.vectors.count_document(doc.tenant_id, doc.id).await?;
        if in_fulltext != rows || in_vectors != rows {
            jobs::enqueue(&ctx.db, doc.tenant_id, JobKind::IngestDocument, doc.id).await?;
            repairs += 1;
        }
    }
    // Entries of documents still being processed are cleaned by their own retry; anything
    // else left over (deleted documents) needs `lectern reindex`.
    tracing::warn!(
        rows = found.rows,
        fulltext = found.fulltext,
        vectors = found.vectors,
        repairs,
        "search indexes disagree with the chunk rows; re-ingesting the documents that differ"
    );
    Ok(found)
}

/// What the lexical index holds for a document's chunk rows.
pub fn chunk_texts(doc: &document::Model, rows: &[chunk::Model]) -> Vec<ChunkText> {
    rows.iter()
        .map(|c| ChunkText {
            chunk_id: c.id,
            tenant_id: c.tenant_id,
            kb_id: c.kb_id,
            document_id: c.document_id,
            text: c.text.clone(),
            context: ChunkText::context_of(
                &doc.title,
                &serde_json::from_value::<Vec<String>>(c.headings.clone()).unwrap_or_default(),
            ),
        })
        .collect()
}

/// Adds a document's chunk rows to the lexical index, and their languages to its knowledge
/// base's (an index made before languages were detected learns them here).
async fn add_lexical(
    ctx: &AppContext,
    engines: &Engines,
    doc: &document::Model,
    rows: &[chunk::Model],
) -> anyhow::Result<()> {
    let texts = chunk_texts(doc, rows);
    let languages = super::languages::detect(texts.iter().map(|t| t.text.clone()).collect()).await;
    engines.lexical.add(texts).await?;
    super::languages::record(&ctx.db, doc.tenant_id, doc.kb_id, &languages).await?;
    Ok(())
}

/// Rewrites one document's lexical entries from its chunk rows (after a title change, or to
/// refill a recreated index). No embedding needed.
pub async fn refresh_fulltext(ctx: &AppContext, engines: &Engines, doc: &document::Model) -> anyhow::Result<usize> {
    let rows = chunk::Entity::find()
        .filter(chunk::Column::DocumentId.eq(doc.id))
        .order_by_asc(chunk::Column::Idx)
        .all(&ctx.db)
        .await?;
    engines.lexical.delete_document(doc.tenant_id, doc.id).await?;
    add_lexical(ctx, engines, doc, &rows).await?;
    Ok(rows.len())
}

/// Refills a lexical index that was recreated (a schema upgrade) from the chunk rows of every
/// ready document, before the startup check compares the stores.
pub async fn rebuild_fulltext(ctx: &AppContext, engines: &Engines) -> anyhow::Result<usize> {
    let docs = document::Entity::find().filter(document::Column::Status.eq(DocumentStatus::Ready)).all(&ctx.db).await?;
    let mut written = 0;
    for doc in &docs {
        written += refresh_fulltext(ctx, engines, doc).await?;
    }
    tracing::info!(documents = docs.len(), chunks = written, "search index rebuilt from the chunk rows");
    Ok(written)
}

/// Rewrites both indexes for the ready documents (of one knowledge base, or all) from their
/// chunk rows. `progress` is told (done, total) after each document.
pub async fn rebuild(
    ctx: &AppContext,
    engines: &Engines,
    kb: Option<Uuid>,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<usize> {
    let mut select = document::Entity::find()
        .filter(document::Column::Status.eq(DocumentStatus::Ready))
        .order_by_asc(document::Column::CreatedAt);
    if let Some(kb) = kb {
        select = select.filter(document::Column::KbId.eq(kb));
    }
    let docs = select.all(&ctx.db).await?;
    let embedder = engines.embedder().await?;
    let mut written = 0;
    for (n, doc) in docs.iter().enumerate() {
        let rows = chunk::Entity::find()
            .filter(chunk::Column::DocumentId.eq(doc.id))
            .order_by_asc(chunk::Column::Idx)
            .all(&ctx.db)
            .await?;
        crate::services::knowledge::pipeline::remove_from_indexes(engines, doc.tenant_id, doc.id).await?;
        add_lexical(ctx, engines, doc, &rows).await?;
        let inputs = chunk_texts(doc, &rows)
            .into_iter()
            .map(|c| {
                crate::services::knowledge::pipeline::embedding_input(ctx.settings.embed_context, &c.context, &c.text)
            })
            .collect();
        let vectors = embedder.embed(inputs).await?;
        let points = rows
            .iter()
            .zip(vectors)
            .map(|(c, vector)| VectorPoint {
                chunk_id: c.id,
                tenant_id: c.tenant_id,
                kb_id: c.kb_id,
                document_id: c.document_id,
                vector,
            })
            .collect();
        engines.vectors.upsert(points).await?;
        written += rows.len();
        progress(n + 1, docs.len());
    }
    Ok(written)
}
