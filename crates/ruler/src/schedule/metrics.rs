//! The scheduler's metrics, named as Grafana's (`grafana_alerting_*`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label `org`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OrgLabel {
    /// Organization id.
    pub org: String,
}

/// Labels `org`, `rule_group` (`<folder uid>;<group>`, as Grafana) and `state` (`active`,
/// `paused`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupLabel {
    /// Organization id.
    pub org: String,
    /// The group: folder uid and name.
    pub rule_group: String,
    /// `active` or `paused`.
    pub state: String,
}

/// Label `state`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    /// Alert state, lower case (`alerting`, `pending`, ...).
    pub state: String,
}

fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 4.0, 10))
}

/// The scheduler's metrics.
#[derive(Debug, Clone)]
pub struct RulerMetrics {
    /// Evaluations run.
    pub evaluations: Family<OrgLabel, Counter>,
    /// Evaluations that failed (an Error outcome).
    pub evaluation_failures: Family<OrgLabel, Counter>,
    /// Time an evaluation took.
    pub evaluation_duration: Family<OrgLabel, Histogram, fn() -> Histogram>,
    /// Ticks dropped because the previous evaluation of the rule was still running.
    pub evaluations_missed: Family<OrgLabel, Counter>,
    /// Alert instances by state.
    pub alerts: Family<StateLabel, Gauge>,
    /// Rules scheduled (not paused).
    pub alert_rules: Gauge,
    /// Rules by group and state (active or paused).
    pub group_rules: Family<GroupLabel, Gauge>,
    /// Time one tick took to schedule.
    pub tick_duration: Histogram,
    /// How far the scheduler is behind the wall clock, seconds.
    pub behind_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Default for RulerMetrics {
    fn default() -> Self {
        Self {
            evaluations: Family::default(),
            evaluation_failures: Family::default(),
            evaluation_duration: Family::new_with_constructor(duration_histogram),
            evaluations_missed: Family::default(),
            alerts: Family::default(),
            alert_rules: Gauge::default(),
            group_rules: Family::default(),
            tick_duration: duration_histogram(),
            behind_seconds: Gauge::default(),
        }
    }
}

impl RulerMetrics {
    /// Registers every metric in `r`.
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "grafana_alerting_rule_evaluations",
            "The total number of rule evaluations.",
            self.evaluations.clone(),
        );
        r.register(
            "grafana_alerting_rule_evaluation_failures",
            "The total number of rule evaluation failures.",
            self.evaluation_failures.clone(),
        );
        r.register(
            "grafana_alerting_rule_evaluation_duration_seconds",
            "The time to evaluate a rule.",
            self.evaluation_duration.clone(),
        );
        r.register(
            "grafana_alerting_schedule_rule_evaluations_missed",
            "The total number of rule evaluations missed due to a slow rule evaluation.",
            self.evaluations_missed.clone(),
        );
        r.register(
            "grafana_alerting_alerts",
            "How many alerts by state.",
            self.alerts.clone(),
        );
        r.register(
            "grafana_alerting_schedule_alert_rules",
            "The number of alert rules that could be considered for evaluation at the next tick.",
            self.alert_rules.clone(),
        );
        r.register(
            "grafana_alerting_rule_group_rules",
            "The number of alert rules by group and state.",
            self.group_rules.clone(),
        );
        r.register(
            "grafana_alerting_schedule_periodic_duration_seconds",
            "The time taken to run the scheduler.",
            self.tick_duration.clone(),
        );
        r.register(
            "grafana_alerting_scheduler_behind_seconds",
            "The total number of seconds the scheduler is behind.",
            self.behind_seconds.clone(),
        );
    }

    /// The `org` label of `org_id`.
    pub fn org(org_id: i64) -> OrgLabel {
        OrgLabel {
            org: org_id.to_string(),
        }
    }
}
