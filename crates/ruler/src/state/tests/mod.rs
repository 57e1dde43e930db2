//! Tests of the alert instance state machine: the transition table of every state and outcome,
//! single-instance details, per-rule processing (stale series, NoData/Error fan-out, pause,
//! restore), sending, and the string forms.

mod rule;
mod send;
mod table;
mod transition;
mod types;

use crate::data::{Labels, Millis};

use super::{Evaluation, Instance, Outcome, RuleSettings, State, Values};

/// One second.
const SEC: Millis = 1_000;

/// One minute.
const MIN: Millis = 60 * SEC;

/// An arbitrary evaluation instant, a multiple of every interval used.
const T0: Millis = 1_700_000_040_000;

/// Builds a label set.
fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Builds values.
fn values(pairs: &[(&str, Option<f64>)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Settings with this interval, `for` and `keep_firing_for`, default modes.
fn settings(interval: Millis, for_duration: Millis, keep_firing_for: Millis) -> RuleSettings {
    RuleSettings {
        interval,
        for_duration,
        keep_firing_for,
        ..RuleSettings::default()
    }
}

/// An instance in `state` since `starts_at`, last evaluated at `last_eval`.
fn instance_in(state: State, starts_at: Millis, ends_at: Millis, last_eval: Millis) -> Instance {
    let mut i = Instance::new(labels(&[("series", "x")]), last_eval);
    i.state = state;
    i.starts_at = starts_at;
    i.ends_at = ends_at;
    i
}

/// Shorthand evaluations.
fn normal() -> Evaluation {
    Outcome::Normal.into()
}

fn alerting() -> Evaluation {
    Outcome::Alerting.into()
}

fn no_data() -> Evaluation {
    Outcome::NoData.into()
}

fn error(message: &str) -> Evaluation {
    Outcome::Error(message.to_string()).into()
}
