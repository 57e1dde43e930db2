//! The webhook message, version 4, as Alertmanager 0.25 encodes it (`webhook.Message`, which
//! embeds `template.Data`).
//!
//! Compatibility notes:
//! - Field order follows upstream's structs: the embedded `Data` fields first, then `version`,
//!   `groupKey`, `truncatedAlerts`. Maps are sorted by key, like Go's `encoding/json`.
//! - `receiver` is passed through Go's `regexp.QuoteMeta`, as upstream's `Template.Data` does.
//! - Firing alerts carry a zero `endsAt` (`0001-01-01T00:00:00Z`): upstream hides an end time that
//!   has not been reached yet (`types.Alerts`).
//! - Truncation to `max_alerts` happens before the template data is built, so `status`,
//!   `commonLabels` and `commonAnnotations` describe only the alerts sent.
//! - `notification_reason` is not part of 0.25's payload; newer upstream versions put it right
//!   after `alerts`. [`MessageOptions::notification_reason`] opts in to that layout.
//! - [`encode`] escapes `<`, `>`, `&`, U+2028 and U+2029 like Go and ends with a newline like
//!   `json.Encoder`. Control characters `\b`/`\f` are written in serde_json's short form.

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;

use crate::alert::{Alert, AlertStatus, is_zero_time, zero_time};
use crate::labels::LabelSet;
use crate::notify::GroupContext;

/// One alert of the message (`template.Alert`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageAlert {
    /// `firing` or `resolved` at the flush time.
    pub status: &'static str,
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Start time (Go `time.Time` JSON).
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    /// End time; zero while the alert fires.
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    /// Link back to the source.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// Fingerprint as 16 hex digits.
    pub fingerprint: String,
}

/// The webhook message (`webhook.Message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Receiver name, `regexp.QuoteMeta`-escaped.
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: &'static str,
    /// The alerts sent (after truncation).
    pub alerts: Vec<MessageAlert>,
    /// The dedup reason; only present when enabled (newer upstream layout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_reason: Option<String>,
    /// The group's labels.
    #[serde(rename = "groupLabels")]
    pub group_labels: BTreeMap<String, String>,
    /// Labels all alerts share with equal values.
    #[serde(rename = "commonLabels")]
    pub common_labels: BTreeMap<String, String>,
    /// Annotations all alerts share with equal values.
    #[serde(rename = "commonAnnotations")]
    pub common_annotations: BTreeMap<String, String>,
    /// The Alertmanager's external URL.
    #[serde(rename = "externalURL")]
    pub external_url: String,
    /// Always `"4"`.
    pub version: &'static str,
    /// The aggregation group key.
    #[serde(rename = "groupKey")]
    pub group_key: String,
    /// How many alerts `max_alerts` dropped.
    #[serde(rename = "truncatedAlerts")]
    pub truncated_alerts: u64,
}

/// Settings that shape the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageOptions {
    /// Maximum number of alerts; 0 means all.
    pub max_alerts: u64,
    /// The external URL to report.
    pub external_url: String,
    /// Include `notification_reason` (not sent by Alertmanager 0.25).
    pub notification_reason: bool,
}

/// Builds the message for one notification at `ctx.now`.
pub fn build_message(
    ctx: &GroupContext,
    reason: &str,
    alerts: &[Alert],
    opts: &MessageOptions,
) -> Message {
    let keep = match usize::try_from(opts.max_alerts) {
        Ok(0) | Err(_) => alerts.len(),
        Ok(n) => n.min(alerts.len()),
    };
    let sent = alerts.get(..keep).unwrap_or(alerts);
    let truncated = (alerts.len() - sent.len()) as u64;
    let any_firing = sent
        .iter()
        .any(|a| a.status(ctx.now) == AlertStatus::Firing);
    Message {
        receiver: quote_meta(&ctx.receiver),
        status: if any_firing { "firing" } else { "resolved" },
        alerts: sent.iter().map(|a| message_alert(a, ctx.now)).collect(),
        notification_reason: opts.notification_reason.then(|| reason.to_owned()),
        group_labels: to_map(&ctx.group_labels),
        common_labels: common(sent.iter().map(|a| &a.labels)),
        common_annotations: common(sent.iter().map(|a| &a.annotations)),
        external_url: opts.external_url.clone(),
        version: "4",
        group_key: ctx.group_key.clone(),
        truncated_alerts: truncated,
    }
}

fn message_alert(a: &Alert, now: DateTime<Utc>) -> MessageAlert {
    let status = a.status(now);
    let ends_at = match status {
        AlertStatus::Resolved => a.ends_at,
        AlertStatus::Firing => zero_time(),
    };
    MessageAlert {
        status: status.as_str(),
        labels: to_map(&a.labels),
        annotations: to_map(&a.annotations),
        starts_at: go_time_json(a.starts_at),
        ends_at: go_time_json(ends_at),
        generator_url: a.generator_url.clone(),
        fingerprint: a.fingerprint().to_string(),
    }
}

fn to_map(l: &LabelSet) -> BTreeMap<String, String> {
    l.to_map()
}

/// Pairs present with the same value in every set (a missing name compares as `""`, as with a
/// Go map lookup).
fn common<'a>(mut sets: impl Iterator<Item = &'a LabelSet>) -> BTreeMap<String, String> {
    let Some(first) = sets.next() else {
        return BTreeMap::new();
    };
    let mut out = to_map(first);
    for s in sets {
        if out.is_empty() {
            break;
        }
        out.retain(|k, v| s.get(k).unwrap_or("") == v);
    }
    out
}

/// Formats a time like Go's `time.Time.MarshalJSON` for UTC: RFC 3339 with up to nine
/// fractional digits, trailing zeros removed; Go's zero time is `0001-01-01T00:00:00Z`.
pub fn go_time_json(t: DateTime<Utc>) -> String {
    let t = if is_zero_time(t) { zero_time() } else { t };
    let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Go's `regexp.QuoteMeta`: backslash-escapes `\.+*?()|[]{}^$`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Encodes the message like Go's `json.Encoder` (HTML-safe escaping, trailing newline).
pub fn encode(msg: &Message) -> Result<Vec<u8>, serde_json::Error> {
    let raw = serde_json::to_string(msg)?;
    let mut out = String::with_capacity(raw.len() + 16);
    // These characters can only occur inside JSON strings, so replacing them is safe.
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    Ok(out.into_bytes())
}
