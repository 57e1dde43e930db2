//! Whether an instant falls inside a time interval, with upstream's exact rules.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};

use super::{DayOfMonthRange, NamedTimeInterval, TimeInterval};

/// Number of days in `month` of `year`, by the calendar (not by elapsed hours, so DST is ignored).
fn days_in_month(year: i32, month: u32) -> i64 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(year, month, 1),
        NaiveDate::from_ymd_opt(next_year, next_month, 1),
    ) {
        (Some(first), Some(next)) => (next - first).num_days(),
        _ => 31,
    }
}

/// Whether `day` is in `range` once negative ends are resolved against a `dim`-day month.
fn day_matches(range: &DayOfMonthRange, day: i64, dim: i64) -> bool {
    let resolve = |d: i8| {
        let d = i64::from(d);
        if d < 0 { dim + d + 1 } else { d }
    };
    let (begin, end) = (resolve(range.begin), resolve(range.end));
    // A range starting after this month's last day matches nothing (no clamping).
    if begin > dim {
        return false;
    }
    let (begin, end) = (begin.clamp(-dim, dim), end.clamp(-dim, dim));
    (begin..=end).contains(&day)
}

/// `true` when the list is absent, else whether any element satisfies `hit`.
fn any_or_unset<T>(list: &Option<Vec<T>>, hit: impl Fn(&T) -> bool) -> bool {
    list.as_ref().is_none_or(|items| items.iter().any(hit))
}

impl TimeInterval {
    /// Whether `t`, seen in this interval's location (UTC if none), satisfies every set field.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        match self.location {
            Some(tz) => self.contains_local(&t.with_timezone(&tz)),
            None => self.contains_local(&t),
        }
    }

    /// Field-by-field check on a zoned time.
    fn contains_local<Z: TimeZone>(&self, t: &DateTime<Z>) -> bool {
        let minute = t.hour() * 60 + t.minute();
        let day = i64::from(t.day());
        let dim = days_in_month(t.year(), t.month());
        let month = i64::from(t.month());
        let weekday = u8::try_from(t.weekday().num_days_from_sunday()).unwrap_or(u8::MAX);
        let year = i64::from(t.year());
        any_or_unset(&self.times, |r| r.contains_minute(minute))
            && any_or_unset(&self.days_of_month, |r| day_matches(r, day, dim))
            && any_or_unset(&self.months, |r| (r.begin..=r.end).contains(&month))
            && any_or_unset(&self.weekdays, |r| (r.begin..=r.end).contains(&weekday))
            && any_or_unset(&self.years, |r| (r.begin..=r.end).contains(&year))
    }
}

impl NamedTimeInterval {
    /// Whether any of the intervals contains `t` (false when there are none).
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.time_intervals.iter().any(|ti| ti.contains(t))
    }
}
