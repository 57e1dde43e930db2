//! The settings of a [`crate::Memberlist`], with hashicorp/memberlist's LAN defaults as
//! Alertmanager overrides them.

use std::net::SocketAddr;
use std::time::Duration;

use crate::label::LabelPolicy;

/// Protocol versions we speak: `[pmin, pmax, pcur]` (memberlist 0.5: 1, 5, 2).
pub const PROTOCOL_VERSIONS: [u8; 3] = [1, 5, 2];

/// How a memberlist node behaves. [`Config::new`] gives Alertmanager's values.
#[derive(Debug, Clone)]
pub struct Config {
    /// This node's unique name (Alertmanager: a ULID).
    pub name: String,
    /// Where to listen, UDP and TCP on the same port (port 0 picks a free one).
    pub bind: SocketAddr,
    /// The address other nodes should use; `None`: the bound address (an unspecified bind IP is
    /// replaced by this host's outbound IP).
    pub advertise: Option<SocketAddr>,
    /// The label on every packet and stream ("" for none); others' traffic is dropped.
    pub label: LabelPolicy,
    /// How often broadcasts are gossiped (200 ms).
    pub gossip_interval: Duration,
    /// How many random nodes each gossip round goes to (Alertmanager: `max(peers / 2, 3)`).
    pub gossip_nodes: usize,
    /// How long dead nodes still receive gossip (30 s).
    pub gossip_to_the_dead_time: Duration,
    /// How often full state is exchanged with one random node (Alertmanager: 60 s).
    pub push_pull_interval: Duration,
    /// How often one node is probed (1 s).
    pub probe_interval: Duration,
    /// How long a direct probe waits for its ack (500 ms).
    pub probe_timeout: Duration,
    /// Nodes asked to probe indirectly after a direct probe failed (3).
    pub indirect_checks: usize,
    /// Suspicion timeout multiplier (4).
    pub suspicion_mult: u32,
    /// Upper bound of the suspicion timeout, as a multiple of its lower bound (6).
    pub suspicion_max_timeout_mult: u32,
    /// Most a node's health score can stretch its probe timers (8).
    pub awareness_max_multiplier: u32,
    /// Retransmit multiplier of memberlist's own broadcasts (4).
    pub retransmit_mult: usize,
    /// TCP connect and stream timeout (10 s).
    pub tcp_timeout: Duration,
    /// Largest UDP packet we build (Alertmanager: 1400).
    pub udp_buffer_size: usize,
    /// Compress packets when smaller (streams are always compressed), as Go does by default.
    pub compress: bool,
}

impl Config {
    /// Alertmanager's settings for a node called `name` listening on `bind`.
    pub fn new(name: impl Into<String>, bind: SocketAddr) -> Self {
        Self {
            name: name.into(),
            bind,
            advertise: None,
            label: LabelPolicy::default(),
            gossip_interval: Duration::from_millis(200),
            gossip_nodes: 3,
            gossip_to_the_dead_time: Duration::from_secs(30),
            push_pull_interval: Duration::from_secs(60),
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            indirect_checks: 3,
            suspicion_mult: 4,
            suspicion_max_timeout_mult: 6,
            awareness_max_multiplier: 8,
            retransmit_mult: 4,
            tcp_timeout: Duration::from_secs(10),
            udp_buffer_size: 1400,
            compress: true,
        }
    }
}
