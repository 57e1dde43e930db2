//! The connection to Redis, standalone, Cluster or through Sentinel: commands go over one
//! multiplexed connection (a cluster connection that routes by key in Cluster mode; the master
//! the sentinels name, asked again after an error or a `READONLY` answer, in Sentinel mode),
//! made lazily and made again after an error, with short connect and response timeouts so an unreachable Redis never stalls the
//! caller for long. Subscriptions use a plain connection to the server (in Cluster mode, to any
//! node that answers: `PUBLISH` reaches the whole cluster).

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, RedisConnectionInfo, TlsMode};
use tokio::sync::Mutex;

use super::cluster_node::{self, NodeConnection};
use super::dial::{Dialer, TlsTarget};

/// How long connecting, and each command, may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(2);

/// Why Redis could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// An address of `ha_redis_address` is not `host:port`.
    #[error("[unified_alerting] ha_redis_address = {0:?}: expected host:port")]
    Address(String),
    /// The client could not be built.
    #[error("redis client: {0}")]
    Client(redis::RedisError),
    /// Another Redis Cluster TLS configuration is already in use in this process.
    #[error("redis cluster: a different TLS configuration is already in use in this process")]
    ClusterTlsInUse,
}

/// Redis Sentinel settings.
#[derive(Debug, Clone, Default)]
pub struct SentinelTarget {
    /// The monitored master's name (`ha_redis_sentinel_master_name`).
    pub master_name: String,
    /// ACL user for the sentinels ("" for none).
    pub username: String,
    /// Password for the sentinels ("" for none).
    pub password: String,
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port` of the server, of Cluster seed nodes, or of the sentinels.
    pub addrs: Vec<String>,
    /// Redis Cluster (`ha_redis_cluster_mode_enabled`).
    pub cluster: bool,
    /// Redis Sentinel (`ha_redis_sentinel_mode_enabled`): `addrs` are sentinels.
    pub sentinel: Option<SentinelTarget>,
    /// TLS, to every node (and to the sentinels).
    pub tls: Option<TlsTarget>,
    /// ACL user ("" for none).
    pub username: String,
    /// Password ("" for none).
    pub password: String,
    /// Database number (standalone and Sentinel only).
    pub db: i64,
}

impl Target {
    /// A standalone server at `addr`.
    pub fn standalone(addr: impl Into<String>) -> Self {
        Self {
            addrs: vec![addr.into()],
            cluster: false,
            sentinel: None,
            tls: None,
            username: String::new(),
            password: String::new(),
            db: 0,
        }
    }

    /// Authentication and database for the data nodes.
    fn redis_info(&self) -> RedisConnectionInfo {
        credentials(
            &self.username,
            &self.password,
            if self.cluster { 0 } else { self.db },
        )
    }
}

fn credentials(username: &str, password: &str, db: i64) -> RedisConnectionInfo {
    let mut info = RedisConnectionInfo::default().set_db(db);
    if !username.is_empty() {
        info = info.set_username(username);
    }
    if !password.is_empty() {
        info = info.set_password(password);
    }
    info
}

fn host_port(addr: &str) -> Result<(String, u16), LinkError> {
    addr.rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
        .filter(|(h, _)| !h.is_empty())
        .map(|(h, p)| (h.to_owned(), p))
        .ok_or_else(|| LinkError::Address(addr.to_owned()))
}

/// Connection settings: connect and response timeouts.
fn connection_config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT))
}

enum Backend {
    Sentinel {
        /// The sentinels' addresses.
        sentinels: Vec<(String, u16)>,
        /// The monitored master's name.
        master_name: String,
        /// Authentication for the sentinels.
        sentinel_info: RedisConnectionInfo,
        /// The current master's address and connection.
        conn: Mutex<Option<((String, u16), MultiplexedConnection)>>,
    },
    Single {
        conn: Mutex<Option<MultiplexedConnection>>,
    },
    Cluster {
        client: Box<ClusterClient>,
        conn: Mutex<Option<ClusterConnection<NodeConnection>>>,
    },
}

/// A lazily (re)connected Redis connection.
pub(crate) struct Link {
    backend: Backend,
    dialer: Dialer,
    /// Authentication and database for the data nodes.
    info: RedisConnectionInfo,
    /// The configured addresses (the server, or Cluster seeds), for subscriptions, tried in
    /// order.
    nodes: Vec<(String, u16)>,
}

/// Whether the connection must be made again: it broke, or (after a Sentinel failover) the
/// server we write to became a replica.
fn dropped(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.code() == Some("READONLY")
}

fn failed(what: String) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::other(what))
}

impl Link {
    /// A link to `target`; nothing is connected yet.
    pub(crate) fn new(target: &Target) -> Result<Self, LinkError> {
        let nodes = target
            .addrs
            .iter()
            .map(|a| host_port(a))
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(LinkError::Address(String::new()));
        }
        let dialer = Dialer::new(target.tls.clone(), TIMEOUT);
        let info = target.redis_info();
        let backend = if let Some(sentinel) = &target.sentinel {
            Backend::Sentinel {
                sentinels: nodes.clone(),
                master_name: sentinel.master_name.clone(),
                sentinel_info: credentials(&sentinel.username, &sentinel.password, 0),
                conn: Mutex::new(None),
            }
        } else if target.cluster {
            let seeds = nodes
                .iter()
                .map(|(h, p)| ConnectionAddr::Tcp(h.clone(), *p))
                .collect::<Vec<_>>();
            let mut b = ClusterClient::builder(seeds)
                .connection_timeout(TIMEOUT)
                .response_timeout(TIMEOUT);
            if let Some(tls) = &target.tls {
                if !cluster_node::install(tls, TIMEOUT) {
                    return Err(LinkError::ClusterTlsInUse);
                }
                // Marks node addresses as TLS for our connector; the client's TLS is unused.
                b = b.tls(TlsMode::Secure);
            }
            if !target.username.is_empty() {
                b = b.username(&target.username);
            }
            if !target.password.is_empty() {
                b = b.password(&target.password);
            }
            Backend::Cluster {
                client: Box::new(b.build().map_err(LinkError::Client)?),
                conn: Mutex::new(None),
            }
        } else {
            Backend::Single {
                conn: Mutex::new(None),
            }
        };
        Ok(Self {
            backend,
            dialer,
            info,
            nodes,
        })
    }

    /// Runs `cmd` (or a pipeline); on a connection error the connection is dropped so the next
    /// call reconnects.
    pub(crate) async fn query<'a, T: redis::FromRedisValue>(
        &self,
        op: impl Into<Op<'a>>,
    ) -> redis::RedisResult<T> {
        let cmd = op.into();
        match &self.backend {
            Backend::Sentinel { conn, .. } => {
                let mut c = self.master().await?.1;
                let r = cmd.run(&mut c).await;
                if let Err(e) = &r
                    && dropped(e)
                {
                    *conn.lock().await = None;
                }
                r
            }
            Backend::Single { conn } => {
                let mut c = {
                    let mut slot = conn.lock().await;
                    match slot.as_ref() {
                        Some(c) => c.clone(),
                        None => {
                            let (host, port) = &self.nodes[0];
                            let c = self
                                .dialer
                                .multiplexed(host, *port, &self.info, connection_config())
                                .await?;
                            *slot = Some(c.clone());
                            c
                        }
                    }
                };
                let r = cmd.run(&mut c).await;
                if let Err(e) = &r
                    && dropped(e)
                {
                    *conn.lock().await = None;
                }
                r
            }
            Backend::Cluster { client, conn } => {
                let mut c = {
                    let mut slot = conn.lock().await;
                    match slot.as_ref() {
                        Some(c) => c.clone(),
                        None => {
                            let c = tokio::time::timeout(
                                TIMEOUT * 2,
                                client.get_async_generic_connection::<NodeConnection>(),
                            )
                            .await
                            .map_err(|_| timed_out("connecting to the redis cluster"))??;
                            *slot = Some(c.clone());
                            c
                        }
                    }
                };
                let r = cmd.run(&mut c).await;
                if let Err(e) = &r
                    && dropped(e)
                {
                    *conn.lock().await = None;
                }
                r
            }
        }
    }

    /// Forgets the connection (and, with Sentinel, the master), so the next call connects
    /// afresh.
    pub(crate) async fn reset(&self) {
        match &self.backend {
            Backend::Sentinel { conn, .. } => *conn.lock().await = None,
            Backend::Single { conn } => *conn.lock().await = None,
            Backend::Cluster { conn, .. } => *conn.lock().await = None,
        }
    }

    /// Asks the sentinels, in order, for the master's address.
    async fn ask_sentinels(
        &self,
        sentinels: &[(String, u16)],
        master_name: &str,
        sentinel_info: &RedisConnectionInfo,
    ) -> redis::RedisResult<(String, u16)> {
        let mut last = failed("no sentinel configured".to_owned());
        for (host, port) in sentinels {
            let asked = async {
                let mut c = self
                    .dialer
                    .multiplexed(host, *port, sentinel_info, connection_config())
                    .await?;
                let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(master_name)
                    .query_async(&mut c)
                    .await?;
                addr.ok_or_else(|| {
                    failed(format!(
                        "sentinel {host}:{port} does not monitor a master named {master_name:?}"
                    ))
                })
            }
            .await;
            match asked {
                Ok(addr) => return Ok(addr),
                Err(e) => {
                    tracing::debug!(sentinel = %format!("{host}:{port}"), error = %e, "sentinel did not answer");
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// With Sentinel: asks the sentinels which node is the master and, if it is not the one in
    /// use, forgets the connection; true when it changed. Between a failover and the old
    /// master's demotion both nodes accept writes, so failing writes alone would not notice.
    pub(crate) async fn master_moved(&self) -> bool {
        let Backend::Sentinel {
            sentinels,
            master_name,
            sentinel_info,
            conn,
        } = &self.backend
        else {
            return false;
        };
        let Ok(named) = self
            .ask_sentinels(sentinels, master_name, sentinel_info)
            .await
        else {
            return false;
        };
        let mut slot = conn.lock().await;
        let moved = slot.as_ref().is_some_and(|(addr, _)| *addr != named);
        if moved {
            tracing::info!(master = %format!("{}:{}", named.0, named.1), "the sentinels name a new redis master");
            *slot = None;
        }
        moved
    }

    /// The current master's address and connection (asking the sentinels when not known); the
    /// node must say it is a master.
    async fn master(&self) -> redis::RedisResult<((String, u16), MultiplexedConnection)> {
        let Backend::Sentinel {
            sentinels,
            master_name,
            sentinel_info,
            conn,
        } = &self.backend
        else {
            return Err(failed("not a sentinel link".to_owned()));
        };
        let mut slot = conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let (host, port) = self
            .ask_sentinels(sentinels, master_name, sentinel_info)
            .await?;
        let mut c = self
            .dialer
            .multiplexed(&host, port, &self.info, connection_config())
            .await?;
        let role: Vec<redis::Value> = redis::cmd("ROLE").query_async(&mut c).await?;
        let role = role
            .first()
            .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
            .unwrap_or_default();
        if role != "master" {
            return Err(failed(format!(
                "{host}:{port}, named master by the sentinels, is a {role}"
            )));
        }
        tracing::info!(master = %format!("{host}:{port}"), tls = self.dialer.is_tls(), "using the redis master the sentinels name");
        *slot = Some(((host.clone(), port), c.clone()));
        Ok(((host, port), c))
    }

    /// A new pub/sub connection: to the server, to the current master (Sentinel; its replicas
    /// deliver what is published on it too, so a failover does not cut the subscription), or to
    /// the first Cluster node that answers.
    pub(crate) async fn pubsub(&self) -> redis::RedisResult<redis::aio::PubSub> {
        if matches!(self.backend, Backend::Sentinel { .. }) {
            let (host, port) = self.master().await?.0;
            tracing::debug!(node = %format!("{host}:{port}"), "subscribing through the redis master");
            return self.dialer.pubsub(&host, port, &self.info).await;
        }
        let mut last = failed("no redis address".to_owned());
        for (host, port) in &self.nodes {
            match self.dialer.pubsub(host, *port, &self.info).await {
                Ok(ps) => return Ok(ps),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

fn timed_out(what: &str) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what} timed out"),
    ))
}

/// A command or a pipeline.
pub(crate) enum Op<'a> {
    /// One command.
    Cmd(&'a redis::Cmd),
    /// A pipeline.
    Pipe(&'a redis::Pipeline),
}

impl<'a> From<&'a redis::Cmd> for Op<'a> {
    fn from(c: &'a redis::Cmd) -> Self {
        Self::Cmd(c)
    }
}

impl<'a> From<&'a redis::Pipeline> for Op<'a> {
    fn from(p: &'a redis::Pipeline) -> Self {
        Self::Pipe(p)
    }
}

impl Op<'_> {
    async fn run<T: redis::FromRedisValue, C: redis::aio::ConnectionLike + Send>(
        &self,
        conn: &mut C,
    ) -> redis::RedisResult<T> {
        match self {
            Self::Cmd(c) => c.query_async(conn).await,
            Self::Pipe(p) => p.query_async(conn).await,
        }
    }
}
