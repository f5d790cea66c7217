//! Chat turns in flight on this node, so `POST /v1/chat/{id}/cancel` can stop one.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;
use uuid::Uuid;

#[derive(Default)]
pub struct Turns {
    running: Mutex<HashMap<Uuid, watch::Sender<bool>>>,
}

impl Turns {
    /// Registers a turn; the receiver flips to `true` when it is cancelled.
    pub fn start(&self, message_id: Uuid) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        self.lock().insert(message_id, tx);
        rx
    }

    pub fn finish(&self, message_id: Uuid) {
        self.lock().remove(&message_id);
    }

    /// Whether the turn was running here (and is now told to stop).
    pub fn cancel(&self, message_id: Uuid) -> bool {
        self.lock().get(&message_id).is_some_and(|tx| tx.send(true).is_ok())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, watch::Sender<bool>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
