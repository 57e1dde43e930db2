//! Silences (`silence/` upstream): validation, create/update/expire with upstream's `canUpdate`
//! rules, state queries, the mute check with its incremental per-fingerprint cache, gossip merge,
//! garbage collection and snapshots in Alertmanager's delimited `MeshSilence` format.
//!
//! Every method takes the current time explicitly. Mutating methods return the bytes to
//! broadcast to peers (a delimited stream of the changed `MeshSilence`s) and, once a channel is
//! set ([`Silences::set_broadcast`], upstream's `SetBroadcast`), also broadcast them.

mod error;
mod ops;
mod silence;
mod store;
mod sync;
mod validate;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, TimeDelta, Utc};

pub use error::{SilenceError, ValidationError};
pub use ops::can_update;
pub use silence::{Silence, SilenceState, from_timestamp, to_timestamp};
pub use validate::validate_silence;

use crate::labels::{LabelSet, NameValidation};
use crate::proto::silence::MeshSilence;
use store::{CacheEntry, Inner};

/// Store options (upstream flags `--data.retention`, `--silences.max-silences`,
/// `--silences.max-silence-size-bytes`).
#[derive(Debug, Clone, Copy)]
pub struct SilencesOptions {
    /// How long a silence is kept after its end (`expires_at = ends_at + retention`); 120h.
    pub retention: TimeDelta,
    /// Maximum number of stored silences, expired included; 0 = unlimited.
    pub max_silences: usize,
    /// Maximum encoded `MeshSilence` size in bytes; 0 = unlimited.
    pub max_silence_size_bytes: usize,
    /// Which label names matchers may use (UTF-8 by default, classic in `classic-mode`).
    pub name_validation: NameValidation,
}

impl Default for SilencesOptions {
    fn default() -> Self {
        Self {
            retention: TimeDelta::hours(120),
            max_silences: 0,
            max_silence_size_bytes: 0,
            name_validation: NameValidation::Utf8,
        }
    }
}

/// Result of a successful [`Silences::set`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOutcome {
    /// Id of the created or updated silence.
    pub id: String,
    /// Delimited `MeshSilence`s to gossip (the expired predecessor first, if any).
    pub broadcast: Vec<u8>,
}

/// Result of a [`Silences::merge`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeOutcome {
    /// Silences that were accepted (to relay to other peers).
    pub changed: Vec<MeshSilence>,
    /// Silences dropped because their matchers do not compile (or they carry no silence).
    pub rejected: usize,
}

/// Result of a [`Silences::load_snapshot`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOutcome {
    /// Silences now stored.
    pub loaded: usize,
    /// Silences skipped because their matchers do not compile.
    pub rejected: usize,
    /// Silences skipped because they were already past `expires_at`.
    pub expired: usize,
}

/// Silences per state, for `alertmanager_silences{state}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// `state="active"`.
    pub active: usize,
    /// `state="pending"`.
    pub pending: usize,
    /// `state="expired"`.
    pub expired: usize,
}

/// Counters and sizes for the `alertmanager_silences_*` metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SilenceStats {
    /// `queries_total`: mute checks and queries.
    pub queries: u64,
    /// `query_silences_scanned_total`: silences examined by mute checks.
    pub scanned: u64,
    /// `query_silences_skipped_total`: silences a mute check did not need to examine.
    pub skipped: u64,
    /// `gc_errors_total`: silences collected for lacking `expires_at`.
    pub gc_errors: u64,
    /// `matcher_compile_errors_total{stage="merge"}`.
    pub matcher_compile_errors_merge: u64,
    /// `matcher_compile_errors_total{stage="load_snapshot"}`.
    pub matcher_compile_errors_load: u64,
    /// `state_size`: stored silences.
    pub state_size: usize,
    /// `version_index_size`: entries in the version index.
    pub version_index_size: usize,
    /// Current version (number of ids ever added).
    pub version: u64,
}

/// Which silences [`Silences::query`] returns; empty filters select everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SilenceQuery {
    /// Only these ids.
    pub ids: Vec<String>,
    /// Only silences in one of these states.
    pub states: Vec<SilenceState>,
}

/// Where local changes are broadcast (the silences' peer channel), once set.
#[derive(Default)]
struct Broadcast(OnceLock<Arc<dyn wk_cluster::Channel>>);

impl std::fmt::Debug for Broadcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Broadcast")
            .field(&self.0.get().is_some())
            .finish()
    }
}

/// The silence store; `Send + Sync`, all state behind one mutex.
#[derive(Debug, Default)]
pub struct Silences {
    opts: SilencesOptions,
    inner: Mutex<Inner>,
    broadcast: Broadcast,
}

impl Silences {
    /// An empty store.
    pub fn new(opts: SilencesOptions) -> Self {
        Self {
            opts,
            inner: Mutex::default(),
            broadcast: Broadcast::default(),
        }
    }

    /// Broadcasts every later local change ([`Silences::set`], [`Silences::expire`]) through
    /// `channel` (upstream's `SetBroadcast`); later calls are ignored. Merges do not use it:
    /// relaying received messages is the replicated state's job
    /// ([`crate::gossip::SilencesState`]).
    pub fn set_broadcast(&self, channel: Arc<dyn wk_cluster::Channel>) {
        let _ = self.broadcast.0.set(channel);
    }

    /// Pushes the bytes of a local change to the peers ([`wk_cluster::Channel::push`]), if a
    /// channel is set and there is something to send. Called without the lock held: a channel
    /// may deliver synchronously into a peer that relays back into this store.
    fn broadcast(&self, bytes: &[u8]) {
        if let Some(c) = self.broadcast.0.get()
            && !bytes.is_empty()
        {
            c.push(bytes.to_vec());
        }
    }

    /// The options in use.
    pub fn options(&self) -> &SilencesOptions {
        &self.opts
    }

    /// Locks the state; a poisoned lock is still usable (no invariant spans a panic).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The silence with this id.
    pub fn get(&self, id: &str) -> Option<Silence> {
        self.lock().entries.get(id).map(|e| e.silence.clone())
    }

    /// Silences selected by `q` at `now`, sorted by id.
    pub fn query(&self, q: &SilenceQuery, now: DateTime<Utc>) -> Vec<Silence> {
        let mut inner = self.lock();
        inner.counters.queries += 1;
        let mut out: Vec<Silence> = if q.ids.is_empty() {
            inner.entries.values().map(|e| e.silence.clone()).collect()
        } else {
            q.ids
                .iter()
                .filter_map(|id| inner.entries.get(id).map(|e| e.silence.clone()))
                .collect()
        };
        if !q.states.is_empty() {
            out.retain(|s| q.states.contains(&s.state(now)));
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out.dedup_by(|a, b| a.id == b.id);
        out
    }

    /// The current version: how many ids have ever been added.
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// Ids added after `version`, oldest first (`QSince`).
    pub fn query_since(&self, version: u64) -> Vec<String> {
        self.lock().since(version)
    }

    /// Ids (sorted) of the active silences muting `labels` (`Silencer.Mutes`).
    ///
    /// Per alert fingerprint the matching active and pending ids are cached with the version.
    /// When nothing was added and nothing matched, no silence is examined; otherwise only the
    /// cached ids and the silences added since are.
    pub fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Vec<String> {
        let fp = labels.fingerprint();
        let mut inner = self.lock();
        inner.counters.queries += 1;
        if inner.entries.is_empty() {
            return Vec::new();
        }
        let version = inner.version;
        let total = inner.entries.len() as u64;
        if inner
            .cache
            .get(&fp)
            .is_some_and(|c| c.version == version && c.ids.is_empty())
        {
            inner.counters.skipped += total;
            return Vec::new();
        }
        let (mut candidates, since) = match inner.cache.remove(&fp) {
            Some(c) => (c.ids, c.version),
            None => (Vec::new(), 0),
        };
        candidates.extend(inner.since(since));
        // A silence a merge replaced is both cached and new since the cached version.
        candidates.sort_unstable();
        candidates.dedup();
        let mut keep = Vec::new();
        let mut active = Vec::new();
        let mut scanned = 0u64;
        for id in candidates {
            let Some(entry) = inner.entries.get(&id) else {
                continue;
            };
            scanned += 1;
            let state = entry.silence.state(now);
            if state == SilenceState::Expired || !entry.silence.matches(labels) {
                continue;
            }
            if state == SilenceState::Active {
                active.push(id.clone());
            }
            keep.push(id);
        }
        inner.counters.scanned += scanned;
        inner.counters.skipped += total.saturating_sub(scanned);
        inner.cache.insert(fp, CacheEntry { ids: keep, version });
        active.sort();
        active
    }

    /// Forgets the cached mute result of an alert (call when the alert is garbage collected).
    pub fn evict_cache(&self, fp: crate::labels::Fingerprint) {
        self.lock().cache.remove(&fp);
    }

    /// Silences per state at `now`.
    pub fn count_by_state(&self, now: DateTime<Utc>) -> StateCounts {
        let inner = self.lock();
        let mut c = StateCounts::default();
        for e in inner.entries.values() {
            match e.silence.state(now) {
                SilenceState::Active => c.active += 1,
                SilenceState::Pending => c.pending += 1,
                SilenceState::Expired => c.expired += 1,
            }
        }
        c
    }

    /// Counters and sizes for metrics and tests.
    pub fn stats(&self) -> SilenceStats {
        let inner = self.lock();
        SilenceStats {
            queries: inner.counters.queries,
            scanned: inner.counters.scanned,
            skipped: inner.counters.skipped,
            gc_errors: inner.counters.gc_errors,
            matcher_compile_errors_merge: inner.counters.compile_errors_merge,
            matcher_compile_errors_load: inner.counters.compile_errors_load,
            state_size: inner.entries.len(),
            version_index_size: inner.version_index.len(),
            version: inner.version,
        }
    }
}
