//! The in-memory alert provider (`provider/mem` over `store.Alerts`): alerts keyed by
//! fingerprint, merged with the stored version when their activity intervals overlap, garbage
//! collected once resolved, optionally limited per `alertname`, and pushed to subscribers.
//!
//! Subscriptions are synchronous callbacks (this crate has no async runtime dependency): a
//! listener is called for every stored alert after the store's lock has been released, so a
//! listener may call back into the store. [`AlertStore::subscribe`] returns the current alerts
//! together with the subscription, atomically, so a subscriber never misses an alert; an alert
//! stored concurrently with subscribing may be seen twice (once in the snapshot, once by the
//! callback), which consumers such as the dispatcher already tolerate.
//!
//! Alerts are held as `Arc<Alert>`: the store, its subscribers (the dispatcher's aggregation
//! groups, the inhibitor's source caches) and listings share one copy of each alert.

mod snapshot;
#[cfg(test)]
mod tests;

pub use snapshot::{AlertRecordError, DecodedAlerts, decode_alerts, encode_alerts};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::labels::Fingerprint;

/// A subscriber callback, called with each alert as stored (after merging).
pub type Listener = Arc<dyn Fn(&Arc<Alert>) + Send + Sync>;

/// Identifies a subscription, for [`AlertStore::unsubscribe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionId(u64);

/// Errors from [`AlertStore::put`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertStoreError {
    /// A new alert would exceed `--alerts.per-alertname-limit` (updates of stored alerts are
    /// always accepted).
    #[error("too many alerts with alertname {alertname:?}: limit is {limit}")]
    PerAlertnameLimit {
        /// The `alertname` label of the rejected alert (`""` if it has none).
        alertname: String,
        /// The configured limit.
        limit: usize,
    },
}

/// Stored alerts split by status, for the `alertmanager_alerts` gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertCounts {
    /// Alerts not resolved at the instant asked about.
    pub firing: usize,
    /// Alerts resolved at that instant (not yet garbage collected).
    pub resolved: usize,
}

#[derive(Default)]
struct Inner {
    alerts: HashMap<Fingerprint, Arc<Alert>>,
    per_name: HashMap<String, usize>,
    listeners: Vec<(SubscriptionId, Listener)>,
    next_id: u64,
}

impl Inner {
    fn forget(&mut self, alert: &Alert) {
        if let Some(n) = self.per_name.get_mut(alert.name()) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_name.remove(alert.name());
            }
        }
    }
}

/// The alert store. `Send + Sync`; all methods take `&self` and lock one mutex briefly.
pub struct AlertStore {
    inner: Mutex<Inner>,
    per_alertname_limit: usize,
}

impl Default for AlertStore {
    fn default() -> Self {
        Self::new(0)
    }
}

impl std::fmt::Debug for AlertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertStore")
            .field("alerts", &self.len())
            .field("per_alertname_limit", &self.per_alertname_limit)
            .finish()
    }
}

/// Whether the new alert's interval overlaps the stored one's, with upstream's strict bounds:
/// `new.ends_at` or `new.starts_at` lies strictly inside `(old.starts_at, old.ends_at)`.
pub fn overlaps(old: &Alert, new: &Alert) -> bool {
    let inside = |t| old.starts_at < t && t < old.ends_at;
    inside(new.ends_at) || inside(new.starts_at)
}

impl AlertStore {
    /// An empty store; `per_alertname_limit` 0 means unlimited.
    pub fn new(per_alertname_limit: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            per_alertname_limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `alert` (`Alerts.Put`). If an alert with the same fingerprint is stored and the
    /// intervals [`overlaps`], the two are merged with [`Alert::merge`] (`now` decides which are
    /// resolved); otherwise the new alert replaces the stored one. Subscribers are then told.
    /// Returns the alert as stored (shared with the store).
    pub fn put(&self, alert: Alert, now: DateTime<Utc>) -> Result<Arc<Alert>, AlertStoreError> {
        let fp = alert.fingerprint();
        let (stored, listeners) = {
            let mut inner = self.lock();
            let stored = match inner.alerts.get(&fp) {
                Some(old) if overlaps(old, &alert) => Arc::new(old.merge_owned(alert, now)),
                Some(_) => Arc::new(alert),
                None => {
                    let limit = self.per_alertname_limit;
                    let count = inner.per_name.get(alert.name()).copied().unwrap_or(0);
                    if limit > 0 && count >= limit {
                        return Err(AlertStoreError::PerAlertnameLimit {
                            alertname: alert.name().to_owned(),
                            limit,
                        });
                    }
                    *inner.per_name.entry(alert.name().to_owned()).or_default() += 1;
                    Arc::new(alert)
                }
            };
            inner.alerts.insert(fp, Arc::clone(&stored));
            let listeners: Vec<Listener> = inner.listeners.iter().map(|(_, l)| l.clone()).collect();
            (stored, listeners)
        };
        for listener in listeners {
            listener(&stored);
        }
        Ok(stored)
    }

    /// The stored alert with this fingerprint.
    pub fn get(&self, fp: Fingerprint) -> Option<Arc<Alert>> {
        self.lock().alerts.get(&fp).cloned()
    }

    /// A snapshot of all stored alerts, sorted by fingerprint.
    pub fn list(&self) -> Vec<Arc<Alert>> {
        let keyed: Vec<(Fingerprint, Arc<Alert>)> = {
            let inner = self.lock();
            inner
                .alerts
                .iter()
                .map(|(fp, a)| (*fp, a.clone()))
                .collect()
        };
        sorted(keyed)
    }

    /// Number of stored alerts.
    pub fn len(&self) -> usize {
        self.lock().alerts.len()
    }

    /// Whether no alert is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stored alerts counted as firing or resolved at `now`.
    pub fn count_by_state(&self, now: DateTime<Utc>) -> AlertCounts {
        let inner = self.lock();
        let resolved = inner.alerts.values().filter(|a| a.resolved_at(now)).count();
        AlertCounts {
            firing: inner.alerts.len() - resolved,
            resolved,
        }
    }

    /// Deletes every alert resolved at `now` (`ends_at <= now`) and returns their fingerprints,
    /// sorted, so callers can drop marker and silence-cache entries.
    pub fn gc(&self, now: DateTime<Utc>) -> Vec<Fingerprint> {
        let mut inner = self.lock();
        let mut removed: Vec<Fingerprint> = inner
            .alerts
            .iter()
            .filter(|(_, a)| a.resolved_at(now))
            .map(|(fp, _)| *fp)
            .collect();
        removed.sort();
        for fp in &removed {
            if let Some(alert) = inner.alerts.remove(fp) {
                inner.forget(&alert);
            }
        }
        removed
    }

    /// Registers `listener` for every alert stored from now on and returns the alerts stored
    /// before it (`SlurpAndSubscribe`), sorted by fingerprint.
    pub fn subscribe(
        &self,
        listener: impl Fn(&Arc<Alert>) + Send + Sync + 'static,
    ) -> (Vec<Arc<Alert>>, SubscriptionId) {
        let (keyed, id) = {
            let mut inner = self.lock();
            let id = SubscriptionId(inner.next_id);
            inner.next_id += 1;
            inner.listeners.push((id, Arc::new(listener)));
            let keyed: Vec<(Fingerprint, Arc<Alert>)> = inner
                .alerts
                .iter()
                .map(|(fp, a)| (*fp, a.clone()))
                .collect();
            (keyed, id)
        };
        (sorted(keyed), id)
    }

    /// Removes a subscription; returns whether it existed.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        let mut inner = self.lock();
        let before = inner.listeners.len();
        inner.listeners.retain(|(i, _)| *i != id);
        inner.listeners.len() != before
    }
}

/// The alerts sorted by their (map key) fingerprint, without recomputing any.
fn sorted(mut keyed: Vec<(Fingerprint, Arc<Alert>)>) -> Vec<Arc<Alert>> {
    keyed.sort_unstable_by_key(|(fp, _)| *fp);
    keyed.into_iter().map(|(_, a)| a).collect()
}
