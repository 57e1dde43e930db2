//! Alertmanager metrics: what an instance and its pipeline count, read back from the OpenMetrics
//! exposition of a registry the metrics are registered in.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use prometheus_client::registry::Registry;
use wk_alertmanager::alert::{Alert, PostedAlert, zero_time};
use wk_alertmanager::dispatch::Clock;
use wk_alertmanager::inhibit::Inhibitor;
use wk_alertmanager::instance::{Alertmanager, DEFAULT_CONFIG, InstanceOptions};
use wk_alertmanager::labels::LabelSet;
use wk_alertmanager::matchers::{Mode, parse_matchers};
use wk_alertmanager::metrics::Metrics;
use wk_alertmanager::nflog::{NotificationLog, Options};
use wk_alertmanager::notify::{
    BoxFuture, FailureReason, GroupContext, Integration, Notifier, NotifyError, Pipeline,
    PipelineDeps, PipelineOptions,
};
use wk_alertmanager::silences::{Silence, Silences, SilencesOptions};
use wk_cluster::{Channel, NilPeer};

fn registry() -> (Registry, Arc<Metrics>) {
    let mut registry = Registry::default();
    let metrics = Arc::new(Metrics::new());
    metrics.register(&mut registry);
    (registry, metrics)
}

fn render(registry: &Registry) -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry).expect("encode");
    out
}

/// The value of the sample `series` (name and labels exactly as exposed), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split(' ').next()?.parse().ok())
}

fn posted(name: &str, ends_at: Option<chrono::DateTime<Utc>>) -> PostedAlert {
    PostedAlert {
        labels: BTreeMap::from([("alertname".to_owned(), name.to_owned())]),
        ends_at,
        ..PostedAlert::default()
    }
}

#[tokio::test]
async fn instance_counts_alerts_and_exposes_state_at_scrape() {
    let (registry, metrics) = registry();
    let mut opts = InstanceOptions::new("http://wk.example/", Arc::new(NilPeer));
    opts.clock = Clock::starting_at(Utc::now());
    opts.metrics = metrics.org("7");
    let am = Arc::new(Alertmanager::from_yaml(DEFAULT_CONFIG, opts.clone()).expect("instance"));
    opts.metrics.track(&am);

    let now = am.now();
    let errors = am.put_alerts(
        vec![
            posted("Firing", None),
            posted("Quiet", None),
            posted("Done", Some(now - TimeDelta::minutes(1))),
            PostedAlert::default(),
        ],
        now,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let silence = Silence {
        matcher_sets: vec![parse_matchers("alertname=Quiet", Mode::Utf8).expect("matchers")],
        starts_at: Some(now - TimeDelta::minutes(1)),
        ends_at: Some(now + TimeDelta::hours(1)),
        created_by: "t".into(),
        comment: "t".into(),
        ..Silence::default()
    };
    am.silences().set(silence, now).expect("silence");
    am.maintenance(now);
    let snapshot = am.snapshot_silences();

    let text = render(&registry);
    let v = |s: &str| value(&text, s);
    assert_eq!(
        v("alertmanager_alerts_received_total{org=\"7\",status=\"firing\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        v("alertmanager_alerts_received_total{org=\"7\",status=\"resolved\"}"),
        Some(1.0)
    );
    assert_eq!(v("alertmanager_alerts_invalid_total{org=\"7\"}"), Some(1.0));
    assert_eq!(
        v("alertmanager_alerts{org=\"7\",state=\"active\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("alertmanager_alerts{org=\"7\",state=\"suppressed\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("alertmanager_silences{org=\"7\",state=\"active\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("alertmanager_silences{org=\"7\",state=\"expired\"}"),
        Some(0.0)
    );
    assert!(v("alertmanager_silences_queries_total{org=\"7\"}").is_some_and(|q| q >= 1.0));
    assert_eq!(
        v("alertmanager_silences_query_errors_total{org=\"7\"}"),
        Some(0.0)
    );
    assert_eq!(
        v("alertmanager_nflog_maintenance_total{org=\"7\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("alertmanager_silences_maintenance_total{org=\"7\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("alertmanager_silences_gc_duration_seconds_count{org=\"7\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("alertmanager_silences_snapshot_size_bytes{org=\"7\"}"),
        Some(snapshot.len() as f64)
    );
    // Series upstream exports at zero from the start.
    assert_eq!(
        v(
            "alertmanager_notifications_failed_total{org=\"7\",integration=\"webhook\",reason=\"serverError\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        v("alertmanager_notification_latency_seconds_bucket{le=\"20.0\",org=\"7\",integration=\"webhook\"}")
            .or_else(|| v("alertmanager_notification_latency_seconds_bucket{org=\"7\",integration=\"webhook\",le=\"20.0\"}")),
        Some(0.0),
        "{text}"
    );

    // A dropped instance no longer reports state.
    am.stop().await;
    drop(am);
    let text = render(&registry);
    assert_eq!(
        value(&text, "alertmanager_alerts{org=\"7\",state=\"active\"}"),
        None
    );
}

#[tokio::test]
async fn dispatcher_reports_groups_and_processing_time() {
    let (registry, metrics) = registry();
    let mut opts = InstanceOptions::new("http://wk.example/", Arc::new(NilPeer));
    opts.metrics = metrics.org("2");
    let am = Arc::new(Alertmanager::from_yaml(DEFAULT_CONFIG, opts.clone()).expect("instance"));
    opts.metrics.track(&am);
    am.put_alerts(vec![posted("A", None), posted("B", None)], am.now());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = render(&registry);
        let groups = value(
            &text,
            "alertmanager_dispatcher_aggregation_groups{org=\"2\"}",
        );
        let processed = value(
            &text,
            "alertmanager_dispatcher_alert_processing_duration_seconds_count{org=\"2\"}",
        );
        if groups == Some(2.0) && processed == Some(2.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    am.stop().await;
}

/// Fails the first `fail` calls with `reason`.
struct Flaky {
    fail: AtomicU32,
    retry: bool,
    reason: FailureReason,
    calls: Mutex<u32>,
}

impl Integration for Flaky {
    fn name(&self) -> &str {
        "webhook"
    }
    fn index(&self) -> u32 {
        0
    }
    fn send_resolved(&self) -> bool {
        true
    }
    fn notify<'a>(
        &'a self,
        _ctx: &'a GroupContext,
        _reason: &'a str,
        _alerts: &'a [Alert],
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        if let Ok(mut c) = self.calls.lock() {
            *c += 1;
        }
        let failing = self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let (retry, reason) = (self.retry, self.reason);
        Box::pin(async move {
            if failing {
                Err(NotifyError::Integration {
                    integration: "webhook".into(),
                    index: 0,
                    retry,
                    message: "boom".into(),
                    reason,
                })
            } else {
                Ok(())
            }
        })
    }
}

struct NoBroadcast;
impl Channel for NoBroadcast {
    fn broadcast(&self, _bytes: Vec<u8>) {}
}

fn pipeline(hook: Arc<Flaky>, metrics: &Arc<Metrics>, org: &str) -> (Pipeline, Arc<Silences>) {
    let silences = Arc::new(Silences::new(SilencesOptions::default()));
    let integration: Arc<dyn Integration> = hook;
    let p = Pipeline::new(
        HashMap::from([("team".to_owned(), vec![integration])]),
        PipelineDeps {
            peer: Arc::new(NilPeer),
            inhibitor: Arc::new(Inhibitor::new(vec![])),
            silences: Arc::clone(&silences),
            time_intervals: HashMap::new(),
            nflog: Arc::new(NotificationLog::new(Options::default())),
            broadcast: Arc::new(NoBroadcast),
        },
        PipelineOptions::default(),
    )
    .with_metrics(metrics.org(org));
    (p, silences)
}

fn ctx() -> GroupContext {
    GroupContext {
        group_key: "{}:{}".into(),
        group_labels: LabelSet::new(),
        receiver: "team".into(),
        route_id: "{}".into(),
        group_interval: Duration::from_secs(300),
        repeat_interval: Duration::from_secs(3600),
        mute_time_intervals: vec![],
        active_time_intervals: vec![],
        now: Utc::now(),
    }
}

fn firing(name: &str) -> Alert {
    let now = Utc::now();
    Alert {
        labels: [("alertname", name)].into_iter().collect(),
        annotations: LabelSet::new(),
        starts_at: now - TimeDelta::minutes(5),
        ends_at: zero_time(),
        generator_url: String::new(),
        updated_at: now,
        timeout: false,
    }
}

#[tokio::test(start_paused = true)]
async fn notifications_count_once_and_requests_per_attempt() {
    let (registry, metrics) = registry();
    let hook = Arc::new(Flaky {
        fail: AtomicU32::new(2),
        retry: true,
        reason: FailureReason::ServerError,
        calls: Mutex::new(0),
    });
    let (p, _) = pipeline(Arc::clone(&hook), &metrics, "1");
    assert!(p.notify(&ctx(), vec![firing("A")]).await.is_ok());
    assert_eq!(hook.calls.lock().map(|c| *c).unwrap_or_default(), 3);

    let text = render(&registry);
    let v = |s: &str| value(&text, s);
    let l = "{org=\"1\",integration=\"webhook\"}";
    assert_eq!(
        v(&format!("alertmanager_notifications_total{l}")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        v(&format!("alertmanager_notification_requests_total{l}")),
        Some(3.0)
    );
    assert_eq!(
        v(&format!(
            "alertmanager_notification_requests_failed_total{l}"
        )),
        Some(2.0)
    );
    assert_eq!(
        v(&format!(
            "alertmanager_notification_latency_seconds_count{l}"
        )),
        Some(3.0)
    );
    assert_eq!(
        v(
            "alertmanager_notifications_failed_total{org=\"1\",integration=\"webhook\",reason=\"serverError\"}"
        ),
        Some(0.0)
    );
    assert_eq!(v("alertmanager_nflog_queries_total{org=\"1\"}"), Some(1.0));
}

#[tokio::test(start_paused = true)]
async fn failures_carry_their_reason_and_suppressed_alerts_are_counted() {
    let (registry, metrics) = registry();
    let hook = Arc::new(Flaky {
        fail: AtomicU32::new(1),
        retry: false,
        reason: FailureReason::ClientError,
        calls: Mutex::new(0),
    });
    let (p, silences) = pipeline(hook, &metrics, "3");
    let now = Utc::now();
    let silence = Silence {
        matcher_sets: vec![parse_matchers("alertname=Quiet", Mode::Utf8).expect("matchers")],
        starts_at: Some(now - TimeDelta::minutes(1)),
        ends_at: Some(now + TimeDelta::hours(1)),
        created_by: "t".into(),
        comment: "t".into(),
        ..Silence::default()
    };
    silences.set(silence, now).expect("silence");
    let res = p.notify(&ctx(), vec![firing("A"), firing("Quiet")]).await;
    assert!(res.is_err());

    let text = render(&registry);
    let v = |s: &str| value(&text, s);
    assert_eq!(
        v(
            "alertmanager_notifications_failed_total{org=\"3\",integration=\"webhook\",reason=\"clientError\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        v("alertmanager_notifications_total{org=\"3\",integration=\"webhook\"}"),
        Some(1.0)
    );
    assert_eq!(
        v("alertmanager_notifications_suppressed_total{org=\"3\",reason=\"silence\"}"),
        Some(1.0)
    );
}
