//! `--scenario rules`: the cost of evaluating Grafana-managed alert rules on the TestData data
//! source, in two parts.
//!
//! 1. **In process, one core.** One realistic rule (a TestData random walk over 10 minutes at
//!    `intervalMs` 10 s, 60 points → `reduce last` → `threshold gt`) is evaluated
//!    `--rule-evals` times after a warm-up, on a current-thread tokio runtime on a thread of its
//!    own, with [`wk_ruler::eval::Evaluator`] and an in-memory [`DataSources`] that returns the
//!    TestData source (as the server's cache does: a clone of the configuration). Each
//!    evaluation is a new tick (`at` advances by 10 s), so each one generates a new walk. Three
//!    modes: the evaluator alone; the evaluator plus what a rule's routine does with the result
//!    besides talking to its ports (the firing set, the rule's labels and annotations rendered
//!    with the result's values, [`RuleState::process`] and [`RuleState::alerts_to_send`]) for a
//!    rule that stays Normal, and the same for a rule that fires (an alert is handed on every
//!    third evaluation, the 30 s resend delay). Reported: evaluations per second of wall clock
//!    and per CPU second of the thread, and µs per evaluation, the median of `--rule-runs`.
//!    One more Normal pass with a clock read between the steps gives where the time goes
//!    ([`Stages`]), and `template::expand` is timed alone ([`TemplateCosts`]).
//! 2. **In the server.** `--rules` TestData rules (`--rules-per-group` per group, interval
//!    `--rule-interval` s, groups spread over `--rule-folders` folders, one rule in
//!    `--firing-every` firing) are written to `<tmp>/provisioning/alerting/rules.yaml`, and the
//!    release server is started on SQLite in a temporary home with `cfg:paths.provisioning`
//!    pointing there. Once `grafana_alerting_schedule_alert_rules` reports every rule and each
//!    has been evaluated at least once, and after `--warmup` seconds more, the server's CPU
//!    (`utime + stime` of `/proc/<pid>/stat`) is measured over `--window` seconds, with the
//!    evaluations done (`grafana_alerting_rule_evaluations_total`), the missed ones
//!    (`grafana_alerting_schedule_rule_evaluations_missed_total`), the largest
//!    `grafana_alerting_scheduler_behind_seconds` seen, the CPU of each kind of thread and the
//!    resident memory. The target: less than a quarter of one core for 10,000 rules on a
//!    10 s interval, and no missed evaluation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use wk_ruler::data::{Labels, Millis};
use wk_ruler::datasource::DataSourceConfig;
use wk_ruler::eval::{BoxFuture, DataSources, EvalResult, Evaluator};
use wk_ruler::rule::{AlertQuery, Rule};
use wk_ruler::schedule::{ALERTNAME_LABEL, FOLDER_LABEL, RULE_UID_LABEL};
use wk_ruler::state::{Evaluation, RuleState, State};
use wk_ruler::template::{self, TemplateData, TemplateValue};

use crate::Args;
use crate::process::{self, Server, TempDir};
use crate::report::{cpu_model, render_rows};

/// The bound on the server's CPU for 10,000 rules every 10 s, in cores.
const TARGET_CORES: f64 = 0.25;
/// The rule count and interval the target is stated for.
const TARGET_RULES: usize = 10_000;
const TARGET_INTERVAL_S: u64 = 10;
/// Uid of the TestData data source every organization has.
const TESTDATA_UID: &str = "testdata";
/// Its type.
const TESTDATA_TYPE: &str = "grafana-testdata-datasource";
/// Evaluations before the clock starts in the in-process part.
const WARMUP_EVALS: usize = 5_000;
/// Queried range and point spacing of the bench rules: 10 minutes at 10 s.
const RANGE_S: i64 = 600;
const POINT_MS: i64 = 10_000;
/// How long the server may take to start (provisioning 10,000 rules included).
const READY_LIMIT: Duration = Duration::from_secs(900);
/// How long after it is ready every rule must be scheduled and evaluated once.
const SCHEDULED_LIMIT: Duration = Duration::from_secs(180);

const ALERTNAMES: &[&str] = &[
    "HostHighCpuLoad",
    "HostOutOfMemory",
    "HostDiskWillFillIn24Hours",
    "HttpHighErrorRate",
    "HttpHighLatencyP99",
    "PostgresReplicationLag",
    "KafkaConsumerLag",
    "RedisMemoryHigh",
    "BlackboxProbeFailed",
    "KubePodCrashLooping",
];

// ---------------------------------------------------------------------------------------------
// The rules

/// What a bench rule queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `random_walk`, one series between 0 and 100, 60 points.
    Walk,
    /// `random_walk`, three series labelled `instance=host-<i>`: three alert instances.
    Walk3,
    /// `csv_metric_values` with ten values.
    Csv,
}

/// The shape of rule `i`: 8 in 10 one random walk, 1 in 10 three, 1 in 10 CSV values.
pub fn shape(i: usize) -> Shape {
    match i % 10 {
        8 => Shape::Walk3,
        9 => Shape::Csv,
        _ => Shape::Walk,
    }
}

/// Whether rule `i` fires: one in `every` (never when 0). With `every` a multiple of 10 the
/// firing rules are one-series walks.
pub fn fires(i: usize, every: usize) -> bool {
    every > 0 && i.is_multiple_of(every)
}

/// The `data` of a rule: query A on TestData over the last 10 minutes, B = last of A, C = B
/// above the threshold. The walks stay within 0..=100: a firing rule's threshold is −1 (always
/// above), the others' 100 (never); the CSV values end at 7, below 100.
pub fn rule_data(shape: Shape, firing: bool) -> Value {
    let query = match shape {
        Shape::Walk | Shape::Walk3 => json!({
            "refId": "A",
            "scenarioId": "random_walk",
            "seriesCount": if shape == Shape::Walk3 { 3 } else { 1 },
            "labels": if shape == Shape::Walk3 { "instance=host-$seriesIndex" } else { "" },
            "startValue": 50,
            "spread": 1,
            "min": 0,
            "max": 100,
            "intervalMs": POINT_MS,
            "maxDataPoints": 43200,
        }),
        Shape::Csv => json!({
            "refId": "A",
            "scenarioId": "csv_metric_values",
            "stringInput": "1,20,90,30,5,0,12,40,3,7",
            "intervalMs": POINT_MS,
            "maxDataPoints": 43200,
        }),
    };
    let threshold = if firing { -1 } else { 100 };
    json!([
        {"refId": "A", "datasourceUid": TESTDATA_UID,
         "relativeTimeRange": {"from": RANGE_S, "to": 0}, "model": query},
        {"refId": "B", "datasourceUid": "__expr__",
         "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last"}},
        {"refId": "C", "datasourceUid": "__expr__",
         "model": {"refId": "C", "type": "threshold", "expression": "B",
                   "conditions": [{"evaluator": {"type": "gt", "params": [threshold]}}]}},
    ])
}

/// Labels of rule `i` of group `g`.
fn rule_labels(i: usize, g: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("team".to_owned(), format!("team-{:02}", g % 40)),
        (
            "severity".to_owned(),
            if i.is_multiple_of(5) {
                "critical"
            } else {
                "warning"
            }
            .to_owned(),
        ),
    ])
}

/// Annotations: a summary templated with the reduced value, a static description.
fn rule_annotations(title: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "summary".to_owned(),
            "value {{ $values.B.Value }} over the threshold".to_owned(),
        ),
        (
            "description".to_owned(),
            format!("{title}: see https://runbooks.example.com/alerts/{title}"),
        ),
    ])
}

/// The title of rule `i`.
fn title(i: usize) -> String {
    format!("{} {i:05}", ALERTNAMES[i % ALERTNAMES.len()])
}

/// Layout of the rules in the server.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Layout {
    /// Rules.
    pub rules: usize,
    /// Rules per group.
    pub per_group: usize,
    /// Folders the groups are spread over.
    pub folders: usize,
    /// Group interval, seconds.
    pub interval_s: u64,
    /// One rule in this many fires.
    pub firing_every: usize,
}

impl Layout {
    /// Groups.
    pub fn groups(&self) -> usize {
        self.rules.div_ceil(self.per_group.max(1))
    }

    /// Rules that fire.
    pub fn firing(&self) -> usize {
        (0..self.rules)
            .filter(|i| fires(*i, self.firing_every))
            .count()
    }

    /// Alert instances once every rule was evaluated (three for each three-series rule).
    pub fn instances(&self) -> usize {
        (0..self.rules)
            .map(|i| if shape(i) == Shape::Walk3 { 3 } else { 1 })
            .sum()
    }

    /// The provisioning file (`apiVersion: 1`, JSON being YAML): groups `group-NNNN` in folders
    /// `Bench N`, rules `wkb-NNNNN`.
    pub fn provisioning_file(&self) -> Result<String> {
        let per_group = self.per_group.max(1);
        let folders = self.folders.max(1);
        let mut groups = Vec::with_capacity(self.groups());
        for g in 0..self.groups() {
            let rules: Vec<Value> = (g * per_group..((g + 1) * per_group).min(self.rules))
                .map(|i| {
                    let title = title(i);
                    json!({
                        "uid": format!("wkb-{i:05}"),
                        "title": title,
                        "condition": "C",
                        "for": "1m",
                        "noDataState": "NoData",
                        "execErrState": "Error",
                        "labels": rule_labels(i, g),
                        "annotations": rule_annotations(&title),
                        "data": rule_data(shape(i), fires(i, self.firing_every)),
                    })
                })
                .collect();
            groups.push(json!({
                "orgId": 1,
                "name": format!("group-{g:04}"),
                "folder": format!("Bench {}", g % folders),
                "interval": format!("{}s", self.interval_s),
                "rules": rules,
            }));
        }
        serde_json::to_string_pretty(&json!({"apiVersion": 1, "groups": groups}))
            .context("serializing the provisioning file")
    }
}

// ---------------------------------------------------------------------------------------------
// Part 1: in process

/// The TestData source, handed out as the server's data source cache does (a clone).
struct MemorySources(DataSourceConfig);

impl DataSources for MemorySources {
    fn get<'a>(
        &'a self,
        _org_id: i64,
        uid: &'a str,
    ) -> BoxFuture<'a, Result<Option<DataSourceConfig>, String>> {
        Box::pin(async move { Ok((uid == self.0.uid).then(|| self.0.clone())) })
    }
}

/// What one in-process pass does per evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `Evaluator::evaluate` only.
    Evaluate,
    /// Plus the routine's state handling, for a rule that stays Normal.
    StateNormal,
    /// The same for a rule that fires.
    StateFiring,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Evaluate, Mode::StateNormal, Mode::StateFiring];

    fn name(self) -> &'static str {
        match self {
            Mode::Evaluate => "evaluate",
            Mode::StateNormal => "evaluate + state, Normal",
            Mode::StateFiring => "evaluate + state, firing",
        }
    }
}

/// One timed pass.
#[derive(Debug, Clone, Serialize)]
pub struct Pass {
    /// Wall-clock seconds.
    pub seconds: f64,
    /// CPU seconds of the evaluating thread.
    pub cpu_seconds: f64,
    /// Evaluations per wall-clock second.
    pub evals_per_second: f64,
    /// Evaluations per CPU second.
    pub evals_per_cpu_second: f64,
    /// Wall-clock µs per evaluation.
    pub us_per_eval: f64,
}

/// One mode of the in-process part.
#[derive(Debug, Clone, Serialize)]
pub struct InProcess {
    /// What was timed.
    pub mode: String,
    /// Evaluations per pass (after the warm-up).
    pub evaluations: usize,
    /// Alerts handed on per pass (firing mode).
    pub alerts_per_pass: usize,
    /// Every pass.
    pub passes: Vec<Pass>,
    /// Median of the passes' evaluations per second.
    pub evals_per_second: f64,
    /// Median of the passes' evaluations per CPU second (per core).
    pub evals_per_cpu_second: f64,
    /// Median µs per evaluation.
    pub us_per_eval: f64,
}

/// The median of `values` (NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The labels the routine adds to every instance of `rule`.
fn added_labels(rule: &Rule, folder_title: &str) -> Labels {
    let mut labels = rule.labels.clone();
    labels.insert(ALERTNAME_LABEL.to_owned(), rule.title.clone());
    labels.insert(FOLDER_LABEL.to_owned(), folder_title.to_owned());
    labels.insert(RULE_UID_LABEL.to_owned(), rule.uid.clone());
    labels
}

/// The labels and evaluation of one result, as the scheduler's routine builds them: the
/// rule's labels and annotations rendered with the result's labels and values, the result's
/// labels, then the reserved labels.
fn instance_of(rule: &Rule, folder_title: &str, r: EvalResult) -> (Labels, Evaluation) {
    let name = template::template_name(&rule.title);
    let values: BTreeMap<String, TemplateValue> = r
        .values
        .iter()
        .map(|(k, (labels, value))| {
            (
                k.clone(),
                TemplateValue {
                    labels: labels.clone(),
                    value: *value,
                },
            )
        })
        .collect();
    let data = TemplateData::new(r.labels.clone(), values);
    let (rule_labels, _) = template::expand_map(&name, &rule.labels, &data, "");
    let (annotations, _) = template::expand_map(&name, &rule.annotations, &data, "");
    let mut labels = r.labels;
    labels.extend(rule_labels);
    labels.insert(ALERTNAME_LABEL.to_owned(), rule.title.clone());
    labels.insert(FOLDER_LABEL.to_owned(), folder_title.to_owned());
    labels.insert(RULE_UID_LABEL.to_owned(), rule.uid.clone());
    let values = r.values.into_iter().map(|(k, (_, v))| (k, v)).collect();
    let evaluation = Evaluation::new(r.outcome)
        .with_values(values)
        .with_annotations(annotations);
    (labels, evaluation)
}

/// The bench rule of the in-process part: a one-series random walk, firing or not.
fn bench_rule(firing: bool) -> Result<Rule> {
    let data: Vec<AlertQuery> = serde_json::from_value(rule_data(Shape::Walk, firing))
        .context("building the bench rule's queries")?;
    let title = title(0);
    Ok(Rule {
        uid: "wkb-inprocess".into(),
        annotations: rule_annotations(&title),
        title,
        condition: "C".into(),
        data,
        no_data_state: Default::default(),
        exec_err_state: Default::default(),
        for_ms: 60_000,
        keep_firing_for_ms: 0,
        labels: rule_labels(0, 0),
        is_paused: false,
        missing_series_evals_to_resolve: None,
    })
}

/// Where the time of one evaluation with state handling goes, µs per evaluation (from a pass
/// of its own with a clock read between the steps).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Stages {
    /// The label sets firing before the evaluation (for recovery thresholds).
    pub firing_set: f64,
    /// `Evaluator::evaluate`.
    pub evaluate: f64,
    /// The rule's labels and annotations rendered for each result, the instance's labels.
    pub render: f64,
    /// The label sets before processing (to find removed instances).
    pub before_set: f64,
    /// `RuleState::process`.
    pub process: f64,
    /// `RuleState::alerts_to_send`.
    pub alerts_to_send: f64,
    /// Dropping what the evaluation built, and the clock reads.
    pub rest: f64,
    /// The whole evaluation.
    pub total: f64,
}

/// What one `template::expand` costs, µs, median of three rounds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct TemplateCosts {
    /// Expansions per evaluation of the bench rule (its labels and annotations, one result).
    pub per_evaluation: usize,
    /// Of those, the ones holding `{{`.
    pub templated_per_evaluation: usize,
    /// A text without `{{` (`team-00`).
    pub static_text_us: f64,
    /// `value {{ $values.B.Value }} over the threshold`.
    pub value_template_us: f64,
}

/// Times `template::expand` on a static text and on the bench rule's summary.
fn template_costs(n: usize) -> TemplateCosts {
    let rule = bench_rule(false).ok();
    let values = BTreeMap::from([(
        "B".to_owned(),
        TemplateValue {
            labels: Labels::new(),
            value: Some(42.5),
        },
    )]);
    let data = TemplateData::new(Labels::new(), values);
    let name = title(0);
    let time = |text: &str| {
        let rounds: Vec<f64> = (0..3)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..n {
                    let _ = black_box(template::expand(&name, black_box(text), &data, ""));
                }
                start.elapsed().as_secs_f64() * 1e6 / n as f64
            })
            .collect();
        median(&rounds)
    };
    let texts: Vec<&String> = rule
        .as_ref()
        .map(|r| r.labels.values().chain(r.annotations.values()).collect())
        .unwrap_or_default();
    TemplateCosts {
        per_evaluation: texts.len(),
        templated_per_evaluation: texts.iter().filter(|t| t.contains("{{")).count(),
        static_text_us: time("team-00"),
        value_template_us: time("value {{ $values.B.Value }} over the threshold"),
    }
}

/// Runs `warmup + n` evaluations in `mode` on this thread's own current-thread runtime; times
/// the last `n`. Returns the pass, the alerts handed on while timed and, with `stages` (state
/// modes only), where the time went.
fn pass(
    mode: Mode,
    n: usize,
    warmup: usize,
    ticks: f64,
    stages: bool,
) -> Result<(Pass, usize, Option<Stages>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the current-thread runtime")?;
    let rule = bench_rule(mode == Mode::StateFiring)?;
    let folder = "Bench 0";
    let sources = MemorySources(DataSourceConfig {
        uid: TESTDATA_UID.into(),
        kind: TESTDATA_TYPE.into(),
        ..DataSourceConfig::default()
    });
    let evaluator = Evaluator::new(Arc::new(sources), Duration::from_secs(30));
    let interval = Duration::from_secs(TARGET_INTERVAL_S);
    let step = i64::try_from(interval.as_millis()).unwrap_or(10_000);
    let added = added_labels(&rule, folder);
    let mut state = RuleState::new(rule.settings(interval), added.clone());
    state.set_rule_annotations(rule.annotations.clone());
    let start_at: Millis = Utc::now().timestamp_millis() / step * step;
    rt.block_on(async {
        let mut at = start_at;
        let mut clock = (Instant::now(), process::cpu_seconds("thread-self", ticks)?);
        let mut alerts = 0;
        // Per stage: firing set, evaluate, render, before set, process, alerts to send.
        let mut spent = [Duration::ZERO; 6];
        for i in 0..warmup + n {
            if i == warmup {
                alerts = 0;
                spent = [Duration::ZERO; 6];
                clock = (Instant::now(), process::cpu_seconds("thread-self", ticks)?);
            }
            if mode == Mode::Evaluate {
                let firing = BTreeSet::new();
                black_box(evaluator.evaluate(1, &rule, at, &firing).await);
            } else {
                let mut marks = [None; 7];
                let mut mark = |k: usize| {
                    if stages {
                        marks[k] = Some(Instant::now());
                    }
                };
                mark(0);
                // The firing set, as the routine computes it before each evaluation.
                let firing: BTreeSet<Labels> = state
                    .instances()
                    .filter(|i| matches!(i.state, State::Alerting | State::Recovering))
                    .map(|i| {
                        i.labels
                            .iter()
                            .filter(|(k, _)| !added.contains_key(*k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .collect();
                mark(1);
                let results = evaluator.evaluate(1, &rule, at, &firing).await;
                mark(2);
                let evaluations: Vec<(Labels, Evaluation)> = results
                    .into_iter()
                    .map(|r| instance_of(&rule, folder, r))
                    .collect();
                mark(3);
                let before: BTreeSet<Labels> =
                    state.instances().map(|i| i.labels.clone()).collect();
                mark(4);
                let transitions = state.process(evaluations, at);
                mark(5);
                let sent = state.alerts_to_send(at);
                mark(6);
                alerts += sent.len();
                black_box((before, transitions, sent));
                for (k, s) in spent.iter_mut().enumerate() {
                    if let (Some(a), Some(b)) = (marks[k], marks[k + 1]) {
                        *s += b - a;
                    }
                }
            }
            at += step;
        }
        let seconds = clock.0.elapsed().as_secs_f64();
        let cpu = process::cpu_seconds("thread-self", ticks)? - clock.1;
        let pass = Pass {
            seconds,
            cpu_seconds: cpu,
            evals_per_second: n as f64 / seconds,
            evals_per_cpu_second: n as f64 / cpu,
            us_per_eval: seconds * 1e6 / n as f64,
        };
        let stages = (stages && mode != Mode::Evaluate).then(|| {
            let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
            let steps: f64 = spent.iter().map(|d| us(*d)).sum();
            Stages {
                firing_set: us(spent[0]),
                evaluate: us(spent[1]),
                render: us(spent[2]),
                before_set: us(spent[3]),
                process: us(spent[4]),
                alerts_to_send: us(spent[5]),
                rest: pass.us_per_eval - steps,
                total: pass.us_per_eval,
            }
        });
        Ok((pass, alerts, stages))
    })
}

/// Sanity check before timing: the bench rule evaluates to one result, Normal or Alerting.
fn check_rule() -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the current-thread runtime")?;
    let sources = Arc::new(MemorySources(DataSourceConfig {
        uid: TESTDATA_UID.into(),
        kind: TESTDATA_TYPE.into(),
        ..DataSourceConfig::default()
    }));
    let evaluator = Evaluator::new(sources, Duration::from_secs(30));
    for (firing, expected) in [
        (false, wk_ruler::state::Outcome::Normal),
        (true, wk_ruler::state::Outcome::Alerting),
    ] {
        let rule = bench_rule(firing)?;
        let at = Utc::now().timestamp_millis();
        let results = rt.block_on(evaluator.evaluate(1, &rule, at, &BTreeSet::new()));
        if results.len() != 1 || results[0].outcome != expected {
            bail!("the bench rule (firing {firing}) evaluated to {results:?}");
        }
    }
    Ok(())
}

/// What the in-process part measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InProcessResult {
    /// Per mode.
    pub modes: Vec<InProcess>,
    /// Where the time of an evaluation with state handling (Normal) goes.
    pub stages: Option<Stages>,
    /// What one template expansion costs.
    pub templates: Option<TemplateCosts>,
}

/// Runs [`pass`] on a thread of its own.
fn pass_on_thread(
    mode: Mode,
    n: usize,
    ticks: f64,
    stages: bool,
) -> Result<(Pass, usize, Option<Stages>)> {
    std::thread::Builder::new()
        .name("wk-bench-eval".into())
        .spawn(move || pass(mode, n, WARMUP_EVALS, ticks, stages))
        .context("starting the evaluation thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the evaluation thread panicked"))?
}

/// Part 1: every mode, `runs` passes each, each pass on a thread of its own; then one pass
/// with the stages timed, and the template costs.
fn in_process(n: usize, runs: usize, quiet: bool) -> Result<InProcessResult> {
    let ticks = process::clock_ticks();
    check_rule()?;
    let mut out = Vec::new();
    for mode in Mode::ALL {
        let mut passes = Vec::new();
        let mut alerts = 0;
        for run in 0..runs.max(1) {
            let (p, a, _) = pass_on_thread(mode, n, ticks, false)?;
            if !quiet {
                eprintln!(
                    "wk-bench: {} pass {}: {:.0} evaluations/s, {:.2} µs each",
                    mode.name(),
                    run + 1,
                    p.evals_per_second,
                    p.us_per_eval
                );
            }
            alerts = a;
            passes.push(p);
        }
        let pick = |f: fn(&Pass) -> f64| median(&passes.iter().map(f).collect::<Vec<_>>());
        out.push(InProcess {
            mode: mode.name().to_owned(),
            evaluations: n,
            alerts_per_pass: alerts,
            evals_per_second: pick(|p| p.evals_per_second),
            evals_per_cpu_second: pick(|p| p.evals_per_cpu_second),
            us_per_eval: pick(|p| p.us_per_eval),
            passes,
        });
    }
    let (_, _, stages) = pass_on_thread(Mode::StateNormal, n, ticks, true)?;
    let templates = template_costs((n / 10).max(1000));
    Ok(InProcessResult {
        modes: out,
        stages,
        templates: Some(templates),
    })
}

// ---------------------------------------------------------------------------------------------
// Part 2: the server

/// Samples of a Prometheus text exposition: `(name, labels, value)`.
pub fn parse_metrics(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let value: f64 = value.trim().parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            Some((name.trim().to_owned(), labels.to_owned(), value))
        })
        .collect()
}

/// The sum of the samples named `name` whose labels contain `label` (all when empty).
pub fn metric(samples: &[(String, String, f64)], name: &str, label: &str) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| n == name && (label.is_empty() || l.contains(label)))
        .map(|(_, _, v)| v)
        // Not `sum()`: a float sum of nothing is −0.
        .fold(0.0, |a, b| a + b)
}

/// What the server's `/metrics` says about the ruler at one instant.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Scrape {
    /// `grafana_alerting_schedule_alert_rules`.
    pub alert_rules: f64,
    /// `grafana_alerting_rule_evaluations_total`, all organizations.
    pub evaluations: f64,
    /// `grafana_alerting_rule_evaluation_failures_total`.
    pub failures: f64,
    /// `grafana_alerting_schedule_rule_evaluations_missed_total`.
    pub missed: f64,
    /// `grafana_alerting_scheduler_behind_seconds`.
    pub behind_seconds: f64,
    /// `grafana_alerting_rule_evaluation_duration_seconds` sum and count.
    pub eval_duration_sum: f64,
    pub eval_duration_count: f64,
    /// `grafana_alerting_schedule_periodic_duration_seconds` sum and count.
    pub tick_duration_sum: f64,
    pub tick_duration_count: f64,
    /// `grafana_alerting_alerts{state="alerting"}`, `"pending"`, `"normal"`.
    pub alerting: f64,
    pub pending: f64,
    pub normal: f64,
}

impl Scrape {
    fn of(text: &str) -> Self {
        let s = parse_metrics(text);
        Self {
            alert_rules: metric(&s, "grafana_alerting_schedule_alert_rules", ""),
            evaluations: metric(&s, "grafana_alerting_rule_evaluations_total", ""),
            failures: metric(&s, "grafana_alerting_rule_evaluation_failures_total", ""),
            missed: metric(
                &s,
                "grafana_alerting_schedule_rule_evaluations_missed_total",
                "",
            ),
            behind_seconds: metric(&s, "grafana_alerting_scheduler_behind_seconds", ""),
            eval_duration_sum: metric(
                &s,
                "grafana_alerting_rule_evaluation_duration_seconds_sum",
                "",
            ),
            eval_duration_count: metric(
                &s,
                "grafana_alerting_rule_evaluation_duration_seconds_count",
                "",
            ),
            tick_duration_sum: metric(
                &s,
                "grafana_alerting_schedule_periodic_duration_seconds_sum",
                "",
            ),
            tick_duration_count: metric(
                &s,
                "grafana_alerting_schedule_periodic_duration_seconds_count",
                "",
            ),
            alerting: metric(&s, "grafana_alerting_alerts", "state=\"alerting\""),
            pending: metric(&s, "grafana_alerting_alerts", "state=\"pending\""),
            normal: metric(&s, "grafana_alerting_alerts", "state=\"normal\""),
        }
    }
}

async fn scrape(client: &reqwest::Client, base: &str) -> Result<Scrape> {
    let resp = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .context("GET /metrics")?;
    let status = resp.status();
    let text = resp.text().await.context("reading /metrics")?;
    if !status.is_success() {
        bail!("GET /metrics answered {status}");
    }
    Ok(Scrape::of(&text))
}

/// CPU seconds of each thread of `pid`, summed by thread name (digits and trailing `-N`
/// dropped, so that `tokio-runtime-w` threads count together).
pub fn threads_cpu(pid: u32, ticks: f64) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for entry in dir.filter_map(Result::ok) {
        let tid = entry.file_name().to_string_lossy().into_owned();
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")) else {
            continue;
        };
        let name = stat
            .split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map(|(n, _)| n)
            .unwrap_or("?");
        let name: String = name
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '#')
            .to_owned();
        let Ok(cpu) = process::cpu_seconds(&format!("{pid}/task/{tid}"), ticks) else {
            continue;
        };
        *out.entry(name).or_default() += cpu;
    }
    out
}

/// What the server run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ServerResult {
    /// `watchkeeper server` version (`/api/health`).
    pub version: String,
    /// The rules.
    pub layout: Layout,
    /// Rules that fire.
    pub firing_rules: usize,
    /// Alert instances expected.
    pub instances: usize,
    /// Size of the provisioning file.
    pub provisioning_file_bytes: usize,
    /// From spawning the server until `/api/health` answered (provisioning included).
    pub ready_seconds: f64,
    /// From ready until every rule was scheduled and evaluated once.
    pub scheduled_seconds: f64,
    /// Waited after that before measuring.
    pub warmup_seconds: f64,
    /// `/proc/loadavg` when the window started.
    pub load_average_before: String,
    /// The window, wall clock.
    pub window_seconds: f64,
    /// Server CPU (`utime + stime`) in the window.
    pub cpu_seconds: f64,
    /// `cpu_seconds / window_seconds`: cores used.
    pub cores: f64,
    /// Smallest and largest cores used over one rule interval within the window.
    pub cores_min_interval: f64,
    pub cores_max_interval: f64,
    /// Evaluations done in the window.
    pub evaluations: f64,
    /// Expected in the window: rules × window / interval.
    pub evaluations_expected: f64,
    /// Evaluations per second in the window.
    pub evaluations_per_second: f64,
    /// Server CPU µs per evaluation (everything the process did, divided).
    pub cpu_us_per_evaluation: f64,
    /// Evaluations per server CPU second.
    pub evaluations_per_cpu_second: f64,
    /// Evaluations with an Error outcome in the window.
    pub failures: f64,
    /// Missed evaluations in the window.
    pub missed: f64,
    /// Missed evaluations from the start until the end of the window.
    pub missed_total: f64,
    /// Largest `grafana_alerting_scheduler_behind_seconds` seen in the window.
    pub max_behind_seconds: f64,
    /// Largest seen from the first scheduled tick to the end of the window.
    pub max_behind_seconds_total: f64,
    /// Mean wall time of one evaluation in the window (the evaluation-duration histogram).
    pub mean_evaluation_ms: f64,
    /// Mean wall time of one scheduler tick in the window (reading rule versions, handing
    /// out the ticks).
    pub mean_tick_ms: f64,
    /// Alert instances Alerting, Pending and Normal at the end.
    pub alerting: f64,
    pub pending: f64,
    pub normal: f64,
    /// CPU seconds in the window by thread name, largest first.
    pub threads: Vec<(String, f64)>,
    /// `VmRSS` at the end.
    pub rss_bytes: u64,
    /// `VmHWM` at the end.
    pub peak_rss_bytes: u64,
    /// `VmRSS` once ready, before the first tick had evaluated everything.
    pub rss_ready_bytes: u64,
    /// Less than a quarter of a core and nothing missed.
    pub target_met: bool,
}

/// Part 2.
async fn in_server(args: &Args, wk_binary: &Path, layout: Layout) -> Result<ServerResult> {
    if !wk_binary.exists() {
        bail!(
            "{} not found: build it first with `cargo build --release -p watchkeeper -p wk-bench` \
             (or pass --watchkeeper PATH)",
            wk_binary.display()
        );
    }
    let ticks = process::clock_ticks();
    let dir = TempDir::new("rules")?;
    let alerting = dir.path().join("provisioning").join("alerting");
    std::fs::create_dir_all(&alerting)
        .with_context(|| format!("creating {}", alerting.display()))?;
    let file = layout.provisioning_file()?;
    let path = alerting.join("rules.yaml");
    std::fs::write(&path, &file).with_context(|| format!("writing {}", path.display()))?;
    let port = process::free_port()?;
    let mut cli = vec![
        "server".to_owned(),
        "--homepath".to_owned(),
        dir.path().display().to_string(),
        format!("cfg:server.http_port={port}"),
        "cfg:server.http_addr=127.0.0.1".to_owned(),
        format!(
            "cfg:paths.provisioning={}",
            dir.path().join("provisioning").display()
        ),
    ];
    cli.extend(args.wk_args.iter().cloned());
    let client = crate::load::client()?;
    let spawned = Instant::now();
    let mut server = Server::spawn(wk_binary, &cli, port, dir)?;
    server
        .wait_ready(&client, "/api/health", READY_LIMIT)
        .await?;
    let ready_seconds = spawned.elapsed().as_secs_f64();
    let pid = server.pid();
    let pid_s = pid.to_string();
    let rss_ready_bytes = process::status_bytes(pid, "VmRSS")?;
    let version = health_version(&client, &server.base).await;
    if !args.json {
        eprintln!(
            "wk-bench: server ready after {ready_seconds:.1} s with {} rules provisioned; \
             waiting for the scheduler",
            layout.rules
        );
    }

    // Every rule scheduled and evaluated at least once.
    let ready = Instant::now();
    let mut max_behind_total: f64 = 0.0;
    loop {
        let s = scrape(&client, &server.base).await?;
        if s.alert_rules > 0.0 {
            max_behind_total = max_behind_total.max(s.behind_seconds);
        }
        if s.alert_rules as usize == layout.rules && s.evaluations >= layout.rules as f64 {
            break;
        }
        if let Some(status) = server.exited() {
            bail!("server exited with {status}; log:\n{}", server.log_tail());
        }
        if ready.elapsed() > SCHEDULED_LIMIT {
            bail!(
                "after {SCHEDULED_LIMIT:?}: {} rules scheduled, {} evaluations; log:\n{}",
                s.alert_rules,
                s.evaluations,
                server.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let scheduled_seconds = ready.elapsed().as_secs_f64();
    let warmup = Duration::from_secs(args.warmup);
    if !args.json {
        eprintln!(
            "wk-bench: every rule evaluated after {scheduled_seconds:.1} s; warming up {}s, \
             then measuring {}s",
            args.warmup, args.window
        );
    }
    let warm_start = Instant::now();
    while warm_start.elapsed() < warmup {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let s = scrape(&client, &server.base).await?;
        max_behind_total = max_behind_total.max(s.behind_seconds);
    }

    // The window: polls every half interval, to see each tick's `behind` and per-interval CPU.
    let half = Duration::from_millis(layout.interval_s.max(1) * 500);
    let window = Duration::from_secs(args.window.max(1));
    let load_average_before = process::load_average();
    let perf = args.perf(pid, "watchkeeper-rules").await?;
    let threads0 = threads_cpu(pid, ticks);
    let first = scrape(&client, &server.base).await?;
    let cpu0 = process::cpu_seconds(&pid_s, ticks)?;
    let t0 = Instant::now();
    let mut polls: Vec<(f64, f64)> = vec![(0.0, cpu0)];
    let mut max_behind = first.behind_seconds;
    let mut k = 1u32;
    let last = loop {
        let next = t0 + half * k;
        let end = t0 + window;
        tokio::time::sleep_until(tokio::time::Instant::from_std(next.min(end))).await;
        let s = scrape(&client, &server.base).await?;
        let cpu = process::cpu_seconds(&pid_s, ticks)?;
        polls.push((t0.elapsed().as_secs_f64(), cpu));
        max_behind = max_behind.max(s.behind_seconds);
        if let Some(status) = server.exited() {
            bail!("server exited with {status}; log:\n{}", server.log_tail());
        }
        if next >= end {
            break s;
        }
        k += 1;
    };
    let window_seconds = t0.elapsed().as_secs_f64();
    let cpu1 = polls.last().map_or(cpu0, |p| p.1);
    let threads1 = threads_cpu(pid, ticks);
    crate::stop_perf(perf)?;
    max_behind_total = max_behind_total.max(max_behind);
    let rss_bytes = process::status_bytes(pid, "VmRSS")?;
    let peak_rss_bytes = process::status_bytes(pid, "VmHWM").unwrap_or(0);

    // Cores over each whole interval (two polls apart).
    let per_interval: Vec<f64> = polls
        .windows(3)
        .step_by(2)
        .filter(|w| w[2].0 - w[0].0 > 0.0)
        .map(|w| (w[2].1 - w[0].1) / (w[2].0 - w[0].0))
        .collect();
    let mut threads: Vec<(String, f64)> = threads1
        .iter()
        .map(|(name, cpu)| {
            (
                name.clone(),
                cpu - threads0.get(name).copied().unwrap_or(0.0),
            )
        })
        .filter(|(_, cpu)| *cpu > 0.0)
        .collect();
    threads.sort_by(|a, b| b.1.total_cmp(&a.1));

    let cpu_seconds = cpu1 - cpu0;
    let evaluations = last.evaluations - first.evaluations;
    let missed = last.missed - first.missed;
    let cores = cpu_seconds / window_seconds;
    let delta = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    Ok(ServerResult {
        version,
        layout,
        firing_rules: layout.firing(),
        instances: layout.instances(),
        provisioning_file_bytes: file.len(),
        ready_seconds,
        scheduled_seconds,
        warmup_seconds: warmup.as_secs_f64(),
        load_average_before,
        window_seconds,
        cpu_seconds,
        cores,
        cores_min_interval: per_interval.iter().copied().fold(f64::NAN, f64::min),
        cores_max_interval: per_interval.iter().copied().fold(f64::NAN, f64::max),
        evaluations,
        evaluations_expected: layout.rules as f64 * window_seconds
            / layout.interval_s.max(1) as f64,
        evaluations_per_second: evaluations / window_seconds,
        cpu_us_per_evaluation: delta(cpu_seconds * 1e6, evaluations),
        evaluations_per_cpu_second: delta(evaluations, cpu_seconds),
        failures: last.failures - first.failures,
        missed,
        missed_total: last.missed,
        max_behind_seconds: max_behind,
        max_behind_seconds_total: max_behind_total,
        mean_evaluation_ms: delta(
            (last.eval_duration_sum - first.eval_duration_sum) * 1e3,
            last.eval_duration_count - first.eval_duration_count,
        ),
        mean_tick_ms: delta(
            (last.tick_duration_sum - first.tick_duration_sum) * 1e3,
            last.tick_duration_count - first.tick_duration_count,
        ),
        alerting: last.alerting,
        pending: last.pending,
        normal: last.normal,
        threads,
        rss_bytes,
        peak_rss_bytes,
        rss_ready_bytes,
        target_met: cores < TARGET_CORES && missed == 0.0 && last.missed == 0.0,
    })
}

/// The version `/api/health` reports.
async fn health_version(client: &reqwest::Client, base: &str) -> String {
    let body: Option<Value> = match client.get(format!("{base}/api/health")).send().await {
        Ok(r) => r.json().await.ok(),
        Err(_) => None,
    };
    body.as_ref()
        .and_then(|b| b.get("version"))
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// The report

/// The whole rules run.
#[derive(Debug, Clone, Serialize)]
pub struct RulesReport {
    /// UTC time the run started.
    pub date: String,
    /// Online CPUs.
    pub cpus: usize,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `/proc/loadavg` at the start.
    pub load_before: String,
    /// `/proc/loadavg` at the end.
    pub load_after: String,
    /// The Watchkeeper binary run.
    pub watchkeeper_binary: String,
    /// Extra `watchkeeper server` arguments.
    pub watchkeeper_args: Vec<String>,
    /// Part 1.
    pub in_process: InProcessResult,
    /// Part 2.
    pub server: Option<ServerResult>,
}

fn mib(b: u64) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}

/// Thousands separators.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    if x < 0.0 && s != "0" {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl RulesReport {
    /// The report as text.
    pub fn table(&self) -> String {
        let mut out = format!(
            "\nwk-bench rules {}: {} CPUs ({}), load average {} before, {} after\n",
            self.date, self.cpus, self.cpu_model, self.load_before, self.load_after
        );
        let modes = &self.in_process.modes;
        if let Some(first) = modes.first() {
            out.push_str(&format!(
                "\nin process, one thread (current-thread runtime): TestData random_walk over 10m \
                 at intervalMs 10s (60 points) → reduce last → threshold gt; {} evaluations per \
                 pass after {} warm-up, median of {} passes\n\n",
                num(first.evaluations as f64),
                num(WARMUP_EVALS as f64),
                first.passes.len()
            ));
            let mut rows: Vec<(String, Vec<String>)> = vec![(
                "".into(),
                vec![
                    "evals/s".into(),
                    "evals/CPU s".into(),
                    "µs/eval".into(),
                    "passes (evals/s)".into(),
                ],
            )];
            for m in modes {
                rows.push((
                    m.mode.clone(),
                    vec![
                        num(m.evals_per_second),
                        num(m.evals_per_cpu_second),
                        format!("{:.2}", m.us_per_eval),
                        m.passes
                            .iter()
                            .map(|p| num(p.evals_per_second))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ],
                ));
            }
            out.push_str(&render_rows(&rows));
            if let (Some(e), Some(s)) = (
                modes.iter().find(|m| m.mode == Mode::Evaluate.name()),
                modes.iter().find(|m| m.mode == Mode::StateNormal.name()),
            ) {
                out.push_str(&format!(
                    "state handling adds {:.2} µs per evaluation ({:.1}× the evaluation alone)\n",
                    s.us_per_eval - e.us_per_eval,
                    s.us_per_eval / e.us_per_eval
                ));
            }
        }
        if let Some(st) = &self.in_process.stages {
            out.push_str(&format!(
                "\nwhere an evaluation with state handling goes (Normal, one timed pass, {:.2} µs):\n",
                st.total
            ));
            let share = |x: f64| format!("{x:.2} µs  {:>3.0}%", x / st.total * 100.0);
            let rows = vec![
                ("firing set".to_owned(), vec![share(st.firing_set)]),
                ("Evaluator::evaluate".to_owned(), vec![share(st.evaluate)]),
                (
                    "labels and annotations rendered (templates)".to_owned(),
                    vec![share(st.render)],
                ),
                ("label sets before".to_owned(), vec![share(st.before_set)]),
                ("RuleState::process".to_owned(), vec![share(st.process)]),
                (
                    "RuleState::alerts_to_send".to_owned(),
                    vec![share(st.alerts_to_send)],
                ),
                ("drops and clock reads".to_owned(), vec![share(st.rest)]),
            ];
            out.push_str(&render_rows(&rows));
        }
        if let Some(t) = &self.in_process.templates {
            out.push_str(&format!(
                "template::expand: {:.2} µs for a text without {{{{, {:.2} µs for \
                 `value {{{{ $values.B.Value }}}} over the threshold`; {} expansions per \
                 evaluation, {} of them templated\n",
                t.static_text_us, t.value_template_us, t.per_evaluation, t.templated_per_evaluation
            ));
        }
        if let Some(s) = &self.server {
            let l = &s.layout;
            out.push_str(&format!(
                "\nserver {}: {} rules in {} groups of {} over {} folders, interval {}s, {} \
                 firing ({} instances); SQLite; window {:.1}s after {:.0}s warm-up\n\n",
                s.version,
                num(l.rules as f64),
                num(l.groups() as f64),
                l.per_group,
                l.folders,
                l.interval_s,
                s.firing_rules,
                num(s.instances as f64),
                s.window_seconds,
                s.warmup_seconds
            ));
            let mut rows: Vec<(String, Vec<String>)> = Vec::new();
            let mut row = |label: &str, value: String| rows.push((label.to_owned(), vec![value]));
            row(
                "ready after s (provisioning included)",
                format!("{:.1}", s.ready_seconds),
            );
            row(
                "every rule evaluated after s more",
                format!("{:.1}", s.scheduled_seconds),
            );
            row(
                "load average before the window",
                s.load_average_before.clone(),
            );
            row(
                "server CPU s in the window",
                format!("{:.2}", s.cpu_seconds),
            );
            row("cores used", format!("{:.3}", s.cores));
            row(
                "cores per interval, min / max",
                format!("{:.3} / {:.3}", s.cores_min_interval, s.cores_max_interval),
            );
            row(
                "evaluations (expected)",
                format!("{} ({})", num(s.evaluations), num(s.evaluations_expected)),
            );
            row("evaluations/s", format!("{:.0}", s.evaluations_per_second));
            row(
                "server CPU µs per evaluation",
                format!("{:.1}", s.cpu_us_per_evaluation),
            );
            row(
                "evaluations per server CPU s",
                num(s.evaluations_per_cpu_second),
            );
            row("evaluation failures", format!("{}", s.failures));
            row(
                "missed evaluations (since start)",
                format!("{} ({})", s.missed, s.missed_total),
            );
            row(
                "max scheduler behind s (since first tick)",
                format!(
                    "{:.3} ({:.3})",
                    s.max_behind_seconds, s.max_behind_seconds_total
                ),
            );
            row("mean evaluation ms", format!("{:.3}", s.mean_evaluation_ms));
            row("mean scheduler tick ms", format!("{:.1}", s.mean_tick_ms));
            row(
                "instances alerting / pending / normal",
                format!("{} / {} / {}", s.alerting, s.pending, s.normal),
            );
            row(
                "RSS ready / end / peak MiB",
                format!(
                    "{} / {} / {}",
                    mib(s.rss_ready_bytes),
                    mib(s.rss_bytes),
                    mib(s.peak_rss_bytes)
                ),
            );
            let total: f64 = s.threads.iter().map(|t| t.1).sum();
            for (name, cpu) in s.threads.iter().take(6) {
                row(
                    &format!("CPU s in threads {name:?}"),
                    format!("{cpu:.2} ({:.0}%)", cpu / total.max(1e-9) * 100.0),
                );
            }
            out.push_str(&render_rows(&rows));
            let at_target = l.rules == TARGET_RULES && l.interval_s == TARGET_INTERVAL_S;
            out.push_str(&format!(
                "\n{} rules every {}s: {:.3} cores (target < {TARGET_CORES}), {} missed \
                 (target 0){}  {}\n",
                num(l.rules as f64),
                l.interval_s,
                s.cores,
                s.missed_total,
                if at_target {
                    ""
                } else {
                    " [not the issue's 10,000 rules every 10s]"
                },
                if s.target_met { "met" } else { "MISSED" }
            ));
        }
        out
    }
}

/// Runs the scenario and prints (and saves) the report.
pub async fn run(args: &Args, wk_binary: &Path) -> Result<()> {
    let layout = Layout {
        rules: args.rules,
        per_group: args.rules_per_group.max(1),
        folders: args.rule_folders.max(1),
        interval_s: args.rule_interval,
        firing_every: args.firing_every,
    };
    if layout.interval_s == 0 {
        bail!("--rule-interval must be positive");
    }
    let mut report = RulesReport {
        date: Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model: cpu_model(),
        load_before: process::load_average(),
        load_after: String::new(),
        watchkeeper_binary: wk_binary.display().to_string(),
        watchkeeper_args: args.wk_args.clone(),
        in_process: InProcessResult::default(),
        server: None,
    };
    if args.rule_evals > 0 {
        if !args.json {
            eprintln!(
                "wk-bench: in-process evaluations ({} per pass, {} passes per mode)",
                args.rule_evals, args.rule_runs
            );
        }
        // On threads of their own: this one drives the main (multi-thread) runtime.
        let (n, runs, quiet) = (args.rule_evals, args.rule_runs, args.json);
        report.in_process = std::thread::Builder::new()
            .name("wk-bench-rules".into())
            .spawn(move || in_process(n, runs, quiet))
            .context("starting the in-process benchmark")?
            .join()
            .map_err(|_| anyhow::anyhow!("the in-process benchmark panicked"))??;
    }
    if layout.rules > 0 {
        if !args.json {
            eprintln!(
                "wk-bench: {} rules in the server (load average {})",
                layout.rules,
                process::load_average()
            );
        }
        report.server = Some(
            in_server(args, wk_binary, layout)
                .await
                .context("rules in the server")?,
        );
    }
    report.load_after = process::load_average();
    let text = serde_json::to_string_pretty(&report).context("serializing the report")?;
    if let Some(path) = &args.save {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{text}");
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wk_ruler::rule::provisioning::AlertingFile;

    #[test]
    fn one_rule_in_a_hundred_fires_and_shapes_mix() {
        let layout = Layout {
            rules: 10_000,
            per_group: 10,
            folders: 10,
            interval_s: 10,
            firing_every: 100,
        };
        assert_eq!(layout.groups(), 1000);
        assert_eq!(layout.firing(), 100);
        assert_eq!(layout.instances(), 12_000);
        // Firing rules are one-series walks.
        assert!(
            (0..10_000)
                .filter(|i| fires(*i, 100))
                .all(|i| shape(i) == Shape::Walk)
        );
        assert_eq!((0..100).filter(|i| fires(*i, 10)).count(), 10);
        assert_eq!((0..100).filter(|i| fires(*i, 0)).count(), 0);
    }

    #[test]
    fn provisioning_file_parses_as_grafana_alerting_yaml() {
        let layout = Layout {
            rules: 25,
            per_group: 10,
            folders: 2,
            interval_s: 10,
            firing_every: 10,
        };
        let text = layout.provisioning_file().expect("file");
        let file = AlertingFile::parse(&text).expect("parses as YAML");
        assert_eq!(file.groups.len(), 3);
        assert_eq!(file.groups[2].rules.len(), 5);
        assert_eq!(file.groups[1].folder, "Bench 1");
        let (interval, rules) = file.groups[0].to_rules(0).expect("rules");
        assert_eq!(interval, 10_000);
        assert_eq!(rules[0].uid, "wkb-00000");
        assert_eq!(rules[0].for_ms, 60_000);
        assert_eq!(rules[0].data.len(), 3);
        assert_eq!(rules[0].data[0].relative_time_range.from, 600);
        assert_eq!(rules[0].data[0].datasource_uid, "testdata");
        assert_eq!(
            rules[8].data[0].model["labels"],
            "instance=host-$seriesIndex"
        );
        assert!(rules[0].annotations["summary"].contains("{{ $values.B.Value }}"));
    }

    #[test]
    fn bench_rules_evaluate_as_intended() {
        check_rule().expect("normal and firing");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        let evaluator = Evaluator::new(
            Arc::new(MemorySources(DataSourceConfig {
                uid: TESTDATA_UID.into(),
                kind: TESTDATA_TYPE.into(),
                ..DataSourceConfig::default()
            })),
            Duration::from_secs(5),
        );
        for (shape, n) in [(Shape::Walk3, 3), (Shape::Csv, 1)] {
            let mut rule = bench_rule(false).expect("rule");
            rule.data = serde_json::from_value(rule_data(shape, false)).expect("data");
            let results = rt.block_on(evaluator.evaluate(
                1,
                &rule,
                Utc::now().timestamp_millis(),
                &BTreeSet::new(),
            ));
            assert_eq!(results.len(), n, "{shape:?}: {results:?}");
            assert!(
                results
                    .iter()
                    .all(|r| r.outcome == wk_ruler::state::Outcome::Normal),
                "{shape:?}: {results:?}"
            );
        }
    }

    #[test]
    fn a_pass_times_what_it_says() {
        let (p, alerts, stages) =
            pass(Mode::StateFiring, 300, 10, process::clock_ticks(), false).expect("firing pass");
        assert!(stages.is_none());
        assert!(p.seconds > 0.0 && p.us_per_eval > 0.0);
        // `for` 1m then a send every 30 s: about one evaluation in three hands an alert on.
        assert!((90..=110).contains(&alerts), "{alerts}");
        let (_, none, stages) =
            pass(Mode::StateNormal, 50, 5, process::clock_ticks(), true).expect("normal");
        assert_eq!(none, 0);
        let st = stages.expect("stages");
        assert!(st.evaluate > 0.0 && st.render > 0.0 && st.process > 0.0);
        assert!(st.total >= st.evaluate + st.render + st.process);
        let t = template_costs(20);
        assert_eq!((t.per_evaluation, t.templated_per_evaluation), (4, 1));
        assert!(t.static_text_us > 0.0 && t.value_template_us > 0.0);
    }

    #[test]
    fn metrics_are_read_from_the_exposition() {
        let text = "# HELP x y\n\
            grafana_alerting_schedule_alert_rules 10000\n\
            grafana_alerting_rule_evaluations_total{org=\"1\"} 30000\n\
            grafana_alerting_rule_evaluations_total{org=\"2\"} 5\n\
            grafana_alerting_scheduler_behind_seconds 0.012\n\
            grafana_alerting_alerts{state=\"alerting\"} 100\n\
            grafana_alerting_alerts{state=\"normal\"} 11900\n\
            grafana_alerting_rule_evaluation_duration_seconds_sum{org=\"1\"} 1.5\n\
            grafana_alerting_rule_evaluation_duration_seconds_count{org=\"1\"} 3000\n\
            # EOF\n";
        let s = Scrape::of(text);
        assert_eq!(s.alert_rules, 10_000.0);
        assert_eq!(s.evaluations, 30_005.0);
        assert_eq!(s.missed, 0.0);
        assert_eq!(s.behind_seconds, 0.012);
        assert_eq!((s.alerting, s.normal, s.pending), (100.0, 11_900.0, 0.0));
        assert_eq!(s.eval_duration_count, 3000.0);
    }

    #[test]
    fn medians_and_numbers() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(num(1_234_567.4), "1,234,567");
        assert_eq!(num(999.0), "999");
    }

    #[test]
    fn this_process_has_threads() {
        let t = threads_cpu(std::process::id(), process::clock_ticks());
        assert!(!t.is_empty());
    }
}
