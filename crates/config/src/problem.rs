//! Problems (fatal) and warnings (non-fatal) found while loading the configuration.

use std::fmt;

use crate::source::{Source, redact_value};

/// One invalid setting: where it came from, which key, the value, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where the offending value came from; `None` when no single value is to blame.
    pub source: Option<Source>,
    /// The INI section (`DEFAULT` for keys before the first section; empty for file-level errors).
    pub section: String,
    /// The key (empty for section- or file-level errors).
    pub key: String,
    /// The value as it may be shown (secrets already replaced by `*****`).
    pub value: String,
    /// What is wrong, and what is expected.
    pub message: String,
}

/// Something suspicious that does not stop startup, such as an unknown key. Same shape as [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// Where the value came from.
    pub source: Option<Source>,
    /// The INI section.
    pub section: String,
    /// The key (empty for section-level warnings).
    pub key: String,
    /// The value as it may be shown (secrets already replaced by `*****`).
    pub value: String,
    /// What was noticed.
    pub message: String,
}

/// Every problem found while loading; the configuration is unusable if there is at least one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines(.problems))]
pub struct ConfigErrors {
    /// All problems, in the order they were found.
    pub problems: Vec<Problem>,
}

fn lines(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

impl Problem {
    /// Creates a problem, redacting `value` if `key` holds a secret.
    pub fn new(
        source: Option<Source>,
        section: &str,
        key: &str,
        value: &str,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            source,
            section: section.to_string(),
            key: key.to_string(),
            value: redact_value(key, value),
            message: message.into(),
        }
    }
}

impl ConfigWarning {
    /// Creates a warning, redacting `value` if `key` holds a secret.
    pub fn new(
        source: Option<Source>,
        section: &str,
        key: &str,
        value: &str,
        message: impl Into<String>,
    ) -> ConfigWarning {
        ConfigWarning {
            source,
            section: section.to_string(),
            key: key.to_string(),
            value: redact_value(key, value),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Problem {
            source,
            section,
            key,
            value,
            message,
        } = self;
        write_line(f, source.as_ref(), section, key, value, message)
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConfigWarning {
            source,
            section,
            key,
            value,
            message,
        } = self;
        write_line(f, source.as_ref(), section, key, value, message)
    }
}

/// `source: [section] key = "value": message`, leaving out the parts that are empty.
fn write_line(
    f: &mut fmt::Formatter<'_>,
    source: Option<&Source>,
    section: &str,
    key: &str,
    value: &str,
    message: &str,
) -> fmt::Result {
    if let Some(source) = source {
        write!(f, "{source}: ")?;
    }
    match (section.is_empty(), key.is_empty()) {
        (_, false) => write!(f, "[{section}] {key} = {value:?}: {message}"),
        (false, true) => write!(f, "[{section}]: {message}"),
        (true, true) => f.write_str(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_display_names_file_line_section_key_and_value() {
        let problem = Problem::new(
            Some(Source::File {
                path: "/tmp/x.ini".into(),
                line: 7,
            }),
            "server",
            "http_port",
            "abc",
            "expected a port number between 1 and 65535",
        );
        assert_eq!(
            problem.to_string(),
            "/tmp/x.ini:7: [server] http_port = \"abc\": expected a port number between 1 and 65535"
        );
    }

    #[test]
    fn secret_values_never_reach_display_or_debug() {
        let problem = Problem::new(None, "security", "admin_password", "hunter2", "bad");
        let warning = ConfigWarning::new(None, "security", "secret_keyy", "hunter2", "unknown");
        let errors = ConfigErrors {
            problems: vec![problem.clone()],
        };
        for shown in [
            problem.to_string(),
            format!("{problem:?}"),
            warning.to_string(),
            format!("{warning:?}"),
            errors.to_string(),
            format!("{errors:?}"),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("*****"), "{shown}");
        }
    }

    #[test]
    fn errors_display_one_problem_per_line() {
        let errors = ConfigErrors {
            problems: vec![
                Problem::new(None, "", "", "", "first"),
                Problem::new(None, "log", "", "", "second"),
            ],
        };
        assert_eq!(errors.to_string(), "first\n[log]: second");
    }
}
