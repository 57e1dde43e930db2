//! The memberlist peer: a node of a hashicorp/memberlist cluster (wire-compatible with
//! Prometheus Alertmanager's), named by a ULID so the oldest member is position 0, settling
//! before notifications go out, replicating registered states through gossip, push/pull and
//! reliable TCP sends, and keeping in touch with `ha_peers`.

mod channel;
mod delegate;
mod peers;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use wk_memberlist::label::LabelPolicy;
use wk_memberlist::{Config, Memberlist};

use crate::metrics::ClusterMetrics;
use crate::settle::{Readiness, settle};
use crate::{BoxFuture, Channel, ClusterStatus, Peer, PeerInfo, State};
use channel::GossipChannel;
use delegate::PeerDelegate;

/// How often failed peers older than the reconnect timeout are forgotten (at most).
const REMOVE_FAILED_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// How often the broadcast queue is pruned, and to what size.
const PRUNE_INTERVAL: Duration = Duration::from_secs(15 * 60);
const MAX_QUEUE: usize = 4096;

/// Settings of a [`GossipPeer`] (`[unified_alerting] ha_*`).
#[derive(Debug, Clone)]
pub struct GossipOptions {
    /// The node name; `None`: a new ULID.
    pub name: Option<String>,
    /// `ha_listen_address`: where to listen (TCP and UDP).
    pub listen: String,
    /// `ha_advertise_address`: the address peers should use.
    pub advertise: Option<String>,
    /// `ha_peers`: `host:port` items, names expanding to every address.
    pub peers: Vec<String>,
    /// `ha_label`: the cluster label ("" for none).
    pub label: String,
    /// `ha_gossip_interval`.
    pub gossip_interval: Duration,
    /// `ha_push_pull_interval`.
    pub push_pull_interval: Duration,
    /// How often failed peers are retried (10 s).
    pub reconnect_interval: Duration,
    /// `ha_reconnect_timeout`: when failed peers are forgotten.
    pub reconnect_timeout: Duration,
    /// Upper bound on settling (Grafana: 30 s).
    pub settle_timeout: Duration,
    /// How long peer names may take to resolve at start (15 s).
    pub resolve_timeout: Duration,
    /// memberlist's probe interval (1 s).
    pub probe_interval: Duration,
    /// memberlist's probe timeout (500 ms).
    pub probe_timeout: Duration,
    /// memberlist's TCP timeout (10 s).
    pub tcp_timeout: Duration,
}

impl GossipOptions {
    /// Grafana's defaults for a node listening on `listen` with `peers`.
    pub fn new(listen: impl Into<String>, peers: Vec<String>) -> Self {
        Self {
            name: None,
            listen: listen.into(),
            advertise: None,
            peers,
            label: String::new(),
            gossip_interval: Duration::from_millis(200),
            push_pull_interval: Duration::from_secs(60),
            reconnect_interval: Duration::from_secs(10),
            reconnect_timeout: Duration::from_secs(6 * 3600),
            settle_timeout: Duration::from_secs(30),
            resolve_timeout: Duration::from_secs(15),
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            tcp_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the peer could not start.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    /// An address setting is not `host:port` or does not resolve.
    #[error("[unified_alerting] {key} = {value:?}: {reason}")]
    Address {
        /// The setting.
        key: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The label is too long.
    #[error("[unified_alerting] ha_label: {0}")]
    Label(wk_memberlist::Error),
    /// The sockets could not be bound.
    #[error("[unified_alerting] ha_listen_address: {0}")]
    Bind(wk_memberlist::TransportError),
}

async fn socket_addr(key: &'static str, value: &str) -> Result<SocketAddr, GossipError> {
    if let Ok(a) = value.parse() {
        return Ok(a);
    }
    let err = |reason: String| GossipError::Address {
        key,
        value: value.to_owned(),
        reason,
    };
    let mut addrs = tokio::net::lookup_host(value)
        .await
        .map_err(|e| err(format!("expected host:port ({e})")))?;
    addrs
        .next()
        .ok_or_else(|| err("the host has no address".to_owned()))
}

/// A cluster member over memberlist.
pub struct GossipPeer {
    list: Arc<Memberlist>,
    delegate: Arc<PeerDelegate>,
    ready: Readiness,
    opts: GossipOptions,
    metrics: Arc<ClusterMetrics>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for GossipPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GossipPeer")
            .field("name", &self.list.name())
            .field("advertise", &self.list.advertise_addr())
            .finish_non_exhaustive()
    }
}

impl GossipPeer {
    /// Starts listening (no join yet: register states with [`Peer::add_state`], then call
    /// [`GossipPeer::join`], so the first push/pull already carries them).
    pub async fn create(
        opts: GossipOptions,
        metrics: Arc<ClusterMetrics>,
    ) -> Result<Arc<Self>, GossipError> {
        let bind = socket_addr("ha_listen_address", &opts.listen).await?;
        let advertise = match opts.advertise.as_deref().filter(|a| !a.is_empty()) {
            Some(a) => Some(socket_addr("ha_advertise_address", a).await?),
            None => None,
        };
        let name = opts.name.clone().unwrap_or_else(crate::ulid::generate);
        let retransmit = (opts.peers.len() / 2).max(3);
        let mut config = Config::new(name.clone(), bind);
        config.advertise = advertise;
        config.label = LabelPolicy::new(opts.label.clone(), false).map_err(GossipError::Label)?;
        config.gossip_interval = opts.gossip_interval;
        config.gossip_nodes = retransmit;
        config.push_pull_interval = opts.push_pull_interval;
        config.probe_interval = opts.probe_interval;
        config.probe_timeout = opts.probe_timeout;
        config.tcp_timeout = opts.tcp_timeout;
        let delegate = Arc::new(PeerDelegate::new(name, retransmit, Arc::clone(&metrics)));
        let list = Memberlist::create(config, Arc::clone(&delegate) as _)
            .await
            .map_err(GossipError::Bind)?;
        if let Some(ip) = advertise.map(|a| a.ip())
            && (ip.is_loopback() || ip.is_unspecified())
            && !opts.peers.is_empty()
        {
            tracing::warn!(advertise = %list.advertise_addr(), "the cluster advertise address is not routable from other hosts");
        }
        metrics.enabled.set(1);
        Ok(Arc::new(Self {
            list: Arc::new(list),
            delegate,
            ready: Readiness::default(),
            opts,
            metrics,
            tasks: Mutex::new(Vec::new()),
        }))
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        self.list.name()
    }

    /// The address peers reach this node at.
    pub fn advertise_addr(&self) -> SocketAddr {
        self.list.advertise_addr()
    }

    /// Resolves `ha_peers`, joins them (a failure is logged: the node runs alone and keeps
    /// retrying), then starts settling and the reconnect, refresh and metrics loops.
    pub async fn join(self: &Arc<Self>) {
        let own = self.list.advertise_addr();
        let resolved = peers::resolve(&self.opts.peers, own, true, self.opts.resolve_timeout).await;
        {
            let mut failed = self.delegate.failed();
            for a in &resolved {
                failed.insert(*a, delegate::Failed::now());
            }
        }
        match self.list.join(&resolved).await {
            Ok(n) => {
                tracing::info!(joined = n, peers = ?resolved, name = %self.name(), "joined the cluster")
            }
            Err(e) => {
                tracing::warn!(error = %e, "joining the cluster failed; running alone and retrying")
            }
        }
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let me = Arc::downgrade(self);
        let poll = self.opts.gossip_interval.saturating_mul(10);
        let timeout = self.opts.settle_timeout;
        tasks.push(tokio::spawn(async move {
            let Some(peer) = me.upgrade() else { return };
            let list = Arc::clone(&peer.list);
            settle(&peer.ready, poll, timeout, || list.num_members()).await;
        }));
        tasks.push(tokio::spawn(reconnect_loop(Arc::downgrade(self))));
        tasks.push(tokio::spawn(refresh_loop(Arc::downgrade(self))));
        tasks.push(tokio::spawn(housekeeping_loop(Arc::downgrade(self))));
    }

    /// Leaves the cluster gracefully (within `timeout`) and stops.
    pub async fn leave(&self, timeout: Duration) {
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
        if let Err(e) = self.list.leave(timeout).await {
            tracing::warn!(error = %e, "leaving the cluster");
        }
        self.list.shutdown().await;
        tracing::info!("left the cluster");
    }

    fn sorted_members(&self) -> Vec<wk_memberlist::Node> {
        let mut members = self.list.members();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        members
    }

    fn update_gauges(&self) {
        let m = &self.metrics;
        m.members.set(self.list.num_members() as i64);
        m.position.set(i64::from(self.position()));
        m.health_score.set(i64::from(self.list.health_score()));
        m.messages_queued.set(self.delegate.queue.len() as i64);
        m.failed_peers.set(self.delegate.failed().len() as i64);
    }
}

impl Peer for GossipPeer {
    fn position(&self) -> u32 {
        let me = self.name();
        self.sorted_members()
            .iter()
            .position(|n| n.name == me)
            .map_or(0, |p| u32::try_from(p).unwrap_or(u32::MAX))
    }

    fn wait_ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.ready.wait())
    }

    fn add_state(&self, key: &str, state: Arc<dyn State>) -> Arc<dyn Channel> {
        self.delegate.states.insert(key, state);
        Arc::new(GossipChannel::new(
            key,
            Arc::clone(&self.delegate),
            Arc::downgrade(&self.list),
        ))
    }

    fn ready(&self) -> bool {
        self.ready.is_ready()
    }

    fn status(&self) -> Option<ClusterStatus> {
        Some(ClusterStatus {
            name: self.name().to_owned(),
            status: if self.ready() { "ready" } else { "settling" },
            peers: self
                .sorted_members()
                .into_iter()
                .map(|n| PeerInfo {
                    name: n.name,
                    address: n.addr.to_string(),
                })
                .collect(),
        })
    }
}

/// Retries failed peers every reconnect interval.
async fn reconnect_loop(peer: std::sync::Weak<GossipPeer>) {
    let interval = match peer.upgrade() {
        Some(p) => p.opts.reconnect_interval,
        None => return,
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(p) = peer.upgrade() else { return };
        let failed: Vec<SocketAddr> = p.delegate.failed().keys().copied().collect();
        for addr in failed {
            match p.list.join(&[addr]).await {
                Ok(_) => {
                    p.metrics.reconnections.inc();
                    p.delegate.failed().remove(&addr);
                    tracing::info!(peer = %addr, "reconnected to a cluster peer");
                }
                Err(e) => {
                    p.metrics.reconnections_failed.inc();
                    let first = p
                        .delegate
                        .failed()
                        .get_mut(&addr)
                        .is_some_and(|f| !std::mem::replace(&mut f.warned, true));
                    if first {
                        tracing::warn!(peer = %addr, error = %e, "cluster peer unreachable; retrying every reconnect interval until ha_reconnect_timeout");
                    } else {
                        tracing::debug!(peer = %addr, error = %e, "cluster peer still unreachable");
                    }
                }
            }
        }
    }
}

/// Re-resolves `ha_peers` and joins addresses that are not members.
async fn refresh_loop(peer: std::sync::Weak<GossipPeer>) {
    loop {
        tokio::time::sleep(peers::REFRESH_INTERVAL).await;
        let Some(p) = peer.upgrade() else { return };
        let own = p.list.advertise_addr();
        let resolved = peers::resolve(&p.opts.peers, own, false, p.opts.resolve_timeout).await;
        let members: Vec<SocketAddr> = p.list.members().iter().map(|n| n.addr).collect();
        for addr in resolved.into_iter().filter(|a| !members.contains(a)) {
            p.metrics.refresh_join.inc();
            if let Err(e) = p.list.join(&[addr]).await {
                p.metrics.refresh_join_failed.inc();
                tracing::debug!(peer = %addr, error = %e, "refresh join failed");
            }
        }
    }
}

/// Gauges every second, forgetting long-failed peers, pruning the broadcast queue.
async fn housekeeping_loop(peer: std::sync::Weak<GossipPeer>) {
    let mut last_remove = tokio::time::Instant::now();
    let mut last_prune = tokio::time::Instant::now();
    loop {
        let Some(p) = peer.upgrade() else { return };
        p.update_gauges();
        let remove_every = REMOVE_FAILED_INTERVAL.min(p.opts.reconnect_timeout);
        if last_remove.elapsed() >= remove_every {
            last_remove = tokio::time::Instant::now();
            let timeout = p.opts.reconnect_timeout;
            p.delegate.failed().retain(|addr, f| {
                let keep = f.since.elapsed() < timeout;
                if !keep {
                    tracing::info!(peer = %addr, "forgetting a cluster peer failed for longer than ha_reconnect_timeout");
                }
                keep
            });
        }
        if last_prune.elapsed() >= PRUNE_INTERVAL {
            last_prune = tokio::time::Instant::now();
            let pruned = p.delegate.queue.prune(MAX_QUEUE);
            p.metrics.messages_pruned.inc_by(pruned as u64);
        }
        drop(p);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
