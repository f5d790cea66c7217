//! The application's side of background jobs: what each [`JobKind`] runs and what happens when
//! it ends ([`runner`]), and the tenant's jobs as the API shows them, each readable with the
//! permission of its own area ([`views`]).
//!
//! [`JobKind`]: crate::platform::jobs::JobKind

pub mod runner;
pub mod views;

use std::sync::Arc;

use crate::app::context::AppContext;
use crate::platform::jobs::worker;

/// Starts `LECTERN_WORKERS` workers on the current runtime.
pub fn spawn_pool(ctx: Arc<AppContext>) {
    let count = ctx.settings.workers;
    worker::spawn_pool(ctx, count);
}

/// Tells idle workers that a job was queued.
pub fn wake(ctx: &AppContext) {
    ctx.signals.jobs.notify_waiters();
}
