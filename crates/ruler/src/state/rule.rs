//! All instances of one alert rule (Grafana's per-rule cache and `Manager.ProcessEvalResults`):
//! a map from label set to [`Instance`], fed one evaluation at a time.
//!
//! - Each result's label set gets its instance (created Normal on first sight) and one
//!   [`transition`].
//! - When every result is NoData (or there is none at all) and the rule maps NoData to
//!   Alerting, OK or KeepLast, the NoData outcome is applied to every existing instance
//!   instead; likewise when every result is an error and the rule maps errors to Alerting, OK
//!   or KeepLast. Only when the rule has no instance yet are instances created from the results.
//! - Instances absent from an evaluation become stale after `missing_series_evals_to_resolve`
//!   (default 2) intervals without an evaluation (1 for NoData and Error instances, and for
//!   Pending ones waiting on NoData or an error): they resolve to Normal with reason
//!   `MissingSeries`. Until then an absent Alerting instance has its EndsAt extended.
//! - A stale instance stays in the map while its resolved alert still needs sending, and is
//!   dropped once `resolved_alert_retention` has passed and the resolution was sent.
//! - Pausing, deleting or resetting the rule resolves every instance with reason `Paused`,
//!   `RuleDeleted` or `Updated`, empties the map and yields the alerts that expire the firing
//!   ones.

use std::collections::BTreeMap;

use super::send::to_postable_alert;
use super::transition::resolves;
use super::{
    Evaluation, ExecErrState, Instance, NoDataState, Outcome, PostableAlert, RuleSettings,
    SendSettings, State, StateReason, StoredInstance, Transition, needs_sending, next_ends_at,
    transition,
};
use crate::data::{Labels, Millis};

/// Label naming the data source whose queries returned no data.
pub const DATASOURCE_UID_LABEL: &str = "datasource_uid";

/// Label naming the queries (`refId`s, comma-separated) that returned no data.
pub const REF_ID_LABEL: &str = "ref_id";

/// Labels of the one instance an evaluation with no result at all produces: the rule's labels
/// only (Grafana evaluates an empty condition result to one NoData result without labels, which
/// the rule's labels are then added to).
///
/// `rule_labels` are the rule's labels with whatever the caller adds to every instance
/// (`alertname`, `grafana_folder`, `__alert_rule_uid__`, ...).
pub fn no_data_labels(rule_labels: &Labels) -> Labels {
    rule_labels.clone()
}

/// Labels of the NoData result Grafana produces for a data source whose queries returned
/// nothing: `datasource_uid` and `ref_id` (the `refId`s joined by `,`), plus the rule's
/// labels, which win on a clash.
pub fn datasource_no_data_labels(
    rule_labels: &Labels,
    datasource_uid: &str,
    ref_ids: &[&str],
) -> Labels {
    let mut labels = Labels::new();
    labels.insert(DATASOURCE_UID_LABEL.to_string(), datasource_uid.to_string());
    labels.insert(REF_ID_LABEL.to_string(), ref_ids.join(","));
    for (name, value) in rule_labels {
        labels.insert(name.clone(), value.clone());
    }
    labels
}

/// What resetting a rule's state did.
#[derive(Debug, Clone, PartialEq)]
pub struct Reset {
    /// One transition per instance, each to Normal with the reset's reason.
    pub transitions: Vec<Transition>,
    /// Alerts ending the instances that were firing (Alerting, NoData, Error, Recovering),
    /// with `ends_at` = the reset time (`FromAlertsStateToStoppedAlert`).
    pub expired: Vec<PostableAlert>,
}

/// The instances of one alert rule, keyed by label set.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleState {
    settings: RuleSettings,
    rule_labels: Labels,
    rule_annotations: Labels,
    send: SendSettings,
    generator_url: Option<String>,
    instances: BTreeMap<Labels, Instance>,
}

impl RuleState {
    /// An empty state for a rule with these settings and labels (see [`no_data_labels`]).
    pub fn new(settings: RuleSettings, rule_labels: Labels) -> Self {
        RuleState {
            settings,
            rule_labels,
            rule_annotations: Labels::new(),
            send: SendSettings::default(),
            generator_url: None,
            instances: BTreeMap::new(),
        }
    }

    /// A state rebuilt from stored instances (`Warm`); a later label set replaces an earlier
    /// equal one.
    pub fn restore(
        settings: RuleSettings,
        rule_labels: Labels,
        stored: impl IntoIterator<Item = StoredInstance>,
    ) -> Self {
        let mut state = RuleState::new(settings, rule_labels);
        for s in stored {
            state.insert(Instance::restore(s));
        }
        state
    }

    /// Adds or replaces an instance, keyed by its labels.
    pub fn insert(&mut self, instance: Instance) {
        self.instances.insert(instance.labels.clone(), instance);
    }

    /// The rule's settings.
    pub fn settings(&self) -> &RuleSettings {
        &self.settings
    }

    /// Replaces the rule's settings (a rule update that keeps the state).
    pub fn set_settings(&mut self, settings: RuleSettings) {
        self.settings = settings;
    }

    /// The labels an evaluation without results gives its instance.
    pub fn rule_labels(&self) -> &Labels {
        &self.rule_labels
    }

    /// Replaces the rule's labels.
    pub fn set_rule_labels(&mut self, labels: Labels) {
        self.rule_labels = labels;
    }

    /// Sets the annotations given to the instance of an evaluation without results.
    pub fn set_rule_annotations(&mut self, annotations: Labels) {
        self.rule_annotations = annotations;
    }

    /// Resend delay and resolved retention.
    pub fn send_settings(&self) -> SendSettings {
        self.send
    }

    /// Replaces the resend delay and resolved retention.
    pub fn set_send_settings(&mut self, send: SendSettings) {
        self.send = send;
    }

    /// Sets the `generatorURL` put on every alert sent for this rule.
    pub fn set_generator_url(&mut self, url: Option<String>) {
        self.generator_url = url;
    }

    /// The instance with exactly these labels.
    pub fn get(&self, labels: &Labels) -> Option<&Instance> {
        self.instances.get(labels)
    }

    /// All instances, ordered by labels.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.values()
    }

    /// Number of instances held.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// Whether no instance is held.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// The stored form of every instance, ordered by labels.
    pub fn to_stored(&self) -> Vec<StoredInstance> {
        self.instances.values().map(Instance::to_stored).collect()
    }

    /// Applies one evaluation made at `at` and returns a transition for every instance it
    /// touched: the evaluated ones in result order, then the absent ones in label order.
    ///
    /// An empty `results` means the condition produced nothing: one NoData result with
    /// [`no_data_labels`].
    pub fn process(&mut self, results: Vec<(Labels, Evaluation)>, at: Millis) -> Vec<Transition> {
        let results = if results.is_empty() {
            let evaluation =
                Evaluation::new(Outcome::NoData).with_annotations(self.rule_annotations.clone());
            vec![(no_data_labels(&self.rule_labels), evaluation)]
        } else {
            results
        };

        let mut transitions = match self.outcome_for_all(&results) {
            Some(outcome) => self.apply_to_all(&outcome, at),
            None => Vec::new(),
        };
        if transitions.is_empty() {
            for (labels, evaluation) in results {
                let instance = self
                    .instances
                    .entry(labels)
                    .or_insert_with_key(|labels| Instance::new(labels.clone(), at));
                transitions.push(transition(instance, &evaluation, at, &self.settings));
            }
        }

        transitions.extend(self.process_missing(at));
        self.drop_expired(at);
        transitions
    }

    /// The outcome to apply to every existing instance, when all results are NoData (or all
    /// errors) and the rule does not map them to a state of their own.
    fn outcome_for_all(&self, results: &[(Labels, Evaluation)]) -> Option<Outcome> {
        let all_no_data = results.iter().all(|(_, e)| e.outcome == Outcome::NoData);
        if all_no_data && self.settings.no_data_state != NoDataState::NoData {
            return Some(Outcome::NoData);
        }
        let mut messages: Vec<&str> = Vec::new();
        for (_, evaluation) in results {
            match &evaluation.outcome {
                Outcome::Error(message) => {
                    if !messages.contains(&message.as_str()) {
                        messages.push(message);
                    }
                }
                _ => return None,
            }
        }
        if self.settings.exec_err_state == ExecErrState::Error {
            return None;
        }
        Some(Outcome::Error(messages.join("; ")))
    }

    /// Applies `outcome` to every current (not stale) instance (`setNextStateForAll`); empty
    /// when there is none.
    fn apply_to_all(&mut self, outcome: &Outcome, at: Millis) -> Vec<Transition> {
        let mut transitions = Vec::new();
        for instance in self.instances.values_mut().filter(|i| !i.is_stale()) {
            // NoData and Error keep the instance's values as placeholders; the instance keeps
            // its annotations, as Grafana transitions a copy of the cached state here.
            let evaluation =
                Evaluation::new(outcome.clone()).with_annotations(instance.annotations.clone());
            transitions.push(transition(instance, &evaluation, at, &self.settings));
        }
        transitions
    }

    /// Handles instances the evaluation at `at` did not cover (`processMissingSeriesStates`).
    fn process_missing(&mut self, at: Millis) -> Vec<Transition> {
        let interval = self.settings.interval;
        let default_evals = self.settings.missing_series_evals();
        let mut transitions = Vec::new();
        for instance in self.instances.values_mut() {
            if instance.last_evaluated_at == at || instance.is_stale() {
                continue;
            }
            let evals = if resolves_after_one_missing_eval(instance) {
                1
            } else {
                default_evals
            };
            let old_state = instance.state;
            let old_reason = instance.reason;
            let missing_for = at.saturating_sub(instance.last_evaluated_at);
            let mut resolved = false;
            if missing_for > 0 && missing_for >= interval.saturating_mul(i64::from(evals)) {
                instance.state = State::Normal;
                instance.reason = Some(StateReason::MissingSeries);
                instance.last_evaluated_at = at;
                instance.ends_at = at;
                if resolves(old_state) {
                    instance.resolved_at = Some(at);
                    instance.resolved_from = Some(old_state);
                    resolved = true;
                }
            } else if instance.state == State::Alerting {
                // Keep the Alertmanager from timing the alert out meanwhile.
                instance.ends_at = next_ends_at(interval, at);
            }
            transitions.push(Transition::new(
                instance, at, old_state, old_reason, resolved,
            ));
        }
        transitions
    }

    /// Drops stale instances whose resolution no longer needs sending.
    fn drop_expired(&mut self, at: Millis) {
        let send = self.send;
        self.instances.retain(|_, instance| {
            if !instance.is_stale() {
                return true;
            }
            match instance.resolved_at {
                None => false,
                Some(resolved_at) => {
                    at.saturating_sub(resolved_at) <= send.resolved_retention
                        || needs_sending(instance, at, send.resend_delay, send.resolved_retention)
                }
            }
        });
    }

    /// The alerts to hand to the Alertmanager at `at`: every instance that
    /// [`needs_sending`]; marks them sent at `at`.
    pub fn alerts_to_send(&mut self, at: Millis) -> Vec<PostableAlert> {
        let send = self.send;
        let url = self.generator_url.as_deref();
        let mut alerts = Vec::new();
        for instance in self.instances.values_mut() {
            if needs_sending(instance, at, send.resend_delay, send.resolved_retention) {
                instance.last_sent_at = Some(at);
                alerts.push(to_postable_alert(instance, url));
            }
        }
        alerts
    }

    /// The rule was paused: resolves everything with reason `Paused` and forgets it.
    pub fn pause(&mut self, at: Millis) -> Reset {
        self.reset(at, StateReason::Paused)
    }

    /// The rule was deleted: resolves everything with reason `RuleDeleted` and forgets it.
    pub fn delete(&mut self, at: Millis) -> Reset {
        self.reset(at, StateReason::RuleDeleted)
    }

    /// Resolves every instance to Normal with `reason` and empties the state
    /// (`ResetStateByRuleUID`; `Updated` is the reason for a rule change that resets state).
    pub fn reset(&mut self, at: Millis, reason: StateReason) -> Reset {
        let url = self.generator_url.clone();
        let mut transitions = Vec::with_capacity(self.instances.len());
        let mut expired = Vec::new();
        for (_, mut instance) in std::mem::take(&mut self.instances) {
            let old_state = instance.state;
            let old_reason = instance.reason;
            if old_state != State::Normal {
                instance.starts_at = at;
            }
            instance.state = State::Normal;
            instance.reason = Some(reason);
            instance.ends_at = at;
            instance.error = None;
            instance.last_evaluated_at = at;
            instance.values.clear();
            let resolved = resolves(old_state);
            if resolved {
                instance.resolved_at = Some(at);
                instance.resolved_from = Some(old_state);
            } else {
                instance.resolved_at = None;
                instance.resolved_from = None;
            }
            transitions.push(Transition::new(
                &instance, at, old_state, old_reason, resolved,
            ));
            if resolved {
                let mut alert = to_postable_alert(&instance, url.as_deref());
                alert.ends_at = at;
                expired.push(alert);
            }
        }
        Reset {
            transitions,
            expired,
        }
    }
}

/// NoData and Error instances, and Pending ones waiting on NoData or an error, resolve after
/// one missed evaluation rather than the configured number.
fn resolves_after_one_missing_eval(instance: &Instance) -> bool {
    match instance.state {
        State::Error | State::NoData => true,
        State::Pending => matches!(
            instance.reason,
            Some(StateReason::Error | StateReason::NoData)
        ),
        _ => false,
    }
}
