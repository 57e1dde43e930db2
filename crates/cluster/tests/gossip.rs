//! Three memberlist peers on loopback with short timers: they settle, take positions 0, 1, 2 in
//! name order, replicate small updates by gossip and large ones over TCP, and exchange full
//! state on join. Every wait is a bounded poll.

use std::sync::Arc;
use std::time::Duration;

use wk_cluster::gossip::{GossipOptions, GossipPeer};
use wk_cluster::metrics::ClusterMetrics;
use wk_cluster::{Peer, State};

mod common;
use common::Set;

fn options(name: &str, peers: Vec<String>) -> GossipOptions {
    let mut o = GossipOptions::new("127.0.0.1:0", peers);
    o.name = Some(name.to_owned());
    o.gossip_interval = Duration::from_millis(20);
    o.push_pull_interval = Duration::from_secs(1);
    o.probe_interval = Duration::from_millis(100);
    o.probe_timeout = Duration::from_millis(50);
    o.settle_timeout = Duration::from_secs(5);
    o.resolve_timeout = Duration::from_secs(1);
    o
}

async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peers_settle_order_and_replicate() {
    let metrics = ClusterMetrics::new();
    let first = GossipPeer::create(options("01-a", vec![]), Arc::clone(&metrics))
        .await
        .unwrap();
    let seed = vec![first.advertise_addr().to_string()];
    let mut peers = vec![first];
    for name in ["01-b", "01-c"] {
        peers.push(
            GossipPeer::create(options(name, seed.clone()), ClusterMetrics::new())
                .await
                .unwrap(),
        );
    }
    let states: Vec<Arc<Set>> = peers.iter().map(|_| Arc::new(Set::default())).collect();
    // The first node has state before anyone joins: the joins' push/pull carries it.
    states[0].merge(b"before-join").unwrap();
    let channels: Vec<_> = peers
        .iter()
        .zip(&states)
        .map(|(p, s)| p.add_state("sil", Arc::clone(s) as Arc<dyn State>))
        .collect();
    for p in &peers {
        p.join().await;
    }
    eventually(5, "full state reached the joiners", || {
        states.iter().all(|s| s.has(b"before-join"))
    })
    .await;
    eventually(10, "all settled with three members", || {
        peers
            .iter()
            .all(|p| p.ready() && p.status().unwrap().peers.len() == 3)
    })
    .await;
    let positions: Vec<u32> = peers.iter().map(|p| p.position()).collect();
    assert_eq!(positions, vec![0, 1, 2]);
    let status = peers[1].status().unwrap();
    assert_eq!(status.name, "01-b");
    assert_eq!(status.status, "ready");
    let names: Vec<_> = status.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["01-a", "01-b", "01-c"]);

    // Small update: gossip. Large update (> 700 bytes): TCP to every member.
    channels[2].broadcast(b"small".to_vec());
    let big = vec![b'x'; 5000];
    channels[1].broadcast(big.clone());
    eventually(5, "both updates reached every other peer", || {
        states[0].has(b"small")
            && states[1].has(b"small")
            && states[0].has(&big)
            && states[2].has(&big)
    })
    .await;
    let exposition = {
        let mut r = prometheus_client::registry::Registry::default();
        metrics.register(&mut r);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &r).unwrap();
        out
    };
    assert!(
        exposition
            .contains("alertmanager_cluster_messages_received_total{msg_type=\"full_state\"}")
    );

    // A graceful leave drops the member everywhere; positions close up.
    let last = peers.pop().unwrap();
    peers[0].leave(Duration::from_secs(5)).await;
    eventually(5, "the others see two members", || {
        [&peers[1], &last]
            .iter()
            .all(|p| p.status().unwrap().peers.len() == 2)
    })
    .await;
    assert_eq!(peers[1].position(), 0);
    assert_eq!(last.position(), 1);
    peers[1].leave(Duration::from_secs(2)).await;
    last.leave(Duration::from_secs(2)).await;
}

/// A local change pushed with `push` reaches the peers over TCP at once, without waiting for a
/// gossip round (here 30 s apart, and no probes to piggyback on); `broadcast` of the same size
/// waits for gossip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_does_not_wait_for_gossip() {
    let slow = |name: &str, peers: Vec<String>| {
        let mut o = options(name, peers);
        o.gossip_interval = Duration::from_secs(30);
        o.probe_interval = Duration::from_secs(30);
        o
    };
    let a = GossipPeer::create(slow("02-a", vec![]), ClusterMetrics::new())
        .await
        .unwrap();
    let b = GossipPeer::create(
        slow("02-b", vec![a.advertise_addr().to_string()]),
        ClusterMetrics::new(),
    )
    .await
    .unwrap();
    let (sa, sb) = (Arc::new(Set::default()), Arc::new(Set::default()));
    let ca = a.add_state("nfl", Arc::clone(&sa) as Arc<dyn State>);
    b.add_state("nfl", Arc::clone(&sb) as Arc<dyn State>);
    a.join().await;
    b.join().await;
    eventually(5, "two members", || a.status().unwrap().peers.len() == 2).await;
    // Let the gossip loops' first (immediate) round pass.
    tokio::time::sleep(Duration::from_millis(100)).await;
    ca.broadcast(b"gossiped".to_vec());
    ca.push(b"pushed".to_vec());
    eventually(5, "the pushed update arrives", || sb.has(b"pushed")).await;
    assert!(
        !sb.has(b"gossiped"),
        "a broadcast waits for the next gossip round"
    );
    a.leave(Duration::from_secs(1)).await;
    b.leave(Duration::from_secs(1)).await;
}
