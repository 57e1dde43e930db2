//! The command line: `--version`, `check-config`, argument errors.

mod common;

use std::process::Command;

use common::{TempDir, binary};

#[test]
fn version_names_commit() {
    let out = Command::new(binary())
        .arg("--version")
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("watchkeeper {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("commit"), "{text}");
}

/// Runs `check-config` on a file with `contents`; returns the output and the file's path.
fn check_config(dir: &TempDir, contents: &str) -> (std::process::Output, String) {
    let file = dir.path().join("custom.ini");
    std::fs::write(&file, contents).expect("write");
    let out = Command::new(binary())
        .args(["check-config", "--homepath"])
        .arg(dir.path())
        .arg("--config")
        .arg(&file)
        .output()
        .expect("run");
    (out, file.display().to_string())
}

#[test]
fn check_config_reports_every_problem_with_its_place() {
    let dir = TempDir::new("cfg");
    let (out, path) = check_config(
        &dir,
        "[server]\nhttp_port = abc\n\n[database]\ntype = oracle\n\n[unified_alerting]\nmin_interval = 15s\nha_peer_timeout = 15s\n",
    );
    assert!(!out.status.success(), "three mistakes must fail");
    let err = String::from_utf8_lossy(&out.stderr);
    for (line, section, key) in [
        (2, "[server]", "http_port"),
        (5, "[database]", "type"),
        (8, "[unified_alerting]", "min_interval"),
    ] {
        let hit = err.lines().any(|l| {
            l.contains(&format!("{path}:{line}")) && l.contains(section) && l.contains(key)
        });
        assert!(
            hit,
            "no line names {path}:{line} {section} {key} in:\n{err}"
        );
    }
    assert!(err.contains("3 problem"), "{err}");
}

#[test]
fn check_config_accepts_defaults_and_warns_on_unknown_keys() {
    let dir = TempDir::new("cfg-ok");
    let (out, _) = check_config(&dir, "[server]\nhttp_port = 3001\nno_such_key = 1\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning") && err.contains("no_such_key"),
        "{err}"
    );
}

#[test]
fn bad_override_argument_is_refused() {
    let out = Command::new(binary())
        .args(["check-config", "server.http_port=1"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cfg:section.key=value"));
}

#[test]
fn missing_config_file_is_an_error() {
    let out = Command::new(binary())
        .args(["check-config", "--config", "/nonexistent/watchkeeper.ini"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/watchkeeper.ini"));
}
