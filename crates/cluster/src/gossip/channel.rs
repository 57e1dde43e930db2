//! A state's broadcast channel: updates up to 700 bytes are gossiped through the transmit-limited
//! queue; larger ones go over TCP to every other member from a bounded queue of 200 (full:
//! dropped and counted), as Alertmanager's `Channel` does, but through one sender per member so
//! an unreachable peer does not hold up the others. Changes made
//! locally ([`Channel::push`]) take both paths, so a new silence or notification-log entry
//! reaches every peer at once instead of at the next gossip round (Grafana's reliable
//! delivery, applied to local changes only).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use prost::Message;
use tokio::sync::mpsc;
use tokio::time::Instant;
use wk_memberlist::Memberlist;

use super::delegate::PeerDelegate;
use crate::metrics::{ClusterMetrics, KeyLabel, PublishFailure};
use crate::wire::Part;
use crate::{Channel, is_oversized};

/// Oversized messages waiting per channel.
pub(crate) const OVERSIZED_QUEUE: usize = 200;

/// The channel of one state key.
pub(crate) struct GossipChannel {
    key: String,
    delegate: Arc<PeerDelegate>,
    oversized: mpsc::Sender<Vec<u8>>,
}

impl GossipChannel {
    /// A channel for `key`, with its sender task for oversized messages.
    pub(crate) fn new(key: &str, delegate: Arc<PeerDelegate>, list: Weak<Memberlist>) -> Self {
        let (tx, rx) = mpsc::channel(OVERSIZED_QUEUE);
        tokio::spawn(send_oversized(
            key.to_owned(),
            rx,
            list,
            Arc::clone(&delegate.metrics),
        ));
        Self {
            key: key.to_owned(),
            delegate,
            oversized: tx,
        }
    }
}

impl GossipChannel {
    fn part(&self, bytes: Vec<u8>) -> Vec<u8> {
        Part {
            key: self.key.clone(),
            data: bytes,
        }
        .encode_to_vec()
    }

    /// Queues `part` for the TCP sender; a full queue drops it (counted).
    fn send_reliable(&self, part: Vec<u8>) {
        if self.oversized.try_send(part).is_err() {
            self.delegate
                .metrics
                .oversized_dropped
                .get_or_create(&KeyLabel {
                    key: self.key.clone(),
                })
                .inc();
            tracing::warn!(key = %self.key, "reliable send queue full; update dropped");
        }
    }
}

impl Channel for GossipChannel {
    fn broadcast(&self, bytes: Vec<u8>) {
        let part = self.part(bytes);
        if is_oversized(part.len()) {
            self.send_reliable(part);
        } else {
            self.delegate.queue.queue(None, part, None);
        }
    }

    fn push(&self, bytes: Vec<u8>) {
        let part = self.part(bytes);
        if !is_oversized(part.len()) {
            self.delegate.queue.queue(None, part.clone(), None);
        }
        self.send_reliable(part);
    }
}

/// Hands each reliable message to one sender per other member, so a slow or unreachable peer
/// (up to the TCP timeout) delays only its own messages; a peer's full queue drops the message
/// for that peer (counted). Senders of peers that left are dropped.
async fn send_oversized(
    key: String,
    mut rx: mpsc::Receiver<Vec<u8>>,
    list: Weak<Memberlist>,
    metrics: Arc<ClusterMetrics>,
) {
    let label = KeyLabel { key: key.clone() };
    let mut senders: HashMap<String, mpsc::Sender<Arc<Vec<u8>>>> = HashMap::new();
    while let Some(msg) = rx.recv().await {
        let Some(strong) = list.upgrade() else { return };
        let me = strong.name().to_owned();
        let members: Vec<String> = strong
            .members()
            .into_iter()
            .map(|n| n.name)
            .filter(|n| *n != me)
            .collect();
        drop(strong);
        senders.retain(|name, tx| members.contains(name) && !tx.is_closed());
        let msg = Arc::new(msg);
        for name in members {
            let tx = senders.entry(name.clone()).or_insert_with(|| {
                let (tx, peer_rx) = mpsc::channel(OVERSIZED_QUEUE);
                tokio::spawn(send_to_peer(
                    key.clone(),
                    name.clone(),
                    peer_rx,
                    list.clone(),
                    Arc::clone(&metrics),
                ));
                tx
            });
            if tx.try_send(Arc::clone(&msg)).is_err() {
                metrics.oversized_dropped.get_or_create(&label).inc();
                tracing::warn!(key = %key, peer = %name, "reliable send queue of a peer full; update dropped for it");
            }
        }
    }
}

/// Sends the messages for one member, in order, while it is a member.
async fn send_to_peer(
    key: String,
    peer: String,
    mut rx: mpsc::Receiver<Arc<Vec<u8>>>,
    list: Weak<Memberlist>,
    metrics: Arc<ClusterMetrics>,
) {
    let label = KeyLabel { key: key.clone() };
    while let Some(msg) = rx.recv().await {
        let Some(list) = list.upgrade() else { return };
        let Some(node) = list.members().into_iter().find(|n| n.name == peer) else {
            return;
        };
        let start = Instant::now();
        match list.send_reliable(&node, &msg).await {
            Ok(()) => {
                metrics.oversized_sent.get_or_create(&label).inc();
                ClusterMetrics::count(&metrics.messages_sent, "update");
                ClusterMetrics::add_size(&metrics.messages_sent_size, "update", msg.len());
            }
            Err(e) => {
                metrics.oversized_failure.get_or_create(&label).inc();
                metrics
                    .publish_failures
                    .get_or_create(&PublishFailure {
                        msg_type: "update",
                        reason: "send_reliable",
                    })
                    .inc();
                tracing::warn!(key = %key, peer = %node.name, error = %e, "sending an oversized update failed");
            }
        }
        metrics
            .oversize_duration
            .get_or_create(&label)
            .observe(start.elapsed().as_secs_f64());
    }
}
