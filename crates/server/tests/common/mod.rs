//! Black-box harness: runs the built `watchkeeper` binary on a free loopback port.

#![allow(dead_code)] // Each test file uses a different part of the harness.

pub mod acceptance;
pub mod ha;
pub mod prometheus;
pub mod redis;
pub mod rules;
pub mod webhook;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_watchkeeper")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A port free for both TCP and UDP on 127.0.0.1 (memberlist uses both).
pub fn free_cluster_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind TCP");
        let port = tcp.local_addr().expect("local addr").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `cfg:` arguments making `n` servers one memberlist cluster on loopback with short gossip
/// timers: one list per server.
pub fn cluster_args(n: usize) -> Vec<Vec<String>> {
    let ports: Vec<u16> = (0..n).map(|_| free_cluster_port()).collect();
    let peers: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    ports
        .iter()
        .map(|p| {
            vec![
                format!("cfg:unified_alerting.ha_listen_address=127.0.0.1:{p}"),
                format!("cfg:unified_alerting.ha_peers={}", peers.join(",")),
                "cfg:unified_alerting.ha_gossip_interval=20ms".to_owned(),
                "cfg:unified_alerting.ha_push_pull_interval=1s".to_owned(),
            ]
        })
        .collect()
}

/// Polls an Alertmanager API v2 `/status` URL (with a bearer token, or admin basic auth when
/// the token is empty) until the cluster is `ready` with `members` peers; panics after 30 s.
pub async fn wait_cluster_ready(
    http: &reqwest::Client,
    status_url: &str,
    token: &str,
    members: usize,
    server: &Server,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = serde_json::Value::Null;
    loop {
        let rb = http.get(status_url);
        let rb = if token.is_empty() {
            rb.basic_auth("admin", Some("admin"))
        } else {
            rb.bearer_auth(token)
        };
        if let Ok(r) = rb.send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
        {
            last = v;
            let cluster = &last["cluster"];
            if cluster["status"] == "ready"
                && cluster["peers"].as_array().map(Vec::len) == Some(members)
            {
                return last;
            }
        }
        assert!(
            Instant::now() < deadline,
            "cluster not ready with {members} members; last status {last}; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("wk-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server process with its captured log.
pub struct Server {
    child: Child,
    /// The IP its HTTP server listens on.
    pub host: String,
    pub port: u16,
    pub log: Arc<Mutex<String>>,
    pub home: TempDir,
}

/// Options to start a server with: `cfg:` overrides and environment variables, and where it
/// runs (a network namespace and the IP it serves HTTP on; default 127.0.0.1 here).
#[derive(Default, Clone)]
pub struct Start {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub netns: Option<String>,
    pub host: Option<String>,
}

impl Server {
    /// Starts a server; does not wait for it to be ready.
    pub fn spawn(start: &Start) -> Server {
        Self::spawn_in(start, TempDir::new("home"))
    }

    /// Starts a server on an existing homepath (e.g. one taken from a stopped server with
    /// [`Server::take_home`]); does not wait for it to be ready.
    pub fn spawn_in(start: &Start, home: TempDir) -> Server {
        let port = free_port();
        let host = start.host.clone().unwrap_or_else(|| "127.0.0.1".to_owned());
        let mut cmd = match &start.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns.as_str(), binary()]);
                c
            }
            None => Command::new(binary()),
        };
        cmd.arg("server")
            .arg("--homepath")
            .arg(home.path())
            .arg(format!("cfg:server.http_port={port}"))
            .arg(format!("cfg:server.http_addr={host}"))
            .args(&start.args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("WATCHKEEPER_") && !k.starts_with("WATCHKEEPER_TEST_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &start.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn watchkeeper");
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(mut l) = log.lock() {
                        l.push_str(&line);
                        l.push('\n');
                    }
                }
            });
        }
        Server {
            child,
            host,
            port,
            log,
            home,
        }
    }

    /// Starts a server and waits until `/api/health` answers 200.
    pub async fn start(start: &Start) -> Server {
        let s = Self::spawn(start);
        s.wait_healthy(Duration::from_secs(60)).await;
        s
    }

    /// Takes the homepath out of a (stopped) server, so a new one can start on it; this server
    /// no longer deletes it.
    pub fn take_home(&mut self) -> TempDir {
        std::mem::replace(&mut self.home, TempDir(PathBuf::new()))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.host, self.port)
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Polls `/api/health` until 200; panics with the server log on timeout or early exit.
    pub async fn wait_healthy(&self, limit: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(r) = client.get(self.url("/api/health")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server did not become healthy; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self, limit: Duration) -> ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.wait_exit(limit)
    }

    /// Waits for the process to exit by itself; kills it and panics after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop within {limit:?}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where an organization's Alertmanager configuration is read and posted.
pub const AM_CONFIG_PATH: &str = "/api/alertmanager/grafana/config/api/v1/alerts";

/// POSTs an Alertmanager configuration (Grafana JSON form) to `server` as admin.
pub async fn post_am_config(
    http: &reqwest::Client,
    server: &Server,
    config: &serde_json::Value,
) -> reqwest::Response {
    http.post(server.url(AM_CONFIG_PATH))
        .basic_auth("admin", Some("admin"))
        .json(config)
        .send()
        .await
        .expect("post config")
}

/// A client that keeps cookies, like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Logs in with a JSON form and returns the session cookie value.
pub async fn login(
    client: &reqwest::Client,
    server: &Server,
    user: &str,
    password: &str,
) -> String {
    let r = client
        .post(server.url("/login"))
        .json(&serde_json::json!({ "user": user, "password": password }))
        .send()
        .await
        .expect("login request");
    assert_eq!(r.status(), 200, "login failed; log:\n{}", server.log());
    session_cookie(&r).expect("session cookie")
}

/// The value of the session cookie set by a response.
pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("watchkeeper_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty())
}
