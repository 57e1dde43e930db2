//! The cluster metrics under Alertmanager's names (`cluster/cluster.go`, `delegate.go`,
//! `channel.go`): one [`ClusterMetrics`] per process, registered once by the server.
//! Gauges describing current state (members, position, health, queue, failed peers) are set by
//! the peer's maintenance loop every second and on membership events.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// `alertmanager_cluster_pings_seconds` buckets (upstream's).
const PING_BUCKETS: [f64; 7] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5];
/// `alertmanager_oversize_gossip_message_duration_seconds` buckets (upstream's).
const OVERSIZE_BUCKETS: [f64; 6] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/// `msg_type` label: `update` or `full_state`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MsgType {
    /// The message type.
    pub msg_type: &'static str,
}

/// `msg_type` and `reason` labels of publish failures.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PublishFailure {
    /// The message type.
    pub msg_type: &'static str,
    /// Why it failed.
    pub reason: &'static str,
}

/// `peer` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabel {
    /// The peer's name.
    pub peer: String,
}

/// `key` label of the oversized-message metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KeyLabel {
    /// The state key.
    pub key: String,
}

fn ping_histogram() -> Histogram {
    Histogram::new(PING_BUCKETS)
}

fn oversize_histogram() -> Histogram {
    Histogram::new(OVERSIZE_BUCKETS)
}

/// Every cluster metric.
#[derive(Debug)]
pub struct ClusterMetrics {
    /// `alertmanager_cluster_enabled`.
    pub enabled: Gauge,
    /// `alertmanager_cluster_members`.
    pub members: Gauge,
    /// `alertmanager_peer_position`.
    pub position: Gauge,
    /// `alertmanager_cluster_health_score`.
    pub health_score: Gauge,
    /// `alertmanager_cluster_messages_queued`.
    pub messages_queued: Gauge,
    /// `alertmanager_cluster_messages_pruned_total`.
    pub messages_pruned: Counter,
    /// `alertmanager_cluster_messages_received_total`.
    pub messages_received: Family<MsgType, Counter>,
    /// `alertmanager_cluster_messages_received_size_total`.
    pub messages_received_size: Family<MsgType, Counter>,
    /// `alertmanager_cluster_messages_sent_total`.
    pub messages_sent: Family<MsgType, Counter>,
    /// `alertmanager_cluster_messages_sent_size_total`.
    pub messages_sent_size: Family<MsgType, Counter>,
    /// `alertmanager_cluster_messages_publish_failures_total`.
    pub publish_failures: Family<PublishFailure, Counter>,
    /// `alertmanager_cluster_peer_info`.
    pub peer_info: Family<PeerLabel, Gauge>,
    /// `alertmanager_cluster_failed_peers`.
    pub failed_peers: Gauge,
    /// `alertmanager_cluster_reconnections_total`.
    pub reconnections: Counter,
    /// `alertmanager_cluster_reconnections_failed_total`.
    pub reconnections_failed: Counter,
    /// `alertmanager_cluster_refresh_join_total`.
    pub refresh_join: Counter,
    /// `alertmanager_cluster_refresh_join_failed_total`.
    pub refresh_join_failed: Counter,
    /// `alertmanager_cluster_peers_joined_total`.
    pub peers_joined: Counter,
    /// `alertmanager_cluster_peers_left_total`.
    pub peers_left: Counter,
    /// `alertmanager_cluster_peers_update_total`.
    pub peers_update: Counter,
    /// `alertmanager_cluster_alive_messages_total`.
    pub alive_messages: Family<PeerLabel, Counter>,
    /// `alertmanager_cluster_pings_seconds`.
    pub pings: Family<PeerLabel, Histogram, fn() -> Histogram>,
    /// `alertmanager_cluster_pings_failures_total`.
    pub ping_failures: Family<PeerLabel, Counter>,
    /// `alertmanager_oversized_gossip_message_sent_total`.
    pub oversized_sent: Family<KeyLabel, Counter>,
    /// `alertmanager_oversized_gossip_message_failure_total`.
    pub oversized_failure: Family<KeyLabel, Counter>,
    /// `alertmanager_oversized_gossip_message_dropped_total`.
    pub oversized_dropped: Family<KeyLabel, Counter>,
    /// `alertmanager_oversize_gossip_message_duration_seconds`.
    pub oversize_duration: Family<KeyLabel, Histogram, fn() -> Histogram>,
}

impl Default for ClusterMetrics {
    fn default() -> Self {
        let m = Self {
            enabled: Gauge::default(),
            members: Gauge::default(),
            position: Gauge::default(),
            health_score: Gauge::default(),
            messages_queued: Gauge::default(),
            messages_pruned: Counter::default(),
            messages_received: Family::default(),
            messages_received_size: Family::default(),
            messages_sent: Family::default(),
            messages_sent_size: Family::default(),
            publish_failures: Family::default(),
            peer_info: Family::default(),
            failed_peers: Gauge::default(),
            reconnections: Counter::default(),
            reconnections_failed: Counter::default(),
            refresh_join: Counter::default(),
            refresh_join_failed: Counter::default(),
            peers_joined: Counter::default(),
            peers_left: Counter::default(),
            peers_update: Counter::default(),
            alive_messages: Family::default(),
            pings: Family::new_with_constructor(ping_histogram),
            ping_failures: Family::default(),
            oversized_sent: Family::default(),
            oversized_failure: Family::default(),
            oversized_dropped: Family::default(),
            oversize_duration: Family::new_with_constructor(oversize_histogram),
        };
        // Upstream initializes both message types.
        for msg_type in ["update", "full_state"] {
            let l = MsgType { msg_type };
            let _ = m.messages_received.get_or_create(&l);
            let _ = m.messages_received_size.get_or_create(&l);
            let _ = m.messages_sent.get_or_create(&l);
            let _ = m.messages_sent_size.get_or_create(&l);
        }
        m
    }
}

impl ClusterMetrics {
    /// A new set, shared.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Registers every family in `registry` (counters get `_total` from the library).
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "alertmanager_cluster_enabled",
            "Indicates whether the clustering is enabled or not.",
            self.enabled.clone(),
        );
        r.register(
            "alertmanager_cluster_members",
            "Number indicating current number of members in cluster.",
            self.members.clone(),
        );
        r.register(
            "alertmanager_peer_position",
            "Position the Alertmanager instance believes it's in. The position determines a peer's behavior in the cluster.",
            self.position.clone(),
        );
        r.register(
            "alertmanager_cluster_health_score",
            "Health score of the cluster. Lower values are better and zero means 'totally healthy'.",
            self.health_score.clone(),
        );
        r.register(
            "alertmanager_cluster_messages_queued",
            "Number of cluster messages which are queued.",
            self.messages_queued.clone(),
        );
        r.register(
            "alertmanager_cluster_messages_pruned",
            "Total number of cluster messages pruned.",
            self.messages_pruned.clone(),
        );
        r.register(
            "alertmanager_cluster_messages_received",
            "Total number of cluster messages received.",
            self.messages_received.clone(),
        );
        r.register(
            "alertmanager_cluster_messages_received_size",
            "Total size of cluster messages received.",
            self.messages_received_size.clone(),
        );
        r.register(
            "alertmanager_cluster_messages_sent",
            "Total number of cluster messages sent.",
            self.messages_sent.clone(),
        );
        r.register(
            "alertmanager_cluster_messages_sent_size",
            "Total size of cluster messages sent.",
            self.messages_sent_size.clone(),
        );
        r.register(
            "alertmanager_cluster_messages_publish_failures",
            "Total number of messages that failed to be published.",
            self.publish_failures.clone(),
        );
        r.register(
            "alertmanager_cluster_peer_info",
            "A metric with a constant '1' value labeled by peer name.",
            self.peer_info.clone(),
        );
        r.register(
            "alertmanager_cluster_failed_peers",
            "Number indicating the current number of failed peers in the cluster.",
            self.failed_peers.clone(),
        );
        r.register(
            "alertmanager_cluster_reconnections",
            "A counter of the number of cluster peer reconnections.",
            self.reconnections.clone(),
        );
        r.register(
            "alertmanager_cluster_reconnections_failed",
            "A counter of the number of failed cluster peer reconnection attempts.",
            self.reconnections_failed.clone(),
        );
        r.register(
            "alertmanager_cluster_refresh_join",
            "A counter of the number of cluster refresh joins.",
            self.refresh_join.clone(),
        );
        r.register(
            "alertmanager_cluster_refresh_join_failed",
            "A counter of the number of failed cluster refresh joins.",
            self.refresh_join_failed.clone(),
        );
        r.register(
            "alertmanager_cluster_peers_joined",
            "A counter of the number of peers that have joined.",
            self.peers_joined.clone(),
        );
        r.register(
            "alertmanager_cluster_peers_left",
            "A counter of the number of peers that have left.",
            self.peers_left.clone(),
        );
        r.register(
            "alertmanager_cluster_peers_update",
            "A counter of the number of peers that have updated metadata.",
            self.peers_update.clone(),
        );
        r.register(
            "alertmanager_cluster_alive_messages",
            "Total number of received alive messages.",
            self.alive_messages.clone(),
        );
        r.register(
            "alertmanager_cluster_pings_seconds",
            "Histogram of latencies for ping messages.",
            self.pings.clone(),
        );
        r.register(
            "alertmanager_cluster_pings_failures",
            "Total number of failed pings (probes answered neither directly, indirectly nor over TCP).",
            self.ping_failures.clone(),
        );
        r.register(
            "alertmanager_oversized_gossip_message_sent",
            "Number of oversized gossip message sent.",
            self.oversized_sent.clone(),
        );
        r.register(
            "alertmanager_oversized_gossip_message_failure",
            "Number of oversized gossip message sends that failed.",
            self.oversized_failure.clone(),
        );
        r.register(
            "alertmanager_oversized_gossip_message_dropped",
            "Number of oversized gossip messages that were dropped due to a full message queue.",
            self.oversized_dropped.clone(),
        );
        r.register(
            "alertmanager_oversize_gossip_message_duration_seconds",
            "Duration of oversized gossip message requests.",
            self.oversize_duration.clone(),
        );
    }

    /// Counts a message received or sent.
    pub fn count(family: &Family<MsgType, Counter>, msg_type: &'static str) {
        family.get_or_create(&MsgType { msg_type }).inc();
    }

    /// Adds `bytes` to a size family.
    pub fn add_size(family: &Family<MsgType, Counter>, msg_type: &'static str, bytes: usize) {
        family
            .get_or_create(&MsgType { msg_type })
            .inc_by(bytes as u64);
    }
}
