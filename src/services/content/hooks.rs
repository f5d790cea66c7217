//! What follows a committed content change: the site's public cache is dropped and the public
//! search index of the affected translation groups is rebuilt from the database (so the index
//! is right whatever order changes commit in), on this node at once and on every other node
//! when it hears the signal. Failures here are logged, never returned: the change itself is
//! saved, and `POST /v1/sites/{site}/search/reindex` repairs the index.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{content_type, entry, site};

use crate::app::context::AppContext;
use crate::platform::coordination::Signal;
use crate::platform::tenancy::in_tenant;
use crate::services::content::entries::{split_tags, Status};
use crate::services::content::fields;
use crate::services::content::site_index::IndexedEntry;
use crate::services::identity::sites::SiteView;

pub async fn entries_changed(ctx: &AppContext, changed: &[entry::Model]) {
    let sites: Vec<Uuid> = changed.iter().map(|e| e.site_id).collect::<BTreeSet<_>>().into_iter().collect();
    let groups: Vec<Uuid> = changed.iter().map(|e| e.translation_group).collect::<BTreeSet<_>>().into_iter().collect();
    apply_entries_changed(ctx, &sites, &groups).await;
    tell_other_nodes(ctx, Signal::ContentChanged { sites, groups }).await;
    for e in changed {
        crate::services::content::kb_sync::entry_changed(ctx, e).await;
    }
}

/// This node's share of a content change (made here or heard from another node).
pub async fn apply_entries_changed(ctx: &AppContext, sites: &[Uuid], groups: &[Uuid]) {
    for site in sites {
        ctx.content.public_cache.invalidate(*site);
    }
    if let Err(error) = reindex_groups(ctx, groups).await {
        tracing::warn!(%error, "updating the public search index failed; reindex the site to repair it");
    }
}

/// Other nodes act on `signal` when they hear it; this node already did.
pub async fn tell_other_nodes(ctx: &AppContext, signal: Signal) {
    if let Err(error) = ctx.coordination.publish(&signal).await {
        tracing::warn!(%error, ?signal, "other nodes did not hear of a change; they catch up when they reconnect");
    }
}

pub async fn entry_deleted(ctx: &AppContext, deleted: &entry::Model) {
    entries_changed(ctx, std::slice::from_ref(deleted)).await;
}

pub async fn site_changed(ctx: &AppContext, site_id: Uuid) {
    ctx.content.public_cache.invalidate(site_id);
    tell_other_nodes(ctx, Signal::SiteChanged { site_id }).await;
}

/// A content type's fields changed: its published entries are indexed again.
pub async fn type_changed(ctx: &AppContext, tenant_id: Uuid, type_id: Uuid) {
    apply_type_changed(ctx, tenant_id, type_id).await;
    tell_other_nodes(ctx, Signal::TypeChanged { tenant_id, type_id }).await;
}

pub async fn apply_type_changed(ctx: &AppContext, tenant_id: Uuid, type_id: Uuid) {
    ctx.content.public_cache.invalidate_all();
    let groups = in_tenant::<entry::Entity>(tenant_id)
        .filter(entry::Column::ContentTypeId.eq(type_id))
        .filter(entry::Column::Status.eq(Status::Published.as_str()))
        .all(&ctx.db)
        .await;
    match groups {
        Ok(rows) => {
            let groups: BTreeSet<Uuid> = rows.iter().map(|e| e.translation_group).collect();
            let groups: Vec<Uuid> = groups.into_iter().collect();
            for chunk in groups.chunks(500) {
                if let Err(error) = reindex_groups(ctx, chunk).await {
                    tracing::warn!(%error, "re-indexing entries after a type change failed");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "listing entries after a type change failed"),
    }
}

async fn reindex_groups(ctx: &AppContext, groups: &[Uuid]) -> anyhow::Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let rows = entry::Entity::find()
        .filter(entry::Column::TranslationGroup.is_in(groups.to_vec()))
        .filter(entry::Column::Status.eq(Status::Published.as_str()))
        .all(&ctx.db)
        .await?;
    let documents = documents(ctx, rows).await?;
    let index = ctx.engines()?.site_index.clone();
    let groups = groups.to_vec();
    tokio::task::spawn_blocking(move || index.replace_groups(&groups, &documents)).await??;
    Ok(())
}

/// Index documents for published entries (all variants of their groups must be in `rows` for
/// the locale fallback to be right).
pub async fn documents(ctx: &AppContext, rows: Vec<entry::Model>) -> anyhow::Result<Vec<IndexedEntry>> {
    let site_ids: Vec<Uuid> = rows.iter().map(|e| e.site_id).collect::<BTreeSet<_>>().into_iter().collect();
    let type_ids: Vec<Uuid> = rows.iter().map(|e| e.content_type_id).collect::<BTreeSet<_>>().into_iter().collect();
    let sites: HashMap<Uuid, SiteView> = site::Entity::find()
        .filter(site::Column::Id.is_in(site_ids))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|s| (s.id, SiteView::from(s)))
        .collect();
    let defs: HashMap<Uuid, Vec<fields::FieldDef>> = content_type::Entity::find()
        .filter(content_type::Column::Id.is_in(type_ids))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|t| (t.id, crate::services::content::types::defs(&t)))
        .collect();
    let mut published_locales: HashMap<Uuid, Vec<String>> = HashMap::new();
    for e in &rows {
        published_locales.entry(e.translation_group).or_default().push(e.locale.clone());
    }
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let Some(site) = sites.get(&e.site_id) else { continue };
        let mut locales = vec![e.locale.clone()];
        if e.locale == site.default_locale {
            let present = published_locales.get(&e.translation_group).cloned().unwrap_or_default();
            locales.extend(site.locales.iter().filter(|l| !present.contains(l)).cloned());
        }
        let body = defs.get(&e.content_type_id).map(|d| fields::plain_text(d, &e.data)).unwrap_or_default();
        out.push(IndexedEntry {
            entry_id: e.id,
            tenant_id: e.tenant_id,
            site_id: e.site_id,
            group: e.translation_group,
            locales,
            locale: e.locale,
            kind: e.type_api_id,
            slug: e.slug,
            title: e.title,
            body,
            tags: split_tags(&e.tags),
            published_at: e.published_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        });
    }
    Ok(out)
}
