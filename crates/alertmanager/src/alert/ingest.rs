//! What `POST /api/v2/alerts` does to each posted alert before storing it
//! (`postAlertsHandler`): fill in defaults, drop empty-valued labels, validate.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use super::{Alert, AlertError, AlertStatus, is_zero_time};
use crate::labels::{LabelSet, NameValidation};

/// A `postableAlert` as it arrives in the JSON body. Absent times, and Go's zero time
/// `0001-01-01T00:00:00Z`, both mean "unset".
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostedAlert {
    /// Identity labels (required by the API schema; may still be empty here).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Optional annotations.
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Optional start of the activity interval.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// Optional end of the activity interval.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Optional link back to the source.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
}

fn set(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.filter(|t| !is_zero_time(*t))
}

impl PostedAlert {
    /// The status the alert is counted under in `alertmanager_alerts_received_total`, which
    /// upstream computes after the defaults and before validation (so invalid alerts count too).
    pub fn received_status(&self, now: DateTime<Utc>, resolve_timeout: TimeDelta) -> AlertStatus {
        let ends_at = set(self.ends_at).unwrap_or_else(|| add(now, resolve_timeout));
        if ends_at > now {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        }
    }
}

fn add(now: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    now.checked_add_signed(d)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Turns a posted alert into a stored one, exactly as upstream's handler does:
///
/// - `updated_at = now`;
/// - unset `startsAt` becomes `endsAt` if that is set, else `now`;
/// - unset `endsAt` becomes `now + resolve_timeout` and marks the alert `timeout`;
/// - labels with an empty value are removed (annotations are kept as posted, like upstream);
/// - the result is checked with [`Alert::validate`] under `names`.
pub fn ingest(
    posted: PostedAlert,
    now: DateTime<Utc>,
    resolve_timeout: TimeDelta,
    names: NameValidation,
) -> Result<Alert, AlertError> {
    let starts_at = set(posted.starts_at);
    let ends_at = set(posted.ends_at);
    let (ends_at, timeout) = match ends_at {
        Some(t) => (t, false),
        None => (add(now, resolve_timeout), true),
    };
    let starts_at = match (starts_at, set(posted.ends_at)) {
        (Some(s), _) => s,
        (None, Some(e)) => e,
        (None, None) => now,
    };
    let mut labels = posted.labels;
    labels.retain(|_, v| !v.is_empty());
    let labels = LabelSet::from(labels);
    let alert = Alert {
        labels,
        annotations: LabelSet::from(posted.annotations.unwrap_or_default()),
        starts_at,
        ends_at,
        generator_url: posted.generator_url.unwrap_or_default(),
        updated_at: now,
        timeout,
    };
    alert.validate(names)?;
    Ok(alert)
}
