//! Resolved principals for a few seconds, so an authenticated request costs no queries when the
//! same credential called recently. Correctness rests on one generation number: any change to
//! who may do what (a write to an identity endpoint on any node, heard through the signal
//! channel) moves it, and an entry is only used under the generation it was resolved in. The
//! generation is read *before* the database, so a resolution that raced a change is never kept.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Principal;

/// Bounds what a change made outside the HTTP API (the admin CLI, a lost signal) can leave.
const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    credential: [u8; 32],
    tenant_choice: Option<Uuid>,
}

struct Entry {
    generation: u64,
    until: Instant,
    principal: Principal,
}

#[derive(Default)]
pub struct PrincipalCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<Key, Entry>>,
}

/// A lookup's ticket: the key and the generation seen before resolving.
pub struct Ticket {
    key: Key,
    generation: u64,
}

impl PrincipalCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached principal for this credential and tenant choice, or a ticket to store the one
    /// about to be resolved.
    pub fn get(&self, bearer: &str, tenant_choice: Option<Uuid>) -> Result<Principal, Ticket> {
        use sha2::Digest;
        let key = Key { credential: sha2::Sha256::digest(bearer.as_bytes()).into(), tenant_choice };
        let generation = self.generation.load(Ordering::Acquire);
        match self.entries().get(&key) {
            Some(e) if e.generation == generation && e.until > Instant::now() => Ok(e.principal.clone()),
            _ => Err(Ticket { key, generation }),
        }
    }

    /// Keeps a principal resolved under `ticket` until `until` (at most the TTL), unless the
    /// generation moved meanwhile.
    pub fn put(&self, ticket: Ticket, principal: &Principal, until: Option<Instant>) {
        let now = Instant::now();
        let until = until.map_or(now + TTL, |u| u.min(now + TTL));
        let mut entries = self.entries();
        if self.generation.load(Ordering::Acquire) != ticket.generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.until > now && e.generation == ticket.generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(ticket.key, Entry { generation: ticket.generation, until, principal: principal.clone() });
    }

    /// Something about identities changed: nothing cached before counts any more.
    pub fn invalidate(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

/// Writes that change who may do what: sessions, passwords, keys, memberships, groups,
/// tenants, approvals. The response of any of these (when it succeeded) invalidates every
/// node's cache.
pub fn changes_identities(method: &str, path: &str) -> bool {
    if matches!(method, "GET" | "HEAD" | "OPTIONS") {
        return false;
    }
    const PREFIXES: [&str; 7] =
        ["/v1/auth/", "/v1/api-keys", "/v1/members", "/v1/groups", "/v1/tenants", "/v1/waitlist/", "/v1/invites"];
    PREFIXES.iter().any(|p| path.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::identity::Credential;

    fn principal() -> Principal {
        Principal {
            credential: Credential::User { session: Uuid::now_v7() },
            user_id: Some(Uuid::now_v7()),
            is_superadmin: false,
            tenant: None,
            ip: None,
            request_id: None,
        }
    }

    #[test]
    fn a_resolution_that_raced_a_change_is_not_kept() {
        let cache = PrincipalCache::default();
        let Err(ticket) = cache.get("token", None) else { panic!("empty cache") };
        cache.put(ticket, &principal(), None);
        assert!(cache.get("token", None).is_ok());
        assert!(cache.get("token", Some(Uuid::now_v7())).is_err(), "per tenant choice");
        assert!(cache.get("other", None).is_err());

        let Err(racing) = cache.get("late", None) else { panic!() };
        cache.invalidate();
        assert!(cache.get("token", None).is_err(), "invalidated");
        cache.put(racing, &principal(), None);
        assert!(cache.get("late", None).is_err(), "resolved before the change: not kept");

        let Err(expiring) = cache.get("key", None) else { panic!() };
        cache.put(expiring, &principal(), Some(Instant::now()));
        assert!(cache.get("key", None).is_err(), "an API key's expiry bounds its entry");
    }

    #[test]
    fn identity_writes_are_recognised() {
        assert!(changes_identities("POST", "/v1/auth/logout"));
        assert!(changes_identities("DELETE", "/v1/api-keys/x"));
        assert!(changes_identities("PATCH", "/v1/members/x"));
        assert!(changes_identities("POST", "/v1/tenants/x/suspend"));
        assert!(!changes_identities("GET", "/v1/members"));
        assert!(!changes_identities("POST", "/v1/knowledge-bases"));
    }
}
