//! Alertmanager's metrics under upstream's names and labels, with an extra `org` label since
//! every organization has its own instance. One [`Metrics`] is created per process and shared
//! by every instance through [`OrgMetrics`] handles (`InstanceOptions::metrics`); the owner
//! registers it once in its registry with [`Metrics::register`].
//!
//! Counters and histograms are updated where things happen (one call per place). Gauges that
//! describe current state (`alertmanager_alerts`, `alertmanager_silences`, the aggregation group
//! count) and the silence query counter are read from the tracked instances at scrape time.
//!
//! Deviations from upstream: the `*_gc_duration_seconds` and
//! `alertmanager_dispatcher_alert_processing_duration_seconds` summaries (without quantiles
//! upstream) are histograms here, since the metrics library has no summary type; both keep
//! `_sum` and `_count`. `alertmanager_notifications_failed_total` has the `reason` label of
//! Alertmanager 0.26+ (0.25 has only `integration`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::instance::Alertmanager;
use crate::notify::{FailureReason, SuppressReason};

/// `alertmanager_notification_latency_seconds` buckets (upstream's).
const LATENCY_BUCKETS: [f64; 5] = [1.0, 5.0, 10.0, 15.0, 20.0];
/// client_golang's default buckets, for the durations upstream keeps as summaries.
const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The integrations whose series exist from the start (upstream initializes every integration
/// it knows; these are the ones we implement).
const INTEGRATIONS: [&str; 1] = ["webhook"];
/// Every `reason` of `alertmanager_notifications_failed_total`.
const FAILURE_REASONS: [FailureReason; 5] = [
    FailureReason::Other,
    FailureReason::ClientError,
    FailureReason::ServerError,
    FailureReason::ContextCanceled,
    FailureReason::ContextDeadlineExceeded,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabels {
    org: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    org: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    org: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntegrationLabels {
    org: String,
    integration: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailedLabels {
    org: String,
    integration: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    org: String,
    reason: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn default_histogram() -> Histogram {
    Histogram::new(DEFAULT_BUCKETS)
}

/// Every Alertmanager metric family of the process, and the instances read at scrape time.
pub struct Metrics {
    alerts_received: Family<StatusLabels, Counter>,
    alerts_invalid: Family<OrgLabels, Counter>,
    notifications: Family<IntegrationLabels, Counter>,
    notifications_failed: Family<FailedLabels, Counter>,
    notification_requests: Family<IntegrationLabels, Counter>,
    notification_requests_failed: Family<IntegrationLabels, Counter>,
    notification_latency: Histograms<IntegrationLabels>,
    notifications_suppressed: Family<ReasonLabels, Counter>,
    nflog_gc_duration: Histograms<OrgLabels>,
    nflog_snapshot_size: Family<OrgLabels, Gauge>,
    nflog_queries: Family<OrgLabels, Counter>,
    nflog_query_errors: Family<OrgLabels, Counter>,
    nflog_maintenance: Family<OrgLabels, Counter>,
    silences_gc_duration: Histograms<OrgLabels>,
    silences_snapshot_size: Family<OrgLabels, Gauge>,
    silences_maintenance: Family<OrgLabels, Counter>,
    nflog_propagated: Family<OrgLabels, Counter>,
    silences_propagated: Family<OrgLabels, Counter>,
    alert_processing: Histograms<OrgLabels>,
    instances: Mutex<BTreeMap<String, Weak<Alertmanager>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty families, not yet registered anywhere.
    pub fn new() -> Self {
        Self {
            alerts_received: Family::default(),
            alerts_invalid: Family::default(),
            notifications: Family::default(),
            notifications_failed: Family::default(),
            notification_requests: Family::default(),
            notification_requests_failed: Family::default(),
            notification_latency: Family::new_with_constructor(latency_histogram),
            notifications_suppressed: Family::default(),
            nflog_gc_duration: Family::new_with_constructor(default_histogram),
            nflog_snapshot_size: Family::default(),
            nflog_queries: Family::default(),
            nflog_query_errors: Family::default(),
            nflog_maintenance: Family::default(),
            silences_gc_duration: Family::new_with_constructor(default_histogram),
            silences_snapshot_size: Family::default(),
            silences_maintenance: Family::default(),
            nflog_propagated: Family::default(),
            silences_propagated: Family::default(),
            alert_processing: Family::new_with_constructor(default_histogram),
            instances: Mutex::default(),
        }
    }

    /// Registers every family, and the scrape-time collector, in `registry`.
    pub fn register(self: &Arc<Self>, registry: &mut Registry) {
        // prometheus-client appends `_total` to counter names.
        let r = registry;
        r.register(
            "alertmanager_alerts_received",
            "Alerts received through the API, by status.",
            self.alerts_received.clone(),
        );
        r.register(
            "alertmanager_alerts_invalid",
            "Alerts received through the API that failed validation.",
            self.alerts_invalid.clone(),
        );
        r.register(
            "alertmanager_notifications",
            "Notifications handed to an integration.",
            self.notifications.clone(),
        );
        r.register(
            "alertmanager_notifications_failed",
            "Notifications that finally failed, by reason.",
            self.notifications_failed.clone(),
        );
        r.register(
            "alertmanager_notification_requests",
            "Notification attempts (requests), retries included.",
            self.notification_requests.clone(),
        );
        r.register(
            "alertmanager_notification_requests_failed",
            "Notification attempts that failed.",
            self.notification_requests_failed.clone(),
        );
        r.register(
            "alertmanager_notification_latency_seconds",
            "Duration of notification attempts.",
            self.notification_latency.clone(),
        );
        r.register(
            "alertmanager_notifications_suppressed",
            "Alerts removed from notifications by inhibition, silences or time intervals.",
            self.notifications_suppressed.clone(),
        );
        r.register(
            "alertmanager_nflog_gc_duration_seconds",
            "Duration of notification log garbage collections.",
            self.nflog_gc_duration.clone(),
        );
        r.register(
            "alertmanager_nflog_snapshot_size_bytes",
            "Size in bytes of the last notification log snapshot.",
            self.nflog_snapshot_size.clone(),
        );
        r.register(
            "alertmanager_nflog_queries",
            "Notification log lookups.",
            self.nflog_queries.clone(),
        );
        r.register(
            "alertmanager_nflog_query_errors",
            "Notification log lookups that failed.",
            self.nflog_query_errors.clone(),
        );
        r.register(
            "alertmanager_nflog_maintenance",
            "Maintenance runs of the notification log.",
            self.nflog_maintenance.clone(),
        );
        r.register(
            "alertmanager_silences_gc_duration_seconds",
            "Duration of silence garbage collections.",
            self.silences_gc_duration.clone(),
        );
        r.register(
            "alertmanager_silences_snapshot_size_bytes",
            "Size in bytes of the last silences snapshot.",
            self.silences_snapshot_size.clone(),
        );
        r.register(
            "alertmanager_silences_maintenance",
            "Maintenance runs of the silences.",
            self.silences_maintenance.clone(),
        );
        r.register(
            "alertmanager_nflog_gossip_messages_propagated",
            "Received notification log gossip messages relayed to other peers.",
            self.nflog_propagated.clone(),
        );
        r.register(
            "alertmanager_silences_gossip_messages_propagated",
            "Received silence gossip messages relayed to other peers.",
            self.silences_propagated.clone(),
        );
        r.register(
            "alertmanager_dispatcher_alert_processing_duration_seconds",
            "Time to route one alert into its aggregation groups.",
            self.alert_processing.clone(),
        );
        r.register_collector(Box::new(Scrape(Arc::clone(self))));
    }

    /// The handle an organization's instance counts through; creates its series that upstream
    /// exports from the start (at zero).
    pub fn org(self: &Arc<Self>, org: impl Into<String>) -> OrgMetrics {
        let org = org.into();
        let o = || OrgLabels { org: org.clone() };
        for status in ["firing", "resolved"] {
            let _ = self.alerts_received.get_or_create(&StatusLabels {
                org: org.clone(),
                status,
            });
        }
        let _ = self.alerts_invalid.get_or_create(&o());
        for integration in INTEGRATIONS {
            let l = IntegrationLabels {
                org: org.clone(),
                integration: integration.to_owned(),
            };
            let _ = self.notifications.get_or_create(&l);
            let _ = self.notification_requests.get_or_create(&l);
            let _ = self.notification_requests_failed.get_or_create(&l);
            let _ = self.notification_latency.get_or_create(&l);
            for reason in FAILURE_REASONS {
                let _ = self.notifications_failed.get_or_create(&FailedLabels {
                    org: org.clone(),
                    integration: integration.to_owned(),
                    reason: reason.as_str(),
                });
            }
        }
        let _ = self.nflog_queries.get_or_create(&o());
        let _ = self.nflog_query_errors.get_or_create(&o());
        let _ = self.nflog_maintenance.get_or_create(&o());
        let _ = self.silences_maintenance.get_or_create(&o());
        let _ = self.nflog_propagated.get_or_create(&o());
        let _ = self.silences_propagated.get_or_create(&o());
        OrgMetrics {
            org,
            metrics: Arc::clone(self),
        }
    }

    /// The live tracked instances, by organization (dead ones are forgotten).
    fn live(&self) -> Vec<(String, Arc<Alertmanager>)> {
        let mut map = self.instances.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, w| w.strong_count() > 0);
        map.iter()
            .filter_map(|(org, w)| w.upgrade().map(|am| (org.clone(), am)))
            .collect()
    }
}

/// What the scrape reads from one instance.
struct InstanceStats {
    org: String,
    alerts_active: i64,
    alerts_suppressed: i64,
    silences: [(&'static str, i64); 3],
    silence_queries: u64,
    groups: i64,
}

fn stats(org: String, am: &Alertmanager) -> InstanceStats {
    let now = am.now();
    let (mut active, mut suppressed) = (0i64, 0i64);
    for alert in am.store().list() {
        if alert.resolved_at(now) {
            continue;
        }
        match am.alert_state(&alert, now).state {
            "active" => active += 1,
            _ => suppressed += 1,
        }
    }
    let c = am.silences().count_by_state(now);
    let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    InstanceStats {
        org,
        alerts_active: active,
        alerts_suppressed: suppressed,
        silences: [
            ("active", n(c.active)),
            ("pending", n(c.pending)),
            ("expired", n(c.expired)),
        ],
        silence_queries: am.silences().stats().queries,
        groups: n(am.groups().len()),
    }
}

/// The scrape-time part: state gauges read from the tracked instances.
#[derive(Debug)]
struct Scrape(Arc<Metrics>);

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(impl EncodeLabelSet, i64)],
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in samples {
        ConstGauge::new(*v).encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(OrgLabels, u64)],
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in samples {
        ConstCounter::new(*v).encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let all: Vec<InstanceStats> = self
            .0
            .live()
            .into_iter()
            .map(|(org, am)| stats(org, &am))
            .collect();
        let org = |s: &InstanceStats| OrgLabels { org: s.org.clone() };
        let state = |s: &InstanceStats, state| StateLabels {
            org: s.org.clone(),
            state,
        };
        let alerts: Vec<(StateLabels, i64)> = all
            .iter()
            .flat_map(|s| {
                [
                    (state(s, "active"), s.alerts_active),
                    (state(s, "suppressed"), s.alerts_suppressed),
                ]
            })
            .collect();
        gauge(
            &mut encoder,
            "alertmanager_alerts",
            "Alerts not yet ended, by state.",
            &alerts,
        )?;
        let silences: Vec<(StateLabels, i64)> = all
            .iter()
            .flat_map(|s| s.silences.map(|(st, v)| (state(s, st), v)))
            .collect();
        gauge(
            &mut encoder,
            "alertmanager_silences",
            "Silences by state.",
            &silences,
        )?;
        let groups: Vec<(OrgLabels, i64)> = all.iter().map(|s| (org(s), s.groups)).collect();
        gauge(
            &mut encoder,
            "alertmanager_dispatcher_aggregation_groups",
            "Aggregation groups holding alerts.",
            &groups,
        )?;
        let queries: Vec<(OrgLabels, u64)> =
            all.iter().map(|s| (org(s), s.silence_queries)).collect();
        counter(
            &mut encoder,
            "alertmanager_silences_queries",
            "Silence queries and mute checks.",
            &queries,
        )?;
        let errors: Vec<(OrgLabels, u64)> = all.iter().map(|s| (org(s), 0)).collect();
        counter(
            &mut encoder,
            "alertmanager_silences_query_errors",
            "Silence queries that failed.",
            &errors,
        )
    }
}

/// One organization's view of [`Metrics`]: the calls the instance makes where it counts.
#[derive(Clone, Debug)]
pub struct OrgMetrics {
    org: String,
    metrics: Arc<Metrics>,
}

impl Default for OrgMetrics {
    fn default() -> Self {
        Self::detached()
    }
}

impl OrgMetrics {
    /// A handle on fresh metrics registered nowhere (tests, and instances built without them).
    pub fn detached() -> Self {
        Arc::new(Metrics::new()).org("0")
    }

    fn org(&self) -> OrgLabels {
        OrgLabels {
            org: self.org.clone(),
        }
    }

    fn integration(&self, integration: &str) -> IntegrationLabels {
        IntegrationLabels {
            org: self.org.clone(),
            integration: integration.to_owned(),
        }
    }

    /// Reads this instance's state gauges at every scrape (until it is dropped).
    pub fn track(&self, am: &Arc<Alertmanager>) {
        let mut map = self
            .metrics
            .instances
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.insert(self.org.clone(), Arc::downgrade(am));
    }

    /// A posted alert, counted by its status after defaults (`alertmanager_alerts_received_total`).
    pub fn alert_received(&self, firing: bool) {
        let status = if firing { "firing" } else { "resolved" };
        let labels = StatusLabels {
            org: self.org.clone(),
            status,
        };
        self.metrics.alerts_received.get_or_create(&labels).inc();
    }

    /// A posted alert that failed validation (`alertmanager_alerts_invalid_total`).
    pub fn alert_invalid(&self) {
        self.metrics.alerts_invalid.get_or_create(&self.org()).inc();
    }

    /// A notification handed to the retry stage (`alertmanager_notifications_total`).
    pub fn notification(&self, integration: &str) {
        let l = self.integration(integration);
        self.metrics.notifications.get_or_create(&l).inc();
    }

    /// A notification that finally failed (`alertmanager_notifications_failed_total`).
    pub fn notification_failed(&self, integration: &str, reason: FailureReason) {
        let labels = FailedLabels {
            org: self.org.clone(),
            integration: integration.to_owned(),
            reason: reason.as_str(),
        };
        self.metrics
            .notifications_failed
            .get_or_create(&labels)
            .inc();
    }

    /// One attempt (request) of a notification, its duration and whether it failed
    /// (`alertmanager_notification_requests_total`, `…_failed_total`, `…_latency_seconds`).
    pub fn notification_request(&self, integration: &str, took: Duration, failed: bool) {
        let l = self.integration(integration);
        let m = &self.metrics;
        m.notification_requests.get_or_create(&l).inc();
        m.notification_latency
            .get_or_create(&l)
            .observe(took.as_secs_f64());
        if failed {
            m.notification_requests_failed.get_or_create(&l).inc();
        }
    }

    /// Alerts removed from a flush (`alertmanager_notifications_suppressed_total`).
    pub fn suppressed(&self, reason: SuppressReason, n: usize) {
        if n == 0 {
            return;
        }
        let labels = ReasonLabels {
            org: self.org.clone(),
            reason: reason.as_str(),
        };
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.metrics
            .notifications_suppressed
            .get_or_create(&labels)
            .inc_by(n);
    }

    /// A notification log lookup (`alertmanager_nflog_queries_total`).
    pub fn nflog_query(&self) {
        self.metrics.nflog_queries.get_or_create(&self.org()).inc();
    }

    /// One maintenance run with the time its two garbage collections took
    /// (`…_gc_duration_seconds`, `…_maintenance_total` of the nflog and silences).
    pub fn maintenance(&self, nflog_gc: Duration, silences_gc: Duration) {
        let (m, o) = (&self.metrics, self.org());
        m.nflog_gc_duration
            .get_or_create(&o)
            .observe(nflog_gc.as_secs_f64());
        m.silences_gc_duration
            .get_or_create(&o)
            .observe(silences_gc.as_secs_f64());
        m.nflog_maintenance.get_or_create(&o).inc();
        m.silences_maintenance.get_or_create(&o).inc();
    }

    /// The size of a notification log snapshot just taken (`…_nflog_snapshot_size_bytes`).
    pub fn nflog_snapshot(&self, bytes: usize) {
        let v = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.metrics
            .nflog_snapshot_size
            .get_or_create(&self.org())
            .set(v);
    }

    /// The size of a silences snapshot just taken (`…_silences_snapshot_size_bytes`).
    pub fn silences_snapshot(&self, bytes: usize) {
        let v = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.metrics
            .silences_snapshot_size
            .get_or_create(&self.org())
            .set(v);
    }

    /// A received notification log message relayed to the other peers
    /// (`alertmanager_nflog_gossip_messages_propagated_total`).
    pub fn nflog_gossip_propagated(&self) {
        self.metrics
            .nflog_propagated
            .get_or_create(&self.org())
            .inc();
    }

    /// A received silences message relayed to the other peers
    /// (`alertmanager_silences_gossip_messages_propagated_total`).
    pub fn silences_gossip_propagated(&self) {
        self.metrics
            .silences_propagated
            .get_or_create(&self.org())
            .inc();
    }

    /// How long the dispatcher took to route one alert
    /// (`alertmanager_dispatcher_alert_processing_duration_seconds`).
    pub fn alert_processed(&self, took: Duration) {
        self.metrics
            .alert_processing
            .get_or_create(&self.org())
            .observe(took.as_secs_f64());
    }
}
