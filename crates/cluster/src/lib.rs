//! The [`Peer`] abstraction the Alertmanager uses to run highly available: a node's position in
//! the cluster (which decides how long its notification pipeline waits before sending), whether
//! gossip has settled, and the state channels (nflog, silences) replicated between peers.
//!
//! Implementations: [`gossip::GossipPeer`] (memberlist, wire-compatible with Alertmanager),
//! [`redis::RedisPeer`] (heartbeats and pub/sub through one Redis), and none ([`NilPeer`], the
//! single-node peer). Shared pieces: the
//! `clusterpb` envelopes ([`wire`]), settling ([`settle`]), ULID node names ([`ulid`]) and the
//! cluster metrics ([`metrics`]).

pub mod gossip;
pub mod metrics;
pub mod redis;
pub mod settle;
mod states;
pub mod ulid;
pub mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Updates larger than this many bytes are "oversized": sent to every peer over TCP instead of
/// gossiped, and never relayed by receivers (Alertmanager's `MaxGossipPacketSize / 2`).
pub const OVERSIZED_BYTES: usize = 700;

/// Whether an update of `len` bytes takes the oversized (reliable, not relayed) path.
pub fn is_oversized(len: usize) -> bool {
    len > OVERSIZED_BYTES
}

/// A boxed, sendable future (the traits here are object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A cluster member as the Alertmanager sees it.
pub trait Peer: Send + Sync {
    /// This node's position among the sorted members, from 0; position `k` waits
    /// `k × peer_timeout` before notifying.
    fn position(&self) -> u32;
    /// Resolves once gossip has settled (or the settle timeout passed).
    fn wait_ready(&self) -> BoxFuture<'_, ()>;
    /// Registers replicated state under `key`; the returned channel broadcasts its updates.
    fn add_state(&self, key: &str, state: Arc<dyn State>) -> Arc<dyn Channel>;
    /// Whether gossip has settled.
    fn ready(&self) -> bool;
    /// The cluster as `GET /api/v2/status` reports it; `None` when clustering is disabled.
    fn status(&self) -> Option<ClusterStatus> {
        None
    }
}

/// What `GET /api/v2/status` reports under `cluster` when clustering is enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    /// This node's name.
    pub name: String,
    /// `ready` once settled, `settling` before.
    pub status: &'static str,
    /// Every alive or suspect member, this node included, sorted by name.
    pub peers: Vec<PeerInfo>,
}

/// One member of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The member's name.
    pub name: String,
    /// Its advertised `ip:port`.
    pub address: String,
}

/// State replicated between peers (the nflog, the silences).
pub trait State: Send + Sync {
    /// The full state, sent to peers on push/pull.
    fn marshal(&self) -> Vec<u8>;
    /// Merges a full state or an update received from a peer.
    fn merge(&self, bytes: &[u8]) -> Result<(), String>;
}

/// Broadcasts updates of one registered [`State`] to the other peers.
pub trait Channel: Send + Sync {
    /// Sends `bytes` (an update, e.g. one nflog entry) to the other peers: gossiped, or over
    /// TCP to every peer when oversized. Used to relay what a merge changed.
    fn broadcast(&self, bytes: Vec<u8>);
    /// Sends a change made here: over TCP to every peer at once, and gossiped as well, so
    /// peers learn it within milliseconds even if this node dies right after.
    fn push(&self, bytes: Vec<u8>) {
        self.broadcast(bytes);
    }
}

/// The single-node peer: position 0, always ready, broadcasts go nowhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NilPeer;

/// The channel of a [`NilPeer`]: drops every broadcast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NilChannel;

impl Channel for NilChannel {
    fn broadcast(&self, _bytes: Vec<u8>) {}
}

impl Peer for NilPeer {
    fn position(&self) -> u32 {
        0
    }

    fn wait_ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    fn add_state(&self, _key: &str, _state: Arc<dyn State>) -> Arc<dyn Channel> {
        Arc::new(NilChannel)
    }

    fn ready(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorded(Mutex<Vec<Vec<u8>>>);

    impl State for Recorded {
        fn marshal(&self) -> Vec<u8> {
            self.0.lock().map(|v| v.concat()).unwrap_or_default()
        }
        fn merge(&self, bytes: &[u8]) -> Result<(), String> {
            self.0
                .lock()
                .map_err(|e| e.to_string())?
                .push(bytes.to_vec());
            Ok(())
        }
    }

    #[tokio::test]
    async fn nil_peer_is_position_zero_and_ready() {
        let peer: Arc<dyn Peer> = Arc::new(NilPeer);
        assert_eq!(peer.position(), 0);
        assert!(peer.ready());
        peer.wait_ready().await;
    }

    #[test]
    fn nil_channel_broadcast_does_not_touch_state() {
        let state = Arc::new(Recorded::default());
        let channel = NilPeer.add_state("nfl", state.clone());
        channel.broadcast(vec![1, 2, 3]);
        assert!(state.marshal().is_empty());
        assert_eq!(state.merge(&[4]), Ok(()));
        assert_eq!(state.marshal(), vec![4]);
    }
}
