//! Redis HA over TLS, black box: `watchkeeper` processes on loopback cluster through real
//! `redis-server` processes that listen with TLS and require client certificates (made for the
//! test by `openssl`, [`TestPki`]), and every `[unified_alerting] ha_redis_tls_*` setting is
//! honoured: the CA and the client certificate, the server name checked (and sent) instead of
//! the dialled host, skipping verification, the minimum version and the TLS 1.2 cipher suites.
//! A server that cannot be verified or a handshake that fails is logged ("redis unreachable"
//! with the cause), is not fatal, and leaves the instance on its own; a version or cipher suite
//! the client cannot honour is a start-up error naming the key, in every mode. A TLS-only Redis
//! Cluster (`tls-cluster`) and a TLS-only Sentinel setup (`tls-replication`: sentinels, master
//! and replica all TLS) pass the same checks as plain Redis ([`the_same_checks`]). Every wait
//! is a bounded poll. Skipped (with the reason printed) when `redis-server` is not installed,
//! unless `WATCHKEEPER_TEST_REQUIRE_SERVICES=1`.

mod common;

use std::time::Duration;

use common::ha::{
    AM_API, assert_start_order, configure, eventually, get, hook_config, peer_names, post_silence,
    silence_body, silence_state, the_same_checks,
};
use common::redis::{
    REDIS_PREFIX, RedisCluster, RedisSentinels, RedisServer, SENTINEL_MASTER, TLS_DNS_NAME,
    TestPki, args_for, redis_available, start_clustered, start_in_order, start_tls, start_tls_with,
};
use common::webhook::Collector;
use common::{Server, Start, free_port, wait_cluster_ready};

/// The `cfg:` arguments clustering a server through Redis at `address` over TLS: trusting
/// `ca` (a file of `pki`), presenting `client.crt`, plus `settings` (`unified_alerting` key,
/// value), which come last and so override.
fn tls_args(pki: &TestPki, address: &str, ca: &str, settings: &[(&str, &str)]) -> Vec<String> {
    let mut a = args_for(address);
    a.extend([
        "cfg:unified_alerting.ha_redis_tls_enabled=true".to_owned(),
        format!("cfg:unified_alerting.ha_redis_tls_ca_path={}", pki.path(ca)),
        format!(
            "cfg:unified_alerting.ha_redis_tls_cert_path={}",
            pki.path("client.crt")
        ),
        format!(
            "cfg:unified_alerting.ha_redis_tls_key_path={}",
            pki.path("client.key")
        ),
    ]);
    a.extend(
        settings
            .iter()
            .map(|(k, v)| format!("cfg:unified_alerting.{k}={v}")),
    );
    a
}

/// How many members the membership key in `redis` holds.
fn members_in(redis: &RedisServer) -> String {
    redis
        .cli(&["ZCARD", &format!("{REDIS_PREFIX}:members")])
        .trim()
        .to_owned()
}

/// Starts a server with `args` that cannot talk to Redis, and checks it stays out: it serves,
/// logs a "redis unreachable" line naming one of `causes` (lower case), and is a cluster of
/// itself.
async fn start_stranger(http: &reqwest::Client, args: Vec<String>, causes: &[&str]) -> Server {
    let s = Server::spawn(&Start {
        args,
        ..Start::default()
    });
    s.wait_healthy(Duration::from_secs(60)).await;
    let what = format!("a \"redis unreachable\" line naming one of {causes:?} is logged");
    let logged = eventually(30, &what, || async {
        let log = s.log();
        log.lines()
            .find(|l| {
                let l = l.to_lowercase();
                l.contains("redis unreachable") && causes.iter().any(|c| l.contains(c))
            })
            .map(str::to_owned)
    })
    .await;
    eprintln!("the stranger logged: {logged}");
    wait_cluster_ready(http, &s.url(&format!("{AM_API}/status")), "", 1, &s).await;
    s
}

/// Asserts that each of `servers` still sees exactly `n` members.
async fn assert_members(http: &reqwest::Client, servers: &[Server], n: usize) {
    for (k, s) in servers.iter().enumerate() {
        let status = get(http, s, "/status").await;
        assert_eq!(peer_names(&status).len(), n, "server {k}: {status}");
    }
}

/// TLS: Redis listens with TLS and requires client certificates. Two instances given the CA,
/// a client certificate and key form one cluster over it; an instance trusting another CA
/// refuses the server's certificate, logs why, and stays out (it notifies alone rather than not
/// at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_verified_certificates() {
    if !redis_available() {
        return;
    }
    let pki = TestPki::create();
    let (redis, tls_port) = start_tls(&pki);
    let tls = |ca: &str| {
        tls_args(
            &pki,
            &format!("127.0.0.1:{tls_port}"),
            ca,
            &[
                ("ha_redis_tls_server_name", "127.0.0.1"),
                ("ha_redis_tls_min_version", "VersionTLS12"),
            ],
        )
    };
    let servers = start_clustered(&tls("ca.crt"), 2, &[]).await;
    let http = reqwest::Client::new();
    assert_start_order(&http, &servers).await;
    assert_eq!(members_in(&redis), "2");

    let _stranger = start_stranger(&http, tls("other-ca.crt"), &["certificate"]).await;
    assert_eq!(members_in(&redis), "2");
    assert_members(&http, &servers, 2).await;
}

/// `ha_redis_tls_server_name`: Redis serves a certificate whose only name is `redis.test`, and
/// is dialled as `127.0.0.1`. Two instances checking the certificate against `redis.test` form
/// one cluster (in start order); an instance without the server name checks it against
/// `127.0.0.1`, refuses it, logs why and stays out; an instance with
/// `ha_redis_tls_insecure_skip_verify` joins although it trusts another CA and names no server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_server_name_and_insecure_skip_verify() {
    if !redis_available() {
        return;
    }
    let pki = TestPki::create();
    let (redis, tls_port) = start_tls_with(&pki, "server-dns", &[]);
    let address = format!("127.0.0.1:{tls_port}");
    let named = tls_args(
        &pki,
        &address,
        "ca.crt",
        &[("ha_redis_tls_server_name", TLS_DNS_NAME)],
    );
    let http = reqwest::Client::new();
    let mut servers = start_clustered(&named, 2, &[]).await;
    assert_start_order(&http, &servers).await;
    assert_eq!(members_in(&redis), "2");

    let unnamed = tls_args(&pki, &address, "ca.crt", &[]);
    let _stranger = start_stranger(&http, unnamed, &["certificate"]).await;
    assert_eq!(members_in(&redis), "2");
    assert_members(&http, &servers, 2).await;

    let insecure = tls_args(
        &pki,
        &address,
        "other-ca.crt",
        &[("ha_redis_tls_insecure_skip_verify", "true")],
    );
    let joined = Server::spawn(&Start {
        args: insecure,
        ..Start::default()
    });
    joined.wait_healthy(Duration::from_secs(60)).await;
    servers.push(joined);
    for s in &servers {
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", 3, s).await;
    }
    assert_start_order(&http, &servers).await;
    assert_eq!(members_in(&redis), "3");
}

/// `ha_redis_tls_min_version` and `ha_redis_tls_cipher_suites`: Redis speaks only TLS 1.2 with
/// only ECDHE-RSA-AES256-GCM-SHA384. An instance requiring TLS 1.3 and one allowing only
/// AES-128-GCM fail the handshake, log it and stay out; two allowing AES-256-GCM (one of them
/// listing AES-128-GCM first, one also giving `VersionTLS10`, which means TLS 1.2 or later)
/// form one cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_versions_and_cipher_suites() {
    if !redis_available() {
        return;
    }
    let pki = TestPki::create();
    let (redis, tls_port) = start_tls_with(
        &pki,
        "server",
        &[
            "--tls-protocols",
            "TLSv1.2",
            "--tls-ciphers",
            "ECDHE-RSA-AES256-GCM-SHA384",
        ],
    );
    let address = format!("127.0.0.1:{tls_port}");
    let with = |settings: &[(&str, &str)]| tls_args(&pki, &address, "ca.crt", settings);
    let http = reqwest::Client::new();
    let servers = start_in_order(&[
        with(&[
            (
                "ha_redis_tls_cipher_suites",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            ),
            ("ha_redis_tls_min_version", "VersionTLS10"),
        ]),
        with(&[(
            "ha_redis_tls_cipher_suites",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        )]),
    ])
    .await;
    assert_start_order(&http, &servers).await;
    assert_eq!(members_in(&redis), "2");

    // The cause as rustls words it ("received fatal alert: ProtocolVersion") or Go does
    // ("tls: protocol version not supported", "tls: handshake failure"); not merely "TLS
    // handshake with ...", which any TLS error says, a certificate error too.
    let version = ["protocolversion", "protocol version", "version"];
    let no_cipher = [
        "handshakefailure",
        "handshake failure",
        "handshake_failure",
        "cipher",
    ];
    let _tls13 = start_stranger(
        &http,
        with(&[("ha_redis_tls_min_version", "VersionTLS13")]),
        &version,
    )
    .await;
    let _aes128 = start_stranger(
        &http,
        with(&[(
            "ha_redis_tls_cipher_suites",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        )]),
        &no_cipher,
    )
    .await;
    assert_eq!(members_in(&redis), "2");
    assert_members(&http, &servers, 2).await;
}

/// A minimum version or a cipher suite the client cannot honour is a start-up error naming the
/// key (and the suite), in standalone, Cluster and Sentinel mode alike: the server exits
/// non-zero before talking to Redis (none runs here, so this needs no `redis-server`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tls_settings_are_start_up_errors() {
    let pki = TestPki::create();
    let address = format!("127.0.0.1:{}", free_port());
    let modes: [&[(&str, &str)]; 3] = [
        &[],
        &[("ha_redis_cluster_mode_enabled", "true")],
        &[
            ("ha_redis_sentinel_mode_enabled", "true"),
            ("ha_redis_sentinel_master_name", SENTINEL_MASTER),
        ],
    ];
    let cases: [(&str, &str, &[&str]); 2] = [
        (
            "ha_redis_tls_min_version",
            "TLS13",
            &["ha_redis_tls_min_version"],
        ),
        (
            "ha_redis_tls_cipher_suites",
            "TLS_RSA_WITH_RC4_128_SHA",
            &["ha_redis_tls_cipher_suites", "TLS_RSA_WITH_RC4_128_SHA"],
        ),
    ];
    for mode in modes {
        for (key, value, wanted) in cases {
            let mut settings = mode.to_vec();
            settings.push((key, value));
            let mut s = Server::spawn(&Start {
                args: tls_args(&pki, &address, "ca.crt", &settings),
                ..Start::default()
            });
            let status = s.wait_exit(Duration::from_secs(30));
            let log = s.log();
            assert!(
                !status.success(),
                "{key}={value} with {mode:?}: exit {status}; log:\n{log}"
            );
            let named = log.lines().find(|l| wanted.iter().all(|w| l.contains(w)));
            assert!(
                named.is_some(),
                "{key}={value} with {mode:?}: no log line naming {wanted:?}; log:\n{log}"
            );
            eprintln!("{key}={value} with {mode:?}: {}", named.unwrap_or_default());
        }
    }
}

/// A TLS-only Redis Cluster of three masters (TLS ports only, TLS cluster bus, client
/// certificates required), all given as `ha_redis_address` with
/// `ha_redis_cluster_mode_enabled`, the CA and a client certificate: the instances reach every
/// node over TLS (including the nodes the cluster redirects to), form one cluster in start order
/// and pass the same checks as with a standalone Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_redis_cluster_works_the_same() {
    if !redis_available() {
        return;
    }
    let pki = TestPki::create();
    let redis = RedisCluster::start_tls(&pki);
    let base = tls_args(
        &pki,
        &redis.addrs(),
        "ca.crt",
        &[("ha_redis_cluster_mode_enabled", "true")],
    );
    let mut servers = start_clustered(&base, 3, &[]).await;
    let http = reqwest::Client::new();
    assert_start_order(&http, &servers).await;

    let hook = Collector::start().await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;
    the_same_checks(&http, &hook, &mut servers, "TlsCluster").await;
}

/// TLS Sentinel: a master, its replica and three sentinels, all listening with TLS only and
/// requiring client certificates; the sentinels' TLS ports given as `ha_redis_address` with
/// `ha_redis_sentinel_mode_enabled`, the CA and a client certificate. The instances ask the
/// sentinels over TLS for the master, talk to the master over TLS (the membership is there),
/// form one cluster and pass the same checks as with a standalone Redis; after a `SENTINEL
/// FAILOVER` they reach the new master over TLS (a silence made then replicates).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sentinel_works_the_same() {
    if !redis_available() {
        return;
    }
    let pki = TestPki::create();
    let redis = RedisSentinels::start_tls(&pki);
    let base = tls_args(
        &pki,
        &redis.addrs(),
        "ca.crt",
        &[
            ("ha_redis_sentinel_mode_enabled", "true"),
            ("ha_redis_sentinel_master_name", SENTINEL_MASTER),
        ],
    );
    let mut servers = start_clustered(&base, 3, &[]).await;
    let http = reqwest::Client::new();
    assert_start_order(&http, &servers).await;
    assert_eq!(members_in(&redis.master), "3");

    let hook = Collector::start().await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;
    the_same_checks(&http, &hook, &mut servers, "TlsSentinel").await;

    // After a failover the instances find the new master through the sentinels and reach it
    // over TLS too: a silence made then replicates, and the cluster is whole again.
    redis.failover();
    let id = post_silence(&http, &servers[1], &silence_body("after a TLS failover")).await;
    eventually(
        15,
        "a silence made after the failover replicates",
        || async { silence_state(&http, &servers[0], &id).await.map(|_| ()) },
    )
    .await;
    for s in &servers {
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", 2, s).await;
    }
}
