//! The scheduler end to end with short intervals: a TestData rule goes Normal → Pending →
//! Alerting and back, alerts reach the sink, transitions reach history, states are saved and
//! restored, a rule change is picked up at the next tick and a deleted rule resolves.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{Notify, watch};
use wk_ruler::data::Labels;
use wk_ruler::datasource::DataSourceConfig;
use wk_ruler::eval::{BoxFuture, DataSources, Evaluator};
use wk_ruler::rule::{AlertQuery, RelativeTimeRange, Rule};
use wk_ruler::schedule::metrics::{GroupLabel, StateLabel};
use wk_ruler::schedule::{
    AlertSink, HistoryEntry, HistorySink, Jitter, LoadedRule, RuleKey, RuleSource, RulerMetrics,
    Scheduler, SchedulerOptions, StateStore, StateView,
};
use wk_ruler::state::{PostableAlert, StoredInstance};

/// Everything the ports saw, with a notification on each change.
#[derive(Default)]
struct World {
    rules: Mutex<Vec<LoadedRule>>,
    saved: Mutex<HashMap<(RuleKey, Labels), StoredInstance>>,
    history: Mutex<Vec<HistoryEntry>>,
    alerts: Mutex<Vec<PostableAlert>>,
    changed: Notify,
}

struct Ports(Arc<World>);

impl DataSources for Ports {
    fn get<'a>(
        &'a self,
        _org_id: i64,
        uid: &'a str,
    ) -> BoxFuture<'a, Result<Option<DataSourceConfig>, String>> {
        Box::pin(async move {
            Ok((uid == "td").then(|| DataSourceConfig {
                uid: "td".into(),
                kind: "grafana-testdata-datasource".into(),
                ..DataSourceConfig::default()
            }))
        })
    }
}

impl RuleSource for Ports {
    fn versions(&self) -> BoxFuture<'_, Result<Vec<(RuleKey, i64)>, String>> {
        Box::pin(async move {
            Ok(self
                .0
                .rules
                .lock()
                .expect("lock")
                .iter()
                .map(|r| ((r.org_id, r.rule.uid.clone()), r.version))
                .collect())
        })
    }
    fn load(&self) -> BoxFuture<'_, Result<Vec<LoadedRule>, String>> {
        Box::pin(async move { Ok(self.0.rules.lock().expect("lock").clone()) })
    }
}

impl StateStore for Ports {
    fn load(&self) -> BoxFuture<'_, Result<Vec<(RuleKey, StoredInstance)>, String>> {
        Box::pin(async move {
            Ok(self
                .0
                .saved
                .lock()
                .expect("lock")
                .iter()
                .map(|((k, _), s)| (k.clone(), s.clone()))
                .collect())
        })
    }
    fn save<'a>(
        &'a self,
        key: &'a RuleKey,
        changed: Vec<StoredInstance>,
        removed: Option<Vec<Labels>>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut saved = self.0.saved.lock().expect("lock");
            match removed {
                None => saved.retain(|(k, _), _| k != key),
                Some(labels) => {
                    for l in labels {
                        saved.remove(&(key.clone(), l));
                    }
                }
            }
            for s in changed {
                saved.insert((key.clone(), s.labels.clone()), s);
            }
            Ok(())
        })
    }
}

impl HistorySink for Ports {
    fn record(&self, entries: Vec<HistoryEntry>) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.0.history.lock().expect("lock").extend(entries);
            self.0.changed.notify_waiters();
            Ok(())
        })
    }
}

impl AlertSink for Ports {
    fn send(&self, _org_id: i64, alerts: Vec<PostableAlert>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.0.alerts.lock().expect("lock").extend(alerts);
            self.0.changed.notify_waiters();
        })
    }
}

/// A rule firing while `csv_metric_values` ends above 5: `for` is two ticks.
fn rule(version: i64, csv: &str, for_ms: u64) -> LoadedRule {
    LoadedRule {
        org_id: 1,
        folder_uid: "f".into(),
        folder_title: "Infra".into(),
        group: "g".into(),
        interval_ms: 100,
        version,
        rule: Rule {
            uid: "r1".into(),
            title: "High".into(),
            condition: "C".into(),
            data: vec![
                AlertQuery {
                    ref_id: "A".into(),
                    query_type: String::new(),
                    relative_time_range: RelativeTimeRange { from: 600, to: 0 },
                    datasource_uid: "td".into(),
                    model: json!({"scenarioId": "csv_metric_values", "stringInput": csv}),
                },
                AlertQuery {
                    ref_id: "B".into(),
                    query_type: String::new(),
                    relative_time_range: RelativeTimeRange::default(),
                    datasource_uid: "__expr__".into(),
                    model: json!({"type": "reduce", "expression": "A", "reducer": "last"}),
                },
                AlertQuery {
                    ref_id: "C".into(),
                    query_type: String::new(),
                    relative_time_range: RelativeTimeRange::default(),
                    datasource_uid: "__expr__".into(),
                    model: json!({"type": "threshold", "expression": "B",
                        "conditions": [{"evaluator": {"type": "gt", "params": [5]}}]}),
                },
            ],
            no_data_state: Default::default(),
            exec_err_state: Default::default(),
            for_ms,
            keep_firing_for_ms: 0,
            labels: BTreeMap::from([
                ("team".to_owned(), "a".to_owned()),
                (
                    "severity".to_owned(),
                    "{{ if gt $values.B.Value 5.0 }}high{{ else }}low{{ end }}".to_owned(),
                ),
            ]),
            annotations: BTreeMap::from([(
                "summary".to_owned(),
                "value {{ $values.B.Value }} of {{ $labels.alertname }}".to_owned(),
            )]),
            is_paused: false,
            missing_series_evals_to_resolve: None,
        },
    }
}

/// A running scheduler: the switch that stops it, what it shows, and its task.
struct Running {
    stop: watch::Sender<bool>,
    view: StateView,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops the scheduler and waits until it has finished (states saved).
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn start(world: &Arc<World>) -> Running {
    start_with(world, RulerMetrics::default())
}

fn start_with(world: &Arc<World>, metrics: RulerMetrics) -> Running {
    let ports = Arc::new(Ports(Arc::clone(world)));
    let evaluator = Evaluator::new(ports.clone(), Duration::from_secs(5));
    let scheduler = Scheduler::new(
        ports.clone(),
        evaluator,
        ports.clone(),
        ports.clone(),
        ports,
        metrics,
        SchedulerOptions {
            base_interval: Duration::from_millis(100),
            min_interval: Duration::from_millis(100),
            jitter: Jitter::ByGroup,
            evaluation_timeout: Duration::from_secs(5),
            max_attempts: 1,
            retry_delay: Duration::from_millis(10),
            max_retry_delay: Duration::from_millis(40),
            randomization_factor: 0.1,
            external_url: "http://wk.example:3000/".to_owned(),
        },
    );
    let view = scheduler.view();
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(scheduler.run(rx));
    Running { stop, view, task }
}

/// Waits (up to 10 s) until `check` holds for the world.
async fn until(world: &World, what: &str, check: impl Fn(&World) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let notified = world.changed.notified();
        if check(world) {
            return;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            assert!(
                check(world),
                "timed out waiting for {what}; history: {:?}",
                states(world)
            );
            return;
        }
    }
}

fn states(world: &World) -> Vec<String> {
    world
        .history
        .lock()
        .expect("lock")
        .iter()
        .map(|h| format!("{}->{}", h.previous, h.current))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_goes_pending_alerting_and_resolves() {
    let world = Arc::new(World::default());
    world.rules.lock().expect("lock").push(rule(1, "1,9", 150));
    let metrics = RulerMetrics::default();
    let running = start_with(&world, metrics.clone());
    until(&world, "Alerting", |w| {
        states(w).contains(&"Pending->Alerting".to_owned())
    })
    .await;
    let h = states(&world);
    assert_eq!(
        h[..2],
        ["Normal->Pending".to_owned(), "Pending->Alerting".to_owned()]
    );
    until(&world, "an alert", |w| {
        !w.alerts.lock().expect("lock").is_empty()
    })
    .await;
    {
        let alerts = world.alerts.lock().expect("lock");
        let a = alerts.first().expect("an alert was sent");
        assert_eq!(a.labels["alertname"], "High");
        assert_eq!(a.labels["grafana_folder"], "Infra");
        assert_eq!(a.labels["__alert_rule_uid__"], "r1");
        assert_eq!(a.labels["team"], "a");
        assert_eq!(a.labels["severity"], "high", "a templated label");
        assert_eq!(
            a.annotations["summary"], "value 9 of [no value]",
            "templated with the result's labels"
        );
        assert!(a.ends_at > a.starts_at);
        assert_eq!(
            a.generator_url.as_deref(),
            Some("http://wk.example:3000/alerting/grafana/r1/view?orgId=1")
        );
    }
    let saved = world.saved.lock().expect("lock").len();
    assert_eq!(saved, 1, "the instance is saved");
    let group = |state: &str| {
        metrics
            .group_rules
            .get_or_create(&GroupLabel {
                org: "1".into(),
                rule_group: "f;g".into(),
                state: state.into(),
            })
            .get()
    };
    assert_eq!((group("active"), group("paused")), (1, 0));
    assert!(
        metrics
            .evaluations
            .get_or_create(&RulerMetrics::org(1))
            .get()
            >= 2
    );
    let alerting = StateLabel {
        state: "alerting".into(),
    };
    assert_eq!(metrics.alerts.get_or_create(&alerting).get(), 1);

    // The data drops: a new version is picked up at the next tick and the alert resolves.
    *world.rules.lock().expect("lock") = vec![rule(2, "9,1", 150)];
    // The templated label changes with the value, so the firing series goes missing and
    // resolves as such (Grafana's behaviour).
    until(&world, "Normal", |w| {
        states(w).contains(&"Alerting->Normal (MissingSeries)".to_owned())
    })
    .await;
    until(&world, "a resolved alert", |w| {
        w.alerts
            .lock()
            .expect("lock")
            .iter()
            .any(|a| a.state == wk_ruler::state::State::Normal)
    })
    .await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_alerting_and_deletion_resolves() {
    let world = Arc::new(World::default());
    world.rules.lock().expect("lock").push(rule(1, "1,9", 0));
    let running = start(&world);
    until(&world, "Alerting", |w| {
        states(w).contains(&"Normal->Alerting".to_owned())
    })
    .await;
    running.stop().await;
    let restarted_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;

    // A new scheduler on the same saved states: the alert stays Alerting, no transition.
    world.history.lock().expect("lock").clear();
    world.alerts.lock().expect("lock").clear();
    let running = start(&world);
    let view = running.view.clone();
    // Polls the view (which signals nothing) until an evaluation after the restart shows.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let evaluated = loop {
        let rules = view.org(1);
        let fresh = rules
            .iter()
            .flat_map(|r| &r.instances)
            .find(|i| i.last_evaluated_at > restarted_at)
            .cloned();
        if let Some(i) = fresh {
            break i;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no evaluation after the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(evaluated.state, wk_ruler::state::State::Alerting);
    assert!(
        evaluated.active_at < restarted_at,
        "the alert kept its start"
    );
    assert!(
        states(&world).is_empty(),
        "no transition after a restart: {:?}",
        states(&world)
    );

    // Deleting the rule resolves the alert and forgets its state.
    world.rules.lock().expect("lock").clear();
    until(&world, "RuleDeleted", |w| {
        states(w).iter().any(|s| s.contains("RuleDeleted"))
    })
    .await;
    until(&world, "the state forgotten", |w| {
        w.saved.lock().expect("lock").is_empty()
    })
    .await;
    running.stop().await;
}
