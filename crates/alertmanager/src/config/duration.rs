//! Prometheus `model.Duration` parsing (`model.ParseDuration` in prometheus/common): a sequence
//! of `<integer><unit>` terms with units `y`, `w`, `d`, `h`, `m`, `s`, `ms`, each at most once
//! and in that order (`1h30m`, `2w`, `1y`), or the bare `0`. A year is 365 days.

use std::time::Duration;

use thiserror::Error;

/// Why a duration string was rejected; `Display` matches prometheus/common.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// The empty string.
    #[error("empty duration string")]
    Empty,
    /// Anything that is not a sequence of ordered `<integer><unit>` terms.
    #[error("not a valid duration string: {0:?}")]
    Invalid(String),
    /// A value that does not fit in a signed 64-bit count of nanoseconds.
    #[error("duration out of range")]
    OutOfRange,
}

/// Units in the only order they may appear, with their length in milliseconds.
const UNITS: [(&str, u128); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a duration like Prometheus `model.ParseDuration`.
pub fn parse_model_duration(s: &str) -> Result<Duration, DurationError> {
    match s {
        "0" => return Ok(Duration::ZERO),
        "" => return Err(DurationError::Empty),
        _ => {}
    }
    let invalid = || DurationError::Invalid(s.to_owned());
    let mut rest = s;
    let mut next_unit = 0;
    let mut total_ms: u128 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (num, tail) = rest.split_at(digits);
        let letters = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(letters);
        let pos = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(invalid)?;
        let (_, unit_ms) = UNITS[next_unit + pos];
        next_unit += pos + 1;
        // Go parses each number as a (64-bit) int; overflowing it is a range error.
        let n: u128 = num
            .parse::<u64>()
            .map_err(|_| DurationError::OutOfRange)?
            .into();
        total_ms = total_ms
            .checked_add(n.checked_mul(unit_ms).ok_or(DurationError::OutOfRange)?)
            .ok_or(DurationError::OutOfRange)?;
        rest = tail;
    }
    // model.Duration is an int64 of nanoseconds.
    if total_ms.saturating_mul(1_000_000) > i64::MAX as u128 {
        return Err(DurationError::OutOfRange);
    }
    u64::try_from(total_ms)
        .map(Duration::from_millis)
        .map_err(|_| DurationError::OutOfRange)
}

/// Formats a duration like `model.Duration.String()`: `1d2h`, `90s`, `0s`.
pub fn format_model_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, len) in UNITS {
        let n = ms / len;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            ms -= n * len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_forms() {
        let ok = [
            ("0", 0),
            ("0s", 0),
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("1d", 86_400_000),
            ("1w", 604_800_000),
            ("1y", 31_536_000_000),
            ("1y2w3d4h5m6s7ms", 33_019_506_007),
            ("250ms", 250),
        ];
        for (s, ms) in ok {
            assert_eq!(
                parse_model_duration(s),
                Ok(Duration::from_millis(ms)),
                "{s}"
            );
        }
        for s in [
            "30", "1m1h", "1h1h", "-1s", "1.5h", " 1s", "1S", "s", "1mss", "1us",
        ] {
            assert!(parse_model_duration(s).is_err(), "{s}");
        }
        assert_eq!(parse_model_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_model_duration("99999999999999999999y"),
            Err(DurationError::OutOfRange)
        );
        assert_eq!(parse_model_duration("300y"), Err(DurationError::OutOfRange));
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(
            format_model_duration(Duration::from_millis(93_784_005)),
            "1d2h3m4s5ms"
        );
        assert_eq!(format_model_duration(Duration::ZERO), "0s");
    }
}
