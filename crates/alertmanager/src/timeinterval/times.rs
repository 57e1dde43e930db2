//! Times of day: `{start_time: "HH:MM", end_time: "HH:MM"}` as a half-open minute range.

use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::TimeIntervalError;
use super::scalar::nullable_scalar;

/// Minutes of the day `[start_minute, end_minute)`; 24:00 is minute 1440.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeRange {
    /// First minute of the day inside the range (0..1440).
    pub start_minute: u32,
    /// First minute of the day after the range (1..=1440).
    pub end_minute: u32,
}

/// Parses `HH:MM` from 00:00 to 23:59, or exactly `24:00`, into minutes since midnight.
pub(crate) fn parse_time_of_day(text: &str) -> Result<u32, TimeIntervalError> {
    let bad = || TimeIntervalError::Timestamp(text.to_owned());
    if text == "24:00" {
        return Ok(1440);
    }
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return Err(bad());
    }
    let two = |i: usize| -> Option<u32> {
        let (a, b) = (bytes[i], bytes[i + 1]);
        (a.is_ascii_digit() && b.is_ascii_digit())
            .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    };
    match (two(0), two(3)) {
        (Some(h), Some(m)) if h < 24 && m < 60 => Ok(h * 60 + m),
        _ => Err(bad()),
    }
}

impl TimeRange {
    /// Builds a range from `HH:MM` texts, with upstream's checks and messages.
    pub fn parse(start_time: &str, end_time: &str) -> Result<Self, TimeIntervalError> {
        if start_time.is_empty() || end_time.is_empty() {
            return Err(TimeIntervalError::MissingTime);
        }
        let start_minute = parse_time_of_day(start_time)?;
        let end_minute = parse_time_of_day(end_time)?;
        if start_minute >= end_minute {
            return Err(TimeIntervalError::TimeOrder);
        }
        Ok(Self {
            start_minute,
            end_minute,
        })
    }

    /// Whether `minute_of_day` lies in `[start_minute, end_minute)`.
    pub fn contains_minute(&self, minute_of_day: u32) -> bool {
        (self.start_minute..self.end_minute).contains(&minute_of_day)
    }
}

/// Formats minutes since midnight as `HH:MM`.
fn format_minutes(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The YAML/JSON shape of one time range; missing or null fields read as "".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeRange {
    #[serde(default, deserialize_with = "nullable_scalar")]
    start_time: Option<String>,
    #[serde(default, deserialize_with = "nullable_scalar")]
    end_time: Option<String>,
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A null entry stays at the zero range, which contains no minute (as upstream).
        let Some(raw) = Option::<RawTimeRange>::deserialize(deserializer)? else {
            return Ok(Self::default());
        };
        let start = raw.start_time.unwrap_or_default();
        let end = raw.end_time.unwrap_or_default();
        Self::parse(&start, &end).map_err(D::Error::custom)
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("TimeRange", 2)?;
        s.serialize_field("start_time", &format_minutes(self.start_minute))?;
        s.serialize_field("end_time", &format_minutes(self.end_minute))?;
        s.end()
    }
}
