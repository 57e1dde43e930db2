//! What the memberlist runtime calls: received updates and full states go to the registered
//! states by key, the broadcast queue supplies gossip, and membership events keep the member
//! count, the failed-peer list and the metrics current.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use wk_memberlist::{Delegate, Node, TransmitLimitedQueue};

use crate::metrics::{ClusterMetrics, PeerLabel};
use crate::states::Registry;

/// A peer being retried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failed {
    /// Since when.
    pub(crate) since: Instant,
    /// Whether a failed retry was logged as a warning already (later ones are debug).
    pub(crate) warned: bool,
}

impl Failed {
    pub(crate) fn now() -> Self {
        Self {
            since: Instant::now(),
            warned: false,
        }
    }
}

/// The delegate shared by the peer and its memberlist.
pub(crate) struct PeerDelegate {
    pub(crate) name: String,
    pub(crate) states: Registry,
    pub(crate) queue: TransmitLimitedQueue,
    pub(crate) metrics: Arc<ClusterMetrics>,
    /// Alive and suspect members, this node included (kept from join and leave events).
    pub(crate) members: AtomicUsize,
    /// Peers that left or failed, by address; retried by the reconnect loop.
    pub(crate) failed: Mutex<HashMap<SocketAddr, Failed>>,
}

impl PeerDelegate {
    pub(crate) fn new(name: String, retransmit: usize, metrics: Arc<ClusterMetrics>) -> Self {
        Self {
            name,
            states: Registry::default(),
            queue: TransmitLimitedQueue::new(retransmit),
            metrics,
            members: AtomicUsize::new(0),
            failed: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn failed(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Failed>> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Delegate for PeerDelegate {
    fn notify_msg(&self, msg: &[u8]) {
        ClusterMetrics::count(&self.metrics.messages_received, "update");
        ClusterMetrics::add_size(&self.metrics.messages_received_size, "update", msg.len());
        self.states.merge_update(msg);
    }

    fn get_broadcasts(&self, overhead: usize, limit: usize) -> Vec<Vec<u8>> {
        let nodes = self.members.load(Ordering::Relaxed);
        let msgs = self.queue.get_broadcasts(overhead, limit, nodes);
        for m in &msgs {
            ClusterMetrics::count(&self.metrics.messages_sent, "update");
            ClusterMetrics::add_size(&self.metrics.messages_sent_size, "update", m.len());
        }
        msgs
    }

    fn local_state(&self, _join: bool) -> Vec<u8> {
        let bytes = self.states.full_state();
        ClusterMetrics::count(&self.metrics.messages_sent, "full_state");
        ClusterMetrics::add_size(&self.metrics.messages_sent_size, "full_state", bytes.len());
        bytes
    }

    fn merge_remote_state(&self, buf: &[u8], _join: bool) {
        ClusterMetrics::count(&self.metrics.messages_received, "full_state");
        ClusterMetrics::add_size(
            &self.metrics.messages_received_size,
            "full_state",
            buf.len(),
        );
        self.states.merge_full_state(buf);
    }

    fn notify_join(&self, node: &Node) {
        self.members.fetch_add(1, Ordering::Relaxed);
        self.metrics.peers_joined.inc();
        self.metrics
            .peer_info
            .get_or_create(&PeerLabel {
                peer: node.name.clone(),
            })
            .set(1);
        self.failed().remove(&node.addr);
        if node.name != self.name {
            tracing::info!(peer = %node.name, addr = %node.addr, "cluster peer joined");
        }
    }

    fn notify_leave(&self, node: &Node) {
        let _ = self
            .members
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        self.metrics.peers_left.inc();
        self.metrics.peer_info.remove(&PeerLabel {
            peer: node.name.clone(),
        });
        if node.name != self.name {
            self.failed().insert(node.addr, Failed::now());
            tracing::info!(peer = %node.name, addr = %node.addr, state = ?node.state, "cluster peer left");
        }
    }

    fn notify_update(&self, _node: &Node) {
        self.metrics.peers_update.inc();
    }

    fn notify_alive(&self, node: &Node) {
        self.metrics
            .alive_messages
            .get_or_create(&PeerLabel {
                peer: node.name.clone(),
            })
            .inc();
    }

    fn notify_probe_failed(&self, node: &Node) {
        self.metrics
            .ping_failures
            .get_or_create(&PeerLabel {
                peer: node.name.clone(),
            })
            .inc();
    }

    fn notify_ping_complete(&self, node: &Node, rtt: Duration) {
        self.metrics
            .pings
            .get_or_create(&PeerLabel {
                peer: node.name.clone(),
            })
            .observe(rtt.as_secs_f64());
    }
}
