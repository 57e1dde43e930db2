//! Three Redis peers on the test Redis (`WATCHKEEPER_TEST_REDIS_URL`), under a prefix of their
//! own: they settle, take positions in start order, deliver pushed updates through pub/sub,
//! hand a newcomer the full state it asks for, and a leaving peer drops out at once.

use std::sync::Arc;
use std::time::Duration;

use wk_cluster::metrics::ClusterMetrics;
use wk_cluster::redis::{RedisOptions, RedisPeer, Target};
use wk_cluster::{Peer, State};

mod common;
use common::Set;

/// `host:port` of the test Redis, or `None` (skip) unless services are required.
fn redis_addr() -> Option<String> {
    match std::env::var("WATCHKEEPER_TEST_REDIS_URL") {
        Ok(url) => {
            let rest = url.strip_prefix("redis://").unwrap_or(&url);
            Some(rest.trim_end_matches('/').to_owned())
        }
        Err(_) => {
            assert!(
                std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "WATCHKEEPER_TEST_REDIS_URL is required"
            );
            eprintln!("skipping: WATCHKEEPER_TEST_REDIS_URL is not set");
            None
        }
    }
}

async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peers_over_redis() {
    let Some(addr) = redis_addr() else { return };
    let prefix = format!("wk-test-{}-{}", std::process::id(), rand_suffix());
    let options = |name: &str| {
        let mut o = RedisOptions::new(Target::standalone(addr.clone()), &prefix);
        o.name = Some(name.to_owned());
        o.gossip_interval = Duration::from_millis(20);
        o.push_pull_interval = Duration::from_secs(30);
        o.settle_timeout = Duration::from_secs(5);
        o
    };
    let mut peers = Vec::new();
    let mut states = Vec::new();
    // Names sort against the start order: positions must follow the start time, not the name.
    for name in ["c", "b", "a"] {
        let p = RedisPeer::create(options(name), ClusterMetrics::new()).unwrap();
        let s = Arc::new(Set::default());
        if name == "c" {
            s.merge(b"before").unwrap();
        }
        let ch = p.add_state("sil", Arc::clone(&s) as Arc<dyn State>);
        p.join().await;
        peers.push(p);
        states.push((s, ch));
        // Start times are in milliseconds: keep them distinct.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eventually(10, "every peer ready with three members", || {
        peers
            .iter()
            .all(|p| p.ready() && p.status().unwrap().peers.len() == 3)
    })
    .await;
    let positions: Vec<u32> = peers.iter().map(|p| p.position()).collect();
    assert_eq!(positions, vec![0, 1, 2]);
    let names: Vec<String> = peers[2]
        .status()
        .unwrap()
        .peers
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["c", "b", "a"]);

    // The newcomers asked for full state once settled and got what "c" had.
    eventually(10, "full state reached the newcomers", || {
        states.iter().all(|(s, _)| s.has(b"before"))
    })
    .await;
    // A pushed update reaches everyone; a relay (broadcast) is not sent over Redis.
    states[2].1.push(b"pushed".to_vec());
    states[1].1.broadcast(b"relayed".to_vec());
    eventually(5, "the pushed update arrives", || {
        states.iter().all(|(s, _)| s.has(b"pushed"))
    })
    .await;
    assert!(!states[0].0.has(b"relayed"));

    // A leaving peer removes itself: the others see two members at their next heartbeat.
    peers[0].leave().await;
    eventually(5, "two members left", || {
        peers[1..]
            .iter()
            .all(|p| p.status().unwrap().peers.len() == 2)
    })
    .await;
    assert_eq!(peers[1].position(), 0);
    for p in &peers[1..] {
        p.leave().await;
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}
