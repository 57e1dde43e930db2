//! Validation errors, worded exactly like Prometheus Alertmanager's `timeinterval` package.

use thiserror::Error;

use super::ranges::month_name;

/// Why a time-interval field was rejected; `Display` matches upstream's message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeIntervalError {
    /// A range with more than one colon, e.g. `1:2:3`.
    #[error("couldn't parse range {0}, invalid format")]
    RangeFormat(String),
    /// A weekday name that is not `sunday` … `saturday`.
    #[error("{0} is not a valid weekday")]
    Weekday(String),
    /// A weekday range whose start comes after its end.
    #[error("start day cannot be before end day")]
    WeekdayOrder,
    /// A month that is neither a name nor an integer.
    #[error("{0} is not a valid month")]
    Month(String),
    /// A month range whose start comes after its end (unknown numbers print as empty names).
    #[error("end month {} is before start month {}", month_name(*.end), month_name(*.begin))]
    MonthOrder {
        /// Parsed start month.
        begin: i64,
        /// Parsed end month.
        end: i64,
    },
    /// An integer that Go's `strconv.Atoi` would reject.
    #[error("strconv.Atoi: parsing {input:?}: {}", if *.out_of_range { "value out of range" } else { "invalid syntax" })]
    Integer {
        /// The text that failed to parse.
        input: String,
        /// True for overflow, false for a syntax error.
        out_of_range: bool,
    },
    /// A day of month outside -31..=-1 and 1..=31.
    #[error("{0} is not a valid day of the month: out of range")]
    DayOfMonth(i64),
    /// A negative start day with a positive end day.
    #[error("end day must be negative if start day is negative")]
    DayOfMonthSign,
    /// A day-of-month range that is empty in every month.
    #[error("end day {end} is always before start day {begin}")]
    DayOfMonthOrder {
        /// Parsed start day.
        begin: i64,
        /// Parsed end day.
        end: i64,
    },
    /// A year range whose start comes after its end.
    #[error("end year {end} is before start year {begin}")]
    YearOrder {
        /// Parsed start year.
        begin: i64,
        /// Parsed end year.
        end: i64,
    },
    /// A `times` entry without `start_time` or `end_time`.
    #[error("both start and end times must be provided")]
    MissingTime,
    /// A time of day that is not `HH:MM` between 00:00 and 24:00.
    #[error("couldn't parse timestamp {0}, invalid format")]
    Timestamp(String),
    /// A time range with `start_time >= end_time`.
    #[error("start time cannot be equal or greater than end time")]
    TimeOrder,
    /// A location that is not a known IANA time zone.
    #[error("unknown time zone {0}")]
    UnknownTimeZone(String),
    /// A location name containing `..` or starting with a slash.
    #[error("time: invalid location name")]
    LocationName,
    /// A named time interval without a name.
    #[error("missing name in time interval")]
    MissingName,
}
