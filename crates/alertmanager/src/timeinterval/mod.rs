//! Time intervals (`time_intervals` / `mute_time_intervals` in the Alertmanager configuration):
//! parsing and validation with upstream's messages, serialization in the same text forms, and
//! [`TimeInterval::contains`].
//!
//! Compatibility notes, all matching Prometheus Alertmanager unless stated:
//! - An absent or null field places no restriction, but an explicit empty list (`times: []`)
//!   matches nothing; hence the `Option<Vec<_>>` fields.
//! - A null list element is the zero value: `weekdays: [~]` is Sunday, a null time or day range
//!   matches nothing, a null interval in a named list matches everything.
//! - Scalars are read by their YAML text: `days_of_month: [010]` is day 10, `[0x10]` is rejected.
//! - Month numbers are not range-checked (`months: ["13"]` is accepted and never matches).
//! - Negative days of month resolve against the calendar length of the month, as in upstream
//!   since the DST fix (#5447); Alertmanager 0.25 was one day short in months with a DST change.
//! - Location handling is described in [`parse_location`].

mod atoi;
mod contains;
mod error;
mod location;
mod ranges;
mod scalar;
mod times;

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};

pub use error::TimeIntervalError;
pub use location::parse_location;
pub use ranges::{DayOfMonthRange, MonthRange, WeekdayRange, YearRange};
pub use times::TimeRange;

use scalar::nullable_scalar;

/// One time interval; every present field must match for an instant to be contained.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    /// Times of day, `{start_time, end_time}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<Vec<TimeRange>>,
    /// Weekday ranges such as `monday:friday`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<WeekdayRange>>,
    /// Day-of-month ranges such as `1:5` or `-3:-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_month: Option<Vec<DayOfMonthRange>>,
    /// Month ranges such as `january:march` or `12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<Vec<MonthRange>>,
    /// Year ranges such as `2020:2022`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<Vec<YearRange>>,
    /// Time zone the fields are evaluated in; UTC when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "location")]
    pub location: Option<Tz>,
}

/// A named list of time intervals, referenced by routes; it contains an instant if any member does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawNamedTimeInterval")]
pub struct NamedTimeInterval {
    /// The name routes refer to.
    pub name: String,
    /// The member intervals.
    pub time_intervals: Vec<TimeInterval>,
}

/// The configuration shape of [`NamedTimeInterval`] before the name check.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamedTimeInterval {
    #[serde(default, deserialize_with = "nullable_scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable_intervals")]
    time_intervals: Vec<TimeInterval>,
}

/// A list of intervals where null (list or element) means empty (list) or the zero interval.
fn nullable_intervals<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<TimeInterval>, D::Error> {
    let items = Option::<Vec<Option<TimeInterval>>>::deserialize(deserializer)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

impl TryFrom<RawNamedTimeInterval> for NamedTimeInterval {
    type Error = TimeIntervalError;

    fn try_from(raw: RawNamedTimeInterval) -> Result<Self, Self::Error> {
        match raw.name {
            Some(name) if !name.is_empty() => Ok(Self {
                name,
                time_intervals: raw.time_intervals,
            }),
            _ => Err(TimeIntervalError::MissingName),
        }
    }
}
