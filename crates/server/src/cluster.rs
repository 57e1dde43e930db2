//! The cluster peer the settings ask for: Redis (`ha_redis_address`, which wins), memberlist
//! (`ha_peers`) or none, behind one type the server starts, joins and stops.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use wk_cluster::Peer;
use wk_cluster::gossip::{GossipError, GossipPeer};
use wk_cluster::metrics::ClusterMetrics;
use wk_cluster::redis::{LinkError, RedisPeer};
use wk_config::Settings;

use crate::options;

/// How long a graceful memberlist leave may take to be gossiped (Alertmanager's
/// `peer.Leave(10s)`).
const LEAVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why clustering could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The memberlist peer could not start.
    #[error("{0}")]
    Gossip(#[from] GossipError),
    /// The Redis address is malformed.
    #[error("{0}")]
    Redis(#[from] LinkError),
    /// A TLS setting is unusable.
    #[error("[unified_alerting] {0}: {1}")]
    TlsSetting(&'static str, String),
    /// A TLS file could not be read.
    #[error("[unified_alerting] {key}: cannot read {path}: {source}")]
    TlsFile {
        /// The setting.
        key: &'static str,
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A running cluster peer.
#[derive(Clone)]
pub enum ClusterPeer {
    /// memberlist gossip.
    Gossip(Arc<GossipPeer>),
    /// Redis heartbeats and pub/sub.
    Redis(Arc<RedisPeer>),
}

impl ClusterPeer {
    /// Starts the peer the settings ask for (registering the cluster metrics), or `None`.
    pub async fn start(
        settings: &Settings,
        registry: &mut Registry,
    ) -> Result<Option<Self>, ClusterError> {
        if let Some(opts) = options::redis(settings)? {
            let metrics = ClusterMetrics::new();
            metrics.register(registry);
            let peer = RedisPeer::create(opts, metrics)?;
            tracing::info!(
                name = %peer.name(),
                addr = ?settings.unified_alerting.ha_redis_address,
                "cluster peer over redis"
            );
            return Ok(Some(Self::Redis(peer)));
        }
        let Some(opts) = options::gossip(settings) else {
            return Ok(None);
        };
        let metrics = ClusterMetrics::new();
        metrics.register(registry);
        let peer = GossipPeer::create(opts, metrics).await?;
        tracing::info!(
            name = %peer.name(),
            advertise = %peer.advertise_addr(),
            "cluster peer listening (memberlist)"
        );
        Ok(Some(Self::Gossip(peer)))
    }

    /// The peer as the Alertmanagers see it.
    pub fn peer(&self) -> Arc<dyn Peer> {
        match self {
            Self::Gossip(p) => Arc::clone(p) as _,
            Self::Redis(p) => Arc::clone(p) as _,
        }
    }

    /// Joins (memberlist: the peers; Redis: heartbeats and subscriptions) and starts settling.
    pub async fn join(&self) {
        match self {
            Self::Gossip(p) => p.join().await,
            Self::Redis(p) => p.join().await,
        }
    }

    /// Leaves gracefully.
    pub async fn leave(&self) {
        match self {
            Self::Gossip(p) => p.leave(LEAVE_TIMEOUT).await,
            Self::Redis(p) => p.leave().await,
        }
    }
}
