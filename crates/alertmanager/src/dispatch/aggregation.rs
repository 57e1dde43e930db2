//! Aggregation groups (`aggrGroup` of `dispatch/dispatch.go`): one group's alerts, its
//! `group_wait`/`group_interval` timer and its flush into the [`Notifier`].
//!
//! A group holds its alerts keyed by fingerprint, shared (`Arc`) with the alert store. The
//! timer starts at `group_wait` (or fires at once when an alert inserted before the first flush
//! is older than `group_wait`); later alerts never reset it. On each tick the timer is re-armed
//! with `group_interval` *before* flushing. A flush sends a snapshot (firing alerts with
//! `ends_at` zeroed), and only after a successful notification removes the resolved alerts that
//! were not updated meanwhile (`DeleteIfNotModified`, by `updated_at`); a group left empty is
//! destroyed and its task ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::route::Route;
use crate::alert::{Alert, notification_order, sort_alerts, zero_time};
use crate::labels::{Fingerprint, LabelSet};
use crate::notify::{GroupContext, Notifier};

/// Minimum base of the flush deadline (`max(group_interval, 10s)`).
const MIN_FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Wall-clock time derived from tokio's clock, so a paused test clock also moves "now".
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall: DateTime<Utc>,
    instant: Instant,
}

impl Clock {
    /// A clock reading the system time now and advancing with tokio's clock.
    pub fn system() -> Self {
        Self::starting_at(Utc::now())
    }

    /// A clock reading `wall` now and advancing with tokio's clock (deterministic tests).
    pub fn starting_at(wall: DateTime<Utc>) -> Self {
        Self {
            wall,
            instant: Instant::now(),
        }
    }

    /// The current wall-clock time.
    pub fn now(&self) -> DateTime<Utc> {
        self.at(Instant::now())
    }

    /// The wall-clock time at a tokio instant.
    pub fn at(&self, instant: Instant) -> DateTime<Utc> {
        let elapsed = instant.saturating_duration_since(self.instant);
        chrono::Duration::from_std(elapsed)
            .ok()
            .and_then(|d| self.wall.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// The flush environment shared by all groups of a dispatcher.
#[derive(Clone)]
pub(crate) struct FlushEnv {
    pub notifier: Arc<dyn Notifier>,
    pub clock: Clock,
    pub peer_timeout: Duration,
    pub position: Arc<dyn Fn() -> u32 + Send + Sync>,
    /// No group flushes before this instant (`--dispatch.start-delay`).
    pub start_at: Option<Instant>,
}

impl FlushEnv {
    /// `max(group_interval, 10s) + position × peer_timeout`.
    fn timeout(&self, group_interval: Duration) -> Duration {
        let base = group_interval.max(MIN_FLUSH_TIMEOUT);
        base.saturating_add(self.peer_timeout.saturating_mul((self.position)()))
    }
}

#[derive(Debug)]
struct State {
    alerts: HashMap<Fingerprint, Arc<Alert>>,
    next: Instant,
    has_flushed: bool,
    destroyed: bool,
}

/// One aggregation group: its route's options, group labels and key, and its alerts.
#[derive(Debug)]
pub(crate) struct AggregationGroup {
    /// The flush context template (its `now` is set at each tick).
    template: GroupContext,
    group_wait: Duration,
    state: Mutex<State>,
    wake: Notify,
}

impl AggregationGroup {
    /// A group for `route` and `labels`, holding `first`, its timer armed with `group_wait`
    /// (or to fire at once when `first` is older than `group_wait`).
    pub fn new(route: &Route, labels: LabelSet, first: Arc<Alert>, clock: &Clock) -> Arc<Self> {
        let template = GroupContext {
            group_key: super::group_key(route, &labels),
            group_labels: labels,
            receiver: route.receiver().to_owned(),
            route_id: route.id().to_owned(),
            group_interval: route.group_interval(),
            repeat_interval: route.repeat_interval(),
            mute_time_intervals: route.mute_time_intervals().to_vec(),
            active_time_intervals: route.active_time_intervals().to_vec(),
            now: zero_time(),
        };
        let group = Arc::new(Self {
            template,
            group_wait: route.group_wait(),
            state: Mutex::new(State {
                alerts: HashMap::new(),
                next: Instant::now() + route.group_wait(),
                has_flushed: false,
                destroyed: false,
            }),
            wake: Notify::new(),
        });
        group.insert(first, clock);
        group
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The group's key.
    pub fn group_key(&self) -> &str {
        &self.template.group_key
    }

    /// The group's labels.
    pub fn labels(&self) -> &LabelSet {
        &self.template.group_labels
    }

    /// The route id.
    pub fn route_id(&self) -> &str {
        &self.template.route_id
    }

    /// The receiver.
    pub fn receiver(&self) -> &str {
        &self.template.receiver
    }

    /// Adds or replaces an alert. Before the first flush, an alert older than `group_wait`
    /// makes the group flush at once. Returns `false` (and does nothing) if the group has
    /// been destroyed; the caller then creates a new group.
    pub fn insert(&self, alert: Arc<Alert>, clock: &Clock) -> bool {
        let mut state = self.lock();
        if state.destroyed {
            return false;
        }
        let old = chrono::Duration::from_std(self.group_wait)
            .ok()
            .and_then(|gw| alert.starts_at.checked_add_signed(gw))
            .is_some_and(|t| t < clock.now());
        state.alerts.insert(alert.fingerprint(), alert);
        if !state.has_flushed && old {
            state.next = Instant::now();
            drop(state);
            self.wake.notify_one();
        }
        true
    }

    /// Whether the group was emptied by a flush and is gone.
    pub fn is_destroyed(&self) -> bool {
        self.lock().destroyed
    }

    /// The group's alerts as stored, in notification order.
    pub fn alerts(&self) -> Vec<Arc<Alert>> {
        let mut alerts: Vec<Arc<Alert>> = self.lock().alerts.values().cloned().collect();
        alerts.sort_by(|a, b| notification_order(a, b));
        alerts
    }

    /// The group's loop: waits for the dispatcher's start (`start_at`), then for the timer,
    /// re-arms it with `group_interval`, flushes; ends when the group is destroyed or `stop`
    /// turns `true` (or its sender is dropped). A timer that expired while waiting for the
    /// start fires at the start, as upstream's groups started late do.
    pub async fn run(self: Arc<Self>, env: FlushEnv, mut stop: watch::Receiver<bool>) {
        if let Some(start) = env.start_at {
            if *stop.borrow_and_update() {
                return;
            }
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep_until(start) => {}
            }
        }
        loop {
            if *stop.borrow_and_update() {
                return;
            }
            let deadline = self.lock().next;
            let woken = self.wake.notified();
            tokio::select! {
                _ = stop.changed() => return,
                () = woken => continue,
                () = tokio::time::sleep_until(deadline) => {}
            }
            {
                let mut state = self.lock();
                if Instant::now() < state.next {
                    continue;
                }
                state.next = Instant::now() + self.template.group_interval;
                state.has_flushed = true;
            }
            let now = env.clock.now();
            tokio::select! {
                _ = stop.changed() => return,
                destroyed = self.flush(&env, now) => if destroyed { return },
            }
        }
    }

    /// One flush at tick time `now`; returns whether the group is now destroyed.
    async fn flush(&self, env: &FlushEnv, now: DateTime<Utc>) -> bool {
        let mut resolved = Vec::new();
        let mut alerts: Vec<Alert> = {
            let state = self.lock();
            if state.alerts.is_empty() {
                return false;
            }
            state
                .alerts
                .values()
                .map(|a| {
                    let mut a = Alert::clone(a);
                    if a.resolved_at(now) {
                        resolved.push((a.fingerprint(), a.updated_at));
                    } else {
                        a.ends_at = zero_time();
                    }
                    a
                })
                .collect()
        };
        sort_alerts(&mut alerts);
        let ctx = GroupContext {
            now,
            ..self.template.clone()
        };
        let timeout = env.timeout(self.template.group_interval);
        let sent = tokio::time::timeout(timeout, env.notifier.notify(&ctx, alerts)).await;
        if !matches!(sent, Ok(Ok(()))) {
            return false;
        }
        let mut state = self.lock();
        for (fp, updated_at) in resolved {
            if state
                .alerts
                .get(&fp)
                .is_some_and(|a| a.updated_at == updated_at)
            {
                state.alerts.remove(&fp);
            }
        }
        if state.alerts.is_empty() {
            state.destroyed = true;
        }
        state.destroyed
    }
}
