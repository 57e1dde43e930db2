//! The real Alertmanager's `amtool` (Debian package `prometheus-alertmanager` 0.25) as an oracle.

#![allow(dead_code)] // Each test file uses part of this module.

use std::path::Path;
use std::process::Command;

/// What amtool answered.
pub struct Answer {
    /// Exit status was success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Whether amtool can be run. Without it, a test prints why it skips the comparison, or panics
/// when `WATCHKEEPER_TEST_REQUIRE_SERVICES=1` (CI), so CI never passes without the oracle.
pub fn available(what: &str) -> bool {
    let found = Command::new("amtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let reason = "amtool is not on PATH (Debian package prometheus-alertmanager)";
        if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("{reason}, but WATCHKEEPER_TEST_REQUIRE_SERVICES=1");
        }
        eprintln!("skipping {what}: {reason}");
    }
    found
}

/// Runs amtool with a fixed time zone and locale so its output does not depend on the machine.
pub fn amtool(args: &[&str]) -> Answer {
    let out = Command::new("amtool")
        .args(args)
        .env("TZ", "UTC")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("running amtool: {e}"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Answer {
        ok: out.status.success(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

/// `amtool check-config FILE`.
pub fn check_config(file: &Path) -> Answer {
    let path = file.to_string_lossy();
    amtool(&["check-config", &path])
}
