//! The unlocked log state: one `MeshEntry` per state key, and the merge rule.

use std::collections::BTreeMap;

use super::NflogError;
use super::key::state_key_bytes;
use super::time::ts_nanos;
use crate::proto::nflog::MeshEntry;

/// What merging a single record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merged {
    /// The record was stored (new key or strictly newer timestamp).
    Changed,
    /// A record at least as new was already stored.
    Stale,
    /// The record had expired (`expires_at < now`).
    Expired,
}

/// Entries keyed by state key bytes; the `BTreeMap` keeps snapshots in key order.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) entries: BTreeMap<Vec<u8>, MeshEntry>,
}

/// The state key of a record, or why the record is invalid.
pub(crate) fn record_key(e: &MeshEntry) -> Result<Vec<u8>, NflogError> {
    let entry = e.entry.as_ref().ok_or(NflogError::MissingEntry)?;
    let receiver = entry.receiver.as_ref().ok_or(NflogError::MissingReceiver)?;
    Ok(state_key_bytes(&entry.group_key, receiver))
}

/// The entry timestamp of a record, in nanoseconds.
fn entry_ts(e: &MeshEntry) -> i128 {
    ts_nanos(e.entry.as_ref().and_then(|en| en.timestamp.as_ref()))
}

impl State {
    /// Upstream's merge rule: drop if `expires_at < now`, store if the key is absent or the
    /// stored timestamp is strictly older.
    pub(crate) fn merge(&mut self, e: MeshEntry, now: i128) -> Result<Merged, NflogError> {
        let key = record_key(&e)?;
        if ts_nanos(e.expires_at.as_ref()) < now {
            return Ok(Merged::Expired);
        }
        match self.entries.get(&key) {
            Some(prev) if entry_ts(prev) >= entry_ts(&e) => Ok(Merged::Stale),
            _ => {
                self.entries.insert(key, e);
                Ok(Merged::Changed)
            }
        }
    }

    /// Deletes records with `expires_at <= now` (a missing one counts as the epoch).
    pub(crate) fn gc(&mut self, now: i128) -> usize {
        let before = self.entries.len();
        self.entries
            .retain(|_, e| e.expires_at.is_some() && ts_nanos(e.expires_at.as_ref()) > now);
        before - self.entries.len()
    }

    /// The stored timestamp of the record under `key`, if any.
    pub(crate) fn timestamp_of(&self, key: &[u8]) -> Option<i128> {
        self.entries.get(key).map(entry_ts)
    }
}
