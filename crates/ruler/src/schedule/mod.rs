//! The scheduler: a wall-clock aligned tick every base interval, the same instants on every
//! instance; at each tick the rules' versions are read from the database (so a change made
//! through any instance is picked up by all within one tick), and each rule due on this tick
//! (its interval in ticks, offset by a deterministic jitter) is handed to its own routine,
//! spread over the tick. A routine still busy with its previous evaluation misses the tick
//! (counted).

pub mod jitter;
pub mod metrics;
pub mod ports;
mod task;
pub mod view;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

pub use jitter::Jitter;
pub use metrics::RulerMetrics;
pub use ports::{
    AlertSink, HistoryEntry, HistorySink, LoadedRule, RuleKey, RuleSource, StateStore,
};
pub use task::{ALERTNAME_LABEL, FOLDER_LABEL, RULE_UID_LABEL};
pub use view::{InstanceView, RuleView, StateView};

use crate::data::Millis;
use crate::eval::Evaluator;
use crate::state::StoredInstance;
use task::{Control, RuleTask, Tick};

/// How the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The tick (`[unified_alerting] base_interval`, 10 s).
    pub base_interval: Duration,
    /// Rules with a shorter interval run at this one (`min_interval`).
    pub min_interval: Duration,
    /// How evaluations spread over their interval.
    pub jitter: Jitter,
    /// Longest evaluation (`evaluation_timeout`).
    pub evaluation_timeout: Duration,
    /// Attempts of an evaluation that fails (`max_attempts`).
    pub max_attempts: u32,
    /// Wait before the second attempt (`initial_retry_delay`); each later one waits twice as
    /// long, up to `max_retry_delay`.
    pub retry_delay: Duration,
    /// Longest wait between attempts (`max_retry_delay`).
    pub max_retry_delay: Duration,
    /// Each wait is randomly up to this fraction shorter or longer (`randomization_factor`).
    pub randomization_factor: f64,
    /// The server's external URL (`externalURL` and `pathPrefix` in templates).
    pub external_url: String,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            base_interval: Duration::from_secs(10),
            min_interval: Duration::from_secs(10),
            jitter: Jitter::ByGroup,
            evaluation_timeout: Duration::from_secs(30),
            max_attempts: 3,
            retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(4),
            randomization_factor: 0.1,
            external_url: String::new(),
        }
    }
}

/// The wait before attempt `attempt + 1` (from 1): exponential from `opts.retry_delay`, capped
/// at `opts.max_retry_delay`, spread by `opts.randomization_factor` (Grafana's backoff).
pub(crate) fn retry_wait(opts: &SchedulerOptions, attempt: u32) -> Duration {
    let exp = opts
        .retry_delay
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(opts.max_retry_delay.max(opts.retry_delay));
    let factor = opts.randomization_factor.clamp(0.0, 1.0);
    let spread = 1.0 + factor * (2.0 * rand::random::<f64>() - 1.0);
    exp.mul_f64(spread.max(0.0))
}

/// What every rule routine shares.
pub(crate) struct Shared {
    pub(crate) evaluator: Evaluator,
    pub(crate) states: Arc<dyn StateStore>,
    pub(crate) history: Arc<dyn HistorySink>,
    pub(crate) sink: Arc<dyn AlertSink>,
    pub(crate) metrics: RulerMetrics,
    pub(crate) opts: SchedulerOptions,
    pub(crate) view: StateView,
}

/// The milliseconds since the epoch now.
pub(crate) fn now_ms() -> Millis {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// A rule's routine as the scheduler drives it.
struct Routine {
    task: tokio::task::JoinHandle<()>,
    ticks: mpsc::Sender<Tick>,
    control: mpsc::UnboundedSender<Control>,
    rule: LoadedRule,
    ticks_per_interval: u64,
    offset: u64,
}

/// Evaluates every rule on its schedule.
pub struct Scheduler {
    shared: Arc<Shared>,
    source: Arc<dyn RuleSource>,
    /// The groups the rules-by-group gauges were last set for.
    groups: std::sync::Mutex<std::collections::HashSet<metrics::GroupLabel>>,
}

impl Scheduler {
    /// A scheduler evaluating the rules of `source` with `evaluator`, saving states to
    /// `states`, recording transitions in `history` and sending alerts to `sink`.
    pub fn new(
        source: Arc<dyn RuleSource>,
        evaluator: Evaluator,
        states: Arc<dyn StateStore>,
        history: Arc<dyn HistorySink>,
        sink: Arc<dyn AlertSink>,
        metrics: RulerMetrics,
        opts: SchedulerOptions,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                evaluator,
                states,
                history,
                sink,
                metrics,
                opts,
                view: StateView::default(),
            }),
            source,
            groups: std::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// What the APIs read of the running rules.
    pub fn view(&self) -> StateView {
        self.shared.view.clone()
    }

    /// Runs until `shutdown` turns true: warms the states from the store, then ticks.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let base = self.shared.opts.base_interval.max(Duration::from_millis(1));
        let base_ms = i64::try_from(base.as_millis()).unwrap_or(10_000);
        let mut warm: HashMap<RuleKey, Vec<StoredInstance>> = HashMap::new();
        match self.shared.states.load().await {
            Ok(rows) => {
                for (key, s) in rows {
                    warm.entry(key).or_default().push(s);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "loading saved alert states failed; starting fresh")
            }
        }
        let mut routines: HashMap<RuleKey, Routine> = HashMap::new();
        let mut known: HashMap<RuleKey, i64> = HashMap::new();
        loop {
            let now = now_ms();
            let tick_ms = (now / base_ms + 1) * base_ms;
            let wait = Duration::from_millis(u64::try_from(tick_ms - now).unwrap_or(0));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                Self::finish(routines).await;
                return;
            }
            let started = Instant::now();
            self.shared
                .metrics
                .behind_seconds
                .set((now_ms() - tick_ms).max(0) as f64 / 1000.0);
            self.refresh(&mut routines, &mut known, &mut warm).await;
            let tick = u64::try_from(tick_ms / base_ms).unwrap_or(0);
            let due: Vec<&Routine> = routines
                .values()
                .filter(|r| !r.rule.rule.is_paused)
                .filter(|r| jitter::is_due(tick, r.ticks_per_interval, r.offset))
                .collect();
            let step = base / u32::try_from(due.len().max(1)).unwrap_or(u32::MAX);
            let mut missed: HashMap<i64, u64> = HashMap::new();
            for (i, r) in due.iter().enumerate() {
                let delay = step.saturating_mul(u32::try_from(i).unwrap_or(u32::MAX));
                if r.ticks.try_send(Tick { at: tick_ms, delay }).is_err() {
                    *missed.entry(r.rule.org_id).or_default() += 1;
                }
            }
            for (org, n) in missed {
                tracing::warn!(
                    org,
                    rules = n,
                    "evaluations missed: the previous ones are still running"
                );
                self.shared
                    .metrics
                    .evaluations_missed
                    .get_or_create(&RulerMetrics::org(org))
                    .inc_by(n);
            }
            let active = routines.values().filter(|r| !r.rule.rule.is_paused).count();
            self.shared
                .metrics
                .alert_rules
                .set(i64::try_from(active).unwrap_or(i64::MAX));
            self.shared
                .metrics
                .tick_duration
                .observe(started.elapsed().as_secs_f64());
        }
    }

    /// Reads the rules' versions and, when they changed, the rules: starts routines for new
    /// rules, updates changed ones and stops deleted ones.
    async fn refresh(
        &self,
        routines: &mut HashMap<RuleKey, Routine>,
        known: &mut HashMap<RuleKey, i64>,
        warm: &mut HashMap<RuleKey, Vec<StoredInstance>>,
    ) {
        let versions: HashMap<RuleKey, i64> = match self.source.versions().await {
            Ok(v) => v.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "reading rule versions failed; keeping the rules known");
                return;
            }
        };
        if versions == *known {
            return;
        }
        let rules = match self.source.load().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "loading rules failed; keeping the rules known");
                return;
            }
        };
        let mut seen = std::collections::HashSet::new();
        for rule in rules {
            let key: RuleKey = (rule.org_id, rule.rule.uid.clone());
            seen.insert(key.clone());
            let Some(schedule) = self.schedule_of(&rule) else {
                continue;
            };
            match routines.get_mut(&key) {
                Some(r) if r.rule.version == rule.version => {}
                Some(r) => {
                    (r.ticks_per_interval, r.offset) = schedule;
                    r.rule = rule.clone();
                    if r.control.send(Control::Update(Box::new(rule))).is_err() {
                        routines.remove(&key);
                    }
                }
                None => {
                    let stored = warm.remove(&key).unwrap_or_default();
                    let (tick_tx, tick_rx) = mpsc::channel(1);
                    let (control_tx, control_rx) = mpsc::unbounded_channel();
                    let task = RuleTask::new(Arc::clone(&self.shared), rule.clone(), stored);
                    let task = tokio::spawn(task.run(tick_rx, control_rx));
                    routines.insert(
                        key,
                        Routine {
                            task,
                            ticks: tick_tx,
                            control: control_tx,
                            rule,
                            ticks_per_interval: schedule.0,
                            offset: schedule.1,
                        },
                    );
                }
            }
        }
        routines.retain(|key, r| {
            let keep = seen.contains(key);
            if !keep {
                let _ = r.control.send(Control::Stop);
            }
            keep
        });
        self.count_groups(routines);
        *known = versions;
    }

    /// Lets every routine finish the evaluation it is running (and save its state), then
    /// stops them; a routine still busy after a few seconds is cut off.
    async fn finish(routines: HashMap<RuleKey, Routine>) {
        let tasks: Vec<_> = routines.into_values().map(|r| r.task).collect();
        let all = futures::future::join_all(tasks);
        if tokio::time::timeout(Duration::from_secs(5), all)
            .await
            .is_err()
        {
            tracing::warn!("some rule evaluations were still running at shutdown");
        }
    }

    /// Sets the rules-by-group gauges from the routines, zeroing groups that are gone.
    fn count_groups(&self, routines: &HashMap<RuleKey, Routine>) {
        let mut counts: HashMap<metrics::GroupLabel, i64> = HashMap::new();
        for r in routines.values() {
            for state in ["active", "paused"] {
                let label = metrics::GroupLabel {
                    org: r.rule.org_id.to_string(),
                    rule_group: format!("{};{}", r.rule.folder_uid, r.rule.group),
                    state: state.to_owned(),
                };
                let this = (state == "paused") == r.rule.rule.is_paused;
                *counts.entry(label).or_default() += i64::from(this);
            }
        }
        let mut previous = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        for gone in previous.iter().filter(|l| !counts.contains_key(*l)) {
            self.shared.metrics.group_rules.remove(gone);
        }
        for (label, n) in &counts {
            self.shared.metrics.group_rules.get_or_create(label).set(*n);
        }
        *previous = counts.into_keys().collect();
    }

    /// A rule's ticks per interval and offset; `None` (with a warning) when its interval is
    /// not a multiple of the base interval.
    fn schedule_of(&self, rule: &LoadedRule) -> Option<(u64, u64)> {
        let opts = &self.shared.opts;
        let base = u64::try_from(opts.base_interval.as_millis())
            .unwrap_or(10_000)
            .max(1);
        let min = u64::try_from(opts.min_interval.as_millis()).unwrap_or(0);
        let interval = rule.interval_ms.max(min);
        if interval % base != 0 {
            tracing::warn!(rule = %rule.rule.uid, interval_ms = interval, base_ms = base, "rule interval is not a multiple of the base interval; not scheduled");
            return None;
        }
        let ticks = (interval / base).max(1);
        let offset = jitter::offset(
            opts.jitter,
            rule.org_id,
            &rule.folder_uid,
            &rule.group,
            &rule.rule.uid,
            ticks,
        );
        Some((ticks, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_limit() {
        let opts = SchedulerOptions {
            retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(4),
            randomization_factor: 0.0,
            ..SchedulerOptions::default()
        };
        let waits: Vec<u64> = (1..=5).map(|a| retry_wait(&opts, a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 4, 4]);
        let spread = SchedulerOptions {
            randomization_factor: 0.5,
            ..opts
        };
        for _ in 0..100 {
            let w = retry_wait(&spread, 2).as_secs_f64();
            assert!((1.0..=3.0).contains(&w), "{w}");
        }
    }
}
