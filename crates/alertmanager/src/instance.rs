//! One organization's Alertmanager: the alert store, silences, notification log, inhibitor,
//! notification pipeline and dispatcher wired together, with the operations the API v2 and the
//! server need (posting and listing alerts, groups, receivers, snapshots, maintenance, stop).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use wk_cluster::{Channel, Peer};

use crate::alert::{Alert, AlertStatus, PostedAlert, ingest};
use crate::alerts::{AlertStore, SubscriptionId};
use crate::config::{Config, ConfigError};
use crate::dispatch::{Clock, Dispatcher, DispatcherOptions, GroupInfo, Route};
use crate::gossip::{NflogState, SilencesState};
use crate::inhibit::{InhibitRule, Inhibitor};
use crate::labels::NameValidation;
use crate::nflog::{self, NotificationLog};
use crate::notify::webhook::WebhookIntegration;
use crate::notify::{Integration, Pipeline, PipelineDeps, PipelineOptions};
use crate::silences::{Silences, SilencesOptions};

pub use crate::gossip::StateKeys;

/// The configuration an organization starts with: everything goes to receiver `default`, which
/// has no integrations, grouped by folder and alert name like Grafana.
pub const DEFAULT_CONFIG: &str = "route:
  receiver: default
  group_by: [grafana_folder, alertname]
receivers:
  - name: default
";

/// Why an instance could not be built.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// The configuration text is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// A receiver uses an integration that cannot be built yet.
    #[error("receiver {receiver:?}: {message}")]
    Receiver {
        /// The receiver's name.
        receiver: String,
        /// What is wrong.
        message: String,
    },
    /// A snapshot could not be restored.
    #[error("restoring {what}: {message}")]
    Restore {
        /// `silences`, `nflog` or `alerts`.
        what: &'static str,
        /// The decoding error.
        message: String,
    },
}

/// Settings of an [`Alertmanager`] besides its configuration.
#[derive(Clone)]
pub struct InstanceOptions {
    /// The external URL reported to receivers (`externalURL`).
    pub external_url: String,
    /// The cluster peer ([`wk_cluster::NilPeer`] when alone).
    pub peer: Arc<dyn Peer>,
    /// The keys the nflog and silences are registered under with the peer (`nfl`/`sil` by
    /// default; [`StateKeys::grafana`] for Grafana's per-organization keys).
    pub state_keys: StateKeys,
    /// How long silences and nflog entries are kept after they end (120h).
    pub retention: Duration,
    /// How much longer each cluster position waits before notifying (15s).
    pub peer_timeout: Duration,
    /// Where wall-clock time comes from.
    pub clock: Clock,
    /// No notification before this instant (the server's start plus
    /// `--dispatch.start-delay`); kept across configuration reloads. `None`: no delay.
    pub dispatch_start_at: Option<tokio::time::Instant>,
    /// Which label names alerts and silences may use: UTF-8 (Alertmanager's default since
    /// 0.27) or classic (`[a-zA-Z_][a-zA-Z0-9_]*`, its `classic-mode`).
    pub name_validation: NameValidation,
    /// The organization's metrics (detached unless set).
    pub metrics: crate::metrics::OrgMetrics,
}

impl std::fmt::Debug for InstanceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceOptions")
            .field("external_url", &self.external_url)
            .field("state_keys", &self.state_keys)
            .field("retention", &self.retention)
            .field("peer_timeout", &self.peer_timeout)
            .finish_non_exhaustive()
    }
}

impl InstanceOptions {
    /// Options with the upstream defaults (state keys `nfl`, `sil`), a system clock and the given
    /// peer.
    pub fn new(external_url: impl Into<String>, peer: Arc<dyn Peer>) -> Self {
        Self {
            external_url: external_url.into(),
            peer,
            state_keys: StateKeys::default(),
            retention: nflog::DEFAULT_RETENTION,
            peer_timeout: Duration::from_secs(15),
            clock: Clock::system(),
            dispatch_start_at: None,
            name_validation: NameValidation::Utf8,
            metrics: crate::metrics::OrgMetrics::detached(),
        }
    }
}

/// The state of an alert as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertState {
    /// `active` or `suppressed`.
    pub state: &'static str,
    /// Ids of the active silences muting the alert.
    pub silenced_by: Vec<String>,
    /// Fingerprints of the alerts inhibiting it.
    pub inhibited_by: Vec<String>,
}

/// What [`Alertmanager::restore_alerts`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoredAlerts {
    /// How many alerts were put back into the store.
    pub restored: usize,
    /// Why each other record was left out.
    pub skipped: Vec<String>,
}

/// A receiver as `GET /receivers` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverInfo {
    /// The receiver's name.
    pub name: String,
}

/// The parts built from a configuration, replaced as a whole by [`Alertmanager::apply_config`].
struct Runtime {
    config: Config,
    original: String,
    resolve_timeout: TimeDelta,
    route: Arc<Route>,
    inhibitor: Arc<Inhibitor>,
    dispatcher: Arc<Dispatcher>,
    subscriptions: Mutex<Vec<SubscriptionId>>,
}

/// One organization's Alertmanager.
pub struct Alertmanager {
    opts: InstanceOptions,
    clock: Clock,
    started_at: DateTime<Utc>,
    store: Arc<AlertStore>,
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    broadcast: Arc<dyn Channel>,
    runtime: RwLock<Arc<Runtime>>,
    /// Serializes configuration changes.
    apply_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Alertmanager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alertmanager")
            .field("alerts", &self.store.len())
            .finish_non_exhaustive()
    }
}

fn build_receivers(
    config: &Config,
    external_url: &str,
) -> Result<HashMap<String, Vec<Arc<dyn Integration>>>, InstanceError> {
    let mut out = HashMap::new();
    for r in &config.receivers {
        if !r.email_configs.is_empty() {
            return Err(InstanceError::Receiver {
                receiver: r.name.clone(),
                message: "email_configs are not supported yet".into(),
            });
        }
        let mut integrations: Vec<Arc<dyn Integration>> = Vec::new();
        for (i, w) in r.webhook_configs.iter().enumerate() {
            let idx = u32::try_from(i).unwrap_or(u32::MAX);
            let hook = WebhookIntegration::new(w, idx, external_url.to_owned()).map_err(|e| {
                InstanceError::Receiver {
                    receiver: r.name.clone(),
                    message: e.to_string(),
                }
            })?;
            integrations.push(Arc::new(hook));
        }
        out.insert(r.name.clone(), integrations);
    }
    Ok(out)
}

impl Alertmanager {
    /// Parses `text` and builds an instance whose `config_yaml` is that text.
    pub fn from_yaml(text: &str, opts: InstanceOptions) -> Result<Self, InstanceError> {
        let config = Config::from_yaml(text)?;
        let mut am = Self::new(config, opts)?;
        if let Some(rt) = Arc::get_mut(am.runtime.get_mut().unwrap_or_else(|e| e.into_inner())) {
            rt.original = text.to_owned();
        }
        Ok(am)
    }

    /// Builds an instance from a parsed configuration and the text it came from (reported by
    /// [`Alertmanager::config_yaml`]).
    pub fn with_text(
        config: Config,
        text: &str,
        opts: InstanceOptions,
    ) -> Result<Self, InstanceError> {
        let mut am = Self::new(config, opts)?;
        if let Some(rt) = Arc::get_mut(am.runtime.get_mut().unwrap_or_else(|e| e.into_inner())) {
            rt.original = text.to_owned();
        }
        Ok(am)
    }

    /// Checks that every receiver of `config` can be built, without changing anything.
    pub fn validate_receivers(&self, config: &Config) -> Result<(), InstanceError> {
        build_receivers(config, &self.opts.external_url).map(|_| ())
    }

    /// Builds an instance and starts its dispatcher; must be called inside a tokio runtime.
    pub fn new(config: Config, opts: InstanceOptions) -> Result<Self, InstanceError> {
        let receivers = build_receivers(&config, &opts.external_url)?;
        let retention = TimeDelta::from_std(opts.retention).unwrap_or(TimeDelta::hours(120));
        let store = Arc::new(AlertStore::new(0));
        let silences = Arc::new(Silences::new(SilencesOptions {
            retention,
            name_validation: opts.name_validation,
            ..SilencesOptions::default()
        }));
        let nflog = Arc::new(NotificationLog::new(nflog::Options {
            retention: opts.retention,
        }));
        // Registered before anything is sent, so the first push/pull carries both. Each state
        // relays through the channel its registration returned.
        let nflog_state = Arc::new(NflogState::new(
            Arc::clone(&nflog),
            opts.clock,
            opts.metrics.clone(),
        ));
        let broadcast = opts
            .peer
            .add_state(&opts.state_keys.nflog, Arc::clone(&nflog_state) as _);
        nflog_state.set_channel(Arc::clone(&broadcast));
        let silences_state = Arc::new(SilencesState::new(
            Arc::clone(&silences),
            opts.clock,
            opts.metrics.clone(),
        ));
        let silences_channel = opts
            .peer
            .add_state(&opts.state_keys.silences, Arc::clone(&silences_state) as _);
        silences_state.set_channel(Arc::clone(&silences_channel));
        silences.set_broadcast(silences_channel);
        let shared = Shared {
            store: &store,
            silences: &silences,
            nflog: &nflog,
            broadcast: &broadcast,
        };
        let runtime = build_runtime(&opts, &shared, config, String::new(), receivers);
        Ok(Self {
            clock: opts.clock,
            started_at: opts.clock.now(),
            opts,
            store,
            silences,
            nflog,
            broadcast,
            runtime: RwLock::new(Arc::new(runtime)),
            apply_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Replaces the configuration: stops the old dispatcher, then builds and starts a new
    /// inhibitor, pipeline and dispatcher. Alerts, silences and the notification log are kept;
    /// aggregation groups are rebuilt from the stored alerts (like upstream's reload), plus the
    /// resolved alerts only a group still held, so a pending resolved notification survives.
    /// On error (a receiver cannot be built) nothing changes.
    pub async fn apply_config(&self, config: Config, text: &str) -> Result<(), InstanceError> {
        let receivers = build_receivers(&config, &self.opts.external_url)?;
        let _guard = self.apply_lock.lock().await;
        // Resolved alerts whose notification is still pending live only in their aggregation
        // group once the store's GC dropped them; put them back so the new groups send it
        // (upstream loses them on reload).
        let held: Vec<Arc<Alert>> = self
            .groups()
            .into_iter()
            .flat_map(|g| g.alerts)
            .filter(|a| self.store.get(a.fingerprint()).is_none())
            .collect();
        let old = self.current();
        stop_runtime(&old, &self.store).await;
        let shared = Shared {
            store: &self.store,
            silences: &self.silences,
            nflog: &self.nflog,
            broadcast: &self.broadcast,
        };
        let runtime = build_runtime(&self.opts, &shared, config, text.to_owned(), receivers);
        *self.runtime.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(runtime);
        let now = self.now();
        for alert in held {
            if let Err(e) = self.store.put(Alert::clone(&alert), now) {
                tracing::warn!(error = %e, "a held alert could not be kept across the reload");
            }
        }
        Ok(())
    }

    fn current(&self) -> Arc<Runtime> {
        Arc::clone(&self.runtime.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Which label names alerts, silences and API filters may use.
    pub fn name_validation(&self) -> NameValidation {
        self.opts.name_validation
    }

    /// The wall-clock time as this instance sees it.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Ingests posted alerts at `now`; valid ones are stored, and the error message of each
    /// invalid one is returned.
    pub fn put_alerts(&self, alerts: Vec<PostedAlert>, now: DateTime<Utc>) -> Vec<String> {
        let mut errors = Vec::new();
        let resolve_timeout = self.current().resolve_timeout;
        for posted in alerts {
            let firing = posted.received_status(now, resolve_timeout) == AlertStatus::Firing;
            self.opts.metrics.alert_received(firing);
            match ingest(posted, now, resolve_timeout, self.opts.name_validation) {
                Ok(alert) => {
                    if let Err(e) = self.store.put(alert, now) {
                        errors.push(e.to_string());
                    }
                }
                Err(e) => {
                    self.opts.metrics.alert_invalid();
                    errors.push(e.to_string());
                }
            }
        }
        errors
    }

    /// The state of one alert at `now`: silenced, inhibited or active.
    pub fn alert_state(&self, alert: &Alert, now: DateTime<Utc>) -> AlertState {
        let silenced_by = self.silences.mutes(&alert.labels, now);
        let inhibited_by: Vec<String> = self
            .current()
            .inhibitor
            .mutes(&alert.labels, now)
            .map(|fp| vec![fp.to_string()])
            .unwrap_or_default();
        let state = if silenced_by.is_empty() && inhibited_by.is_empty() {
            "active"
        } else {
            "suppressed"
        };
        AlertState {
            state,
            silenced_by,
            inhibited_by,
        }
    }

    /// The stored alerts (shared with the store) selected by `filter`, with their state at the
    /// current time, sorted by fingerprint.
    pub fn alerts(
        &self,
        filter: impl Fn(&Alert, &AlertState) -> bool,
    ) -> Vec<(Arc<Alert>, AlertState)> {
        let now = self.now();
        self.store
            .list()
            .into_iter()
            .filter_map(|a| {
                let st = self.alert_state(&a, now);
                filter(&a, &st).then_some((a, st))
            })
            .collect()
    }

    /// When the instance was created.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// The receivers the route tree sends `labels` to, in match order, without duplicates.
    pub fn receivers_for(&self, labels: &crate::labels::LabelSet) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let route = Arc::clone(&self.current().route);
        for r in route.matches(labels) {
            if !out.iter().any(|n| n == r.receiver()) {
                out.push(r.receiver().to_owned());
            }
        }
        out
    }

    /// The live aggregation groups.
    pub fn groups(&self) -> Vec<GroupInfo> {
        self.current().dispatcher.groups()
    }

    /// Names of the time intervals muting the groups of route `route_id` at `now` (the API's
    /// `mutedBy`): every active interval when `now` is in none of them, else the mute intervals
    /// containing `now`. Empty when not muted or the route is unknown.
    pub fn muted_by(&self, route_id: &str, now: DateTime<Utc>) -> Vec<String> {
        let rt = self.current();
        let mut route = None;
        rt.route.walk(&mut |r| {
            if r.id() == route_id {
                route = Some(r);
            }
        });
        let Some(route) = route else {
            return Vec::new();
        };
        let intervals = &rt.config.time_intervals;
        let contains = |n: &String| intervals.iter().any(|t| &t.name == n && t.contains(now));
        let active = route.active_time_intervals();
        if !active.is_empty() && !active.iter().any(contains) {
            return active.to_vec();
        }
        let mute = route.mute_time_intervals().iter();
        mute.filter(|n| contains(n)).cloned().collect()
    }

    /// The silences.
    pub fn silences(&self) -> &Arc<Silences> {
        &self.silences
    }

    /// The alert store.
    pub fn store(&self) -> &Arc<AlertStore> {
        &self.store
    }

    /// The configured receivers, in configuration order.
    pub fn receivers(&self) -> Vec<ReceiverInfo> {
        self.current()
            .config
            .receivers
            .iter()
            .map(|r| ReceiverInfo {
                name: r.name.clone(),
            })
            .collect()
    }

    /// The parsed configuration.
    pub fn config(&self) -> Config {
        self.current().config.clone()
    }

    /// The configuration text the instance was built from or last applied (empty if built from
    /// a [`Config`]).
    pub fn config_yaml(&self) -> String {
        self.current().original.clone()
    }

    /// The silences snapshot (delimited `MeshSilence`s).
    pub fn snapshot_silences(&self) -> Vec<u8> {
        let bytes = self.silences.snapshot();
        self.opts.metrics.silences_snapshot(bytes.len());
        bytes
    }

    /// The notification log snapshot (delimited `MeshEntry`s).
    pub fn snapshot_nflog(&self) -> Vec<u8> {
        let bytes = self.nflog.snapshot();
        self.opts.metrics.nflog_snapshot(bytes.len());
        bytes
    }

    /// Restores snapshots; an empty slice leaves that state alone.
    pub fn restore(&self, silences: &[u8], nflog: &[u8]) -> Result<(), InstanceError> {
        let now = self.now();
        if !silences.is_empty() {
            self.silences
                .load_snapshot(silences, now)
                .map_err(|e| InstanceError::Restore {
                    what: "silences",
                    message: e.to_string(),
                })?;
        }
        if !nflog.is_empty() {
            self.nflog
                .load_snapshot(nflog, now)
                .map_err(|e| InstanceError::Restore {
                    what: "nflog",
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }

    /// The alerts snapshot (delimited `watchkeeper.alerts.Alert`s, sorted by fingerprint): every
    /// stored alert plus the resolved alerts aggregation groups still hold because their resolved
    /// notification has not gone out (the store's garbage collection drops those from the store
    /// first). Of two versions of one alert the later `updated_at` wins. Take it before
    /// [`Alertmanager::stop`], which drops the groups.
    pub fn snapshot_alerts(&self) -> Vec<u8> {
        let mut by_fp: std::collections::BTreeMap<crate::labels::Fingerprint, Arc<Alert>> =
            std::collections::BTreeMap::new();
        let held = self.groups().into_iter().flat_map(|g| g.alerts);
        for alert in self.store.list().into_iter().chain(held) {
            let fp = alert.fingerprint();
            if by_fp
                .get(&fp)
                .is_none_or(|a| a.updated_at < alert.updated_at)
            {
                by_fp.insert(fp, alert);
            }
        }
        let alerts: Vec<Arc<Alert>> = by_fp.into_values().collect();
        crate::alerts::encode_alerts(&alerts)
    }

    /// Restores an alerts snapshot into the store; an empty slice restores nothing. The
    /// dispatcher and inhibitor, subscribed to the store, route the alerts as after a reload:
    /// a group whose alerts are older than `group_wait` flushes at once and the notification log
    /// dedups what was already sent. Call it after [`Alertmanager::restore`], so the log is in
    /// place before that flush.
    pub fn restore_alerts(&self, bytes: &[u8]) -> Result<RestoredAlerts, InstanceError> {
        let decoded = crate::alerts::decode_alerts(bytes).map_err(|e| InstanceError::Restore {
            what: "alerts",
            message: e.to_string(),
        })?;
        let mut out = RestoredAlerts {
            restored: 0,
            skipped: decoded.skipped.iter().map(ToString::to_string).collect(),
        };
        let now = self.now();
        for alert in decoded.alerts {
            match self.store.put(alert, now) {
                Ok(_) => out.restored += 1,
                Err(e) => out.skipped.push(e.to_string()),
            }
        }
        Ok(out)
    }

    /// Garbage-collects resolved alerts, expired silences and nflog entries at `now`.
    pub fn maintenance(&self, now: DateTime<Utc>) {
        for fp in self.store.gc(now) {
            self.silences.evict_cache(fp);
        }
        self.current().inhibitor.gc(now);
        let started = std::time::Instant::now();
        self.silences.gc(now);
        let silences_gc = started.elapsed();
        self.nflog.gc(now);
        let nflog_gc = started.elapsed().saturating_sub(silences_gc);
        self.opts.metrics.maintenance(nflog_gc, silences_gc);
    }

    /// Stops the dispatcher and unsubscribes from the store.
    pub async fn stop(&self) {
        let _guard = self.apply_lock.lock().await;
        stop_runtime(&self.current(), &self.store).await;
    }
}

/// The state kept across configuration changes.
struct Shared<'a> {
    store: &'a Arc<AlertStore>,
    silences: &'a Arc<Silences>,
    nflog: &'a Arc<NotificationLog>,
    broadcast: &'a Arc<dyn Channel>,
}

/// Builds and starts inhibitor, pipeline and dispatcher for `config` over the shared store,
/// silences and notification log. The dispatcher builds its groups from the stored alerts.
fn build_runtime(
    opts: &InstanceOptions,
    shared: &Shared<'_>,
    config: Config,
    original: String,
    receivers: HashMap<String, Vec<Arc<dyn Integration>>>,
) -> Runtime {
    let rules = config
        .inhibit_rules
        .iter()
        .map(|r| InhibitRule {
            source_matchers: r.source_matchers.clone(),
            target_matchers: r.target_matchers.clone(),
            equal: r.equal.clone(),
            name: None,
        })
        .collect();
    let inhibitor = Arc::new(Inhibitor::new(rules));
    let inhibit_sub = inhibitor.subscribe(shared.store);
    let deps = PipelineDeps {
        peer: Arc::clone(&opts.peer),
        inhibitor: Arc::clone(&inhibitor),
        silences: Arc::clone(shared.silences),
        time_intervals: config
            .time_intervals
            .iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect(),
        nflog: Arc::clone(shared.nflog),
        broadcast: Arc::clone(shared.broadcast),
    };
    let pipeline = Pipeline::new(
        receivers,
        deps,
        PipelineOptions {
            peer_timeout: opts.peer_timeout,
            grafana_nflog_expiry: true,
            ..PipelineOptions::default()
        },
    )
    .with_metrics(opts.metrics.clone());
    let route = Arc::new(Route::new_tree(&config.route));
    let peer = Arc::clone(&opts.peer);
    let dispatcher = Dispatcher::new(
        Arc::clone(&route),
        Arc::new(pipeline),
        DispatcherOptions {
            peer_timeout: opts.peer_timeout,
            position: Arc::new(move || peer.position()),
            clock: opts.clock,
            start_at: opts.dispatch_start_at,
            metrics: opts.metrics.clone(),
            ..DispatcherOptions::default()
        },
    );
    let dispatch_sub = dispatcher.run(shared.store);
    let resolve_timeout =
        TimeDelta::from_std(config.global.resolve_timeout).unwrap_or(TimeDelta::minutes(5));
    Runtime {
        config,
        original,
        resolve_timeout,
        route,
        inhibitor,
        dispatcher: Arc::new(dispatcher),
        subscriptions: Mutex::new(vec![inhibit_sub, dispatch_sub]),
    }
}

async fn stop_runtime(rt: &Runtime, store: &AlertStore) {
    rt.dispatcher.stop().await;
    let subs: Vec<SubscriptionId> = rt
        .subscriptions
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    for s in subs {
        store.unsubscribe(s);
    }
}
