//! One instance's transition for one evaluation outcome (Grafana's `State.transition` with
//! `resultNormal`, `resultAlerting`, `resultNoData`, `resultError` and `resultKeepLast`).
//!
//! The rules, for an instance in state `S` evaluated at `at`:
//!
//! - **Alerting**: Alerting stays (EndsAt extended); Pending becomes Alerting once
//!   `at - starts_at >= for`; any other state becomes Pending if `for > 0` and `S` is not
//!   Recovering, else Alerting.
//! - **Normal**: Normal stays untouched; Recovering becomes Normal once
//!   `at - starts_at >= keep_firing_for` (else EndsAt is extended); Alerting with
//!   `keep_firing_for > 0` becomes Recovering; anything else becomes Normal
//!   (`starts_at = ends_at = at`).
//! - **NoData** by `no_data_state`: `Alerting` and `OK` take the Alerting and Normal paths;
//!   `NoData` is like the Alerting path but towards the NoData state; `KeepLast` keeps
//!   Alerting, Pending (still honouring `for`) and Normal, and sends anything else to Normal.
//! - **Error** by `exec_err_state`: the same with the Error state; the error message is kept.
//!
//! Afterwards the reason is recomputed: set only when the new state differs from a NoData or
//! Error outcome (`NoData`/`Error`, or `NoData, KeepLast`/`Error, KeepLast` in KeepLast mode).
//! Becoming Normal from Alerting, NoData, Error or Recovering sets `resolved_at`; any state
//! other than Normal and Pending clears it.

use super::{
    Evaluation, ExecErrState, Instance, NoDataState, Outcome, RuleSettings, State, StateReason,
    format_state_and_reason, next_ends_at,
};
use crate::data::{Labels, Millis};

/// The value Grafana puts in place of each known `refId` value on NoData and Error.
const PLACEHOLDER_VALUE: f64 = -1.0;

/// What one evaluation did to one instance (`StateTransition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The instance's labels.
    pub labels: Labels,
    /// The evaluation (or reset) time.
    pub at: Millis,
    /// State before.
    pub previous_state: State,
    /// Reason before.
    pub previous_reason: Option<StateReason>,
    /// State after.
    pub state: State,
    /// Reason after.
    pub reason: Option<StateReason>,
    /// Whether state or reason changed (`Changed`).
    pub changed: bool,
    /// Whether this transition resolved a firing instance (set `resolved_at`).
    pub resolved: bool,
}

impl Transition {
    /// Builds the record of `instance` having moved from `previous_state`/`previous_reason`.
    pub fn new(
        instance: &Instance,
        at: Millis,
        previous_state: State,
        previous_reason: Option<StateReason>,
        resolved: bool,
    ) -> Self {
        Transition {
            labels: instance.labels.clone(),
            at,
            previous_state,
            previous_reason,
            state: instance.state,
            reason: instance.reason,
            changed: previous_state != instance.state || previous_reason != instance.reason,
            resolved,
        }
    }

    /// The new state as Grafana formats it, e.g. `"Alerting (NoData)"`.
    pub fn formatted(&self) -> String {
        format_state_and_reason(self.state, self.reason)
    }

    /// The previous state as Grafana formats it.
    pub fn previous_formatted(&self) -> String {
        format_state_and_reason(self.previous_state, self.previous_reason)
    }
}

/// Moves `instance` by one evaluation at `at` under `settings` and reports the transition.
///
/// Also records the evaluation: `last_evaluated_at`, values, annotations and outcome.
pub fn transition(
    instance: &mut Instance,
    evaluation: &Evaluation,
    at: Millis,
    settings: &RuleSettings,
) -> Transition {
    instance.last_evaluated_at = at;
    set_next_values(instance, evaluation);
    instance.annotations = evaluation.annotations.clone();
    instance.last_outcome = Some(evaluation.outcome.clone());

    let old_state = instance.state;
    let old_reason = instance.reason;

    let step = Step {
        settings,
        at,
        next_ends_at: next_ends_at(settings.interval, at),
    };
    match &evaluation.outcome {
        Outcome::Normal => step.normal(instance),
        Outcome::Alerting => step.alerting(instance),
        Outcome::NoData => step.no_data(instance),
        Outcome::Error(message) => step.error(instance, message),
    }

    instance.reason = result_reason(instance.state, &evaluation.outcome, settings);

    let resolved = instance.state == State::Normal && resolves(old_state);
    if resolved {
        instance.resolved_at = Some(at);
        instance.resolved_from = Some(old_state);
    } else if instance.state != State::Normal && instance.state != State::Pending {
        // Normal -> Normal and Normal -> Pending keep the last resolution time.
        instance.resolved_at = None;
        instance.resolved_from = None;
    }

    Transition::new(instance, at, old_state, old_reason, resolved)
}

/// Whether becoming Normal from `old` resolves a firing alert (`ShouldBeResolved`).
pub(crate) fn resolves(old: State) -> bool {
    matches!(
        old,
        State::Alerting | State::Error | State::NoData | State::Recovering
    )
}

/// The reason after a transition (`resultStateReason`): set only when the state differs
/// from a NoData or Error outcome.
fn result_reason(state: State, outcome: &Outcome, settings: &RuleSettings) -> Option<StateReason> {
    match outcome {
        Outcome::Normal | Outcome::Alerting => None,
        Outcome::NoData if state == State::NoData => None,
        Outcome::Error(_) if state == State::Error => None,
        Outcome::NoData if settings.no_data_state == NoDataState::KeepLast => {
            Some(StateReason::NoDataKeepLast)
        }
        Outcome::NoData => Some(StateReason::NoData),
        Outcome::Error(_) if settings.exec_err_state == ExecErrState::KeepLast => {
            Some(StateReason::ErrorKeepLast)
        }
        Outcome::Error(_) => Some(StateReason::Error),
    }
}

/// `SetNextValues`: NoData and Error keep the known `refId`s with a placeholder value.
fn set_next_values(instance: &mut Instance, evaluation: &Evaluation) {
    match evaluation.outcome {
        Outcome::NoData | Outcome::Error(_) => {
            for value in instance.values.values_mut() {
                *value = Some(PLACEHOLDER_VALUE);
            }
        }
        Outcome::Normal | Outcome::Alerting => instance.values = evaluation.values.clone(),
    }
}

/// One evaluation's parameters.
struct Step<'a> {
    settings: &'a RuleSettings,
    at: Millis,
    next_ends_at: Millis,
}

impl Step<'_> {
    /// Sets state and both times, clearing the error (`SetAlerting`, `SetNormal`, ...).
    fn set(&self, instance: &mut Instance, state: State, starts_at: Millis, ends_at: Millis) {
        instance.state = state;
        instance.starts_at = starts_at;
        instance.ends_at = ends_at;
        instance.error = None;
        if state == State::Alerting {
            instance.fired_at = Some(starts_at);
        }
    }

    /// Starts a new state now, ending at the next EndsAt.
    fn enter(&self, instance: &mut Instance, state: State) {
        self.set(instance, state, self.at, self.next_ends_at);
    }

    /// Extends EndsAt (`Maintain`).
    fn maintain(&self, instance: &mut Instance) {
        instance.ends_at = self.next_ends_at;
    }

    /// Whether at least `duration` has passed since the current state began.
    fn held_for(&self, instance: &Instance, duration: Millis) -> bool {
        self.at.saturating_sub(instance.starts_at) >= duration
    }

    /// Whether a new non-Normal condition should wait in Pending first.
    fn waits_in_pending(&self, instance: &Instance) -> bool {
        instance.state != State::Recovering && self.settings.for_duration > 0
    }

    /// `resultNormal`.
    fn normal(&self, instance: &mut Instance) {
        match instance.state {
            State::Normal => {}
            State::Recovering => {
                if self.held_for(instance, self.settings.keep_firing_for) {
                    self.set(instance, State::Normal, self.at, self.at);
                } else {
                    // Still firing for the Alertmanager.
                    self.maintain(instance);
                }
            }
            State::Alerting if self.settings.keep_firing_for > 0 => {
                self.enter(instance, State::Recovering);
            }
            _ => self.set(instance, State::Normal, self.at, self.at),
        }
    }

    /// `resultAlerting`.
    fn alerting(&self, instance: &mut Instance) {
        match instance.state {
            State::Alerting => {
                self.maintain(instance);
                instance.error = None;
            }
            State::Pending => {
                if self.held_for(instance, self.settings.for_duration) {
                    self.enter(instance, State::Alerting);
                }
            }
            _ => {
                if self.waits_in_pending(instance) {
                    self.enter(instance, State::Pending);
                } else {
                    self.enter(instance, State::Alerting);
                }
            }
        }
    }

    /// `resultKeepLast`: keep Alerting, Pending (honouring `for`) and Normal; anything else
    /// goes the Normal path.
    fn keep_last(&self, instance: &mut Instance) {
        match instance.state {
            State::Alerting => self.alerting(instance),
            State::Pending => {
                if self.held_for(instance, self.settings.for_duration) {
                    self.alerting(instance);
                }
            }
            _ => self.normal(instance),
        }
    }

    /// Towards a dedicated NoData/Error state, through Pending when `for > 0`.
    fn towards(&self, instance: &mut Instance, target: State) {
        if instance.state == target {
            self.maintain(instance);
        } else if instance.state == State::Pending {
            if self.held_for(instance, self.settings.for_duration) {
                self.enter(instance, target);
            } else {
                instance.error = None;
                self.maintain(instance);
            }
        } else if self.waits_in_pending(instance) {
            self.enter(instance, State::Pending);
        } else {
            self.enter(instance, target);
        }
    }

    /// `resultNoData`.
    fn no_data(&self, instance: &mut Instance) {
        match self.settings.no_data_state {
            NoDataState::Alerting => self.alerting(instance),
            NoDataState::NoData => self.towards(instance, State::NoData),
            NoDataState::Ok => self.normal(instance),
            NoDataState::KeepLast => self.keep_last(instance),
        }
    }

    /// `resultError`.
    fn error(&self, instance: &mut Instance, message: &str) {
        match self.settings.exec_err_state {
            ExecErrState::Alerting => {
                self.alerting(instance);
                instance.error = Some(message.to_string());
            }
            ExecErrState::Error => {
                self.towards(instance, State::Error);
                instance.error = Some(message.to_string());
            }
            ExecErrState::Ok => self.normal(instance),
            ExecErrState::KeepLast => self.keep_last(instance),
        }
    }
}
