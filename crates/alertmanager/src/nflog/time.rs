//! Conversions between chrono times and protobuf `Timestamp`s.
//!
//! Comparisons use [`ts_nanos`], a total order over any field value (even out-of-range ones),
//! so no received bytes can make a comparison fail or panic.

use chrono::{DateTime, Utc};

use crate::proto::Timestamp;

/// Converts a UTC time into a protobuf `Timestamp` (nanos always in `0..1e9`).
pub fn to_timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: t.timestamp(),
        // `timestamp_subsec_nanos` is below 2e9 (leap seconds), which fits in i32.
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(999_999_999),
    }
}

/// Converts a protobuf `Timestamp` into a UTC time; `None` when it is out of chrono's range
/// or its nanos are not in `0..1e9`.
pub fn from_timestamp(ts: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    DateTime::from_timestamp(ts.seconds, nanos)
}

/// Nanoseconds since the Unix epoch of an optional timestamp field.
///
/// A missing field counts as the Unix epoch, like Go's `(*timestamppb.Timestamp)(nil).AsTime()`.
pub(crate) fn ts_nanos(ts: Option<&Timestamp>) -> i128 {
    ts.map_or(0, |ts| {
        i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos)
    })
}

/// Nanoseconds since the Unix epoch of a chrono time.
pub(crate) fn time_nanos(t: DateTime<Utc>) -> i128 {
    ts_nanos(Some(&to_timestamp(t)))
}
