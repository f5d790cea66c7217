//! Context around hits: small chunks find the right place, but an answer often needs the
//! sentences around it. When a context block has budget left, each source grows with the
//! chunks next to it in the same section (same heading path), best source first, one chunk per
//! side per round, while the budget lasts; a neighbour that is itself a source is not repeated.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, Condition, QueryFilter};
use uuid::Uuid;

use entity::chunk;

use super::prompt_context::{estimate, ContextBlock};
use crate::app::context::AppContext;
use crate::error::ApiResult;
use crate::platform::tenancy::in_tenant;

/// Chunks added on each side of a source, at most.
const RADIUS: i32 = 2;

/// Grows the sources of `block` with their neighbouring chunks within `max_tokens`.
pub async fn expand(ctx: &AppContext, tenant_id: Uuid, block: &mut ContextBlock, max_tokens: usize) -> ApiResult<()> {
    if block.sources.is_empty() || block.tokens + 20 >= max_tokens {
        return Ok(());
    }
    let ids: Vec<Uuid> = block.sources.iter().map(|s| s.chunk_id).collect();
    let own: HashMap<Uuid, chunk::Model> = in_tenant::<chunk::Entity>(tenant_id)
        .filter(chunk::Column::Id.is_in(ids.clone()))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut around = Condition::any();
    for c in own.values() {
        around = around.add(
            Condition::all()
                .add(chunk::Column::DocumentId.eq(c.document_id))
                .add(chunk::Column::Idx.between(c.idx - RADIUS, c.idx + RADIUS)),
        );
    }
    let rows: HashMap<(Uuid, i32), chunk::Model> = in_tenant::<chunk::Entity>(tenant_id)
        .filter(around)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|c| ((c.document_id, c.idx), c))
        .collect();
    let mut used: HashSet<Uuid> = ids.into_iter().collect();
    // Per source: the chunk range its text covers, or None when it has no chunk row any more.
    let mut spans: Vec<Option<(Uuid, i32, i32, serde_json::Value)>> = block
        .sources
        .iter()
        .map(|s| own.get(&s.chunk_id).map(|c| (c.document_id, c.idx, c.idx, c.headings.clone())))
        .collect();
    let mut room = max_tokens - block.tokens;
    for _ in 0..RADIUS {
        for (source, span) in block.sources.iter_mut().zip(spans.iter_mut()) {
            let Some((document, first, last, headings)) = span.as_mut() else { continue };
            for before in [true, false] {
                let idx = if before { *first - 1 } else { *last + 1 };
                let Some(next) = rows.get(&(*document, idx)) else { continue };
                let cost = usize::try_from(next.tokens).unwrap_or(0).max(estimate(&next.text) / 2);
                if next.headings != *headings || used.contains(&next.id) || cost > room {
                    continue;
                }
                used.insert(next.id);
                room -= cost;
                if before {
                    source.text = format!("{}\n{}", next.text, source.text);
                    *first = idx;
                } else {
                    source.text = format!("{}\n{}", source.text, next.text);
                    *last = idx;
                }
                source.pages.extend(serde_json::from_value::<Vec<u32>>(next.pages.clone()).unwrap_or_default());
            }
        }
    }
    for source in &mut block.sources {
        source.pages.sort_unstable();
        source.pages.dedup();
    }
    block.tokens = max_tokens - room;
    block.context = block.render();
    Ok(())
}
