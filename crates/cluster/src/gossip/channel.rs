//! A state's broadcast channel: updates up to 700 bytes are gossiped through the transmit-limited
//! queue; larger ones go over TCP to every other member, one message at a time from a bounded
//! queue of 200 (full: dropped and counted), as Alertmanager's `Channel` does. Changes made
//! locally ([`Channel::push`]) take both paths, so a new silence or notification-log entry
//! reaches every peer at once instead of at the next gossip round (Grafana's reliable
//! delivery, applied to local changes only).

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

/// Sends each oversized message to every other member in parallel, waiting for all.
async fn send_oversized(
    key: String,
    mut rx: mpsc::Receiver<Vec<u8>>,
    list: Weak<Memberlist>,
    metrics: Arc<ClusterMetrics>,
) {
    let label = KeyLabel { key: key.clone() };
    while let Some(msg) = rx.recv().await {
        let Some(list) = list.upgrade() else { return };
        let start = Instant::now();
        let me = list.name().to_owned();
        let sends = list
            .members()
            .into_iter()
            .filter(|n| n.name != me)
            .map(|node| {
                let list = Arc::clone(&list);
                let msg = msg.clone();
                async move { (list.send_reliable(&node, &msg).await, node) }
            })
            .collect::<Vec<_>>();
        for (result, node) in futures::future::join_all(sends).await {
            match result {
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
        }
        metrics
            .oversize_duration
            .get_or_create(&label)
            .observe(start.elapsed().as_secs_f64());
    }
}
