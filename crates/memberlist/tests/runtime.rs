//! The runtime on loopback: nodes join, gossip user broadcasts, exchange state, detect a failed
//! node, see a graceful leave, and refuse a foreign label. Timers are short; every wait is a poll
//! with a bound.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wk_memberlist::label::LabelPolicy;
use wk_memberlist::messages::{Message, NodeState, Suspect};
use wk_memberlist::{Config, Delegate, Memberlist, Node, TransmitLimitedQueue};
use wk_memberlist::{PacketOptions, build_packet};

#[derive(Default)]
struct Recorder {
    received: Mutex<Vec<Vec<u8>>>,
    merged: Mutex<Vec<(Vec<u8>, bool)>>,
    state: Mutex<Vec<u8>>,
    queue: Option<TransmitLimitedQueue>,
    left: Mutex<Vec<String>>,
    probe_failed: Mutex<Vec<String>>,
}

impl Recorder {
    fn new(state: &[u8]) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(state.to_vec()),
            queue: Some(TransmitLimitedQueue::new(3)),
            ..Self::default()
        })
    }
    fn received(&self) -> Vec<Vec<u8>> {
        self.received.lock().unwrap().clone()
    }
}

impl Delegate for Recorder {
    fn notify_msg(&self, msg: &[u8]) {
        self.received.lock().unwrap().push(msg.to_vec());
    }
    fn get_broadcasts(&self, overhead: usize, limit: usize) -> Vec<Vec<u8>> {
        self.queue
            .as_ref()
            .map(|q| q.get_broadcasts(overhead, limit, 3))
            .unwrap_or_default()
    }
    fn local_state(&self, _join: bool) -> Vec<u8> {
        self.state.lock().unwrap().clone()
    }
    fn merge_remote_state(&self, buf: &[u8], join: bool) {
        self.merged.lock().unwrap().push((buf.to_vec(), join));
    }
    fn notify_leave(&self, node: &Node) {
        self.left.lock().unwrap().push(node.name.clone());
    }
    fn notify_probe_failed(&self, node: &Node) {
        self.probe_failed.lock().unwrap().push(node.name.clone());
    }
}

fn config(name: &str, label: &str) -> Config {
    let mut c = Config::new(name, "127.0.0.1:0".parse::<SocketAddr>().unwrap());
    c.gossip_interval = Duration::from_millis(20);
    c.probe_interval = Duration::from_millis(100);
    c.probe_timeout = Duration::from_millis(50);
    c.push_pull_interval = Duration::from_millis(500);
    c.tcp_timeout = Duration::from_secs(2);
    c.label = LabelPolicy::new(label, false).unwrap();
    c
}

async fn node(name: &str, label: &str, state: &[u8]) -> (Memberlist, Arc<Recorder>) {
    let d = Recorder::new(state);
    let m = Memberlist::create(config(name, label), d.clone())
        .await
        .unwrap();
    (m, d)
}

/// Polls `cond` every 20 ms for at most `secs` seconds.
async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn states(m: &Memberlist) -> Vec<(String, NodeState)> {
    let mut v: Vec<_> = m
        .all_nodes()
        .into_iter()
        .map(|n| (n.name, n.state))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_form_a_cluster_and_share_broadcasts_and_state() {
    let (a, da) = node("a", "", b"state-a").await;
    let (b, db) = node("b", "", b"state-b").await;
    let (c, dc) = node("c", "", b"state-c").await;
    assert_eq!(b.join(&[a.advertise_addr()]).await.unwrap(), 1);
    assert_eq!(c.join(&[b.advertise_addr()]).await.unwrap(), 1);
    // The join's push/pull carried the user state both ways, flagged as a join.
    assert!(
        db.merged
            .lock()
            .unwrap()
            .contains(&(b"state-a".to_vec(), true))
    );
    assert!(
        da.merged
            .lock()
            .unwrap()
            .contains(&(b"state-b".to_vec(), true))
    );
    eventually(5, "every node sees three members", || {
        [&a, &b, &c].iter().all(|m| m.num_members() == 3)
    })
    .await;

    // A user broadcast queued on c reaches a and b through gossip.
    dc.queue
        .as_ref()
        .unwrap()
        .queue(None, b"hello".to_vec(), None);
    eventually(5, "the broadcast reaches a and b", || {
        da.received().contains(&b"hello".to_vec()) && db.received().contains(&b"hello".to_vec())
    })
    .await;

    // A reliable message goes straight over TCP.
    let target = a.members().into_iter().find(|n| n.name == "b").unwrap();
    a.send_reliable(&target, &[7u8; 5000]).await.unwrap();
    eventually(5, "the reliable message arrives", || {
        db.received().contains(&vec![7u8; 5000])
    })
    .await;

    // Periodic push/pull (not a join) exchanges state too.
    eventually(5, "a periodic push/pull", || {
        da.merged.lock().unwrap().iter().any(|(_, join)| !join)
    })
    .await;

    for m in [a, b, c] {
        m.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_is_suspected_then_declared_dead() {
    let (a, da) = node("a", "", b"").await;
    let (b, db) = node("b", "", b"").await;
    let (c, _) = node("c", "", b"").await;
    b.join(&[a.advertise_addr()]).await.unwrap();
    c.join(&[a.advertise_addr()]).await.unwrap();
    eventually(5, "three members", || {
        [&a, &b, &c].iter().all(|m| m.num_members() == 3)
    })
    .await;
    c.shutdown().await;
    // Probes fail (direct, indirect and TCP), c is suspected, then dead after the suspicion
    // timeout (4 × 100 ms, up to 6 times that).
    eventually(10, "a and b mark c dead", || {
        [&a, &b]
            .iter()
            .all(|m| states(m).contains(&("c".to_owned(), NodeState::Dead)))
    })
    .await;
    assert_eq!(a.num_members(), 2);
    assert!(da.left.lock().unwrap().contains(&"c".to_owned()));
    // At least one of the two saw its own probe of c fail (the other may only have heard).
    let failed = |d: &Recorder| d.probe_failed.lock().unwrap().contains(&"c".to_owned());
    assert!(failed(&da) || failed(&db));
    for m in [a, b] {
        m.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_leave_is_seen_as_left() {
    let (a, _) = node("a", "", b"").await;
    let (b, _) = node("b", "", b"").await;
    b.join(&[a.advertise_addr()]).await.unwrap();
    eventually(5, "two members", || {
        a.num_members() == 2 && b.num_members() == 2
    })
    .await;
    b.leave(Duration::from_secs(5)).await.unwrap();
    eventually(5, "a sees b left", || {
        states(&a).contains(&("b".to_owned(), NodeState::Left))
    })
    .await;
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_with_different_labels_never_merge() {
    let (a, _) = node("a", "blue", b"").await;
    let (b, _) = node("b", "green", b"").await;
    let (c, _) = node("c", "", b"").await;
    assert!(b.join(&[a.advertise_addr()]).await.is_err());
    assert!(c.join(&[a.advertise_addr()]).await.is_err());
    let (d, _) = node("d", "blue", b"").await;
    d.join(&[a.advertise_addr()]).await.unwrap();
    eventually(5, "same label joins", || a.num_members() == 2).await;
    assert_eq!(b.num_members(), 1);
    assert_eq!(c.num_members(), 1);
    for m in [a, b, c, d] {
        m.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refutes_being_declared_dead() {
    let (a, _) = node("a", "", b"").await;
    let (b, _) = node("b", "", b"").await;
    b.join(&[a.advertise_addr()]).await.unwrap();
    eventually(5, "two members", || a.num_members() == 2).await;
    let before = b
        .members()
        .into_iter()
        .find(|n| n.name == "b")
        .unwrap()
        .incarnation;
    // b hears a rumour (a packet from a stranger) that it is suspect: it answers with an alive
    // message at a higher incarnation, which reaches a.
    let rumour = Message::Suspect(Suspect {
        incarnation: before,
        node: "b".into(),
        from: "stranger".into(),
    });
    let packet = build_packet(&rumour.encode(), &PacketOptions::default());
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&packet, b.advertise_addr()).await.unwrap();
    eventually(5, "b refuted with a higher incarnation", || {
        a.all_nodes()
            .iter()
            .any(|n| n.name == "b" && n.state == NodeState::Alive && n.incarnation > before)
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;
}
