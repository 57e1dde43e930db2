//! `[log]`: log level, line format and per-module filters.

use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

/// How much to log (`level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything, including very chatty details.
    Trace,
    /// Debugging details.
    Debug,
    /// Normal operation (the default).
    Info,
    /// Things that may need attention.
    Warn,
    /// Failures.
    Error,
    /// Only failures that stop the server.
    Critical,
}

/// How log lines are written (`format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable text (the default; `console` is accepted as a synonym).
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `level` (default `info`).
    pub level: LogLevel,
    /// `format` (default `text`).
    pub format: LogFormat,
    /// `filters`: space-separated `module:level` overrides, e.g. `cluster:debug store:warn`.
    pub filters: String,
}

const LEVELS: [(&str, LogLevel); 6] = [
    ("trace", LogLevel::Trace),
    ("debug", LogLevel::Debug),
    ("info", LogLevel::Info),
    ("warn", LogLevel::Warn),
    ("error", LogLevel::Error),
    ("critical", LogLevel::Critical),
];

impl LogSettings {
    pub(crate) fn read(raw: &RawConfig, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, "log", diag);
        let formats = [
            ("text", LogFormat::Text),
            ("console", LogFormat::Text),
            ("json", LogFormat::Json),
        ];
        let level = r.choice("level", LogLevel::Info, &LEVELS);
        let format = r.choice("format", LogFormat::Text, &formats);
        let filters = r.string("filters", "");
        if let Some(bad) = filters.split_whitespace().find(|f| !valid_filter(f)) {
            r.problem(
                "filters",
                format!(
                    "invalid filter {bad:?}: expected space-separated module:level pairs, \
                     level one of trace, debug, info, warn, error, critical"
                ),
            );
        }
        LogSettings {
            level,
            format,
            filters,
        }
    }
}

fn valid_filter(filter: &str) -> bool {
    match filter.split_once(':') {
        Some((module, level)) => {
            !module.is_empty()
                && LEVELS
                    .iter()
                    .any(|(name, _)| name.eq_ignore_ascii_case(level))
        }
        None => false,
    }
}
