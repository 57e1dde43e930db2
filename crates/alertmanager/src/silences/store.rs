//! The state behind the [`super::Silences`] lock: stored silences, the version index and the
//! per-fingerprint mute cache.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Silence;
use crate::labels::Fingerprint;
use crate::proto::silence::MeshSilence;

/// One stored silence: the canonical proto (what is gossiped and snapshotted) and its compiled
/// domain view.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub mesh: MeshSilence,
    pub silence: Silence,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Cached result of a mute check for one alert fingerprint.
#[derive(Debug, Clone, Default)]
pub(super) struct CacheEntry {
    /// Active or pending silences that matched at `version`.
    pub ids: Vec<String>,
    /// The store version the entry was computed at.
    pub version: u64,
}

/// Counters exposed through [`super::SilenceStats`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counters {
    pub queries: u64,
    pub scanned: u64,
    pub skipped: u64,
    pub gc_errors: u64,
    pub compile_errors_merge: u64,
    pub compile_errors_load: u64,
}

/// Everything guarded by the store's mutex.
#[derive(Debug, Default)]
pub(super) struct Inner {
    pub entries: HashMap<String, Entry>,
    /// Incremented once per newly added id, and per id a merge replaced.
    pub version: u64,
    /// `(version, id)` in increasing version order.
    pub version_index: Vec<(u64, String)>,
    pub cache: HashMap<Fingerprint, CacheEntry>,
    pub counters: Counters,
}

impl Inner {
    /// Stores an entry; a new id gets the next version.
    pub fn insert(&mut self, entry: Entry) {
        let id = entry.silence.id.clone();
        if !self.entries.contains_key(&id) {
            self.version += 1;
            self.version_index.push((self.version, id.clone()));
        }
        self.entries.insert(id, entry);
    }

    /// Forgets `id`'s place in the version index, so that the next [`Inner::insert`] gives it a
    /// new version (a silence a merge replaced). No-op for an unknown id.
    pub fn reindex(&mut self, id: &str) {
        if self.entries.remove(id).is_some() {
            self.version_index.retain(|(_, i)| i != id);
        }
    }

    /// Ids added after `version` (`QSince`), in the order they were added.
    pub fn since(&self, version: u64) -> Vec<String> {
        let start = self.version_index.partition_point(|(v, _)| *v <= version);
        self.version_index[start..]
            .iter()
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// Drops everything (used before loading a snapshot).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.version_index.clear();
        self.cache.clear();
    }
}
