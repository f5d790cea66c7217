//! A site may name a knowledge base that mirrors its published entries, so RAG chat can answer
//! from (and cite) site content. Each published entry is one Markdown document there (source
//! `entry`, source name = entry id); unpublishing or deleting the entry removes it.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use entity::{chunk, content_type, document, entry, site};

use crate::app::context::AppContext;
use crate::platform::jobs::{self, JobKind};
use crate::platform::tenancy::in_tenant;
use crate::services::content::entries::Status;
use crate::services::content::fields;

pub async fn entry_changed(ctx: &AppContext, e: &entry::Model) {
    if let Err(error) = sync(ctx, e).await {
        tracing::warn!(entry = %e.id, %error, "mirroring the entry into the site's knowledge base failed");
    }
}

async fn sync(ctx: &AppContext, e: &entry::Model) -> anyhow::Result<()> {
    let Some(site) = site::Entity::find_by_id(e.site_id).one(&ctx.db).await? else { return Ok(()) };
    let Some(kb_id) = site.knowledge_base_id else { return Ok(()) };
    let current = entry::Entity::find_by_id(e.id).one(&ctx.db).await?;
    let existing = in_tenant::<document::Entity>(e.tenant_id)
        .filter(document::Column::KbId.eq(kb_id))
        .filter(document::Column::SourceKind.eq("entry"))
        .filter(document::Column::SourceName.eq(e.id.to_string()))
        .one(&ctx.db)
        .await?;
    let markdown = match &current {
        Some(live) if live.status == Status::Published.as_str() => Some(render(ctx, live).await?),
        _ => None,
    };
    let sha256 = markdown.as_ref().map(|m| crate::engines::blobs::BlobStore::sha256(m.as_bytes()));
    if let (Some(doc), Some(sha)) = (&existing, &sha256) {
        if &doc.sha256 == sha {
            return Ok(());
        }
    }
    let engines = ctx.engines()?;
    if let Some(doc) = existing {
        let txn = crate::engines::store::begin_write(&ctx.db).await?;
        chunk::Entity::delete_many().filter(chunk::Column::DocumentId.eq(doc.id)).exec(&txn).await?;
        document::Entity::delete_by_id(doc.id).exec(&txn).await?;
        txn.commit().await?;
        crate::services::knowledge::pipeline::remove_from_indexes(engines, e.tenant_id, doc.id)
            .await
            .map_err(|f| anyhow::anyhow!(f.to_string()))?;
    }
    let (Some(markdown), Some(sha256), Some(live)) = (markdown, sha256, current) else { return Ok(()) };
    engines.blobs.put(markdown.as_bytes()).await?;
    let now = Utc::now();
    let txn = crate::engines::store::begin_write(&ctx.db).await?;
    let doc = document::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(live.tenant_id),
        kb_id: Set(kb_id),
        title: Set(live.title.clone()),
        source_kind: Set("entry".to_owned()),
        source_name: Set(Some(live.id.to_string())),
        kind: Set(Some(crate::engines::parse::DocumentKind::Markdown.as_str().to_owned())),
        bytes: Set(i64::try_from(markdown.len()).unwrap_or(i64::MAX)),
        sha256: Set(sha256),
        status: Set(entity::document::DocumentStatus::Queued),
        error: Set(None),
        pages: Set(None),
        chunk_count: Set(0),
        parse: Set(None),
        metadata: Set(serde_json::json!({
            "entryId": live.id, "siteId": live.site_id, "type": live.type_api_id, "locale": live.locale, "slug": live.slug
        })),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    jobs::enqueue(&txn, live.tenant_id, JobKind::IngestDocument, doc.id).await?;
    txn.commit().await?;
    crate::services::jobs::wake(ctx);
    Ok(())
}

/// The entry as Markdown: its title as the heading, then its text fields.
async fn render(ctx: &AppContext, e: &entry::Model) -> anyhow::Result<String> {
    let defs = content_type::Entity::find_by_id(e.content_type_id)
        .one(&ctx.db)
        .await?
        .map(|t| crate::services::content::types::defs(&t))
        .unwrap_or_default();
    let mut out = format!("# {}\n\n", e.title);
    for field in defs.iter().filter(|f| matches!(f.kind, fields::FieldKind::Text | fields::FieldKind::RichText)) {
        match e.data.get(&field.name) {
            Some(serde_json::Value::String(text)) => {
                out.push_str(text);
                out.push_str("\n\n");
            }
            Some(other) if !other.is_null() => {
                out.push_str(&fields::plain_text(std::slice::from_ref(field), &e.data));
                out.push_str("\n\n");
            }
            _ => {}
        }
    }
    Ok(out)
}
