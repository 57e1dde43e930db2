//! The one implementation of "read a key, convert it, and record a problem if it is invalid".
//!
//! A [`SectionReader`] reads typed values from one section of the merged [`RawConfig`]. It never
//! stops at the first bad value: it records a [`Problem`] naming source, section, key and value,
//! returns the default, and carries on. Like Grafana's `Key(...).MustX(default)`, an empty value
//! means "use the default". Every key read is remembered, which is how unknown keys are found.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::problem::{ConfigWarning, Problem};
use crate::raw::RawConfig;
use crate::source::Source;

/// Problems, warnings and the set of keys read, collected while reading settings.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub(crate) problems: Vec<Problem>,
    pub(crate) warnings: Vec<ConfigWarning>,
    pub(crate) read_keys: BTreeSet<(String, String)>,
}

/// Reads typed values from one section; see the module documentation.
pub(crate) struct SectionReader<'a> {
    raw: &'a RawConfig,
    section: &'a str,
    diag: &'a mut Diagnostics,
}

const BOOL_HELP: &str = "expected a boolean: true or false (also 1/0, t/f, yes/no, y/n, on/off)";
const DURATION_HELP: &str = "expected a duration such as 30s, 5m, 1h30m or 7d";

impl<'a> SectionReader<'a> {
    /// A reader for `section`.
    pub(crate) fn new(raw: &'a RawConfig, section: &'a str, diag: &'a mut Diagnostics) -> Self {
        SectionReader { raw, section, diag }
    }

    /// The diagnostics this reader records into, e.g. to read a subsection next.
    pub(crate) fn diag(&mut self) -> &mut Diagnostics {
        self.diag
    }

    /// The value of `key` (with `%(name)s` references resolved) and its source; records the read.
    fn lookup(&mut self, key: &str) -> (String, Option<Source>) {
        self.diag
            .read_keys
            .insert((self.section.to_string(), key.to_string()));
        match self.raw.get(self.section, key) {
            Some(value) => (
                self.raw.interpolate(self.section, key, &value.value),
                Some(value.source.clone()),
            ),
            None => (String::new(), None),
        }
    }

    /// Records a problem about `key`, showing its current value and source.
    pub(crate) fn problem(&mut self, key: &str, message: impl Into<String>) {
        let (value, source) = self.lookup(key);
        let problem = Problem::new(source, self.section, key, &value, message);
        self.diag.problems.push(problem);
    }

    /// Records a warning about `key`, showing its current value and source.
    pub(crate) fn warning(&mut self, key: &str, message: impl Into<String>) {
        let (value, source) = self.lookup(key);
        let warning = ConfigWarning::new(source, self.section, key, &value, message);
        self.diag.warnings.push(warning);
    }

    /// Converts `key` with `parse`: `Some(default)` when empty, `None` (and a problem) when invalid.
    pub(crate) fn parse<T>(
        &mut self,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let (value, _) = self.lookup(key);
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Some(default);
        }
        match parse(trimmed) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.problem(key, message);
                None
            }
        }
    }

    /// A string, or `default` when empty.
    pub(crate) fn string(&mut self, key: &str, default: &str) -> String {
        let (value, _) = self.lookup(key);
        if value.is_empty() {
            default.to_string()
        } else {
            value
        }
    }

    /// A path, or `None` when empty.
    pub(crate) fn path(&mut self, key: &str) -> Option<PathBuf> {
        Some(self.string(key, ""))
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    }

    /// A comma-separated list; items are trimmed and empty items dropped.
    pub(crate) fn list(&mut self, key: &str) -> Vec<String> {
        split_list(&self.string(key, ""))
    }

    /// A boolean in go-ini's spellings.
    pub(crate) fn bool(&mut self, key: &str, default: bool) -> bool {
        self.parse(key, default, |s| {
            parse_bool(s).ok_or_else(|| BOOL_HELP.to_string())
        })
        .unwrap_or(default)
    }

    /// A Grafana duration (`30s`, `1h`, `7d`).
    pub(crate) fn duration(&mut self, key: &str, default: Duration) -> Duration {
        self.try_duration(key, default).unwrap_or(default)
    }

    /// Like [`Self::duration`], but `None` when the value is invalid.
    pub(crate) fn try_duration(&mut self, key: &str, default: Duration) -> Option<Duration> {
        self.parse(key, default, |s| {
            parse_duration(s).map_err(|err| format!("{DURATION_HELP}: {err}"))
        })
    }

    /// A duration where a bare whole number means seconds (Grafana's `conn_max_lifetime = 14400`).
    pub(crate) fn duration_or_seconds(&mut self, key: &str, default: Duration) -> Duration {
        self.parse(key, default, |s| match s.parse::<u64>() {
            Ok(seconds) => Ok(Duration::from_secs(seconds)),
            Err(_) => parse_duration(s).map_err(|err| {
                format!("expected a number of seconds or a duration such as 4h: {err}")
            }),
        })
        .unwrap_or(default)
    }

    /// A signed whole number in Go's syntax (`10`, `-1`, `0x1F`, `1_000`).
    pub(crate) fn i64(&mut self, key: &str, default: i64) -> i64 {
        self.parse(key, default, |s| {
            parse_go_int(s).ok_or_else(|| "expected a whole number".to_string())
        })
        .unwrap_or(default)
    }

    /// A non-negative whole number that fits in 32 bits.
    pub(crate) fn u32(&mut self, key: &str, default: u32) -> u32 {
        self.parse(key, default, |s| {
            parse_go_int(s)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("expected a whole number between 0 and {}", u32::MAX))
        })
        .unwrap_or(default)
    }

    /// A non-negative whole number.
    pub(crate) fn u64(&mut self, key: &str, default: u64) -> u64 {
        self.parse(key, default, |s| {
            parse_go_int(s)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| "expected a whole number of 0 or more".to_string())
        })
        .unwrap_or(default)
    }

    /// A decimal number such as `0.1`.
    pub(crate) fn f64(&mut self, key: &str, default: f64) -> Option<f64> {
        self.parse(key, default, |s| {
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(|| "expected a decimal number such as 0.1".to_string())
        })
    }

    /// A TCP port, 1 to 65535; `None` (and a problem) when invalid.
    pub(crate) fn try_port(&mut self, key: &str, default: u16) -> Option<u16> {
        self.parse(key, default, |s| {
            s.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| "expected a port number between 1 and 65535".to_string())
        })
    }

    /// One of `choices` (matched case-insensitively).
    pub(crate) fn choice<T: Copy>(&mut self, key: &str, default: T, choices: &[(&str, T)]) -> T {
        self.parse(key, default, |s| {
            choices
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(s))
                .map(|&(_, value)| value)
                .ok_or_else(|| {
                    let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
                    format!("expected one of: {}", names.join(", "))
                })
        })
        .unwrap_or(default)
    }

    /// Every key of the section with its value, for free-form sections.
    pub(crate) fn entries(&mut self) -> Vec<(String, String)> {
        let keys: Vec<String> = self
            .raw
            .section(self.section)
            .map(|s| s.entries.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        keys.into_iter()
            .map(|key| {
                let value = self.string(&key, "");
                (key, value)
            })
            .collect()
    }
}

/// go-ini's boolean spellings.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" | "YES" | "yes" | "Yes" | "y" | "ON" | "on"
        | "On" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" | "NO" | "no" | "No" | "n" | "OFF"
        | "off" | "Off" => Some(false),
        _ => None,
    }
}

/// Splits a comma-separated list, trimming items and dropping empty ones.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// Go's `strconv.ParseInt(s, 0, 64)`, which go-ini uses: optional sign, `0x`/`0o`/`0b` or a
/// leading `0` (octal) prefix, and `_` as a separator between digits.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    // The third item says whether a prefix precedes the digits (so `_` may come first).
    let (radix, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    let digits = if digits.contains('_') {
        let misplaced = (digits.starts_with('_') && !prefixed)
            || digits.ends_with('_')
            || digits.contains("__");
        if misplaced {
            return None;
        }
        digits.replace('_', "")
    } else {
        digits.to_string()
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(&digits, radix).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ini::parse;

    fn config(text: &str) -> RawConfig {
        let (file, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        RawConfig::from_ini(&file, |line| Source::File {
            path: "/tmp/x.ini".into(),
            line,
        })
    }

    #[test]
    fn go_integers() {
        let cases: &[(&str, Option<i64>)] = &[
            ("10", Some(10)),
            ("-1", Some(-1)),
            ("+7", Some(7)),
            ("0", Some(0)),
            ("010", Some(8)),
            ("0x1F", Some(31)),
            ("0b101", Some(5)),
            ("0o17", Some(15)),
            ("0x_1F", Some(31)),
            ("1_000", Some(1000)),
            ("0_7", Some(7)),
            ("_1", None),
            ("1_", None),
            ("0x1__F", None),
            ("09", None),
            ("abc", None),
            ("", None),
            ("-", None),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_go_int(input), want, "{input}");
        }
    }

    #[test]
    fn booleans() {
        for s in ["1", "t", "true", "TRUE", "yes", "y", "on", "On"] {
            assert_eq!(parse_bool(s), Some(true), "{s}");
        }
        for s in ["0", "f", "false", "False", "no", "n", "off", "OFF"] {
            assert_eq!(parse_bool(s), Some(false), "{s}");
        }
        for s in ["", "tRue", "2", "enabled"] {
            assert_eq!(parse_bool(s), None, "{s}");
        }
    }

    #[test]
    fn invalid_values_become_problems_and_defaults() {
        let raw =
            config("[s]\nflag = maybe\nwait = 5x\nport = 0\ncount = -3\nempty =\nmode = HTTPS\n");
        let mut diag = Diagnostics::default();
        let mut r = SectionReader::new(&raw, "s", &mut diag);
        assert!(r.bool("flag", true));
        assert_eq!(
            r.duration("wait", Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(r.try_port("port", 3000), None);
        assert_eq!(r.u32("count", 4), 4);
        assert_eq!(r.u32("empty", 9), 9);
        assert_eq!(r.choice("mode", 0, &[("http", 1), ("https", 2)]), 2);
        assert_eq!(r.string("missing", "dflt"), "dflt");
        let shown: Vec<String> = diag.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            shown,
            [
                format!("/tmp/x.ini:2: [s] flag = \"maybe\": {BOOL_HELP}"),
                format!(
                    "/tmp/x.ini:3: [s] wait = \"5x\": {DURATION_HELP}: time: unknown unit \"x\" in duration \"5x\""
                ),
                "/tmp/x.ini:4: [s] port = \"0\": expected a port number between 1 and 65535".to_string(),
                "/tmp/x.ini:5: [s] count = \"-3\": expected a whole number between 0 and 4294967295"
                    .to_string(),
            ]
        );
        assert!(
            diag.read_keys
                .contains(&("s".to_string(), "missing".to_string()))
        );
    }

    #[test]
    fn lists_and_seconds() {
        let raw = config("[s]\npeers = a:1, ,b:2 ,\nlife = 14400\nlife2 = 4h\n");
        let mut diag = Diagnostics::default();
        let mut r = SectionReader::new(&raw, "s", &mut diag);
        assert_eq!(r.list("peers"), ["a:1", "b:2"]);
        assert_eq!(
            r.duration_or_seconds("life", Duration::ZERO),
            Duration::from_secs(14400)
        );
        assert_eq!(
            r.duration_or_seconds("life2", Duration::ZERO),
            Duration::from_secs(14400)
        );
        assert!(diag.problems.is_empty());
    }
}
