//! The state of each alert instance (Grafana's `pkg/services/ngalert/state`), as pure logic.
//!
//! An alert rule yields, on every evaluation, one outcome per label set ([`Evaluation`]). Each
//! label set has an [`Instance`] whose [`State`] moves by [`transition`] according to the
//! rule's [`RuleSettings`] (`for`, `keep_firing_for`, NoData and error handling). A
//! [`RuleState`] holds all instances of one rule, creates and resolves them, and decides which
//! of them are handed to the Alertmanager ([`PostableAlert`]).
//!
//! Time never comes from a clock in here: every operation takes the instant (`Millis`) it
//! happens at, so behaviour is deterministic.
//!
//! - [`mod@transition`]: one instance's transition for one outcome;
//! - [`rule`]: all instances of one rule, stale series, pause and deletion;
//! - [`send`]: `NeedsSending` and the alerts posted to the Alertmanager;
//! - [`instance`]: the instance record and its stored form for restarts.

pub mod instance;
pub mod rule;
pub mod send;
pub mod transition;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::{Labels, Millis};

pub use instance::{Instance, StoredInstance};
pub use rule::{Reset, RuleState, datasource_no_data_labels, no_data_labels};
pub use send::{PostableAlert, SendSettings, needs_sending};
pub use transition::{Transition, transition};

/// Grafana's `ResendDelay`: the minimum time between two sends of the same firing alert.
pub const RESEND_DELAY: Millis = 30_000;

/// Default `resolved_alert_retention`: how long resolved alerts keep being re-sent (15 min).
pub const DEFAULT_RESOLVED_RETENTION: Millis = 15 * 60_000;

/// Default number of missed evaluations after which a vanished series resolves.
pub const DEFAULT_MISSING_SERIES_EVALS_TO_RESOLVE: u32 = 2;

/// Default rule evaluation interval (60 s).
pub const DEFAULT_INTERVAL: Millis = 60_000;

/// Values of the rule's queries and expressions by `refId`; `None` is a null value.
pub type Values = BTreeMap<String, Option<f64>>;

/// The state of an alert instance (`eval.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum State {
    /// Not firing.
    Normal,
    /// The condition holds but `for` has not elapsed yet.
    Pending,
    /// Firing.
    Alerting,
    /// The query returned no data and the rule maps that to its own state.
    NoData,
    /// The evaluation failed and the rule maps that to its own state.
    Error,
    /// The condition stopped holding but `keep_firing_for` has not elapsed; still firing.
    Recovering,
}

impl State {
    /// Grafana's string form: `"Normal"`, `"Pending"`, `"Alerting"`, `"NoData"`, `"Error"`,
    /// `"Recovering"`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Normal => "Normal",
            State::Pending => "Pending",
            State::Alerting => "Alerting",
            State::NoData => "NoData",
            State::Error => "Error",
            State::Recovering => "Recovering",
        }
    }

    /// All states, in declaration order.
    pub const ALL: [State; 6] = [
        State::Normal,
        State::Pending,
        State::Alerting,
        State::NoData,
        State::Error,
        State::Recovering,
    ];
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no known state or reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name {:?}", self.0)
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for State {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_string()))
    }
}

/// Why an instance is in a state other than the evaluation outcome says (`StateReason`).
///
/// Grafana joins reasons with `", "` (`ConcatReasons`); the two combinations it produces are
/// variants of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateReason {
    /// The series vanished from the results and the instance was resolved.
    MissingSeries,
    /// The query returned no data.
    NoData,
    /// The evaluation failed.
    Error,
    /// The rule was paused.
    Paused,
    /// The rule was updated and its state reset.
    Updated,
    /// The rule was deleted.
    RuleDeleted,
    /// The previous state was kept.
    KeepLast,
    /// No data, and the rule keeps the last state: `"NoData, KeepLast"`.
    NoDataKeepLast,
    /// An error, and the rule keeps the last state: `"Error, KeepLast"`.
    ErrorKeepLast,
}

impl StateReason {
    /// All reasons, in declaration order.
    pub const ALL: [StateReason; 9] = [
        StateReason::MissingSeries,
        StateReason::NoData,
        StateReason::Error,
        StateReason::Paused,
        StateReason::Updated,
        StateReason::RuleDeleted,
        StateReason::KeepLast,
        StateReason::NoDataKeepLast,
        StateReason::ErrorKeepLast,
    ];

    /// Grafana's string form, e.g. `"MissingSeries"` or `"NoData, KeepLast"`.
    pub fn as_str(self) -> &'static str {
        match self {
            StateReason::MissingSeries => "MissingSeries",
            StateReason::NoData => "NoData",
            StateReason::Error => "Error",
            StateReason::Paused => "Paused",
            StateReason::Updated => "Updated",
            StateReason::RuleDeleted => "RuleDeleted",
            StateReason::KeepLast => "KeepLast",
            StateReason::NoDataKeepLast => "NoData, KeepLast",
            StateReason::ErrorKeepLast => "Error, KeepLast",
        }
    }
}

impl fmt::Display for StateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StateReason {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StateReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_string()))
    }
}

impl Serialize for StateReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StateReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Formats a state with its reason as Grafana does: `"Alerting (NoData)"`, or just `"Normal"`.
pub fn format_state_and_reason(state: State, reason: Option<StateReason>) -> String {
    match reason {
        Some(r) => format!("{state} ({r})"),
        None => state.to_string(),
    }
}

/// What a NoData outcome turns into (`no_data_state`; JSON `"Alerting"`, `"NoData"`, `"OK"`,
/// `"KeepLast"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum NoDataState {
    /// Treat as Alerting (reason NoData).
    Alerting,
    /// Go to the NoData state (sent as a `DatasourceNoData` alert).
    #[default]
    NoData,
    /// Treat as Normal (reason NoData).
    #[serde(rename = "OK")]
    Ok,
    /// Keep the previous state.
    KeepLast,
}

impl NoDataState {
    /// All modes, in declaration order.
    pub const ALL: [NoDataState; 4] = [
        NoDataState::Alerting,
        NoDataState::NoData,
        NoDataState::Ok,
        NoDataState::KeepLast,
    ];

    /// Grafana's JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NoDataState::Alerting => "Alerting",
            NoDataState::NoData => "NoData",
            NoDataState::Ok => "OK",
            NoDataState::KeepLast => "KeepLast",
        }
    }
}

impl FromStr for NoDataState {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NoDataState::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_string()))
    }
}

/// What an error outcome turns into (`exec_err_state`; JSON `"Alerting"`, `"Error"`, `"OK"`,
/// `"KeepLast"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ExecErrState {
    /// Treat as Alerting (reason Error).
    Alerting,
    /// Go to the Error state (sent as a `DatasourceError` alert).
    #[default]
    Error,
    /// Treat as Normal (reason Error).
    #[serde(rename = "OK")]
    Ok,
    /// Keep the previous state.
    KeepLast,
}

impl ExecErrState {
    /// All modes, in declaration order.
    pub const ALL: [ExecErrState; 4] = [
        ExecErrState::Alerting,
        ExecErrState::Error,
        ExecErrState::Ok,
        ExecErrState::KeepLast,
    ];

    /// Grafana's JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecErrState::Alerting => "Alerting",
            ExecErrState::Error => "Error",
            ExecErrState::Ok => "OK",
            ExecErrState::KeepLast => "KeepLast",
        }
    }
}

impl FromStr for ExecErrState {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExecErrState::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_string()))
    }
}

/// The parts of an alert rule that drive its instances' states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    /// Evaluation interval (`intervalSeconds`, in ms here).
    pub interval: Millis,
    /// `for`: how long the condition must hold (Pending) before Alerting.
    pub for_duration: Millis,
    /// `keep_firing_for`: how long a no-longer-true alert keeps firing (Recovering).
    pub keep_firing_for: Millis,
    /// How NoData outcomes are handled.
    pub no_data_state: NoDataState,
    /// How error outcomes are handled.
    pub exec_err_state: ExecErrState,
    /// `missing_series_evals_to_resolve`; `None` means the default, 2.
    pub missing_series_evals_to_resolve: Option<u32>,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            interval: DEFAULT_INTERVAL,
            for_duration: 0,
            keep_firing_for: 0,
            no_data_state: NoDataState::default(),
            exec_err_state: ExecErrState::default(),
            missing_series_evals_to_resolve: None,
        }
    }
}

impl RuleSettings {
    /// Missed evaluations before a vanished series resolves (`GetMissingSeriesEvalsToResolve`).
    pub fn missing_series_evals(&self) -> u32 {
        match self.missing_series_evals_to_resolve {
            Some(n) if n > 0 => n,
            _ => DEFAULT_MISSING_SERIES_EVALS_TO_RESOLVE,
        }
    }
}

/// `nextEndsTime`: `at + 4 * max(interval, RESEND_DELAY)`.
pub fn next_ends_at(interval: Millis, at: Millis) -> Millis {
    at.saturating_add(interval.max(RESEND_DELAY).saturating_mul(4))
}

/// What the rule's condition said for one label set (`eval.State` of a result).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Outcome {
    /// The condition is false.
    #[default]
    Normal,
    /// The condition is true.
    Alerting,
    /// There was no data.
    NoData,
    /// The evaluation failed with this message.
    Error(String),
}

impl Outcome {
    /// The state of the same name (`Normal`, `Alerting`, `NoData`, `Error`).
    pub fn as_state(&self) -> State {
        match self {
            Outcome::Normal => State::Normal,
            Outcome::Alerting => State::Alerting,
            Outcome::NoData => State::NoData,
            Outcome::Error(_) => State::Error,
        }
    }
}

/// One evaluation result for one label set: the outcome, the values template rendering uses,
/// and the rendered annotations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    /// The outcome.
    pub outcome: Outcome,
    /// Values by `refId` (reduce/math expressions, instant queries).
    pub values: Values,
    /// The rule's annotations, rendered for this result; replace the instance's annotations.
    pub annotations: Labels,
}

impl Evaluation {
    /// An evaluation with this outcome, no values and no annotations.
    pub fn new(outcome: Outcome) -> Self {
        Evaluation {
            outcome,
            values: Values::new(),
            annotations: Labels::new(),
        }
    }

    /// Sets the values.
    pub fn with_values(mut self, values: Values) -> Self {
        self.values = values;
        self
    }

    /// Sets the annotations.
    pub fn with_annotations(mut self, annotations: Labels) -> Self {
        self.annotations = annotations;
        self
    }
}

impl From<Outcome> for Evaluation {
    fn from(outcome: Outcome) -> Self {
        Evaluation::new(outcome)
    }
}
