//! The in-process cache of public responses, per site. Any change to a site's content drops
//! the site's entries. A response computed while a change happened is not stored: each site
//! has a generation, read before the database and checked when storing.
//!
//! On several nodes each has its own cache and only its own changes invalidate it; the others
//! catch up when `Cache-Control: max-age` lets clients ask again and their entries are evicted
//! (see `LECTERN_PUBLIC_CACHE_SECS`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use uuid::Uuid;

/// A stored response body with what the headers need.
#[derive(Debug)]
pub struct Cached {
    pub body: Bytes,
    /// Strong ETag, quoted.
    pub etag: String,
    /// The same, ready to send.
    pub etag_header: HeaderValue,
    pub stored_at: Instant,
}

#[derive(Default)]
struct SiteCache {
    generation: u64,
    entries: HashMap<String, Arc<Cached>>,
    /// The site's allowed origins, for CORS without a database read.
    origins: Option<Arc<Vec<String>>>,
}

pub struct PublicCache {
    sites: RwLock<HashMap<Uuid, SiteCache>>,
    ttl: Duration,
    max_per_site: usize,
    /// `Cache-Control` of public responses, made once.
    pub cache_control: HeaderValue,
}

impl PublicCache {
    pub fn new(ttl: Duration) -> Self {
        let cache_control = match ttl.as_secs() {
            0 => HeaderValue::from_static("no-cache"),
            secs => HeaderValue::from_str(&format!("public, max-age={secs}"))
                .unwrap_or(HeaderValue::from_static("no-cache")),
        };
        Self { sites: RwLock::new(HashMap::new()), ttl, max_per_site: 10_000, cache_control }
    }

    /// A fresh entry for `key`, if any.
    pub fn get(&self, site: Uuid, key: &str) -> Option<Arc<Cached>> {
        let sites = self.sites.read().unwrap_or_else(|p| p.into_inner());
        let hit = sites.get(&site)?.entries.get(key)?;
        (hit.stored_at.elapsed() < self.ttl).then(|| hit.clone())
    }

    /// The site's generation: pass it to [`Self::put`] after reading the database.
    pub fn generation(&self, site: Uuid) -> u64 {
        let sites = self.sites.read().unwrap_or_else(|p| p.into_inner());
        sites.get(&site).map_or(0, |s| s.generation)
    }

    /// Stores the response unless the site changed since `generation` was read.
    pub fn put(&self, site: Uuid, generation: u64, key: String, value: Cached) -> Arc<Cached> {
        let value = Arc::new(value);
        let mut sites = self.sites.write().unwrap_or_else(|p| p.into_inner());
        let cache = sites.entry(site).or_default();
        if cache.generation == generation {
            if cache.entries.len() >= self.max_per_site {
                cache.entries.clear();
            }
            cache.entries.insert(key, value.clone());
        }
        value
    }

    /// Drops everything cached for the site.
    pub fn invalidate(&self, site: Uuid) {
        let mut sites = self.sites.write().unwrap_or_else(|p| p.into_inner());
        let cache = sites.entry(site).or_default();
        cache.generation += 1;
        cache.entries.clear();
        cache.origins = None;
    }

    pub fn origins(&self, site: Uuid) -> Option<Arc<Vec<String>>> {
        let sites = self.sites.read().unwrap_or_else(|p| p.into_inner());
        sites.get(&site)?.origins.clone()
    }

    pub fn put_origins(&self, site: Uuid, generation: u64, origins: Vec<String>) -> Arc<Vec<String>> {
        let origins = Arc::new(origins);
        let mut sites = self.sites.write().unwrap_or_else(|p| p.into_inner());
        let cache = sites.entry(site).or_default();
        if cache.generation == generation {
            cache.origins = Some(origins.clone());
        }
        origins
    }

    pub fn invalidate_all(&self) {
        let mut sites = self.sites.write().unwrap_or_else(|p| p.into_inner());
        for cache in sites.values_mut() {
            cache.generation += 1;
            cache.entries.clear();
            cache.origins = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(body: &'static str) -> Cached {
        Cached {
            body: Bytes::from_static(body.as_bytes()),
            etag: "\"x\"".to_owned(),
            etag_header: HeaderValue::from_static("\"x\""),
            stored_at: Instant::now(),
        }
    }

    #[test]
    fn a_change_during_a_read_is_not_cached_over() {
        let cache = PublicCache::new(Duration::from_secs(60));
        let site = Uuid::now_v7();
        let before = cache.generation(site);
        cache.put(site, before, "a".into(), value("old"));
        assert!(cache.get(site, "a").is_some());
        let stale = cache.generation(site);
        cache.invalidate(site);
        assert!(cache.get(site, "a").is_none());
        cache.put(site, stale, "a".into(), value("computed before the change"));
        assert!(cache.get(site, "a").is_none());
        cache.put(site, cache.generation(site), "a".into(), value("new"));
        assert_eq!(&cache.get(site, "a").unwrap().body[..], b"new");
        assert!(cache.get(Uuid::now_v7(), "a").is_none());
    }
}
