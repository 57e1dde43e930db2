//! Weekday, day-of-month, month and year ranges: parsing, validation and canonical text.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::TimeIntervalError;
use super::atoi::atoi;
use super::scalar::nullable_scalar;

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Inclusive weekday range, 0 = Sunday … 6 = Saturday (`"monday:friday"`, `"saturday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WeekdayRange {
    /// First weekday (0 = Sunday).
    pub begin: u8,
    /// Last weekday, inclusive.
    pub end: u8,
}

/// Inclusive day-of-month range; negative values count back from the month's last day (-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DayOfMonthRange {
    /// First day (1..=31 or -31..=-1).
    pub begin: i8,
    /// Last day, inclusive.
    pub end: i8,
}

/// Inclusive month range, 1 = January; like upstream, numbers are not limited to 1..=12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MonthRange {
    /// First month.
    pub begin: i64,
    /// Last month, inclusive.
    pub end: i64,
}

/// Inclusive year range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct YearRange {
    /// First year.
    pub begin: i64,
    /// Last year, inclusive.
    pub end: i64,
}

/// Lower-cases `input` and splits it at its colon; a single member stands for both ends.
fn split_range(input: &str) -> Result<(String, String), TimeIntervalError> {
    let lower = input.to_lowercase();
    if !lower.contains(':') {
        return Ok((lower.clone(), lower));
    }
    let mut parts = lower.split(':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => Ok((a.to_owned(), b.to_owned())),
        _ => Err(TimeIntervalError::RangeFormat(lower)),
    }
}

/// Parses both ends of a range with `member`.
fn parse_ends<T>(
    input: &str,
    member: impl Fn(&str) -> Result<T, TimeIntervalError>,
) -> Result<(T, T), TimeIntervalError> {
    let (a, b) = split_range(input)?;
    Ok((member(&a)?, member(&b)?))
}

/// The lower-case English name of month `n`, or "" when there is none (as upstream prints it).
pub(crate) fn month_name(n: i64) -> &'static str {
    usize::try_from(n - 1)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("")
}

impl FromStr for WeekdayRange {
    type Err = TimeIntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (begin, end) = parse_ends(s, |m| {
            WEEKDAYS
                .iter()
                .position(|name| *name == m)
                .and_then(|i| u8::try_from(i).ok())
                .ok_or_else(|| TimeIntervalError::Weekday(m.to_owned()))
        })?;
        if begin > end {
            return Err(TimeIntervalError::WeekdayOrder);
        }
        Ok(Self { begin, end })
    }
}

impl FromStr for DayOfMonthRange {
    type Err = TimeIntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (begin, end) = parse_ends(s, atoi)?;
        let day = |n: i64| {
            i8::try_from(n)
                .ok()
                .filter(|d| *d != 0 && (-31..=31).contains(d))
                .ok_or(TimeIntervalError::DayOfMonth(n))
        };
        let (b, e) = (day(begin)?, day(end)?);
        if b < 0 && e > 0 {
            return Err(TimeIntervalError::DayOfMonthSign);
        }
        // Negative days are checked against the shortest month (28 days), as upstream does.
        let shortest = |d: i8| if d < 0 { 28 + d } else { d };
        if shortest(b) > shortest(e) {
            return Err(TimeIntervalError::DayOfMonthOrder { begin, end });
        }
        Ok(Self { begin: b, end: e })
    }
}

impl FromStr for MonthRange {
    type Err = TimeIntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (begin, end) = parse_ends(s, |m| match MONTHS.iter().position(|n| *n == m) {
            Some(i) => Ok(i as i64 + 1),
            None => atoi(m).map_err(|_| TimeIntervalError::Month(m.to_owned())),
        })?;
        if begin > end {
            return Err(TimeIntervalError::MonthOrder { begin, end });
        }
        Ok(Self { begin, end })
    }
}

impl FromStr for YearRange {
    type Err = TimeIntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (begin, end) = parse_ends(s, atoi)?;
        if begin > end {
            return Err(TimeIntervalError::YearOrder { begin, end });
        }
        Ok(Self { begin, end })
    }
}

/// Writes `begin:end`, or a single member when both ends are equal.
fn write_range(
    f: &mut fmt::Formatter<'_>,
    begin: &dyn fmt::Display,
    end: &dyn fmt::Display,
) -> fmt::Result {
    let (b, e) = (begin.to_string(), end.to_string());
    if b == e {
        f.write_str(&b)
    } else {
        write!(f, "{b}:{e}")
    }
}

impl WeekdayRange {
    /// The name of weekday `n`, if it is in 0..=6.
    fn name(n: u8) -> Option<&'static str> {
        WEEKDAYS.get(usize::from(n)).copied()
    }
}

/// Weekdays print as names (`monday:friday`); out-of-range numbers print as numbers.
impl fmt::Display for WeekdayRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |n: u8| Self::name(n).map_or_else(|| n.to_string(), str::to_owned);
        write_range(f, &show(self.begin), &show(self.end))
    }
}

/// Days print as numbers (`1:5`, `-3:-1`).
impl fmt::Display for DayOfMonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_range(f, &self.begin, &self.end)
    }
}

/// Months print as numbers (`1:3`), as upstream marshals them.
impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_range(f, &self.begin, &self.end)
    }
}

/// Years print as numbers (`2020:2022`).
impl fmt::Display for YearRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_range(f, &self.begin, &self.end)
    }
}

impl Serialize for WeekdayRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        for n in [self.begin, self.end] {
            if Self::name(n).is_none() {
                return Err(S::Error::custom(format!(
                    "unable to convert {n} into weekday string"
                )));
            }
        }
        serializer.collect_str(self)
    }
}

/// Implements `Deserialize` for a range: a scalar parsed with `FromStr`; null is the zero range.
macro_rules! range_deserialize {
    ($($ty:ty),*) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                match nullable_scalar(deserializer)? {
                    None => Ok(Self::default()),
                    Some(text) => text.parse().map_err(D::Error::custom),
                }
            }
        }
    )*};
}

/// Implements `Serialize` for a numeric range as its `Display` text.
macro_rules! range_serialize {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    )*};
}

range_deserialize!(WeekdayRange, DayOfMonthRange, MonthRange, YearRange);
range_serialize!(DayOfMonthRange, MonthRange, YearRange);
