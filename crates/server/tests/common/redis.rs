//! A real `redis-server` per test (Debian's 7.0 binary, built with TLS) on a free loopback port,
//! in a temporary directory, without persistence, reachable only as the ACL user `wk` (the
//! default user is disabled); Redis Clusters and Sentinel setups of them, plain or TLS-only
//! (client certificates required, made by [`TestPki`]); and servers clustered through them
//! (Redis HA).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ha::AM_API;
use super::{Server, Start, TempDir, free_port, wait_cluster_ready};

/// The ACL user the servers and `redis-cli` authenticate as.
pub const REDIS_USER: &str = "wk";
/// Its password.
pub const REDIS_PASSWORD: &str = "wk-secret";
/// The key prefix the servers are given (the product appends `:`).
pub const REDIS_PREFIX: &str = "wktest";

/// Whether `redis-server` and `redis-cli` are installed: `false` (skip, with the reason
/// printed) unless services are required (`WATCHKEEPER_TEST_REQUIRE_SERVICES=1`: panic).
pub fn redis_available() -> bool {
    let found = ["redis-server", "redis-cli"].iter().all(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found {
        return true;
    }
    if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("redis-server is not installed but WATCHKEEPER_TEST_REQUIRE_SERVICES=1");
    }
    eprintln!("skipping: redis-server is not installed (apt-get install redis-server)");
    false
}

/// The files a TLS client (`redis-cli`, a Redis node) presents and trusts: CA, certificate and
/// key paths.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

impl TlsFiles {
    /// `redis-cli` arguments to talk TLS with them.
    fn cli_args(&self) -> [String; 7] {
        [
            "--tls".to_owned(),
            "--cacert".to_owned(),
            self.ca.clone(),
            "--cert".to_owned(),
            self.cert.clone(),
            "--key".to_owned(),
            self.key.clone(),
        ]
    }
}

/// A running `redis-server`, killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Set for a TLS-only server (`port` is then its TLS port): what `redis-cli` presents.
    tls: Option<TlsFiles>,
    dir: TempDir,
    /// Extra configuration lines (e.g. cluster mode).
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port and waits (at most 10 s) until `wk` gets PONG.
    pub fn start() -> RedisServer {
        Self::start_with(free_port(), Vec::new())
    }

    /// Starts a server on `port` with extra configuration arguments.
    pub fn start_with(port: u16, extra: Vec<String>) -> RedisServer {
        Self::launched(port, None, extra)
    }

    /// Starts a TLS-only server (`--port 0`) on TLS port `tls_port`, serving `server.crt` of
    /// `pki` and requiring client certificates from its CA, with extra configuration arguments;
    /// its [`RedisServer::cli`] talks TLS with `client.crt`.
    pub fn start_tls_only(pki: &TestPki, tls_port: u16, extra: Vec<String>) -> RedisServer {
        let mut args = pki.redis_server_args("server");
        args.extend(extra);
        Self::launched(tls_port, Some(pki.client_files()), args)
    }

    fn launched(port: u16, tls: Option<TlsFiles>, extra: Vec<String>) -> RedisServer {
        let mut redis = RedisServer {
            child: None,
            port,
            tls,
            dir: TempDir::new("redis"),
            extra,
        };
        redis.launch();
        redis
    }

    /// `127.0.0.1:PORT` (the TLS port of a TLS-only server).
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (at most 10 s, then kills it) until it exits.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server did not stop within 10 s; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts it again on the same port and directory (empty: nothing is persisted) and waits
    /// (at most 10 s) until it answers.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Runs `redis-cli` as `wk` against it with `args`; returns its standard output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_command(args).output().expect("run redis-cli");
        assert!(
            out.status.success(),
            "redis-cli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every key (`SCAN`), or those matching `pattern`.
    pub fn keys(&self, pattern: Option<&str>) -> Vec<String> {
        let mut args = vec!["--scan"];
        if let Some(p) = pattern {
            args.extend(["--pattern", p]);
        }
        let mut keys: Vec<String> = self
            .cli(&args)
            .lines()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        keys.sort();
        keys
    }

    fn cli_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("redis-cli");
        cmd.arg("-h")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(self.port.to_string())
            .arg("--user")
            .arg(REDIS_USER)
            .arg("--pass")
            .arg(REDIS_PASSWORD)
            .arg("--no-auth-warning");
        if let Some(tls) = &self.tls {
            cmd.args(tls.cli_args());
        }
        cmd.args(args).stdin(Stdio::null());
        cmd
    }

    /// Spawns `redis-server` and waits until it answers PING.
    fn launch(&mut self) {
        let dir = self.dir.path();
        // Each `--option` starts a configuration line; the words after it are its arguments.
        // A TLS-only server listens on no plain port.
        let (plain, tls) = match &self.tls {
            Some(_) => (0, Some(self.port)),
            None => (self.port, None),
        };
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port").arg(plain.to_string());
        if let Some(tls_port) = tls {
            cmd.arg("--tls-port").arg(tls_port.to_string());
        }
        let child = cmd
            .args(["--bind", "127.0.0.1", "--protected-mode", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .args(["--user", "default", "off"])
            .args(["--user", REDIS_USER, "on"])
            .arg(format!(">{REDIS_PASSWORD}"))
            .args(["~*", "&*", "+@all"])
            .args(&self.extra)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pong = self
                .cli_command(&["PING"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG");
            if pong {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "redis-server exited ({status}) on port {}; log:\n{}",
                    self.port,
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING within 10 s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Redis Cluster of three masters (`redis-cli --cluster create`), each with the ACL user.
pub struct RedisCluster {
    /// The masters.
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers (ports whose cluster bus port, +10000, is free too),
    /// creates the cluster and waits (at most 30 s) until every node reports `cluster_state:ok`.
    pub fn start() -> RedisCluster {
        Self::start_with(None)
    }

    /// [`RedisCluster::start`] TLS-only: every node listens only on its TLS port (serving
    /// `server.crt` of `pki`, requiring client certificates), the cluster bus is TLS too
    /// (`tls-cluster`), and the cluster is created and checked by `redis-cli --tls` with
    /// `client.crt`.
    pub fn start_tls(pki: &TestPki) -> RedisCluster {
        Self::start_with(Some(pki))
    }

    fn start_with(pki: Option<&TestPki>) -> RedisCluster {
        let mut nodes = Vec::new();
        while nodes.len() < 3 {
            let port = free_port();
            if port > 55_000 || std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_err() {
                continue;
            }
            let mut extra: Vec<String> = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "5000",
            ]
            .map(str::to_owned)
            .into();
            nodes.push(match pki {
                Some(pki) => {
                    extra.extend(["--tls-cluster".to_owned(), "yes".to_owned()]);
                    RedisServer::start_tls_only(pki, port, extra)
                }
                None => RedisServer::start_with(port, extra),
            });
        }
        let mut create = vec!["--cluster".to_owned(), "create".to_owned()];
        create.extend(nodes.iter().map(RedisServer::addr));
        create.extend([
            "--cluster-replicas".into(),
            "0".into(),
            "--cluster-yes".into(),
        ]);
        let args: Vec<&str> = create.iter().map(String::as_str).collect();
        let out = nodes[0].cli(&args);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !nodes
            .iter()
            .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        {
            assert!(
                Instant::now() < deadline,
                "the redis cluster did not form: {out}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Every node names the others by the ports given (for a TLS-only cluster: the TLS
        // ports, which is what clients are redirected to).
        for n in &nodes {
            let slots = n.cli(&["CLUSTER", "SLOTS"]);
            for other in &nodes {
                assert!(
                    slots.lines().any(|l| l.trim() == other.port().to_string()),
                    "CLUSTER SLOTS on {} does not name port {}: {slots}",
                    n.port(),
                    other.port()
                );
            }
        }
        RedisCluster { nodes }
    }

    /// `ha_redis_address` for it: every node.
    pub fn addrs(&self) -> String {
        self.nodes
            .iter()
            .map(RedisServer::addr)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The `cfg:` arguments clustering a server through `redis` with short timers (no
/// `ha_peers`): the settle poll is 10 × the gossip interval, a peer waits one peer timeout per
/// position before notifying.
pub fn redis_args(redis: &RedisServer) -> Vec<String> {
    args_for(&redis.addr())
}

/// [`redis_args`] for an `ha_redis_address` value.
pub fn args_for(address: &str) -> Vec<String> {
    vec![
        format!("cfg:unified_alerting.ha_redis_address={address}"),
        format!("cfg:unified_alerting.ha_redis_username={REDIS_USER}"),
        format!("cfg:unified_alerting.ha_redis_password={REDIS_PASSWORD}"),
        format!("cfg:unified_alerting.ha_redis_prefix={REDIS_PREFIX}"),
        "cfg:unified_alerting.ha_gossip_interval=50ms".to_owned(),
        "cfg:unified_alerting.ha_push_pull_interval=1s".to_owned(),
        "cfg:unified_alerting.ha_peer_timeout=1s".to_owned(),
    ]
}

/// Starts `n` servers clustered through `redis` (each with `extra` arguments, which come last
/// and so override), one after another: each is healthy and sees itself among the members
/// before the next starts, so positions follow start order. Then waits until every one is
/// ready in a cluster of `n`.
pub async fn start_redis_cluster(redis: &RedisServer, n: usize, extra: &[&str]) -> Vec<Server> {
    start_clustered(&redis_args(redis), n, extra).await
}

/// [`start_redis_cluster`] with the base arguments given.
pub async fn start_clustered(base: &[String], n: usize, extra: &[&str]) -> Vec<Server> {
    let mut args = base.to_vec();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    start_in_order(&vec![args; n]).await
}

/// Starts one server per argument list, one after another: each is healthy and sees itself
/// among the members (`k + 1` of them) before the next starts, so positions follow start
/// order. Then waits until every one is ready in a cluster of all of them.
pub async fn start_in_order(args: &[Vec<String>]) -> Vec<Server> {
    let http = reqwest::Client::new();
    let mut servers: Vec<Server> = Vec::new();
    for (k, args) in args.iter().enumerate() {
        let s = Server::spawn(&Start {
            args: args.clone(),
            ..Start::default()
        });
        s.wait_healthy(Duration::from_secs(60)).await;
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", k + 1, &s).await;
        servers.push(s);
    }
    for s in &servers {
        let n = servers.len();
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", n, s).await;
    }
    servers
}

/// The master name the sentinels monitor.
pub const SENTINEL_MASTER: &str = "mymaster";

/// One `redis-server --sentinel`, killed when dropped.
pub struct Sentinel {
    child: Child,
    /// Its port (its TLS port when it listens with TLS only).
    pub port: u16,
    /// Set when it listens with TLS only: what `redis-cli` presents.
    tls: Option<TlsFiles>,
    dir: TempDir,
}

impl Sentinel {
    /// Runs `redis-cli` against it (no authentication; TLS when it listens with TLS) and
    /// returns its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("redis-cli");
        cmd.arg("-h")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(self.port.to_string());
        if let Some(tls) = &self.tls {
            cmd.args(tls.cli_args());
        }
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sentinel.log")).unwrap_or_default()
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A master, its replica (both with the ACL user) and three sentinels monitoring them.
pub struct RedisSentinels {
    /// The first master.
    pub master: RedisServer,
    /// Its replica (the master after a failover).
    pub replica: RedisServer,
    /// The sentinels.
    pub sentinels: Vec<Sentinel>,
}

impl RedisSentinels {
    /// Starts everything and waits (at most 60 s) until the replica has synced and every
    /// sentinel sees the master up, knows the replica and the other sentinels.
    pub fn start() -> RedisSentinels {
        Self::start_with(None)
    }

    /// [`RedisSentinels::start`] TLS-only: master, replica and sentinels listen only on TLS
    /// ports (serving `server.crt` of `pki`, requiring client certificates); replication and
    /// the sentinels' links to the master, the replica and each other are TLS too
    /// (`tls-replication`, the nodes presenting `server.crt` as client certificate).
    pub fn start_tls(pki: &TestPki) -> RedisSentinels {
        Self::start_with(Some(pki))
    }

    fn start_with(pki: Option<&TestPki>) -> RedisSentinels {
        let node = |extra: Vec<String>| match pki {
            Some(pki) => {
                let mut extra = extra;
                extra.extend(["--tls-replication".to_owned(), "yes".to_owned()]);
                RedisServer::start_tls_only(pki, free_port(), extra)
            }
            None => RedisServer::start_with(free_port(), extra),
        };
        // The master gets the replication credentials too: after a failover it is a replica of
        // the new master and must be able to sync from it.
        let master = node(vec![
            "--masteruser".into(),
            REDIS_USER.into(),
            "--masterauth".into(),
            REDIS_PASSWORD.into(),
        ]);
        let replica = node(vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            master.port().to_string(),
            "--masteruser".into(),
            REDIS_USER.into(),
            "--masterauth".into(),
            REDIS_PASSWORD.into(),
        ]);
        let mut sentinels = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let dir = TempDir::new("sentinel");
            let conf = dir.path().join("sentinel.conf");
            // A TLS sentinel announces its TLS port to the others (`tls-replication`) and
            // reaches the master, the replica and the other sentinels over TLS.
            let listen = match pki {
                Some(pki) => format!(
                    "port 0\ntls-port {port}\ntls-cert-file {cert}\ntls-key-file {key}\n\
                     tls-ca-cert-file {ca}\ntls-auth-clients yes\ntls-replication yes\n",
                    cert = pki.path("server.crt"),
                    key = pki.path("server.key"),
                    ca = pki.path("ca.crt"),
                ),
                None => format!("port {port}\n"),
            };
            std::fs::write(
                &conf,
                format!(
                    "{listen}bind 127.0.0.1\nprotected-mode no\ndir {dir}\n\
                     logfile {dir}/sentinel.log\n\
                     sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master} 2\n\
                     sentinel auth-user {SENTINEL_MASTER} {REDIS_USER}\n\
                     sentinel auth-pass {SENTINEL_MASTER} {REDIS_PASSWORD}\n\
                     sentinel down-after-milliseconds {SENTINEL_MASTER} 1000\n\
                     sentinel failover-timeout {SENTINEL_MASTER} 5000\n",
                    dir = dir.path().display(),
                    master = master.port(),
                ),
            )
            .expect("sentinel.conf");
            let child = Command::new("redis-server")
                .arg(&conf)
                .arg("--sentinel")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server --sentinel");
            sentinels.push(Sentinel {
                child,
                port,
                tls: pki.map(TestPki::client_files),
                dir,
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        // Replication works (over TLS for a TLS setup): the replica has synced.
        while !replica
            .cli(&["INFO", "replication"])
            .contains("master_link_status:up")
        {
            assert!(
                Instant::now() < deadline,
                "the replica did not sync: {}; log:\n{}",
                replica.cli(&["INFO", "replication"]),
                replica.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for s in &sentinels {
            loop {
                let flags = s
                    .cli(&["SENTINEL", "MASTER", SENTINEL_MASTER])
                    .lines()
                    .skip_while(|l| l.trim() != "flags")
                    .nth(1)
                    .map(|l| l.trim().to_owned());
                let replicas = s.cli(&["SENTINEL", "REPLICAS", SENTINEL_MASTER]);
                let others = s.cli(&["SENTINEL", "SENTINELS", SENTINEL_MASTER]);
                let known_others = others.lines().filter(|l| l.trim() == "name").count();
                if flags.as_deref() == Some("master")
                    && replicas.contains(&replica.port().to_string())
                    && known_others >= 2
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "sentinel {} does not see the master up ({flags:?}), the replica and the \
                     others: {replicas} / {others}; log:\n{}",
                    s.port,
                    s.log()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        RedisSentinels {
            master,
            replica,
            sentinels,
        }
    }

    /// `ha_redis_address`: every sentinel.
    pub fn addrs(&self) -> String {
        self.sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The port of the master the sentinels name now.
    pub fn master_port(&self) -> Option<u16> {
        let out = self.sentinels[0].cli(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_MASTER]);
        out.lines().nth(1).and_then(|p| p.trim().parse().ok())
    }

    /// `SENTINEL FAILOVER`, then waits (at most 30 s) until the replica is the master.
    pub fn failover(&self) {
        let out = self.sentinels[0].cli(&["SENTINEL", "FAILOVER", SENTINEL_MASTER]);
        assert!(out.contains("OK"), "SENTINEL FAILOVER: {out}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.master_port() != Some(self.replica.port()) {
            assert!(Instant::now() < deadline, "the failover did not complete");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Made with `openssl` in a temporary directory: a CA (`ca.crt`), certificates it signed, each
/// with its key (`*.key`): `server.crt` (only SAN `IP:127.0.0.1`), `server-dns.crt` (only SAN
/// `DNS:redis.test`) and `client.crt` (client authentication); and an unrelated CA
/// (`other-ca.crt`).
pub struct TestPki {
    dir: TempDir,
}

/// The name in `server-dns.crt`, its only subject alternative name.
pub const TLS_DNS_NAME: &str = "redis.test";

impl TestPki {
    /// Makes them (panics if `openssl` fails).
    pub fn create() -> TestPki {
        let dir = TempDir::new("pki");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        for ca in ["ca", "other-ca"] {
            run(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
                "-days",
                "2",
                "-subj",
                &format!("/CN=watchkeeper test {ca}"),
            ]);
        }
        // (file stem, subject CN, extensions)
        let leaves = [
            (
                "server",
                "server",
                "subjectAltName=IP:127.0.0.1\n".to_owned(),
            ),
            (
                "server-dns",
                TLS_DNS_NAME,
                format!("subjectAltName=DNS:{TLS_DNS_NAME}\n"),
            ),
            (
                "client",
                "client",
                "extendedKeyUsage=clientAuth\n".to_owned(),
            ),
        ];
        for (who, cn, ext) in leaves {
            std::fs::write(dir.path().join(format!("{who}.ext")), ext).expect("write .ext");
            run(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{who}.key"),
                "-out",
                &format!("{who}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{who}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{who}.crt"),
                "-days",
                "2",
                "-extfile",
                &format!("{who}.ext"),
            ]);
        }
        TestPki { dir }
    }

    /// Path of a file made (`ca.crt`, `server.key`, ...).
    pub fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }

    /// What a client presents and trusts: `ca.crt`, `client.crt`, `client.key`.
    pub fn client_files(&self) -> TlsFiles {
        TlsFiles {
            ca: self.path("ca.crt"),
            cert: self.path("client.crt"),
            key: self.path("client.key"),
        }
    }

    /// `redis-server` arguments serving `{cert}.crt` and requiring client certificates signed
    /// by `ca.crt` (the TLS port not included).
    fn redis_server_args(&self, cert: &str) -> Vec<String> {
        vec![
            "--tls-cert-file".into(),
            self.path(&format!("{cert}.crt")),
            "--tls-key-file".into(),
            self.path(&format!("{cert}.key")),
            "--tls-ca-cert-file".into(),
            self.path("ca.crt"),
            "--tls-auth-clients".into(),
            "yes".into(),
        ]
    }
}

/// A Redis server that also listens with TLS (client certificates required) on another port.
pub fn start_tls(pki: &TestPki) -> (RedisServer, u16) {
    start_tls_with(pki, "server", &[])
}

/// [`start_tls`] serving certificate `{cert}.crt` (e.g. `server-dns`), with extra
/// configuration arguments (e.g. `--tls-protocols TLSv1.2`). [`RedisServer::cli`] uses the plain
/// port.
pub fn start_tls_with(pki: &TestPki, cert: &str, extra: &[&str]) -> (RedisServer, u16) {
    let tls_port = free_port();
    let mut args = vec!["--tls-port".to_owned(), tls_port.to_string()];
    args.extend(pki.redis_server_args(cert));
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let redis = RedisServer::start_with(free_port(), args);
    (redis, tls_port)
}
