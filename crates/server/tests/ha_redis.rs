//! Redis HA, black box, over plain TCP: `watchkeeper` processes on loopback, each given only the
//! address and credentials of one real `redis-server` (ACL user, key prefix; no `ha_peers`),
//! form one cluster (members, positions in start order, metrics, keys only under the prefix),
//! replicate silences and their expiry, notify once per group, fail over when position 0 dies,
//! keep notifying through a Redis outage and re-form the cluster after it, and never fail to
//! start on a Redis they cannot log in to. A three-master Redis Cluster and a Sentinel setup
//! (through a `SENTINEL FAILOVER`) pass the same checks ([`common::ha::the_same_checks`]). TLS
//! to Redis, in all three modes, is tested in `ha_redis_tls.rs`. Every wait is a bounded poll;
//! "nothing more arrives" checks watch a fixed window after the last timer that could fire.
//! Skipped (with the reason printed) when `redis-server` is not installed, unless
//! `WATCHKEEPER_TEST_REQUIRE_SERVICES=1`.

mod common;

use std::time::Duration;

use common::ha::{
    AM_API, assert_start_order, configure, count_after_first, eventually, hook_config, metric,
    notifications, peer_names, post_alerts, post_silence, silence_body, silence_state,
    the_same_checks, wait_silence_state,
};
use common::redis::{
    REDIS_PREFIX, RedisCluster, RedisSentinels, RedisServer, SENTINEL_MASTER, args_for, redis_args,
    redis_available, start_clustered, start_redis_cluster,
};
use common::webhook::Collector;
use common::{Server, Start, wait_cluster_ready};
use serde_json::{Value, json};

/// Polls `server`'s status until the cluster is `ready` with `members` peers, for at most
/// `secs`; panics with the last status and the server log.
async fn wait_members(http: &reqwest::Client, server: &Server, members: usize, secs: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut last = Value::Null;
    loop {
        if let Ok(r) = http
            .get(server.url(&format!("{AM_API}/status")))
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            && let Ok(v) = r.json::<Value>().await
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
            tokio::time::Instant::now() < deadline,
            "not ready with {members} members within {secs} s; last status {last}; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_one_redis() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let servers = start_redis_cluster(&redis, 3, &[]).await;
    let http = reqwest::Client::new();
    let names = assert_start_order(&http, &servers).await;
    assert_eq!(names.len(), 3);
    assert!(
        names
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == 3,
        "distinct names: {names:?}"
    );
    for (k, s) in servers.iter().enumerate() {
        let what = format!("alertmanager_cluster_members is 3 on server {k}");
        eventually(10, &what, || async {
            (metric(&http, s, "alertmanager_cluster_members").await == Some(3.0)).then_some(())
        })
        .await;
    }

    // The membership lives in Redis, under the prefix and nowhere else.
    let prefixed = redis.keys(Some(&format!("{REDIS_PREFIX}:*")));
    assert!(
        !prefixed.is_empty(),
        "no {REDIS_PREFIX}:* key in Redis; log of server 0:\n{}",
        servers[0].log()
    );
    let all = redis.keys(None);
    let outside: Vec<&String> = all
        .iter()
        .filter(|k| !k.starts_with(&format!("{REDIS_PREFIX}:")))
        .collect();
    assert!(outside.is_empty(), "keys outside the prefix: {outside:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_notification_per_group_and_silences_propagate() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let servers = start_redis_cluster(&redis, 3, &[]).await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;

    // Every instance gets the alert; only one notifies. The window covers positions 1 and 2
    // waking (1 s and 2 s after the flush) with margin.
    let alert = json!([{"labels": {"alertname": "Once"}}]);
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    assert_eq!(
        count_after_first(&hook, "Once", Duration::from_secs(4)).await,
        1,
        "{:?}",
        hook.requests()
    );

    // A silence made on the third instance reaches the other two; its expiry on the first
    // reaches every instance.
    let id = post_silence(&http, &servers[2], &silence_body("over redis")).await;
    wait_silence_state(&http, &servers[..2], &id, "active").await;
    let r = http
        .delete(servers[0].url(&format!("{AM_API}/silence/{id}")))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), 200, "log:\n{}", servers[0].log());
    wait_silence_state(&http, &servers, &id, "expired").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_position_zero_fails_over() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let mut servers = start_redis_cluster(&redis, 3, &[]).await;
    let names = assert_start_order(&http, &servers).await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;

    // Position 0 (the first started) dies without a word (SIGKILL); the others still count it
    // until its heartbeat expires, so position 1 waits one peer timeout, finds no
    // notification logged, and sends; position 2 then skips.
    drop(servers.remove(0));
    let alert = json!([{"labels": {"alertname": "Failover"}}]);
    let pushed = tokio::time::Instant::now();
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    hook.wait_for(
        Duration::from_secs(30),
        || {
            format!(
                "no failover notification; logs:\n{}\n---\n{}",
                servers[0].log(),
                servers[1].log()
            )
        },
        |got| (notifications(got, "Failover") > 0).then_some(()),
    )
    .await;
    // Group wait (0.5 s) plus one peer timeout (1 s), with a margin for loaded machines.
    let took = pushed.elapsed();
    assert!(took < Duration::from_secs(3), "failover took {took:?}");
    assert_eq!(
        count_after_first(&hook, "Failover", Duration::from_secs(4)).await,
        1,
        "{:?}",
        hook.requests()
    );

    // The dead member's heartbeat expires (60 s by default): the survivors see two members,
    // still in start order.
    for s in &servers {
        let status = wait_members(&http, s, 2, 90).await;
        assert_eq!(peer_names(&status), names[1..], "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_keeps_notifying_and_the_cluster_reforms() {
    if !redis_available() {
        return;
    }
    let mut redis = RedisServer::start();
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let servers = start_redis_cluster(&redis, 3, &[]).await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;

    redis.stop();
    let outage = tokio::time::Instant::now();
    // Availability over consistency: without Redis every instance may notify, but at least
    // one does.
    let alert = json!([{"labels": {"alertname": "DuringOutage"}}]);
    let pushed = tokio::time::Instant::now();
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    hook.wait_for(
        Duration::from_secs(10),
        || {
            let logs: Vec<String> = servers.iter().map(Server::log).collect();
            format!(
                "no notification during the Redis outage; logs:\n{}",
                logs.join("\n---\n")
            )
        },
        |got| (notifications(got, "DuringOutage") > 0).then_some(()),
    )
    .await;
    eprintln!(
        "first DuringOutage notification {:?} after the push",
        pushed.elapsed()
    );
    tokio::time::sleep_until(outage + Duration::from_secs(20)).await;
    eprintln!(
        "DuringOutage notifications during the 20 s outage: {}",
        notifications(&hook.requests(), "DuringOutage")
    );

    // Redis comes back empty (nothing persisted): every instance registers again.
    redis.restart();
    for s in &servers {
        wait_members(&http, s, 3, 60).await;
    }
    let id = post_silence(&http, &servers[0], &silence_body("after the outage")).await;
    wait_silence_state(&http, &servers[1..], &id, "active").await;
    eprintln!(
        "DuringOutage notifications in all: {}",
        notifications(&hook.requests(), "DuringOutage")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_password_is_logged_not_fatal() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let args: Vec<String> = redis_args(&redis)
        .into_iter()
        .map(|a| {
            if a.starts_with("cfg:unified_alerting.ha_redis_password=") {
                "cfg:unified_alerting.ha_redis_password=not-the-password".to_owned()
            } else {
                a
            }
        })
        .collect();
    let server = Server::start(&Start {
        args,
        ..Start::default()
    })
    .await;
    let servers = [server];
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;
    post_alerts(
        &http,
        &servers[0],
        &json!([{"labels": {"alertname": "Alone"}}]),
    )
    .await;
    assert_eq!(
        count_after_first(&hook, "Alone", Duration::from_secs(3)).await,
        1,
        "{:?}",
        hook.requests()
    );
    // Still serving, and the Redis error is in the log: a line naming Redis that is a warning
    // or an error (or names the refused login).
    let r = http
        .get(servers[0].url("/api/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), 200);
    let s = &servers[0];
    eventually(30, "the log mentions the Redis error", || async {
        let log = s.log().to_lowercase();
        let cues = [
            "wrongpass",
            "auth",
            "password",
            "denied",
            "error",
            "fail",
            "warn",
        ];
        log.lines()
            .any(|l| l.contains("redis") && cues.iter().any(|c| l.contains(c)))
            .then_some(())
    })
    .await;
}

/// A three-master Redis Cluster (`redis-cli --cluster create`), all masters given as
/// `ha_redis_address` with `ha_redis_cluster_mode_enabled`: the instances form one cluster in
/// start order and pass the same checks as with a standalone Redis (membership is one key, so no
/// cross-slot command; pub/sub goes through one node and reaches the whole cluster).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_works_the_same() {
    if !redis_available() {
        return;
    }
    let redis = RedisCluster::start();
    let mut base = args_for(&redis.addrs());
    base.push("cfg:unified_alerting.ha_redis_cluster_mode_enabled=true".to_owned());
    let servers = start_clustered(&base, 3, &[]).await;
    let http = reqwest::Client::new();
    assert_start_order(&http, &servers).await;

    let hook = Collector::start().await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;
    let mut servers = servers;
    the_same_checks(&http, &hook, &mut servers, "Cluster").await;
}

/// Sentinel: one master, one replica and three sentinels, the sentinels given as
/// `ha_redis_address` with `ha_redis_sentinel_mode_enabled`. The instances find the master
/// through the sentinels, form one cluster and pass the same checks as with a standalone Redis;
/// then a `SENTINEL FAILOVER` does not stop notifications or lose silences, silences made after it
/// still replicate, and with a newcomer the same checks pass again through the new master.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failover_keeps_notifying_and_silences() {
    if !redis_available() {
        return;
    }
    let redis = RedisSentinels::start();
    let mut base = args_for(&redis.addrs());
    base.push("cfg:unified_alerting.ha_redis_sentinel_mode_enabled=true".to_owned());
    base.push(format!(
        "cfg:unified_alerting.ha_redis_sentinel_master_name={SENTINEL_MASTER}"
    ));
    let mut servers = start_clustered(&base, 3, &[]).await;
    let http = reqwest::Client::new();
    assert_start_order(&http, &servers).await;
    let hook = Collector::start().await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;
    // The same checks as everywhere (position 0 is killed at their end: two instances remain).
    the_same_checks(&http, &hook, &mut servers, "Sentinel").await;
    let before = json!([{"labels": {"alertname": "BeforeFailover"}}]);
    for s in &servers {
        post_alerts(&http, s, &before).await;
    }
    assert_eq!(
        count_after_first(&hook, "BeforeFailover", Duration::from_secs(4)).await,
        1
    );
    let kept = post_silence(&http, &servers[0], &silence_body("before the failover")).await;
    for s in &servers[1..] {
        eventually(10, "the silence reaches the others", || async {
            silence_state(&http, s, &kept).await.map(|_| ())
        })
        .await;
    }

    redis.failover();

    let after = json!([{"labels": {"alertname": "AfterFailover"}}]);
    for s in &servers {
        post_alerts(&http, s, &after).await;
    }
    let n = count_after_first(&hook, "AfterFailover", Duration::from_secs(4)).await;
    println!("notifications right after the failover: {n}");
    assert!(n >= 1);
    let made_after = post_silence(&http, &servers[1], &silence_body("after the failover")).await;
    for s in &servers {
        assert_eq!(
            silence_state(&http, s, &kept).await.as_deref(),
            Some("active"),
            "a silence was lost"
        );
        eventually(
            15,
            "a silence made after the failover replicates",
            || async { silence_state(&http, s, &made_after).await.map(|_| ()) },
        )
        .await;
    }
    // The cluster is whole again: both instances see each other through the new master.
    for s in &servers {
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", 2, s).await;
    }
    // A new instance joins through the new master, and the same checks pass again after the
    // failover (the instances follow the master the sentinels name, not only failing writes).
    let extra = Server::spawn(&Start {
        args: base.clone(),
        ..Start::default()
    });
    extra.wait_healthy(Duration::from_secs(60)).await;
    configure(
        &http,
        std::slice::from_ref(&extra),
        &hook_config(&hook.url, "500ms"),
    )
    .await;
    servers.push(extra);
    for s in &servers {
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", 3, s).await;
    }
    the_same_checks(&http, &hook, &mut servers, "After").await;
}
