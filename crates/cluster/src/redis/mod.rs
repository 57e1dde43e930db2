//! The Redis peer (Grafana's alternative to memberlist, for networks where instances cannot
//! reach each other): membership through heartbeats in one sorted set, position by start time,
//! and the state channels over pub/sub — an update per local change on `<prefix><key>`, full
//! state on `<prefix>full_state` every push/pull interval, on request and on shutdown, and a
//! full-state request on `<prefix>full_state:request` once settled and after every reconnect.
//!
//! Availability first: Redis being unreachable never stops the instance. Commands fail fast
//! (2 s), are counted and logged once per outage, and are retried with backoff; notifications go
//! on. During an outage the last known members are kept for one heartbeat timeout, then this
//! instance considers itself alone (position 0), so every instance notifies: duplicates rather
//! than silence. After Redis returns, heartbeats re-form the membership and the full-state
//! request merges what was missed.
//!
//! Standalone Redis (optionally over TLS), Redis Cluster (membership is one key, so no
//! cross-slot command or per-node `SCAN`; pub/sub goes through any node, since `PUBLISH` reaches
//! the whole cluster) and Sentinel (the master is asked of the sentinels, and asked again after a
//! failover).

mod cluster_node;
mod dial;
mod link;
mod members;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use prost::Message;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::metrics::{ClusterMetrics, PeerLabel, PublishFailure};
use crate::settle::{Readiness, settle};
use crate::states::Registry;
use crate::wire::Part;
use crate::{BoxFuture, Channel, ClusterStatus, Peer, PeerInfo, State};
pub use dial::TlsTarget;
use link::Link;
pub use link::{LinkError, SentinelTarget, Target};

/// Grafana's heartbeat period, the most we wait between heartbeats.
const MAX_HEARTBEAT: Duration = Duration::from_secs(5);
/// Heartbeats a member may miss before it no longer counts.
const MISSED_HEARTBEATS: u32 = 12;
/// Messages waiting to be published (Grafana's channel buffer).
const QUEUE: usize = 200;
/// Longest wait between reconnection attempts of the subscriber.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The `peer` label of the Redis ping metrics (Grafana's).
const REDIS_PEER: &str = "redis-server";

/// Settings of a [`RedisPeer`] (`[unified_alerting] ha_redis_*`).
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Where to connect.
    pub target: Target,
    /// Key and channel prefix, ending with `:` (or empty).
    pub prefix: String,
    /// `ha_redis_peer_name`; `None`: `peer-<uuid>`.
    pub name: Option<String>,
    /// `ha_gossip_interval`: settling polls every 10 × this; heartbeats run at that pace too,
    /// at most every 5 s.
    pub gossip_interval: Duration,
    /// `ha_push_pull_interval`: how often the full state is published.
    pub push_pull_interval: Duration,
    /// Upper bound on settling (Grafana: 30 s).
    pub settle_timeout: Duration,
}

impl RedisOptions {
    /// Grafana's defaults for `target` with `prefix` (a `:` is appended if missing).
    pub fn new(target: Target, prefix: &str) -> Self {
        let prefix = if prefix.is_empty() || prefix.ends_with(':') {
            prefix.to_owned()
        } else {
            format!("{prefix}:")
        };
        Self {
            target,
            prefix,
            name: None,
            gossip_interval: Duration::from_millis(200),
            push_pull_interval: Duration::from_secs(60),
            settle_timeout: Duration::from_secs(30),
        }
    }

    fn heartbeat(&self) -> Duration {
        self.gossip_interval.saturating_mul(10).min(MAX_HEARTBEAT)
    }
}

/// A message to publish.
struct Outgoing {
    channel: String,
    payload: Vec<u8>,
    msg_type: &'static str,
}

/// The live members as last read.
struct Members {
    list: Vec<String>,
    fetched: Option<Instant>,
}

/// A cluster member over Redis.
pub struct RedisPeer {
    name: String,
    me: String,
    opts: RedisOptions,
    link: Link,
    states: Registry,
    members: Mutex<Members>,
    ready: Readiness,
    metrics: Arc<ClusterMetrics>,
    outgoing: mpsc::Sender<Outgoing>,
    failing: AtomicBool,
    /// Wakes the subscriber to subscribe again (the Sentinel master moved).
    resubscribe: tokio::sync::Notify,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for RedisPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPeer")
            .field("name", &self.name)
            .field("addrs", &self.opts.target.addrs)
            .finish_non_exhaustive()
    }
}

impl RedisPeer {
    /// Builds the peer and starts its publisher; nothing is sent before [`RedisPeer::join`].
    /// Fails only on a malformed address: Redis being down is not an error.
    pub fn create(
        opts: RedisOptions,
        metrics: Arc<ClusterMetrics>,
    ) -> Result<Arc<Self>, LinkError> {
        let link = Link::new(&opts.target)?;
        let name = opts
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("peer-{}", uuid::Uuid::new_v4()));
        let host = hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let me = members::member(members::now_ms(), &name, &host);
        let (tx, rx) = mpsc::channel(QUEUE);
        metrics.enabled.set(1);
        let peer = Arc::new(Self {
            name,
            me,
            opts,
            link,
            states: Registry::default(),
            members: Mutex::new(Members {
                list: Vec::new(),
                fetched: None,
            }),
            ready: Readiness::default(),
            metrics,
            outgoing: tx,
            failing: AtomicBool::new(false),
            resubscribe: tokio::sync::Notify::new(),
            tasks: Mutex::new(Vec::new()),
        });
        let publisher = tokio::spawn(publish_loop(Arc::downgrade(&peer), rx));
        peer.tasks().push(publisher);
        Ok(peer)
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This instance's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.opts.prefix)
    }

    /// Starts heartbeats, the subscriber, the periodic full state and settling (after which
    /// the full state of the others is requested).
    pub async fn join(self: &Arc<Self>) {
        self.heartbeat_once().await;
        let me = Arc::downgrade(self);
        let poll = self.opts.gossip_interval.saturating_mul(10);
        let timeout = self.opts.settle_timeout;
        let mut tasks = self.tasks();
        tasks.push(tokio::spawn(heartbeat_loop(Arc::downgrade(self))));
        tasks.push(tokio::spawn(subscribe_loop(Arc::downgrade(self))));
        tasks.push(tokio::spawn(full_state_loop(Arc::downgrade(self))));
        tasks.push(tokio::spawn(async move {
            let Some(peer) = me.upgrade() else { return };
            let settled = settle(&peer.ready, poll, timeout, || peer.live().len()).await;
            if settled {
                peer.request_full_state();
            }
        }));
    }

    /// Publishes the full state, removes this instance from the members and stops.
    pub async fn leave(&self) {
        for t in self.tasks().drain(..) {
            t.abort();
        }
        let full = self.states.full_state();
        let publish = redis::cmd("PUBLISH")
            .arg(self.key("full_state"))
            .arg(full)
            .clone();
        if let Err(e) = self.link.query::<i64>(&publish).await {
            tracing::warn!(error = %e, "publishing the final full state to redis failed");
        }
        let zrem = redis::cmd("ZREM")
            .arg(self.key("members"))
            .arg(&self.me)
            .clone();
        if let Err(e) = self.link.query::<i64>(&zrem).await {
            tracing::warn!(error = %e, "removing this instance from the redis members failed");
        }
        tracing::info!("left the redis cluster");
    }

    /// The live members in position order; during an outage the last known ones for one
    /// heartbeat timeout, then only this instance.
    fn live(&self) -> Vec<String> {
        let m = self.members.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = m
            .fetched
            .is_some_and(|t| t.elapsed() < self.heartbeat_timeout());
        if fresh && !m.list.is_empty() {
            m.list.clone()
        } else {
            vec![self.me.clone()]
        }
    }

    fn heartbeat_timeout(&self) -> Duration {
        self.opts.heartbeat().saturating_mul(MISSED_HEARTBEATS)
    }

    /// Records our heartbeat and reads the live members.
    async fn heartbeat_once(&self) {
        if self.link.master_moved().await {
            // Everyone moves to the new master: subscribe there too, and ask for what was
            // published on the old one meanwhile.
            self.resubscribe.notify_one();
            self.request_full_state();
        }
        let start = Instant::now();
        let pipe = members::heartbeat(
            &self.key("members"),
            &self.me,
            members::now_ms(),
            self.heartbeat_timeout(),
        );
        let result: redis::RedisResult<(i64, i64, Vec<String>)> = self.link.query(&pipe).await;
        match result {
            Ok((_, _, live)) => {
                let label = PeerLabel {
                    peer: REDIS_PEER.to_owned(),
                };
                self.metrics
                    .pings
                    .get_or_create(&label)
                    .observe(start.elapsed().as_secs_f64());
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("redis reachable again");
                    // Whatever was published meanwhile is lost: ask for full states.
                    self.request_full_state();
                }
                let list = members::ordered(live);
                let mut m = self.members.lock().unwrap_or_else(|e| e.into_inner());
                m.list = list;
                m.fetched = Some(Instant::now());
            }
            Err(e) => {
                // Whatever the error (a broken connection, a master that became a replica),
                // the next attempt starts from scratch: new connection, master asked again.
                self.link.reset().await;
                self.heartbeat_failed(&e);
            }
        }
        self.update_gauges();
    }

    fn heartbeat_failed(&self, e: &redis::RedisError) {
        self.metrics
            .ping_failures
            .get_or_create(&PeerLabel {
                peer: REDIS_PEER.to_owned(),
            })
            .inc();
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                addrs = ?self.opts.target.addrs,
                error = %e,
                "redis unreachable; notifications go on, each instance on its own after the heartbeat timeout"
            );
        } else {
            tracing::debug!(error = %e, "redis still unreachable");
        }
        self.update_gauges();
    }

    fn update_gauges(&self) {
        self.metrics.members.set(self.live().len() as i64);
        self.metrics.position.set(i64::from(self.position()));
    }

    fn enqueue(&self, channel: String, payload: Vec<u8>, msg_type: &'static str) {
        let out = Outgoing {
            channel,
            payload,
            msg_type,
        };
        if self.outgoing.try_send(out).is_err() {
            self.metrics
                .publish_failures
                .get_or_create(&PublishFailure {
                    msg_type,
                    reason: "buffer_overflow",
                })
                .inc();
        }
    }

    fn publish_full_state(&self) {
        self.enqueue(
            self.key("full_state"),
            self.states.full_state(),
            "full_state",
        );
    }

    fn request_full_state(&self) {
        self.enqueue(
            self.key("full_state:request"),
            self.name.as_bytes().to_vec(),
            "full_state",
        );
    }

    /// Handles one pub/sub message.
    fn receive(&self, channel: &str, payload: &[u8]) {
        let Some(suffix) = channel.strip_prefix(&self.opts.prefix) else {
            return;
        };
        let msg_type = if suffix.starts_with("full_state") {
            "full_state"
        } else {
            "update"
        };
        ClusterMetrics::count(&self.metrics.messages_received, msg_type);
        ClusterMetrics::add_size(
            &self.metrics.messages_received_size,
            msg_type,
            payload.len(),
        );
        match suffix {
            "full_state:request" => {
                if payload != self.name.as_bytes() {
                    self.publish_full_state();
                }
            }
            "full_state" => self.states.merge_full_state(payload),
            _ => self.states.merge_update(payload),
        }
    }
}

impl Peer for RedisPeer {
    fn position(&self) -> u32 {
        self.live()
            .iter()
            .position(|m| *m == self.me)
            .map_or(0, |p| u32::try_from(p).unwrap_or(u32::MAX))
    }

    fn wait_ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.ready.wait())
    }

    fn add_state(&self, key: &str, state: Arc<dyn State>) -> Arc<dyn Channel> {
        self.states.insert(key, state);
        Arc::new(RedisChannel {
            key: key.to_owned(),
            channel: self.key(key),
            outgoing: self.outgoing.clone(),
            metrics: Arc::clone(&self.metrics),
        })
    }

    fn ready(&self) -> bool {
        self.ready.is_ready()
    }

    fn status(&self) -> Option<ClusterStatus> {
        Some(ClusterStatus {
            name: self.name.clone(),
            status: if self.ready() { "ready" } else { "settling" },
            peers: self
                .live()
                .iter()
                .map(|m| {
                    let (name, host) = members::parse(m);
                    PeerInfo {
                        name: name.to_owned(),
                        address: host.to_owned(),
                    }
                })
                .collect(),
        })
    }
}

/// A state's channel: local changes are published at once; relays are not needed (every
/// member subscribes to every update).
struct RedisChannel {
    key: String,
    channel: String,
    outgoing: mpsc::Sender<Outgoing>,
    metrics: Arc<ClusterMetrics>,
}

impl Channel for RedisChannel {
    fn broadcast(&self, _bytes: Vec<u8>) {}

    fn push(&self, bytes: Vec<u8>) {
        let part = Part {
            key: self.key.clone(),
            data: bytes,
        }
        .encode_to_vec();
        let out = Outgoing {
            channel: self.channel.clone(),
            payload: part,
            msg_type: "update",
        };
        if self.outgoing.try_send(out).is_err() {
            self.metrics
                .publish_failures
                .get_or_create(&PublishFailure {
                    msg_type: "update",
                    reason: "buffer_overflow",
                })
                .inc();
            tracing::warn!(key = %self.key, "redis publish queue full; update dropped (the next full state heals it)");
        }
    }
}

async fn publish_loop(peer: std::sync::Weak<RedisPeer>, mut rx: mpsc::Receiver<Outgoing>) {
    while let Some(out) = rx.recv().await {
        let Some(p) = peer.upgrade() else { return };
        let cmd = redis::cmd("PUBLISH")
            .arg(&out.channel)
            .arg(&out.payload)
            .clone();
        match p.link.query::<i64>(&cmd).await {
            Ok(_) => {
                ClusterMetrics::count(&p.metrics.messages_sent, out.msg_type);
                ClusterMetrics::add_size(
                    &p.metrics.messages_sent_size,
                    out.msg_type,
                    out.payload.len(),
                );
            }
            Err(e) => {
                p.metrics
                    .publish_failures
                    .get_or_create(&PublishFailure {
                        msg_type: out.msg_type,
                        reason: "redis_issue",
                    })
                    .inc();
                tracing::debug!(channel = %out.channel, error = %e, "publishing to redis failed");
            }
        }
    }
}

async fn heartbeat_loop(peer: std::sync::Weak<RedisPeer>) {
    loop {
        let every = match peer.upgrade() {
            Some(p) => p.opts.heartbeat(),
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(p) = peer.upgrade() else { return };
        p.heartbeat_once().await;
    }
}

async fn full_state_loop(peer: std::sync::Weak<RedisPeer>) {
    loop {
        let every = match peer.upgrade() {
            Some(p) => p.opts.push_pull_interval,
            None => return,
        };
        tokio::time::sleep(every.max(Duration::from_millis(100))).await;
        let Some(p) = peer.upgrade() else { return };
        p.publish_full_state();
    }
}

/// `*`, `?`, `[`, `]` and `\` escaped for a PSUBSCRIBE pattern.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Subscribes to every channel under the prefix and dispatches messages; reconnects with
/// backoff and asks for full states after every reconnect.
async fn subscribe_loop(peer: std::sync::Weak<RedisPeer>) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        let (mut pubsub, pattern) = {
            let Some(p) = peer.upgrade() else { return };
            let pattern = format!("{}*", glob_escape(&p.opts.prefix));
            let connected = match p.link.pubsub().await {
                Ok(mut ps) => ps.psubscribe(&pattern).await.map(|()| ps),
                Err(e) => Err(e),
            };
            match connected {
                Ok(ps) => {
                    if !first {
                        tracing::info!("redis subscription restored");
                        p.request_full_state();
                    }
                    (ps, pattern)
                }
                Err(e) => {
                    tracing::debug!(error = %e, "subscribing to redis failed; retrying");
                    drop(p);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        };
        first = false;
        backoff = Duration::from_millis(100);
        tracing::debug!(pattern, "subscribed to redis");
        let mut stream = pubsub.on_message();
        loop {
            let Some(p) = peer.upgrade() else { return };
            let msg = tokio::select! {
                m = stream.next() => m,
                () = p.resubscribe.notified() => {
                    tracing::info!("subscribing again through the new redis master");
                    None
                }
            };
            let Some(msg) = msg else { break };
            p.receive(msg.get_channel_name(), msg.get_payload_bytes());
        }
        tracing::debug!("redis subscription lost; reconnecting");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_gets_a_colon_and_globs_are_escaped() {
        let t = Target::standalone("127.0.0.1:6379");
        assert_eq!(RedisOptions::new(t.clone(), "wk").prefix, "wk:");
        assert_eq!(RedisOptions::new(t.clone(), "wk:").prefix, "wk:");
        assert_eq!(RedisOptions::new(t, "").prefix, "");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[test]
    fn heartbeats_follow_the_gossip_interval_up_to_five_seconds() {
        let mut o = RedisOptions::new(Target::standalone("127.0.0.1:6379"), "wk");
        assert_eq!(o.heartbeat(), Duration::from_secs(2));
        o.gossip_interval = Duration::from_secs(1);
        assert_eq!(o.heartbeat(), Duration::from_secs(5));
    }
}
