//! Short-lived in-memory caches that spare the database (API tokens) and argon2 (basic
//! authentication) on every request. Both are per process: another instance sees a revocation
//! in the shared database at the latest when its entry's TTL runs out.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::hmac;
use aws_lc_rs::rand;
use wk_store::OrgRole;

/// How long (seconds) a successful API token lookup is reused without asking the database.
pub const API_KEY_CACHE_TTL_SECS: i64 = 10;
/// How long (seconds) a successful password verification is reused for the same credentials,
/// as long as the user's stored password hash is unchanged.
pub const PASSWORD_CACHE_TTL_SECS: i64 = 60;
/// `last_used_at` of an API token is written when the known value is older than this (seconds);
/// Grafana throttles its API key and service account token `last_used_at` the same way.
pub const API_KEY_LAST_USED_INTERVAL_SECS: i64 = 300;
/// Most entries each cache holds.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// A map with a time of insertion per entry, bounded in size.
#[derive(Debug)]
pub(crate) struct TtlMap<K, V> {
    ttl: i64,
    max: usize,
    map: Mutex<HashMap<K, (i64, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    /// An empty map whose entries live `ttl` seconds, holding at most `max` of them.
    pub(crate) fn new(ttl: i64, max: usize) -> Self {
        Self {
            ttl,
            max,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (i64, V)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key` if it was inserted less than the TTL before `now`.
    pub(crate) fn get(&self, key: &K, now: i64) -> Option<V> {
        let mut map = self.lock();
        match map.get(key) {
            Some((at, v)) if now - *at < self.ttl && now >= *at => Some(v.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Inserts (or refreshes) `key`; when full, expired entries go first, then everything.
    pub(crate) fn insert(&self, key: K, value: V, now: i64) {
        let mut map = self.lock();
        if map.len() >= self.max && !map.contains_key(&key) {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| now - *at < ttl);
            if map.len() >= self.max {
                map.clear();
            }
        }
        map.insert(key, (now, value));
    }

    /// Updates the value of `key` in place, keeping its insertion time.
    pub(crate) fn update(&self, key: &K, f: impl FnOnce(&mut V)) {
        if let Some((_, v)) = self.lock().get_mut(key) {
            f(v);
        }
    }

    /// Drops the entries whose value matches.
    pub(crate) fn remove_where(&self, f: impl Fn(&V) -> bool) {
        self.lock().retain(|_, (_, v)| !f(v));
    }

    /// Drops the entry of `key`.
    pub(crate) fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// What a cached API token resolves to.
#[derive(Debug, Clone)]
pub(crate) struct CachedApiKey {
    /// Row id.
    pub(crate) id: i64,
    /// Organization of the token.
    pub(crate) org_id: i64,
    /// Role of the token.
    pub(crate) role: OrgRole,
    /// Expiry (unix seconds), checked on every use.
    pub(crate) expires: Option<i64>,
    /// The latest `last_used_at` written or read.
    pub(crate) last_used_at: Option<i64>,
}

/// Successful password verifications, keyed by an HMAC of the credentials under a random
/// per-process key; the value is the stored hash the password was verified against.
#[derive(Debug)]
pub(crate) struct PasswordCache {
    /// `None` when the random generator failed: then nothing is cached.
    key: Option<hmac::Key>,
    entries: TtlMap<[u8; 32], String>,
    verifications: AtomicU64,
}

impl PasswordCache {
    /// An empty cache with a fresh random key (disabled if the random generator fails).
    pub(crate) fn new(ttl: i64, max: usize) -> Self {
        let mut secret = [0u8; 32];
        let key = match rand::fill(&mut secret) {
            Ok(()) => Some(hmac::Key::new(hmac::HMAC_SHA256, &secret)),
            Err(_) => {
                tracing::warn!("random generator failed: password verification cache disabled");
                None
            }
        };
        Self {
            key,
            entries: TtlMap::new(ttl, max),
            verifications: AtomicU64::new(0),
        }
    }

    /// The cache key of a login and password (length-prefixed, so the pair is unambiguous);
    /// `None` when the cache is disabled.
    pub(crate) fn key_of(&self, login: &str, password: &str) -> Option<[u8; 32]> {
        let mut ctx = hmac::Context::with_key(self.key.as_ref()?);
        ctx.update(&(login.len() as u64).to_le_bytes());
        ctx.update(login.as_bytes());
        ctx.update(password.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        Some(out)
    }

    /// Whether these credentials were verified against exactly `stored_hash` within the TTL.
    pub(crate) fn hit(&self, key: &[u8; 32], stored_hash: &str, now: i64) -> bool {
        match self.entries.get(key, now) {
            Some(h) if h.as_bytes() == stored_hash.as_bytes() => true,
            Some(_) => {
                self.entries.remove(key);
                false
            }
            None => false,
        }
    }

    /// Remembers a successful verification against `stored_hash`.
    pub(crate) fn remember(&self, key: [u8; 32], stored_hash: &str, now: i64) {
        self.entries.insert(key, stored_hash.to_owned(), now);
    }

    /// Counts one argon2 verification.
    pub(crate) fn count_verification(&self) {
        self.verifications.fetch_add(1, Ordering::Relaxed);
    }

    /// Argon2 verifications counted so far.
    pub(crate) fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_size_is_bounded() {
        let m: TtlMap<u32, &str> = TtlMap::new(10, 3);
        m.insert(1, "a", 100);
        assert_eq!(m.get(&1, 109), Some("a"));
        assert_eq!(m.get(&1, 110), None, "expired at the TTL");
        assert_eq!(m.get(&1, 105), None, "expired entries are dropped");
        m.insert(1, "a", 100);
        m.insert(2, "b", 105);
        m.insert(3, "c", 106);
        m.insert(4, "d", 111); // full: entry 1 (expired) goes
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(&2, 111), Some("b"));
        m.insert(5, "e", 112); // full of live entries: cleared
        assert!(m.len() <= 3);
        assert_eq!(m.get(&5, 112), Some("e"));
        m.remove_where(|v| *v == "e");
        assert_eq!(m.get(&5, 112), None);
    }

    #[test]
    fn password_keys_depend_on_both_parts_and_the_secret() {
        let c = PasswordCache::new(60, 10);
        let other = PasswordCache::new(60, 10);
        assert_eq!(c.key_of("a", "bc"), c.key_of("a", "bc"));
        assert_ne!(c.key_of("a", "bc"), c.key_of("ab", "c"));
        assert_ne!(c.key_of("a", "bc"), c.key_of("a", "bd"));
        assert_ne!(c.key_of("a", "bc"), other.key_of("a", "bc"));
        let k = c.key_of("a", "bc").expect("enabled");
        c.remember(k, "$argon2id$h1", 0);
        assert!(c.hit(&k, "$argon2id$h1", 59));
        assert!(!c.hit(&k, "$argon2id$h2", 1), "another stored hash");
        assert!(
            !c.hit(&k, "$argon2id$h1", 1),
            "the mismatch dropped the entry"
        );
        c.remember(k, "$argon2id$h1", 0);
        assert!(!c.hit(&k, "$argon2id$h1", 60), "expired");
    }
}
