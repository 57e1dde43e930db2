//! The servers under test: starting them in temporary directories on free ports, waiting for
//! them to answer, and reading their CPU time and resident memory from `/proc`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/wk-bench-<tag>-<pid>`, emptied first.
    pub fn new(tag: &str) -> Result<Self> {
        let p = std::env::temp_dir().join(format!("wk-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(Self(p))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

/// A port on 127.0.0.1 free for both TCP and UDP (memberlist gossips over UDP and pushes and
/// pulls state over TCP on the same port).
pub fn free_cluster_port() -> Result<u16> {
    for _ in 0..100 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
        let port = tcp.local_addr().context("finding a free port")?.port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no port free for both TCP and UDP on 127.0.0.1")
}

/// `n` distinct ports from `pick` (a port released by one call may be handed out again).
pub fn distinct_ports(n: usize, pick: impl Fn() -> Result<u16>) -> Result<Vec<u16>> {
    let mut ports: Vec<u16> = Vec::with_capacity(n);
    for _ in 0..n * 20 {
        if ports.len() == n {
            break;
        }
        let p = pick()?;
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    if ports.len() < n {
        bail!("could not find {n} distinct free ports");
    }
    Ok(ports)
}

/// A running server process; killed (and its directory removed) on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    log: PathBuf,
    // Dropped after the child is killed (field order), so the directory is removed last.
    _dir: TempDir,
}

impl Server {
    /// Starts `program args…` with stdout and stderr going to `<dir>/server.log`.
    pub fn spawn(program: &Path, args: &[String], port: u16, dir: TempDir) -> Result<Self> {
        let log = dir.path().join("server.log");
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("duplicating the log file handle")?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env_remove("RUST_LOG");
        for (k, _) in std::env::vars() {
            if k.starts_with("WATCHKEEPER_") {
                cmd.env_remove(k);
            }
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        Ok(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Polls `base + path` until it answers 200; fails with the log tail after `limit` or if
    /// the process exits.
    pub async fn wait_ready(
        &mut self,
        client: &reqwest::Client,
        path: &str,
        limit: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + limit;
        let url = format!("{}{path}", self.base);
        loop {
            if let Ok(r) = client.get(&url).send().await
                && r.status() == 200
            {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                bail!(
                    "server exited with {status} before it was ready; log:\n{}",
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "server not ready after {limit:?}; log:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, else 100).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// `utime + stime` of a process in seconds (`pid` "self" for this process).
pub fn cpu_seconds(pid: &str, ticks: f64) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are
    // state (3), …, utime (14), stime (15).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .with_context(|| format!("unexpected {path}: {stat:?}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Result<f64> {
        fields
            .get(n - 3)
            .and_then(|s| s.parse::<u64>().ok())
            .map(|v| v as f64)
            .with_context(|| format!("field {n} missing in {path}"))
    };
    Ok((field(14)? + field(15)?) / ticks)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`) in bytes.
pub fn status_bytes(pid: u32, key: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .with_context(|| format!("{key} missing in {path}"))
}

/// Waits until the process has used under 2% of a core over a 250 ms window (asynchronous
/// work such as dispatching has caught up), at most `limit`. Returns the time waited.
pub async fn wait_idle(pid: u32, ticks: f64, limit: Duration) -> Result<Duration> {
    let start = Instant::now();
    let window = Duration::from_millis(250);
    let pid = pid.to_string();
    loop {
        let before = cpu_seconds(&pid, ticks)?;
        tokio::time::sleep(window).await;
        let used = cpu_seconds(&pid, ticks)? - before;
        if used < 0.02 * window.as_secs_f64() || start.elapsed() >= limit {
            return Ok(start.elapsed());
        }
    }
}

/// The 1-, 5- and 15-minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// A `perf record` attached to a server for one phase; stopped with SIGINT by [`Perf::stop`].
pub struct Perf(Child);

impl Perf {
    /// Starts `perf record <extra…> -p <pid> -o <out>` and gives it half a second to attach.
    pub async fn start(pid: u32, out: &Path, extra: &[String]) -> Result<Self> {
        let child = Command::new("perf")
            .arg("record")
            .args(extra)
            .arg("-p")
            .arg(pid.to_string())
            .arg("-o")
            .arg(out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting perf record")?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(Self(child))
    }

    /// Sends SIGINT (perf then writes its file) and waits for it to exit.
    pub fn stop(mut self) -> Result<()> {
        Command::new("kill")
            .arg("-INT")
            .arg(self.0.id().to_string())
            .status()
            .context("signalling perf")?;
        self.0.wait().context("waiting for perf")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let ticks = clock_ticks();
        assert!(cpu_seconds("self", ticks).expect("stat") >= 0.0);
        assert!(status_bytes(std::process::id(), "VmRSS").expect("status") > 0);
        assert!(status_bytes(std::process::id(), "NoSuchKey").is_err());
        assert_eq!(load_average().split_whitespace().count(), 3);
    }

    #[test]
    fn cluster_ports_are_distinct_and_free_for_udp() {
        let ports = distinct_ports(6, free_cluster_port).expect("ports");
        assert_eq!(ports.len(), 6);
        for (i, p) in ports.iter().enumerate() {
            assert!(!ports[..i].contains(p));
            assert!(std::net::UdpSocket::bind(("127.0.0.1", *p)).is_ok());
        }
        // Only two distinct values: asking for three fails instead of looping forever.
        let cycle = std::cell::Cell::new(0u16);
        let two = || {
            cycle.set(cycle.get() % 2 + 1);
            Ok(cycle.get())
        };
        assert_eq!(distinct_ports(2, two).expect("two"), vec![1, 2]);
        assert!(distinct_ports(3, two).is_err());
    }
}
