//! Expansion of `${VAR}`, `$__env{VAR}` and `$__file{path}` in configuration values, matched
//! with Grafana's pattern `\$(|__\w+){([^}]+)}`.
//!
//! - `${VAR}` and `$__env{VAR}` become the variable's value; an unset variable becomes the empty
//!   string. `HOSTNAME`, when unset or empty, falls back to the machine's hostname.
//! - `$__file{path}` becomes the file's contents with surrounding whitespace trimmed; a file
//!   that cannot be read is an error.
//! - Any other `$__name{...}` is an error (Grafana Enterprise's `$__vault{}` is not available).
//!
//! Each value is expanded in a single pass: text produced by an expansion is not expanded again.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Expands every reference in `value`; `env` looks environment variables up.
pub(crate) fn expand(value: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    static PATTERN: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"\$(|__[0-9A-Za-z_]+)\{([^}]+)\}").ok());
    let Some(pattern) = PATTERN.as_ref() else {
        return Err("internal error: the expansion pattern does not compile".to_string());
    };
    if !value.contains('$') {
        return Ok(value.to_string());
    }
    let mut out = String::with_capacity(value.len());
    let mut last = 0;
    for found in pattern.captures_iter(value) {
        let Some(whole) = found.get(0) else {
            continue;
        };
        out.push_str(&value[last..whole.start()]);
        out.push_str(&expand_one(&found, env)?);
        last = whole.end();
    }
    out.push_str(&value[last..]);
    Ok(out)
}

fn expand_one(
    found: &Captures<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let (name, argument) = (&found[1], &found[2]);
    match name {
        "" | "__env" => env_value(argument, env),
        "__file" => file_value(argument),
        _ => Err(format!(
            "unknown expander ${name}: supported are ${{VAR}}, $__env{{VAR}} and $__file{{path}}"
        )),
    }
}

fn env_value(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let value = env(name).unwrap_or_default();
    if name != "HOSTNAME" || !value.is_empty() {
        return Ok(value);
    }
    hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .map_err(|err| {
            format!("${{HOSTNAME}}: HOSTNAME is not set and the hostname is unknown: {err}")
        })
}

fn file_value(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path)
        .map_err(|err| format!("$__file{{{path}}}: cannot read file {path:?}: {err}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("$__file{{{path}}}: file {path:?} is not valid UTF-8"))?;
    Ok(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn env(name: &str) -> Option<String> {
        match name {
            "POD_IP" => Some("10.0.0.7".into()),
            "EMPTY" => Some(String::new()),
            "HOSTNAME" => Some("from-env".into()),
            _ => None,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn expands_environment_references() {
        let cases = [
            ("${POD_IP}:9094", "10.0.0.7:9094"),
            ("$__env{POD_IP}", "10.0.0.7"),
            ("${UNSET}x", "x"),
            ("${EMPTY}", ""),
            ("${HOSTNAME}", "from-env"),
            ("no references", "no references"),
            ("$POD_IP and ${} stay", "$POD_IP and ${} stay"),
            ("${POD_IP}${POD_IP}", "10.0.0.710.0.0.7"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input, &env).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn hostname_falls_back_to_the_machine_name() {
        let machine = hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(!machine.is_empty());
        assert_eq!(expand("${HOSTNAME}", &no_env), Ok(machine.clone()));
        let empty = |_: &str| Some(String::new());
        assert_eq!(expand("$__env{HOSTNAME}", &empty), Ok(machine));
    }

    #[test]
    fn file_references_are_read_and_trimmed() {
        let dir = TempDir::new("expand");
        let path = dir.write("secret.txt", "  s3cr3t \n\n");
        let input = format!("pw=$__file{{{}}}", path.display());
        assert_eq!(expand(&input, &no_env), Ok("pw=s3cr3t".to_string()));
    }

    #[test]
    fn missing_files_and_unknown_expanders_are_errors() {
        let dir = TempDir::new("expand-missing");
        let missing = dir.path().join("nope.txt");
        let input = format!("$__file{{{}}}", missing.display());
        let err = expand(&input, &no_env).expect_err("missing file");
        assert!(err.contains(&missing.display().to_string()), "{err}");
        assert!(err.contains("cannot read file"), "{err}");

        let err = expand("$__vault{secret/x}", &no_env).expect_err("unknown expander");
        assert!(err.starts_with("unknown expander $__vault:"), "{err}");
    }

    #[test]
    fn expanded_text_is_not_expanded_again() {
        let env = |name: &str| (name == "A").then(|| "${B}".to_string());
        assert_eq!(expand("${A}", &env), Ok("${B}".to_string()));
    }
}
