//! Durations the way Grafana writes them (`gtime.ParseDuration`): Go's `time.ParseDuration`
//! syntax (`500ms`, `1h30m`, `1.5h`, `0`, units `ns us µs ms s m h`) plus a whole number followed
//! by `d` (24h), `w` (7d), `M` (1/12 of a year) or `y` (365.25 days). Negative durations are
//! rejected because a configuration duration is never negative. [`format_duration`] prints Go's
//! `Duration.String` form (`1m30s`, `1h0m0s`, `250ms`).

use std::time::Duration;

const NANOS_PER_SECOND: u64 = 1_000_000_000;
const DAY_SECONDS: u64 = 24 * 3600;
/// Go's duration limit: `math.MaxInt64` nanoseconds (about 292 years).
const MAX_NANOS: u64 = i64::MAX as u64;

/// Why a duration could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The input was empty.
    #[error("empty duration")]
    Empty,
    /// The input is not a duration at all.
    #[error("time: invalid duration {0:?}")]
    Invalid(String),
    /// A number without a unit, such as `30`.
    #[error("time: missing unit in duration {0:?}")]
    MissingUnit(String),
    /// A unit that does not exist, such as `5x`.
    #[error("time: unknown unit {unit:?} in duration {input:?}")]
    UnknownUnit {
        /// The unknown unit.
        unit: String,
        /// The whole input.
        input: String,
    },
    /// A negative duration.
    #[error("negative duration {0:?} is not allowed")]
    Negative(String),
    /// A duration longer than Go can represent (about 292 years).
    #[error("duration {0:?} is too long")]
    Overflow(String),
}

/// Parses a Grafana-style duration such as `30s`, `1h30m`, `7d` or `0`.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    if let Some(duration) = parse_date_unit(input)? {
        return Ok(duration);
    }
    parse_go_duration(input)
}

/// `<digits><d|w|M|y>`, or `None` when the input has another shape.
fn parse_date_unit(input: &str) -> Result<Option<Duration>, DurationError> {
    let Some(unit) = input.chars().last() else {
        return Ok(None);
    };
    let digits = &input[..input.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let unit_seconds = match unit {
        'd' => DAY_SECONDS,
        'w' => 7 * DAY_SECONDS,
        // A year is 365.25 days and a month a twelfth of that: 30.4375 days.
        'M' => DAY_SECONDS * 36525 / 1200,
        'y' => DAY_SECONDS * 36525 / 100,
        _ => return Ok(None),
    };
    let overflow = || DurationError::Overflow(input.to_string());
    let count: u64 = digits.parse().map_err(|_| overflow())?;
    let nanos = count
        .checked_mul(unit_seconds)
        .and_then(|s| s.checked_mul(NANOS_PER_SECOND))
        .filter(|&n| n <= MAX_NANOS)
        .ok_or_else(overflow)?;
    Ok(Some(Duration::from_nanos(nanos)))
}

/// Go's `time.ParseDuration`, restricted to non-negative results.
fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(input.to_string());
    let (negative, mut rest) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let (whole, after_whole) = leading_int(rest).ok_or_else(invalid)?;
        let had_whole = after_whole.len() != rest.len();
        rest = after_whole;
        let (mut fraction, mut scale, mut had_fraction) = (0, 1.0, false);
        if let Some(after_dot) = rest.strip_prefix('.') {
            let (f, s, after_fraction) = leading_fraction(after_dot);
            had_fraction = after_fraction.len() != after_dot.len();
            (fraction, scale, rest) = (f, s, after_fraction);
        }
        if !had_whole && !had_fraction {
            return Err(invalid());
        }
        let unit_end = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let unit_nanos = unit_nanos(unit, input)?;
        let mut value = whole.checked_mul(unit_nanos).ok_or_else(invalid)?;
        if fraction > 0 {
            // Same float arithmetic as Go, so `1.5h` and friends round identically.
            let extra = (fraction as f64 * (unit_nanos as f64 / scale)) as u64;
            value = value.checked_add(extra).ok_or_else(invalid)?;
        }
        total = total
            .checked_add(value)
            .filter(|&t| t <= MAX_NANOS)
            .ok_or_else(invalid)?;
    }
    if negative && total > 0 {
        return Err(DurationError::Negative(input.to_string()));
    }
    Ok(Duration::from_nanos(total))
}

fn unit_nanos(unit: &str, input: &str) -> Result<u64, DurationError> {
    Ok(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        "" => return Err(DurationError::MissingUnit(input.to_string())),
        _ => {
            return Err(DurationError::UnknownUnit {
                unit: unit.to_string(),
                input: input.to_string(),
            });
        }
    })
}

/// Leading decimal digits as a number; `None` on overflow.
fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut value: u64 = 0;
    for digit in s[..end].bytes() {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))
            .filter(|&v| v <= MAX_NANOS)?;
    }
    Some((value, &s[end..]))
}

/// Leading fraction digits: value, 10^(digits used), rest. Digits beyond precision are dropped.
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (mut value, mut scale, mut overflow) = (0u64, 1.0, false);
    for digit in s[..end].bytes() {
        if overflow {
            continue;
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit - b'0')))
            .filter(|&v| v <= MAX_NANOS)
        {
            Some(next) => {
                value = next;
                scale *= 10.0;
            }
            None => overflow = true,
        }
    }
    (value, scale, &s[end..])
}

/// Formats a duration like Go's `time.Duration.String`: `0s`, `1.5µs`, `250ms`, `1m30s`, `2h0m0s`.
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < u128::from(NANOS_PER_SECOND) {
        let (unit, digits) = match nanos {
            0..1_000 => ("ns", 0),
            1_000..1_000_000 => ("\u{b5}s", 3),
            _ => ("ms", 6),
        };
        let divisor = 10u128.pow(digits);
        return format!(
            "{}{}{unit}",
            nanos / divisor,
            fraction(nanos % divisor, digits)
        );
    }
    let seconds = nanos / u128::from(NANOS_PER_SECOND);
    let frac = fraction(nanos % u128::from(NANOS_PER_SECOND), 9);
    let (hours, minutes, secs) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h{minutes}m{secs}{frac}s")
    } else if minutes > 0 {
        format!("{minutes}m{secs}{frac}s")
    } else {
        format!("{secs}{frac}s")
    }
}

/// `.ddd` with trailing zeros removed, or nothing when the fraction is zero.
fn fraction(value: u128, digits: u32) -> String {
    if value == 0 {
        return String::new();
    }
    let text = format!("{value:0width$}", width = digits as usize);
    format!(".{}", text.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS_PER_SECOND;

    #[test]
    fn parses_go_and_grafana_durations() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("+0", 0),
            ("-0", 0),
            ("0s", 0),
            ("5s", 5 * S),
            ("500ms", S / 2),
            ("1h30m", 5400 * S),
            ("1.5h", 5400 * S),
            (".5s", S / 2),
            ("1.s", S),
            ("2m3.25s", 123 * S + S / 4),
            ("10ns", 10),
            ("3us", 3000),
            ("3\u{b5}s", 3000),
            ("3\u{3bc}s", 3000),
            ("1d", 86_400 * S),
            ("7d", 7 * 86_400 * S),
            ("2w", 14 * 86_400 * S),
            ("1M", 2_629_800 * S),
            ("1y", 31_557_600 * S),
            ("721h", 721 * 3600 * S),
        ];
        for &(input, nanos) in cases {
            assert_eq!(
                parse_duration(input),
                Ok(Duration::from_nanos(nanos)),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        let cases: &[(&str, &str)] = &[
            ("", "empty duration"),
            ("abc", "time: invalid duration \"abc\""),
            ("30", "time: missing unit in duration \"30\""),
            ("5x", "time: unknown unit \"x\" in duration \"5x\""),
            ("1.5d", "time: unknown unit \"d\" in duration \"1.5d\""),
            ("d", "time: invalid duration \"d\""),
            (".s", "time: invalid duration \".s\""),
            ("-", "time: invalid duration \"-\""),
            ("-5s", "negative duration \"-5s\" is not allowed"),
            (" 5s", "time: invalid duration \" 5s\""),
            ("300y", "duration \"300y\" is too long"),
            (
                "99999999999999999999d",
                "duration \"99999999999999999999d\" is too long",
            ),
            ("9999999999h", "time: invalid duration \"9999999999h\""),
        ];
        for &(input, message) in cases {
            match parse_duration(input) {
                Err(err) => assert_eq!(err.to_string(), message, "{input}"),
                Ok(d) => panic!("{input} parsed as {d:?}"),
            }
        }
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5\u{b5}s"),
            (250_000_000, "250ms"),
            (1_500_000, "1.5ms"),
            (S, "1s"),
            (S + S / 2, "1.5s"),
            (90 * S, "1m30s"),
            (3600 * S, "1h0m0s"),
            (5400 * S + 1, "1h30m0.000000001s"),
            (721 * 3600 * S, "721h0m0s"),
        ];
        for &(nanos, want) in cases {
            assert_eq!(format_duration(Duration::from_nanos(nanos)), want);
        }
    }

    #[test]
    fn formatted_durations_parse_back() {
        for nanos in [0, 7, 1_500, 2_000_000, S, 61 * S, 7 * 86_400 * S + 3] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
