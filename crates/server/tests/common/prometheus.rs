//! Running Debian's `prometheus` binary beside the server in black-box tests.

use std::process::{Child, Command};

/// A child process killed (and reaped) when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Prometheus binary, or `None` (skip) unless services are required.
pub fn prometheus_binary() -> Option<&'static str> {
    let found = Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("prometheus");
    }
    if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("prometheus is not installed but WATCHKEEPER_TEST_REQUIRE_SERVICES=1");
    }
    eprintln!("skipping: the prometheus binary is not installed (apt-get install prometheus)");
    None
}

/// Writes a `prometheus-alertmanager` configuration into `dir` that sends every group (by
/// alertname, 1 s waits) to the webhook at `hook_url`; returns its path.
pub fn alertmanager_config(dir: &std::path::Path, hook_url: &str) -> std::path::PathBuf {
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  \
             group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    \
             webhook_configs:\n      - url: {hook_url}\n"
        ),
    )
    .expect("alertmanager config");
    config
}
