//! The notification log and the silences as replicated state ([`wk_cluster::State`]): the keys
//! they are registered under, the full state they hand out on push/pull, and the merge of what
//! peers send, with upstream's epidemic relay.
//!
//! A merge that changed local state re-broadcasts the *received bytes* through the state's own
//! channel, unless they are oversized ([`wk_cluster::is_oversized`]: those were sent to every
//! peer already), and counts `alertmanager_{nflog,silences}_gossip_messages_propagated_total`.
//! Upstream relays (and counts) once per merged record; we relay a message once, however many
//! of its records changed state (the bytes are the same each time).

use std::sync::{Arc, OnceLock};

use wk_cluster::{Channel, State, is_oversized};

use crate::dispatch::Clock;
use crate::metrics::OrgMetrics;
use crate::nflog::NotificationLog;
use crate::silences::Silences;

/// Prometheus Alertmanager's key of the notification log state.
pub const NFLOG_KEY: &str = "nfl";
/// Prometheus Alertmanager's key of the silences state.
pub const SILENCES_KEY: &str = "sil";

/// The keys an instance registers its replicated state under. Peers exchange only states with
/// equal keys: Grafana's (per organization) and Alertmanager's (`nfl`, `sil`) do not mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateKeys {
    /// The notification log's key.
    pub nflog: String,
    /// The silences' key.
    pub silences: String,
}

impl Default for StateKeys {
    /// Prometheus Alertmanager's keys, `nfl` and `sil`.
    fn default() -> Self {
        Self::alertmanager()
    }
}

impl StateKeys {
    /// Prometheus Alertmanager's keys, `nfl` and `sil`.
    pub fn alertmanager() -> Self {
        Self {
            nflog: NFLOG_KEY.to_owned(),
            silences: SILENCES_KEY.to_owned(),
        }
    }

    /// Grafana's keys for organization `org_id`: `notificationlog:<org>` and `silences:<org>`.
    pub fn grafana(org_id: i64) -> Self {
        Self {
            nflog: format!("notificationlog:{org_id}"),
            silences: format!("silences:{org_id}"),
        }
    }
}

/// Relays `bytes` through `channel` when the merge changed state and they are not oversized;
/// returns whether it did.
fn relay(channel: &OnceLock<Arc<dyn Channel>>, changed: bool, bytes: &[u8]) -> bool {
    if !changed || is_oversized(bytes.len()) {
        return false;
    }
    match channel.get() {
        Some(c) => {
            c.broadcast(bytes.to_vec());
            true
        }
        None => false,
    }
}

/// The notification log as replicated state.
pub struct NflogState {
    nflog: Arc<NotificationLog>,
    channel: OnceLock<Arc<dyn Channel>>,
    clock: Clock,
    metrics: OrgMetrics,
}

impl NflogState {
    /// The state of `nflog`, merging at `clock`'s time and counting into `metrics`.
    pub fn new(nflog: Arc<NotificationLog>, clock: Clock, metrics: OrgMetrics) -> Self {
        Self {
            nflog,
            channel: OnceLock::new(),
            clock,
            metrics,
        }
    }

    /// Sets the channel merges relay through (the one `add_state` returned); later calls are
    /// ignored.
    pub fn set_channel(&self, channel: Arc<dyn Channel>) {
        let _ = self.channel.set(channel);
    }
}

impl State for NflogState {
    fn marshal(&self) -> Vec<u8> {
        self.nflog.full_state()
    }

    fn merge(&self, bytes: &[u8]) -> Result<(), String> {
        let out = self
            .nflog
            .merge(bytes, self.clock.now())
            .map_err(|e| e.to_string())?;
        if relay(&self.channel, !out.changed.is_empty(), bytes) {
            self.metrics.nflog_gossip_propagated();
            tracing::debug!(
                entries = out.changed.len(),
                "gossiping new notification log entries"
            );
        }
        Ok(())
    }
}

/// The silences as replicated state.
pub struct SilencesState {
    silences: Arc<Silences>,
    channel: OnceLock<Arc<dyn Channel>>,
    clock: Clock,
    metrics: OrgMetrics,
}

impl SilencesState {
    /// The state of `silences`, merging at `clock`'s time and counting into `metrics`.
    pub fn new(silences: Arc<Silences>, clock: Clock, metrics: OrgMetrics) -> Self {
        Self {
            silences,
            channel: OnceLock::new(),
            clock,
            metrics,
        }
    }

    /// Sets the channel merges relay through (the one `add_state` returned); later calls are
    /// ignored.
    pub fn set_channel(&self, channel: Arc<dyn Channel>) {
        let _ = self.channel.set(channel);
    }
}

impl State for SilencesState {
    fn marshal(&self) -> Vec<u8> {
        self.silences.snapshot()
    }

    fn merge(&self, bytes: &[u8]) -> Result<(), String> {
        let out = self
            .silences
            .merge(bytes, self.clock.now())
            .map_err(|e| e.to_string())?;
        if relay(&self.channel, !out.changed.is_empty(), bytes) {
            self.metrics.silences_gossip_propagated();
            tracing::debug!(silences = out.changed.len(), "gossiping new silences");
        }
        Ok(())
    }
}
