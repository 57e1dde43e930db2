//! The dispatcher (`Dispatcher` of `dispatch/dispatch.go`): subscribes to the alert store,
//! routes every alert through the route tree into aggregation groups (one per matched route
//! and group-label set), runs one tokio task per group and drops destroyed groups during
//! maintenance.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::aggregation::{AggregationGroup, Clock, FlushEnv};
use super::group_labels;
use super::route::Route;
use crate::alert::Alert;
use crate::alerts::{AlertStore, SubscriptionId};
use crate::labels::{Fingerprint, LabelSet};
use crate::notify::Notifier;

/// Default `--dispatch.maintenance-interval`.
pub const DEFAULT_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);

/// Dispatcher options.
#[derive(Clone)]
pub struct DispatcherOptions {
    /// `--cluster.peer-timeout`; each flush may take `position × peer_timeout` longer.
    pub peer_timeout: Duration,
    /// This instance's position in the cluster (0 when alone), read at every flush.
    pub position: Arc<dyn Fn() -> u32 + Send + Sync>,
    /// How often destroyed groups are dropped (default 30s).
    pub maintenance_interval: Duration,
    /// Maximum number of aggregation groups; 0 means unlimited.
    pub max_groups: usize,
    /// Where flush times come from.
    pub clock: Clock,
    /// `--dispatch.start-delay` as an instant: groups are created (and shown by the API) but
    /// do not flush before it; `None` runs them at once.
    pub start_at: Option<tokio::time::Instant>,
    /// Where alert processing durations are observed.
    pub metrics: crate::metrics::OrgMetrics,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            peer_timeout: Duration::from_secs(15),
            position: Arc::new(|| 0),
            maintenance_interval: DEFAULT_MAINTENANCE_INTERVAL,
            max_groups: 0,
            clock: Clock::system(),
            start_at: None,
            metrics: crate::metrics::OrgMetrics::detached(),
        }
    }
}

/// An aggregation group as shown by the API (`GET /api/v2/alerts/groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The route's unique id.
    pub route_id: String,
    /// The receiver.
    pub receiver: String,
    /// The group key.
    pub group_key: String,
    /// The group labels.
    pub labels: LabelSet,
    /// The group's alerts (shared with the store), in notification order.
    pub alerts: Vec<Arc<Alert>>,
}

type GroupId = (usize, Fingerprint);

struct Entry {
    group: Arc<AggregationGroup>,
    task: JoinHandle<()>,
}

struct Core {
    route: Arc<Route>,
    env: FlushEnv,
    max_groups: usize,
    maintenance_interval: Duration,
    groups: Mutex<HashMap<GroupId, Entry>>,
    background: Mutex<Vec<JoinHandle<()>>>,
    stop_tx: watch::Sender<bool>,
    limit_reached: AtomicU64,
    metrics: crate::metrics::OrgMetrics,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Core {
    fn stopped(&self) -> bool {
        *self.stop_tx.borrow()
    }

    /// Routes one alert into its groups (`processAlert`), creating groups as needed.
    fn process(&self, alert: &Arc<Alert>) {
        if self.stopped() {
            return;
        }
        for route in self.route.matches(&alert.labels) {
            let labels = group_labels(route, &alert.labels);
            let id = (route.idx(), labels.fingerprint());
            let mut groups = lock(&self.groups);
            if let Some(entry) = groups.get(&id) {
                if entry.group.insert(Arc::clone(alert), &self.env.clock) {
                    continue;
                }
                groups.remove(&id);
            }
            if self.max_groups > 0 {
                let live = groups.values().filter(|e| !e.group.is_destroyed()).count();
                if live >= self.max_groups {
                    self.limit_reached.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            let group = AggregationGroup::new(route, labels, Arc::clone(alert), &self.env.clock);
            let task = tokio::spawn(
                group
                    .clone()
                    .run(self.env.clone(), self.stop_tx.subscribe()),
            );
            groups.insert(id, Entry { group, task });
        }
    }

    /// Drops destroyed groups (`doMaintenance`).
    fn maintain(&self) {
        lock(&self.groups).retain(|_, e| !e.group.is_destroyed());
    }
}

/// Routes alerts into aggregation groups and runs their timers.
pub struct Dispatcher {
    core: Arc<Core>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("groups", &lock(&self.core.groups).len())
            .finish()
    }
}

impl Dispatcher {
    /// A dispatcher over the route tree `route` flushing into `notifier`; [`Dispatcher::run`]
    /// starts it.
    pub fn new(route: Arc<Route>, notifier: Arc<dyn Notifier>, opts: DispatcherOptions) -> Self {
        let (stop_tx, _) = watch::channel(false);
        let env = FlushEnv {
            notifier,
            clock: opts.clock,
            peer_timeout: opts.peer_timeout,
            position: opts.position,
            start_at: opts.start_at,
        };
        Self {
            core: Arc::new(Core {
                route,
                env,
                max_groups: opts.max_groups,
                maintenance_interval: opts.maintenance_interval,
                groups: Mutex::new(HashMap::new()),
                background: Mutex::new(Vec::new()),
                stop_tx,
                limit_reached: AtomicU64::new(0),
                metrics: opts.metrics,
            }),
        }
    }

    /// Subscribes to `store`, routes the alerts already stored (before returning), then keeps
    /// routing new ones in a background task, and starts maintenance. Must be called inside
    /// a tokio runtime. Returns the subscription, for [`AlertStore::unsubscribe`] after
    /// [`Dispatcher::stop`].
    pub fn run(&self, store: &AlertStore) -> SubscriptionId {
        let (tx, mut rx) = mpsc::unbounded_channel::<Arc<Alert>>();
        let (initial, id) = store.subscribe(move |alert| {
            // A send fails only once the dispatcher has stopped; the alert is then moot.
            let _ = tx.send(Arc::clone(alert));
        });
        for alert in &initial {
            self.core.process(alert);
        }
        let core = self.core.clone();
        let mut stop = self.core.stop_tx.subscribe();
        let ingest = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    alert = rx.recv() => match alert {
                        Some(alert) => {
                            let started = std::time::Instant::now();
                            core.process(&alert);
                            core.metrics.alert_processed(started.elapsed());
                        }
                        None => return,
                    },
                }
            }
        });
        let core = self.core.clone();
        let mut stop = self.core.stop_tx.subscribe();
        let maintenance = tokio::spawn(async move {
            let period = core.maintenance_interval.max(Duration::from_millis(1));
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = ticker.tick() => core.maintain(),
                }
            }
        });
        lock(&self.core.background).extend([ingest, maintenance]);
        id
    }

    /// The live aggregation groups, sorted by route id and group key.
    pub fn groups(&self) -> Vec<GroupInfo> {
        let mut out: Vec<GroupInfo> = lock(&self.core.groups)
            .values()
            .filter(|e| !e.group.is_destroyed())
            .map(|e| GroupInfo {
                route_id: e.group.route_id().to_owned(),
                receiver: e.group.receiver().to_owned(),
                group_key: e.group.group_key().to_owned(),
                labels: e.group.labels().clone(),
                alerts: e.group.alerts(),
            })
            .filter(|g| !g.alerts.is_empty())
            .collect();
        out.sort_by(|a, b| (&a.route_id, &a.group_key).cmp(&(&b.route_id, &b.group_key)));
        out
    }

    /// The wall-clock time as the dispatcher sees it.
    pub fn now(&self) -> DateTime<Utc> {
        self.core.env.clock.now()
    }

    /// How often a new group was refused because `max_groups` was reached
    /// (`alertmanager_dispatcher_aggregation_group_limit_reached_total`).
    pub fn limit_reached_total(&self) -> u64 {
        self.core.limit_reached.load(Ordering::Relaxed)
    }

    /// Stops ingestion, maintenance and every group task (cancelling flushes in progress) and
    /// waits for them to end.
    pub async fn stop(&self) {
        self.core.stop_tx.send_replace(true);
        let mut tasks: Vec<JoinHandle<()>> = lock(&self.core.background).drain(..).collect();
        tasks.extend(lock(&self.core.groups).drain().map(|(_, e)| e.task));
        for task in tasks {
            // A group task that panicked has ended all the same.
            let _ = task.await;
        }
    }
}
