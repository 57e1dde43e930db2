//! Which instances are handed to the Alertmanager and in what form (Grafana's
//! `State.NeedsSending` and `StateToPostableAlert`).
//!
//! Firing instances (Alerting, Recovering, NoData, Error) are sent when never sent before or
//! when the last send is at least the resend delay (30 s) old; with evaluation every
//! `interval`, that is every `max(interval, 30 s)`. A resolved instance is sent right after it
//! resolves and then re-sent the same way for `resolved_alert_retention` (15 min). Pending is
//! never sent. NoData and Error instances go out as `DatasourceNoData`/`DatasourceError`
//! alerts, with the rule's name moved to the `rulename` label.

use super::{DEFAULT_RESOLVED_RETENTION, Instance, Outcome, RESEND_DELAY, State, Values};
use crate::data::{Labels, Millis};

/// The label holding the alert's name.
pub const ALERT_NAME_LABEL: &str = "alertname";

/// The label a NoData/Error alert keeps the rule's `alertname` in.
pub const RULE_NAME_LABEL: &str = "rulename";

/// `alertname` of the alert sent for an instance in the NoData state.
pub const NO_DATA_ALERT_NAME: &str = "DatasourceNoData";

/// `alertname` of the alert sent for an instance in the Error state.
pub const ERROR_ALERT_NAME: &str = "DatasourceError";

/// Annotation with the latest values as JSON.
pub const VALUES_ANNOTATION: &str = "__values__";

/// Annotation with the state reason.
pub const STATE_REASON_ANNOTATION: &str = "grafana_state_reason";

/// Annotation with the evaluation error message.
pub const ERROR_ANNOTATION: &str = "Error";

/// How often alerts are re-sent and how long resolved ones are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendSettings {
    /// Minimum time between two sends of an instance (`ResendDelay`, 30 s).
    pub resend_delay: Millis,
    /// How long a resolved instance keeps being sent (`resolved_alert_retention`, 15 min).
    pub resolved_retention: Millis,
}

impl Default for SendSettings {
    fn default() -> Self {
        SendSettings {
            resend_delay: RESEND_DELAY,
            resolved_retention: DEFAULT_RESOLVED_RETENTION,
        }
    }
}

/// Whether `instance` should be handed to the Alertmanager at `at` (`NeedsSending`).
pub fn needs_sending(
    instance: &Instance,
    at: Millis,
    resend_delay: Millis,
    resolved_retention: Millis,
) -> bool {
    if instance.state == State::Pending {
        return false;
    }
    if let Some(resolved_at) = instance.resolved_at
        && instance.last_sent_at.is_none_or(|sent| resolved_at > sent)
    {
        return true;
    }
    if instance.state == State::Normal
        && instance
            .resolved_at
            .is_none_or(|resolved_at| at.saturating_sub(resolved_at) > resolved_retention)
    {
        return false;
    }
    instance
        .last_sent_at
        .is_none_or(|sent| sent.saturating_add(resend_delay) <= at)
}

/// An alert as posted to the Alertmanager (`PostableAlert`), plus the instance's state.
#[derive(Debug, Clone, PartialEq)]
pub struct PostableAlert {
    /// Labels (relabelled for NoData and Error).
    pub labels: Labels,
    /// Annotations.
    pub annotations: Labels,
    /// `startsAt`.
    pub starts_at: Millis,
    /// `endsAt`: in the future while firing, the resolution time once resolved.
    pub ends_at: Millis,
    /// `generatorURL`, if the caller supplied one.
    pub generator_url: Option<String>,
    /// The instance's state (Recovering counts as firing for the Alertmanager).
    pub state: State,
}

/// Converts an instance to the alert posted for it (`StateToPostableAlert`).
///
/// A resolved instance is labelled as the state it resolved from, so that the resolved alert
/// ends the `DatasourceNoData`/`DatasourceError` alert that was firing.
pub fn to_postable_alert(instance: &Instance, generator_url: Option<&str>) -> PostableAlert {
    let mut labels = instance.labels.clone();
    let mut annotations = instance.annotations.clone();

    if let Some(json) = values_json(&instance.values) {
        annotations.insert(VALUES_ANNOTATION.to_string(), json);
    }
    if let Some(reason) = instance.reason {
        annotations.insert(STATE_REASON_ANNOTATION.to_string(), reason.to_string());
    }
    if let Some(Outcome::Error(message)) = &instance.last_outcome {
        annotations.insert(ERROR_ANNOTATION.to_string(), message.clone());
    }

    let labelled_as = match instance.resolved_at {
        Some(_) => instance.resolved_from.unwrap_or(instance.state),
        None => instance.state,
    };
    match labelled_as {
        State::NoData => relabel(&mut labels, NO_DATA_ALERT_NAME),
        State::Error => relabel(&mut labels, ERROR_ALERT_NAME),
        _ => {}
    }

    PostableAlert {
        labels,
        annotations,
        starts_at: instance.starts_at,
        ends_at: instance.ends_at,
        generator_url: generator_url.map(str::to_string),
        state: instance.state,
    }
}

/// Moves `alertname` to `rulename` and sets `alertname` to `name`.
fn relabel(labels: &mut Labels, name: &str) {
    if let Some(rule_name) = labels.get(ALERT_NAME_LABEL).cloned() {
        labels.insert(RULE_NAME_LABEL.to_string(), rule_name);
    }
    labels.insert(ALERT_NAME_LABEL.to_string(), name.to_string());
}

/// The values as Go's `json.Marshal(map[string]float64)` writes them, or `None` when empty or
/// when a value is null or not finite (Go fails to encode NaN and infinities, and Grafana then
/// leaves the annotation out).
pub fn values_json(values: &Values) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let mut out = String::from("{");
    for (i, (ref_id, value)) in values.iter().enumerate() {
        let v = match value {
            Some(v) if v.is_finite() => *v,
            _ => return None,
        };
        if i > 0 {
            out.push(',');
        }
        out.push_str(&go_json_string(ref_id));
        out.push(':');
        out.push_str(&go_json_float(v));
    }
    out.push('}');
    Some(out)
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe escaping of `<`, `>`, `&`, and
/// escaped U+2028/U+2029).
fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A finite float as Go's `encoding/json` writes it: shortest form, plain between 1e-6 and
/// 1e21, otherwise exponent form like `1e+21` or `1e-7`.
fn go_json_float(v: f64) -> String {
    let abs = v.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{v}");
    }
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}
