//! Alerts as the Alertmanager holds them (`types.Alert`): identity, resolution, merging of two
//! versions of the same alert, validation, the ingest defaults of `POST /api/v2/alerts` and the
//! order in which alerts appear in notifications.
//!
//! Times follow Go: a "zero" (unset) time is `0001-01-01T00:00:00Z` ([`zero_time`]), which sorts
//! before every real time, so comparisons behave exactly like Go's `Before`/`After`.

mod ingest;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use crate::labels::{Fingerprint, LabelSet, NameValidation, go_quote, is_valid_label_name};

pub use ingest::{PostedAlert, ingest};

/// Seconds from the Unix epoch back to Go's zero time, `0001-01-01T00:00:00Z`.
const GO_ZERO_UNIX_SECONDS: i64 = -62_135_596_800;

/// Go's zero `time.Time` (`0001-01-01T00:00:00Z`), the value of an unset timestamp.
pub fn zero_time() -> DateTime<Utc> {
    DateTime::from_timestamp(GO_ZERO_UNIX_SECONDS, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether `t` is unset like Go's `Time.IsZero` (it also treats anything earlier as unset).
pub fn is_zero_time(t: DateTime<Utc>) -> bool {
    t <= zero_time()
}

/// Whether an alert is firing or resolved at a given instant (`model.AlertStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// The alert's activity interval has not ended.
    Firing,
    /// `endsAt` is set and not after the instant.
    Resolved,
}

impl AlertStatus {
    /// The API and webhook spelling: `"firing"` or `"resolved"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// Why an alert was rejected. The messages are upstream's, so a 400 body matches Alertmanager.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// `startsAt` is unset.
    #[error("start time missing")]
    StartsAtMissing,
    /// `endsAt` is set and earlier than `startsAt`.
    #[error("start time must be before end time")]
    EndsBeforeStart,
    /// No label is left (after empty-valued labels were removed).
    #[error("at least one label pair required")]
    NoLabels,
    /// A label name is not valid under the name-validation mode.
    #[error("invalid label set: invalid name {}", go_quote(.0))]
    InvalidLabelName(String),
    /// An annotation name is not valid under the name-validation mode.
    #[error("invalid annotations: invalid name {}", go_quote(.0))]
    InvalidAnnotationName(String),
}

impl AlertError {
    /// The JSON field of the posted alert the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            AlertError::StartsAtMissing => "startsAt",
            AlertError::EndsBeforeStart => "endsAt",
            AlertError::NoLabels | AlertError::InvalidLabelName(_) => "labels",
            AlertError::InvalidAnnotationName(_) => "annotations",
        }
    }
}

/// An alert as stored and routed (`types.Alert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Identity labels; their fingerprint keys the alert.
    pub labels: LabelSet,
    /// Extra information, not part of the identity.
    pub annotations: LabelSet,
    /// Start of the activity interval.
    pub starts_at: DateTime<Utc>,
    /// End of the activity interval; [`zero_time`] when unknown.
    pub ends_at: DateTime<Utc>,
    /// Link back to the alert's source.
    pub generator_url: String,
    /// The authoritative timestamp: when this version was received.
    pub updated_at: DateTime<Utc>,
    /// Whether `ends_at` was filled in from `resolve_timeout` rather than sent by the client.
    pub timeout: bool,
}

impl Alert {
    /// The fingerprint of the labels, the store key.
    pub fn fingerprint(&self) -> Fingerprint {
        self.labels.fingerprint()
    }

    /// The `alertname` label, or `""`.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").unwrap_or("")
    }

    /// Whether `ends_at` is set and not after `now` (`ResolvedAt`).
    pub fn resolved_at(&self, now: DateTime<Utc>) -> bool {
        !is_zero_time(self.ends_at) && self.ends_at <= now
    }

    /// Firing or resolved at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> AlertStatus {
        if self.resolved_at(now) {
            AlertStatus::Resolved
        } else {
            AlertStatus::Firing
        }
    }

    /// Merges two versions of the same alert (`Alert.Merge`); the labels are assumed equal.
    ///
    /// The younger version (later `updated_at`; `other` on a tie) supplies everything except:
    /// `starts_at` is the earlier of the two; if the younger is resolved at `now`, the older
    /// `ends_at` wins only when the older is resolved too and ends later; if the younger is
    /// firing, the older `ends_at` wins when it is later and was not a timeout value. The
    /// result keeps the younger's `timeout` flag even when it takes the older `ends_at`, as
    /// upstream does. `now` stands in for Go's `time.Now()` inside `Resolved()`.
    pub fn merge(&self, other: &Alert, now: DateTime<Utc>) -> Alert {
        let (older, younger) = if other.updated_at < self.updated_at {
            (other, self)
        } else {
            (self, other)
        };
        merge_into(older, younger.clone(), now)
    }

    /// [`Alert::merge`] of the stored `self` with a new version it consumes (not cloned when
    /// it is the younger one).
    pub fn merge_owned(&self, new: Alert, now: DateTime<Utc>) -> Alert {
        if new.updated_at < self.updated_at {
            self.merge(&new, now)
        } else {
            merge_into(self, new, now)
        }
    }

    /// Checks the alert like upstream's `Validate`, in upstream's order. Label values and
    /// annotation values are Rust strings and so always valid UTF-8.
    pub fn validate(&self, names: NameValidation) -> Result<(), AlertError> {
        if is_zero_time(self.starts_at) {
            return Err(AlertError::StartsAtMissing);
        }
        if !is_zero_time(self.ends_at) && self.ends_at < self.starts_at {
            return Err(AlertError::EndsBeforeStart);
        }
        if self.labels.is_empty() {
            return Err(AlertError::NoLabels);
        }
        if let Some((bad, _)) = self
            .labels
            .iter()
            .find(|(n, _)| !is_valid_label_name(n, names))
        {
            return Err(AlertError::InvalidLabelName(bad.to_owned()));
        }
        let bad_annotation = self
            .annotations
            .iter()
            .find(|(n, _)| !is_valid_label_name(n, names));
        if let Some((bad, _)) = bad_annotation {
            return Err(AlertError::InvalidAnnotationName(bad.to_owned()));
        }
        Ok(())
    }
}

/// The merge rules of [`Alert::merge`], applied to the younger version itself.
fn merge_into(older: &Alert, mut younger: Alert, now: DateTime<Utc>) -> Alert {
    let take_older_end = if younger.resolved_at(now) {
        older.resolved_at(now) && older.ends_at > younger.ends_at
    } else {
        older.ends_at > younger.ends_at && !older.timeout
    };
    if older.starts_at < younger.starts_at {
        younger.starts_at = older.starts_at;
    }
    if take_older_end {
        younger.ends_at = older.ends_at;
    }
    younger
}

/// Compares two alerts for notifications (`types.AlertSlice.Less`): by `job`, then `instance`
/// (an alert having the label sorts first), then by [`LabelSet::before`].
pub fn notification_order(a: &Alert, b: &Alert) -> Ordering {
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => {}
            (Some(_), None) => return Ordering::Less,
            (None, Some(_)) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            (Some(_), Some(_)) => {}
        }
    }
    if a.labels.before(&b.labels) {
        Ordering::Less
    } else if b.labels.before(&a.labels) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Sorts alerts in notification order (see [`notification_order`]); the sort is stable.
pub fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(notification_order);
}
