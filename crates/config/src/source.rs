//! Where a configuration value came from, and how secret values are hidden when shown.

use std::fmt;
use std::path::PathBuf;

/// Text shown in place of a secret value.
pub const REDACTED: &str = "*****";

/// Name under which the embedded defaults file is shown in messages.
pub const DEFAULTS_FILE_NAME: &str = "conf/defaults.ini";

/// The layer (and the position in it) that supplied a configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A line of the embedded `conf/defaults.ini`.
    Defaults {
        /// 1-based line of the key.
        line: usize,
    },
    /// A line of the user's configuration file (`--config` or `conf/custom.ini`).
    File {
        /// The file as it was named.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
    },
    /// An environment variable override such as `WATCHKEEPER_SERVER_HTTP_PORT`.
    Env {
        /// The variable name.
        var: String,
    },
    /// A `cfg:section.key=value` command-line argument.
    Arg {
        /// The argument, with the value replaced by `*****` when the key holds a secret.
        arg: String,
    },
}

impl Source {
    /// Builds an [`Source::Arg`] from a raw argument, hiding the value if the key is a secret.
    pub fn arg(raw: &str) -> Source {
        Source::Arg {
            arg: redact_arg(raw),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Defaults { line } => write!(f, "{DEFAULTS_FILE_NAME}:{line} (embedded)"),
            Source::File { path, line } => write!(f, "{}:{line}", path.display()),
            Source::Env { var } => write!(f, "environment variable {var}"),
            Source::Arg { arg } => write!(f, "command-line argument {arg}"),
        }
    }
}

/// Whether a key holds a secret (its name contains `password`, `secret` or `token`).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    // Settings *about* tokens (how often to rotate them, how long they live) are not secrets.
    let is_setting_about = ["_minutes", "_interval", "_duration", "_seconds"]
        .iter()
        .any(|suffix| key.ends_with(suffix));
    !is_setting_about
        && ["password", "secret", "token"]
            .iter()
            .any(|word| key.contains(word))
}

/// Returns `value` as it may be shown to people: `*****` for secret keys, and URLs with their
/// password part replaced by `*****`.
pub fn redact_value(key: &str, value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    if is_secret_key(key) {
        return REDACTED.to_string();
    }
    redact_url_password(value).unwrap_or_else(|| value.to_string())
}

/// Replaces the password of a URL such as `postgres://user:pw@host/db`; `None` if there is none.
fn redact_url_password(value: &str) -> Option<String> {
    if !value.contains("://") {
        return None;
    }
    let mut url = url::Url::parse(value).ok()?;
    url.password()?;
    url.set_password(Some(REDACTED)).ok()?;
    Some(url.to_string())
}

/// Hides the value of a `cfg:section.key=value` argument whose key holds a secret.
fn redact_arg(raw: &str) -> String {
    match raw.split_once('=') {
        Some((name, value)) => {
            let key = name.rsplit('.').next().unwrap_or(name);
            format!("{name}={}", redact_value(key, value))
        }
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_each_layer() {
        let cases = [
            (
                Source::Defaults { line: 40 },
                "conf/defaults.ini:40 (embedded)",
            ),
            (
                Source::File {
                    path: "/etc/wk/custom.ini".into(),
                    line: 12,
                },
                "/etc/wk/custom.ini:12",
            ),
            (
                Source::Env {
                    var: "WATCHKEEPER_SERVER_HTTP_PORT".into(),
                },
                "environment variable WATCHKEEPER_SERVER_HTTP_PORT",
            ),
            (
                Source::arg("cfg:server.http_port=abc"),
                "command-line argument cfg:server.http_port=abc",
            ),
        ];
        for (source, want) in cases {
            assert_eq!(source.to_string(), want);
        }
    }

    #[test]
    fn secret_arguments_are_hidden() {
        let source = Source::arg("cfg:security.admin_password=hunter2");
        assert_eq!(
            source.to_string(),
            "command-line argument cfg:security.admin_password=*****"
        );
        assert!(!format!("{source:?}").contains("hunter2"));
    }

    #[test]
    fn secret_keys_and_url_passwords_are_redacted() {
        let cases = [
            ("admin_password", "hunter2", "*****"),
            ("secret_key", "abc", "*****"),
            ("SOME_TOKEN", "abc", "*****"),
            ("http_port", "3000", "3000"),
            ("token_rotation_interval_minutes", "10", "10"),
            ("api_key_max_seconds_to_live", "-1", "-1"),
            ("password", "", ""),
            (
                "url",
                "postgres://wk:pw@db:5432/wk",
                "postgres://wk:*****@db:5432/wk",
            ),
            (
                "url",
                "postgres://wk@db:5432/wk",
                "postgres://wk@db:5432/wk",
            ),
        ];
        for (key, value, want) in cases {
            assert_eq!(redact_value(key, value), want, "{key}={value}");
        }
    }
}
