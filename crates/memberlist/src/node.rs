//! A member as the runtime knows it, and the hooks ([`Delegate`]) through which the user of a
//! [`crate::Memberlist`] sends and receives its own data and hears about membership changes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::messages::{Alive, NodeState, PushNodeState};

/// A cluster member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its unique name.
    pub name: String,
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
    /// Its metadata (Alertmanager: none).
    pub meta: Vec<u8>,
    /// Alive, suspect, dead or left.
    pub state: NodeState,
    /// Its incarnation number.
    pub incarnation: u32,
    /// `[pmin, pmax, pcur, dmin, dmax, dcur]`.
    pub vsn: [u8; 6],
}

impl Node {
    /// The highest protocol version it speaks.
    pub fn protocol_max(&self) -> u8 {
        self.vsn[1]
    }

    /// Whether it is dead or has left.
    pub fn dead_or_left(&self) -> bool {
        matches!(self.state, NodeState::Dead | NodeState::Left)
    }

    /// Whether it counts as a member (alive or suspect).
    pub fn is_member(&self) -> bool {
        matches!(self.state, NodeState::Alive | NodeState::Suspect)
    }

    /// Its state as a push/pull entry.
    pub fn to_push(&self) -> PushNodeState {
        PushNodeState {
            name: self.name.clone(),
            addr: Some(ip_bytes(self.addr.ip())),
            port: self.addr.port(),
            meta: Some(self.meta.clone()),
            incarnation: self.incarnation,
            state: self.state,
            vsn: Some(self.vsn.to_vec()),
        }
    }

    /// An `alive` message announcing it at `incarnation`.
    pub fn to_alive(&self, incarnation: u32) -> Alive {
        Alive {
            incarnation,
            node: self.name.clone(),
            addr: Some(ip_bytes(self.addr.ip())),
            port: self.addr.port(),
            meta: (!self.meta.is_empty()).then(|| self.meta.clone()),
            vsn: Some(self.vsn.to_vec()),
        }
    }
}

/// An IP as memberlist puts it on the wire: 4 bytes for IPv4, 16 for IPv6.
pub fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// An IP from the wire (4 or 16 bytes; IPv4-mapped IPv6 becomes IPv4).
pub fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            Some(IpAddr::V6(Ipv6Addr::from(o)).to_canonical())
        }
        _ => None,
    }
}

/// A `vsn` field as six bytes (missing ones are 0).
pub fn vsn_from(v: Option<&[u8]>) -> [u8; 6] {
    let mut out = [0u8; 6];
    if let Some(v) = v {
        for (o, b) in out.iter_mut().zip(v) {
            *o = *b;
        }
    }
    out
}

/// What the user of a memberlist plugs in: its messages, its state, and membership events.
/// Called from the runtime's tasks; implementations must not block.
pub trait Delegate: Send + Sync + 'static {
    /// A user message arrived (gossiped, or sent reliably over TCP).
    fn notify_msg(&self, msg: &[u8]);
    /// User broadcasts to piggyback: each costs its length plus `overhead`, `limit` in total.
    fn get_broadcasts(&self, overhead: usize, limit: usize) -> Vec<Vec<u8>>;
    /// The full user state sent in a push/pull.
    fn local_state(&self, join: bool) -> Vec<u8>;
    /// Merges the full user state received in a push/pull.
    fn merge_remote_state(&self, buf: &[u8], join: bool);
    /// A node joined (or came back).
    fn notify_join(&self, _node: &Node) {}
    /// A node died or left.
    fn notify_leave(&self, _node: &Node) {}
    /// A node's metadata or address changed.
    fn notify_update(&self, _node: &Node) {}
    /// An alive message about `node` was accepted.
    fn notify_alive(&self, _node: &Node) {}
    /// A direct probe of `node` was answered after `rtt`.
    fn notify_ping_complete(&self, _node: &Node, _rtt: Duration) {}
    /// A probe of `node` failed (no ack directly, indirectly or over TCP): it is now suspected.
    fn notify_probe_failed(&self, _node: &Node) {}
}
