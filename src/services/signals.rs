//! What a node does when it hears a signal from another node (see
//! [`crate::platform::coordination`]): stop a chat turn it runs, forget limits it cached, bring
//! its public caches and site index up to date.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use crate::app::context::AppContext;
use crate::platform::coordination::Signal;
use crate::services::content::{hooks, site_search};

/// Relays the shared channel and acts on what other nodes say, for the life of the process.
pub fn spawn_listener(ctx: Arc<AppContext>) {
    let mut heard = ctx.coordination.subscribe();
    let relay = ctx.clone();
    tokio::spawn(async move {
        let catching_up = relay.clone();
        relay.coordination.relay(move || catch_up(catching_up.clone())).await;
    });
    tokio::spawn(async move {
        loop {
            match heard.recv().await {
                Ok(envelope) if envelope.from != ctx.coordination.node() => act(&ctx, envelope.signal).await,
                Ok(_) => {}
                // Too slow for a burst: rebuild what the dropped signals would have updated.
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "signals were dropped; rebuilding the site index");
                    catch_up(ctx.clone());
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// The node (re)joined the channel: what it missed meanwhile is in the database, so cached
/// principals are dropped and its site index and public caches are rebuilt from there (in
/// the background; they serve the old state until then).
fn catch_up(ctx: Arc<AppContext>) {
    ctx.identity.principals.invalidate();
    tokio::spawn(async move {
        if let Err(error) = site_search::rebuild(&ctx, None, None).await {
            tracing::warn!(%error, "rebuilding the site index after (re)joining the cluster failed");
        }
    });
}

async fn act(ctx: &AppContext, signal: Signal) {
    match signal {
        Signal::CancelTurn { message_id } => {
            if ctx.chat.turns.cancel(message_id) {
                let ack = Signal::TurnCancelling { message_id };
                if let Err(error) = ctx.coordination.publish(&ack).await {
                    tracing::warn!(%error, "could not confirm a cancel");
                }
            }
        }
        Signal::TurnCancelling { .. } => {}
        Signal::TenantLimitsChanged { tenant_id } => ctx.rate_limits.forget_tenant(tenant_id),
        Signal::ContentChanged { sites, groups } => hooks::apply_entries_changed(ctx, &sites, &groups).await,
        Signal::SiteChanged { site_id } => ctx.content.public_cache.invalidate(site_id),
        Signal::IdentitiesChanged => ctx.identity.principals.invalidate(),
        Signal::TypeChanged { tenant_id, type_id } => hooks::apply_type_changed(ctx, tenant_id, type_id).await,
        Signal::SiteIndexStale { site_id } => {
            if let Err(error) = site_search::rebuild(ctx, Some(site_id), None).await {
                tracing::warn!(%error, site = %site_id, "rebuilding a site's index after another node's change failed");
            }
        }
    }
}
