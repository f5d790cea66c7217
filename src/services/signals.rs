//! What a node does when it hears a signal from any node (see
//! [`crate::platform::coordination`]): stop a chat turn it runs, forget limits it cached.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use crate::app::context::AppContext;
use crate::platform::coordination::Signal;

/// Relays the shared channel and acts on what is heard, for the life of the process.
pub fn spawn_listener(ctx: Arc<AppContext>) {
    let mut heard = ctx.coordination.subscribe();
    let relay = ctx.clone();
    tokio::spawn(async move { relay.coordination.relay().await });
    tokio::spawn(async move {
        loop {
            match heard.recv().await {
                Ok(signal) => act(&ctx, signal).await,
                // Too slow for a burst: what was dropped were cache drops and cancels, which
                // the TTLs and the canceller's fallback cover.
                Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "signals were dropped"),
                Err(RecvError::Closed) => return,
            }
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
        Signal::TenantLimitsChanged { tenant_id } => ctx.rate_limits.forget_tenant(tenant_id),
        Signal::TurnCancelling { .. } => {}
    }
}
