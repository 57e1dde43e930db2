//! What the memberlist runtime calls: received updates and full states go to the registered
//! states by key, the broadcast queue supplies gossip, and membership events keep the member
//! count, the failed-peer list and the metrics current.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use prost::Message;
use tokio::time::Instant;
use wk_memberlist::{Delegate, Node, TransmitLimitedQueue};

use crate::State;
use crate::metrics::{ClusterMetrics, PeerLabel};
use crate::wire::{FullState, Part};

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
    pub(crate) states: RwLock<BTreeMap<String, Arc<dyn State>>>,
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
            states: RwLock::new(BTreeMap::new()),
            queue: TransmitLimitedQueue::new(retransmit),
            metrics,
            members: AtomicUsize::new(0),
            failed: Mutex::new(HashMap::new()),
        }
    }

    fn state(&self, key: &str) -> Option<Arc<dyn State>> {
        self.states
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    pub(crate) fn failed(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Failed>> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Merges one part into its state; false for an unknown key or a merge error.
    fn merge_part(&self, part: &Part, what: &str) -> bool {
        let Some(state) = self.state(&part.key) else {
            tracing::debug!(key = %part.key, what, "received unknown state key");
            return false;
        };
        if let Err(e) = state.merge(&part.data) {
            tracing::warn!(key = %part.key, what, error = %e, "merging gossiped state failed");
            return false;
        }
        true
    }
}

impl Delegate for PeerDelegate {
    fn notify_msg(&self, msg: &[u8]) {
        ClusterMetrics::count(&self.metrics.messages_received, "update");
        ClusterMetrics::add_size(&self.metrics.messages_received_size, "update", msg.len());
        match Part::decode(msg) {
            Ok(part) => {
                self.merge_part(&part, "update");
            }
            Err(e) => tracing::warn!(error = %e, "decoding a gossiped update failed"),
        }
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
        let parts = self
            .states
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(key, state)| Part {
                key: key.clone(),
                data: state.marshal(),
            })
            .collect();
        let bytes = FullState { parts }.encode_to_vec();
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
        match FullState::decode(buf) {
            Ok(full) => {
                for part in &full.parts {
                    self.merge_part(part, "full state");
                }
            }
            Err(e) => tracing::warn!(error = %e, "decoding a gossiped full state failed"),
        }
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
