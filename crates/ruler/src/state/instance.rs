//! One alert instance (Grafana's `state.State`): the state of one label set of one rule, and
//! the stored form it is saved as and restored from, so that a restart keeps Alerting instances
//! Alerting with their original `starts_at` instead of going through Pending again.

use serde::{Deserialize, Serialize};

use super::{Outcome, State, StateReason, Values};
use crate::data::{Labels, Millis};

/// The state of one alert instance (one label set of one rule).
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// The instance's labels, its identity within the rule.
    pub labels: Labels,
    /// Current state.
    pub state: State,
    /// Why the state differs from what the evaluation said, if it does.
    pub reason: Option<StateReason>,
    /// When the current state began. While Pending, when the `for` wait began.
    pub starts_at: Millis,
    /// When the Alertmanager should consider the alert over unless re-sent; for Normal, the
    /// time it became Normal.
    pub ends_at: Millis,
    /// When the instance last became Alerting (`FiredAt`).
    pub fired_at: Option<Millis>,
    /// The last evaluation that covered this instance.
    pub last_evaluated_at: Millis,
    /// When the instance last resolved (became Normal from a firing state); cleared when it
    /// fires again.
    pub resolved_at: Option<Millis>,
    /// The state it resolved from, so the resolved alert carries the labels of the alert it
    /// ends (`DatasourceNoData`/`DatasourceError` relabelling).
    pub resolved_from: Option<State>,
    /// When the instance was last handed to the Alertmanager.
    pub last_sent_at: Option<Millis>,
    /// The latest values by `refId` (for NoData/Error: the known `refId`s, each `-1`).
    pub values: Values,
    /// The latest evaluation outcome for this instance, if it has been evaluated since start.
    pub last_outcome: Option<Outcome>,
    /// The error that holds the instance in its state (Grafana's `State.Error`).
    pub error: Option<String>,
    /// The rule's annotations as rendered at the last evaluation.
    pub annotations: Labels,
}

impl Instance {
    /// A fresh instance: Normal, `starts_at = ends_at = last_evaluated_at = at` (`newState`).
    pub fn new(labels: Labels, at: Millis) -> Self {
        Instance {
            labels,
            state: State::Normal,
            reason: None,
            starts_at: at,
            ends_at: at,
            fired_at: None,
            last_evaluated_at: at,
            resolved_at: None,
            resolved_from: None,
            last_sent_at: None,
            values: Values::new(),
            last_outcome: None,
            error: None,
            annotations: Labels::new(),
        }
    }

    /// Rebuilds an instance from its stored fields (`AlertInstanceToState`).
    pub fn restore(stored: StoredInstance) -> Self {
        Instance {
            labels: stored.labels,
            state: stored.state,
            reason: stored.reason,
            starts_at: stored.starts_at,
            ends_at: stored.ends_at,
            fired_at: stored.fired_at,
            last_evaluated_at: stored.last_evaluated_at,
            resolved_at: stored.resolved_at,
            resolved_from: stored.resolved_from,
            last_sent_at: stored.last_sent_at,
            values: stored.values,
            last_outcome: None,
            error: stored.error,
            annotations: stored.annotations,
        }
    }

    /// The fields to store so that [`Instance::restore`] gives this instance back.
    pub fn to_stored(&self) -> StoredInstance {
        StoredInstance {
            labels: self.labels.clone(),
            state: self.state,
            reason: self.reason,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            fired_at: self.fired_at,
            last_evaluated_at: self.last_evaluated_at,
            resolved_at: self.resolved_at,
            resolved_from: self.resolved_from,
            last_sent_at: self.last_sent_at,
            values: self.values.clone(),
            error: self.error.clone(),
            annotations: self.annotations.clone(),
        }
    }

    /// While Pending, when the `for` wait began (Pending's `starts_at`); otherwise `None`.
    pub fn pending_since(&self) -> Option<Millis> {
        (self.state == State::Pending).then_some(self.starts_at)
    }

    /// Whether the instance was resolved because its series vanished (`IsStale`).
    pub fn is_stale(&self) -> bool {
        self.reason == Some(StateReason::MissingSeries)
    }
}

/// An instance as persisted (Grafana's `alert_instance` row, plus `resolved_from`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredInstance {
    /// Labels.
    pub labels: Labels,
    /// Current state.
    pub state: State,
    /// Reason, if any.
    #[serde(default)]
    pub reason: Option<StateReason>,
    /// `current_state_since`.
    pub starts_at: Millis,
    /// `current_state_end`.
    pub ends_at: Millis,
    /// `fired_at`.
    #[serde(default)]
    pub fired_at: Option<Millis>,
    /// `last_eval_time`.
    pub last_evaluated_at: Millis,
    /// `resolved_at`.
    #[serde(default)]
    pub resolved_at: Option<Millis>,
    /// The state the instance resolved from (not in Grafana's table; `None` when unknown).
    #[serde(default)]
    pub resolved_from: Option<State>,
    /// `last_sent_at`.
    #[serde(default)]
    pub last_sent_at: Option<Millis>,
    /// Latest values.
    #[serde(default)]
    pub values: Values,
    /// `last_error`.
    #[serde(default)]
    pub error: Option<String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: Labels,
}
