//! The running node: sockets, the member table, and the tasks that probe, gossip and exchange
//! state. [`Memberlist::create`] starts it; [`Memberlist::join`], [`Memberlist::leave`] and
//! [`Memberlist::shutdown`] drive it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::{Config, PROTOCOL_VERSIONS};
use crate::messages::{Alive, Dead, NodeState};
use crate::node::{Delegate, Node};
use crate::queue::TransmitLimitedQueue;
use crate::suspicion::{Awareness, Suspicion};
use crate::transport::{self, TransportError};

/// An answer to one of our pings, delivered to whoever waits on its sequence number.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AckEvent {
    /// The target (or an intermediary for it) answered.
    Ack(Instant),
    /// An intermediary could not reach the target.
    Nack,
}

/// A member plus when its state last changed.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) node: Node,
    pub(crate) state_change: Instant,
}

/// A running suspicion timer.
pub(crate) struct Timer {
    pub(crate) suspicion: Suspicion,
    pub(crate) start: Instant,
    pub(crate) changed: Arc<tokio::sync::Notify>,
    pub(crate) task: JoinHandle<()>,
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The member table and the state guarded with it.
pub(crate) struct Table {
    /// Probe order; shuffled at each wrap-around.
    pub(crate) nodes: Vec<Entry>,
    pub(crate) probe_index: usize,
    pub(crate) timers: HashMap<String, Timer>,
    pub(crate) awareness: Awareness,
    pub(crate) incarnation: u32,
}

impl Table {
    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.nodes.iter().find(|e| e.node.name == name)
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.nodes.iter_mut().find(|e| e.node.name == name)
    }

    pub(crate) fn alive_count(&self) -> usize {
        self.nodes.iter().filter(|e| !e.node.dead_or_left()).count()
    }
}

/// Shared by the handle and every task.
pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) advertise: SocketAddr,
    pub(crate) udp: UdpSocket,
    pub(crate) delegate: Arc<dyn Delegate>,
    pub(crate) table: Mutex<Table>,
    pub(crate) broadcasts: TransmitLimitedQueue,
    pub(crate) seq: AtomicU32,
    pub(crate) acks: Mutex<HashMap<u32, mpsc::UnboundedSender<AckEvent>>>,
    pub(crate) leaving: AtomicBool,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) leave_sent: watch::Sender<bool>,
}

impl Inner {
    pub(crate) fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn next_seq(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    /// Alive and suspect members, this node included.
    pub(crate) fn num_members(&self) -> usize {
        self.table().alive_count()
    }

    pub(crate) fn local_node(&self) -> Node {
        Node {
            name: self.config.name.clone(),
            addr: self.advertise,
            meta: Vec::new(),
            state: NodeState::Alive,
            incarnation: 0,
            vsn: [
                PROTOCOL_VERSIONS[0],
                PROTOCOL_VERSIONS[1],
                PROTOCOL_VERSIONS[2],
                0,
                0,
                0,
            ],
        }
    }

    /// Waits until shutdown; for `select!` in the tasks.
    pub(crate) async fn stopped(&self) {
        let mut rx = self.shutdown.subscribe();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Why [`Memberlist::join`] or [`Memberlist::leave`] failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// No address could be joined.
    #[error("joining {tried} address(es) failed: {errors}")]
    NoneJoined {
        /// How many were tried.
        tried: usize,
        /// Each failure, `; `-separated.
        errors: String,
    },
    /// The leave message was not sent before the timeout.
    #[error("timed out after {0:?} waiting for the leave message to be gossiped")]
    LeaveTimeout(Duration),
}

/// A running memberlist node. Dropping it does not stop it: call [`Memberlist::shutdown`].
#[derive(Clone)]
pub struct Memberlist {
    pub(crate) inner: Arc<Inner>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Memberlist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memberlist")
            .field("name", &self.inner.config.name)
            .field("advertise", &self.inner.advertise)
            .finish_non_exhaustive()
    }
}

impl Memberlist {
    /// Binds the sockets, adds this node as alive (incarnation 1) and starts the probe, gossip,
    /// push/pull and listener tasks. Must be called inside a tokio runtime.
    pub async fn create(
        config: Config,
        delegate: Arc<dyn Delegate>,
    ) -> Result<Self, TransportError> {
        let (udp, tcp) = transport::bind(config.bind)?;
        let bound = tcp.local_addr().map_err(|source| TransportError::Bind {
            addr: config.bind,
            source,
        })?;
        let advertise = config
            .advertise
            .unwrap_or_else(|| transport::advertise_for(bound));
        let awareness = Awareness::new(config.awareness_max_multiplier);
        let broadcasts = TransmitLimitedQueue::new(config.retransmit_mult);
        let inner = Arc::new(Inner {
            config,
            advertise,
            udp,
            delegate,
            table: Mutex::new(Table {
                nodes: Vec::new(),
                probe_index: 0,
                timers: HashMap::new(),
                awareness,
                incarnation: 0,
            }),
            broadcasts,
            seq: AtomicU32::new(0),
            acks: Mutex::new(HashMap::new()),
            leaving: AtomicBool::new(false),
            shutdown: watch::channel(false).0,
            leave_sent: watch::channel(false).0,
        });
        {
            let me = inner.local_node();
            let incarnation = {
                let mut t = inner.table();
                t.incarnation += 1;
                t.incarnation
            };
            inner.alive_node(me.to_alive(incarnation), true);
        }
        tracing::info!(
            name = %inner.config.name,
            bind = %bound,
            advertise = %advertise,
            "memberlist started"
        );
        let tasks = vec![
            tokio::spawn(crate::net::udp_loop(Arc::clone(&inner))),
            tokio::spawn(crate::net::tcp_loop(Arc::clone(&inner), tcp)),
            tokio::spawn(crate::schedule::probe_loop(Arc::clone(&inner))),
            tokio::spawn(crate::schedule::gossip_loop(Arc::clone(&inner))),
            tokio::spawn(crate::schedule::push_pull_loop(Arc::clone(&inner))),
        ];
        Ok(Self {
            inner,
            tasks: Arc::new(Mutex::new(tasks)),
        })
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The address other nodes reach this one at.
    pub fn advertise_addr(&self) -> SocketAddr {
        self.inner.advertise
    }

    /// Exchanges full state with each address (a push/pull with `join` set); returns how many
    /// answered. Fails only when none did.
    pub async fn join(&self, addrs: &[SocketAddr]) -> Result<usize, JoinError> {
        let mut ok = 0;
        let mut errors = Vec::new();
        for addr in addrs {
            match crate::net::push_pull(&self.inner, *addr, true).await {
                Ok(()) => ok += 1,
                Err(e) => errors.push(e.to_string()),
            }
        }
        if ok == 0 && !addrs.is_empty() {
            return Err(JoinError::NoneJoined {
                tried: addrs.len(),
                errors: errors.join("; "),
            });
        }
        Ok(ok)
    }

    /// Alive and suspect members, this node included.
    pub fn members(&self) -> Vec<Node> {
        self.inner
            .table()
            .nodes
            .iter()
            .filter(|e| e.node.is_member())
            .map(|e| e.node.clone())
            .collect()
    }

    /// Every node known, dead and left ones included.
    pub fn all_nodes(&self) -> Vec<Node> {
        self.inner
            .table()
            .nodes
            .iter()
            .map(|e| e.node.clone())
            .collect()
    }

    /// How many alive and suspect members there are, this node included.
    pub fn num_members(&self) -> usize {
        self.inner.num_members()
    }

    /// The health score (0 = healthy).
    pub fn health_score(&self) -> u32 {
        self.inner.table().awareness.score()
    }

    /// Sends `msg` to `node`'s delegate over TCP (`SendReliable`).
    pub async fn send_reliable(&self, node: &Node, msg: &[u8]) -> Result<(), TransportError> {
        crate::net::send_user_stream(&self.inner, node.addr, msg).await
    }

    /// Announces that this node leaves (a `dead` message about itself) and waits until it was
    /// gossiped, or `timeout`. Probing and gossip go on until [`Memberlist::shutdown`].
    pub async fn leave(&self, timeout: Duration) -> Result<(), JoinError> {
        if self.inner.leaving.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let incarnation = self
            .inner
            .table()
            .get(&self.inner.config.name)
            .map_or(0, |e| e.node.incarnation);
        let name = self.inner.config.name.clone();
        let mut sent = self.inner.leave_sent.subscribe();
        self.inner.dead_node(Dead {
            incarnation,
            node: name.clone(),
            from: name,
        });
        let others = self.inner.table().alive_count() > 0;
        if !others {
            return Ok(());
        }
        let wait = async {
            while !*sent.borrow_and_update() {
                if sent.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| JoinError::LeaveTimeout(timeout))
    }

    /// Stops every task and closes the sockets (no leave message: see [`Memberlist::leave`]).
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
        self.inner.table().timers.clear();
    }

    /// Queues an `alive` about this node with a higher incarnation (used after a restart under
    /// the same name, or to announce address changes).
    pub fn announce(&self) {
        let me = self.inner.local_node();
        let incarnation = {
            let mut t = self.inner.table();
            t.incarnation += 1;
            t.incarnation
        };
        let alive: Alive = me.to_alive(incarnation);
        self.inner.alive_node(alive, true);
    }
}
