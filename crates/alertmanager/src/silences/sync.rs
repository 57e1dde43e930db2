//! State exchange with peers and disk: gossip merge, garbage collection and snapshots.

use chrono::{DateTime, Utc};

use super::store::Entry;
use super::{LoadOutcome, MergeOutcome, Silence, SilenceError, Silences, from_timestamp};
use crate::proto::silence::MeshSilence;
use crate::proto::{decode_delimited, encode_delimited};

impl Silences {
    /// Merges a delimited stream of `MeshSilence`s from a peer (`Merge`).
    ///
    /// Silences already past `expires_at` (or lacking it) are dropped; a silence is accepted
    /// when its id is new or its `updated_at` is strictly newer than the stored one. Silences
    /// whose matchers do not compile are rejected and counted. Legacy fields are upgraded.
    /// Accepted silences take effect for [`Silences::mutes`] at once: new and replaced ids alike
    /// get a new version. Nothing is broadcast here ([`crate::gossip::SilencesState`] relays).
    pub fn merge(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<MergeOutcome, SilenceError> {
        let msgs: Vec<MeshSilence> = decode_delimited(bytes)?;
        let mut inner = self.lock();
        let mut out = MergeOutcome::default();
        for msg in msgs {
            let expires_at = from_timestamp(msg.expires_at.as_ref());
            if expires_at.is_none_or(|e| e < now) {
                continue;
            }
            let Some((mesh, silence)) = normalize(&msg) else {
                inner.counters.compile_errors_merge += 1;
                out.rejected += 1;
                continue;
            };
            let newer = inner
                .entries
                .get(&silence.id)
                .is_none_or(|prev| prev.silence.updated_at < silence.updated_at);
            if newer {
                out.changed.push(mesh.clone());
                // A replaced silence goes to the end of the version index, so mute checks
                // re-examine it at once (it may be active again, or match other alerts).
                inner.reindex(&silence.id);
                inner.insert(Entry {
                    mesh,
                    silence,
                    expires_at,
                });
            }
        }
        Ok(out)
    }

    /// Removes silences with `expires_at <= now`, and those lacking `expires_at` (counted as GC
    /// errors). Returns how many were removed.
    pub fn gc(&self, now: DateTime<Utc>) -> usize {
        let mut inner = self.lock();
        let before = inner.entries.len();
        let mut missing = 0u64;
        inner.entries.retain(|_, e| match e.expires_at {
            Some(t) => t > now,
            None => {
                missing += 1;
                false
            }
        });
        inner.counters.gc_errors += missing;
        let inner = &mut *inner;
        let entries = &inner.entries;
        inner
            .version_index
            .retain(|(_, id)| entries.contains_key(id));
        before - inner.entries.len()
    }

    /// The whole state as a delimited `MeshSilence` stream, ordered by id.
    pub fn snapshot(&self) -> Vec<u8> {
        let inner = self.lock();
        let mut entries: Vec<&Entry> = inner.entries.values().collect();
        entries.sort_by(|a, b| a.silence.id.cmp(&b.silence.id));
        let meshes: Vec<MeshSilence> = entries.into_iter().map(|e| e.mesh.clone()).collect();
        encode_delimited(&meshes)
    }

    /// Replaces the state with a snapshot. Silences whose matchers do not compile are skipped
    /// (and counted), as are those GC would remove at `now`. On a decoding error the state is
    /// left unchanged.
    pub fn load_snapshot(
        &self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<LoadOutcome, SilenceError> {
        let msgs: Vec<MeshSilence> = decode_delimited(bytes)?;
        let mut inner = self.lock();
        inner.clear();
        let mut out = LoadOutcome::default();
        for msg in msgs {
            let expires_at = from_timestamp(msg.expires_at.as_ref());
            if expires_at.is_none_or(|e| e <= now) {
                out.expired += 1;
                continue;
            }
            let Some((mesh, silence)) = normalize(&msg) else {
                inner.counters.compile_errors_load += 1;
                out.rejected += 1;
                continue;
            };
            inner.insert(Entry {
                mesh,
                silence,
                expires_at,
            });
        }
        out.loaded = inner.entries.len();
        Ok(out)
    }
}

/// Compiles a received mesh silence and rewrites its proto in the current form (matcher sets,
/// `matchers` = set 0, comment fields), keeping receiver matcher sets and `expires_at`.
fn normalize(msg: &MeshSilence) -> Option<(MeshSilence, Silence)> {
    let raw = msg.silence.as_ref()?;
    let silence = Silence::from_proto(raw).ok()?;
    let mut proto = silence.to_proto();
    proto.receiver_matcher_sets = raw.receiver_matcher_sets.clone();
    let mesh = MeshSilence {
        silence: Some(proto),
        expires_at: msg.expires_at,
    };
    Some((mesh, silence))
}
