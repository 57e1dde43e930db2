//! The notification log (upstream `nflog`): which alerts of which aggregation group were last
//! notified to which receiver integration, and when.
//!
//! The state holds the latest [`MeshEntry`] per state key
//! `"<groupKey>:<group_name>/<integration>/<idx>"`. Peers exchange single entries (gossip) and
//! whole states (push/pull, snapshots, Grafana's kvstore), all as streams of varint-delimited
//! `MeshEntry` messages, and merge them by timestamp, strictly newer wins. Every method takes
//! the current time explicitly, so callers choose the clock.

mod error;
mod key;
mod state;
mod time;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

pub use error::NflogError;
pub use key::{ReceiverKey, state_key};
pub use time::{from_timestamp, to_timestamp};

use crate::proto::nflog::{Entry, MeshEntry};
use crate::proto::{decode_delimited, encode_delimited_into};
use key::state_key_bytes;
use state::{Merged, State, record_key};
use time::time_nanos;

/// Upstream's default `--data.retention`: 120 hours.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(120 * 3600);

/// Settings of a [`NotificationLog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// How long an entry is kept at most (upstream `--data.retention`, default 120h).
    pub retention: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            retention: DEFAULT_RETENTION,
        }
    }
}

/// The expiry `SetNotifiesStage` passes to [`NotificationLog::log`]: `2 × repeat_interval`
/// upstream, `2 × max(repeat_interval, group_interval)` in Grafana's fork (which otherwise lost
/// resolved notifications when `group_interval > 2 × repeat_interval`).
pub fn expiry_for(
    repeat_interval: Duration,
    group_interval: Duration,
    grafana_mode: bool,
) -> Duration {
    let base = if grafana_mode {
        repeat_interval.max(group_interval)
    } else {
        repeat_interval
    };
    base.saturating_mul(2)
}

/// What [`NotificationLog::merge`] did with a received stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeOutcome {
    /// Records that changed the state, in stream order: the ones to relay to other peers.
    pub changed: Vec<MeshEntry>,
    /// Records rejected as invalid (no entry or no receiver).
    pub rejected: usize,
    /// Records dropped because they had expired.
    pub expired: usize,
}

/// What [`NotificationLog::load_snapshot`] did with a snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOutcome {
    /// Records stored.
    pub loaded: usize,
    /// Records skipped because they had expired.
    pub expired: usize,
    /// Records skipped as invalid (no entry or no receiver).
    pub invalid: usize,
    /// Records skipped because an entry at least as new was already present.
    pub stale: usize,
}

/// The notification log: thread-safe, in memory, with explicit clocks.
#[derive(Debug, Default)]
pub struct NotificationLog {
    options: Options,
    state: Mutex<State>,
}

impl NotificationLog {
    /// An empty log with the given options.
    pub fn new(options: Options) -> Self {
        Self {
            options,
            state: Mutex::default(),
        }
    }

    /// The log's options.
    pub fn options(&self) -> Options {
        self.options
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is never left half-updated, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a successful notification of `group_key` to `receiver` at `now`.
    ///
    /// The entry expires at `now + retention`, or `now + expiry` when `0 < expiry < retention`.
    /// The write is ignored (`Ok(None)`) when the stored entry's timestamp is after `now`
    /// (clock skew between peers). Otherwise the entry replaces the stored one and its
    /// delimited encoding is returned, to be broadcast to peers.
    pub fn log(
        &self,
        receiver: &ReceiverKey,
        group_key: &str,
        firing: &[u64],
        resolved: &[u64],
        expiry: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<u8>>, NflogError> {
        let proto_receiver = receiver.to_proto();
        let key = state_key_bytes(group_key.as_bytes(), &proto_receiver);
        let ttl = match expiry {
            Some(e) if !e.is_zero() && e < self.options.retention => e,
            _ => self.options.retention,
        };
        let expires_at = TimeDelta::from_std(ttl)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .ok_or(NflogError::TimeOverflow)?;
        let mut state = self.lock();
        if state
            .timestamp_of(&key)
            .is_some_and(|prev| prev > time_nanos(now))
        {
            return Ok(None);
        }
        let record = MeshEntry {
            entry: Some(Entry {
                group_key: group_key.as_bytes().to_vec(),
                receiver: Some(proto_receiver),
                timestamp: Some(to_timestamp(now)),
                firing_alerts: firing.to_vec(),
                resolved_alerts: resolved.to_vec(),
                ..Entry::default()
            }),
            expires_at: Some(to_timestamp(expires_at)),
        };
        let mut bytes = Vec::new();
        encode_delimited_into(&record, &mut bytes);
        // Our own write replaces an entry with an equal timestamp too (upstream would keep the
        // old one locally yet still broadcast the new one).
        state.entries.insert(key, record);
        Ok(Some(bytes))
    }

    /// The latest entry for `(group_key, receiver)`, if any (upstream's only query).
    pub fn query(&self, receiver: &ReceiverKey, group_key: &str) -> Option<Entry> {
        let key = state_key_bytes(group_key.as_bytes(), &receiver.to_proto());
        self.lock().entries.get(&key).and_then(|e| e.entry.clone())
    }

    /// Merges a stream of delimited `MeshEntry` records from a peer (a gossip message or a full
    /// state). Invalid records are counted and skipped; only an undecodable stream is an error,
    /// in which case nothing is merged.
    pub fn merge(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<MergeOutcome, NflogError> {
        let records: Vec<MeshEntry> = decode_delimited(bytes)?;
        let now = time_nanos(now);
        let mut outcome = MergeOutcome::default();
        let mut state = self.lock();
        for record in records {
            let copy = record.clone();
            match state.merge(record, now) {
                Ok(Merged::Changed) => outcome.changed.push(copy),
                Ok(Merged::Stale) => {}
                Ok(Merged::Expired) => outcome.expired += 1,
                Err(_) => outcome.rejected += 1,
            }
        }
        Ok(outcome)
    }

    /// Deletes every entry with `expires_at <= now`, and entries without `expires_at` (an error
    /// upstream). Returns how many were deleted.
    pub fn gc(&self, now: DateTime<Utc>) -> usize {
        self.lock().gc(time_nanos(now))
    }

    /// The whole state as delimited `MeshEntry` records sorted by state key: the snapshot file
    /// content, Grafana's kvstore value (before base64) and the full state sent to peers.
    pub fn snapshot(&self) -> Vec<u8> {
        let state = self.lock();
        let mut bytes = Vec::new();
        for record in state.entries.values() {
            encode_delimited_into(record, &mut bytes);
        }
        bytes
    }

    /// The full state exchanged with peers on push/pull: the same bytes as [`Self::snapshot`].
    pub fn full_state(&self) -> Vec<u8> {
        self.snapshot()
    }

    /// Loads a snapshot with the merge rule, skipping expired and invalid records. A stream that
    /// cannot be decoded is an error and loads nothing.
    pub fn load_snapshot(
        &self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<LoadOutcome, NflogError> {
        let records: Vec<MeshEntry> = decode_delimited(bytes)?;
        let now = time_nanos(now);
        let mut outcome = LoadOutcome::default();
        let mut state = self.lock();
        for record in records {
            if record_key(&record).is_err() {
                outcome.invalid += 1;
                continue;
            }
            match state.merge(record, now) {
                Ok(Merged::Changed) => outcome.loaded += 1,
                Ok(Merged::Stale) => outcome.stale += 1,
                Ok(Merged::Expired) => outcome.expired += 1,
                Err(_) => outcome.invalid += 1,
            }
        }
        Ok(outcome)
    }

    /// How many entries the log holds.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the log holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
