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
