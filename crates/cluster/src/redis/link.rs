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
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Client, ClientTlsConfig, ConnectionAddr, ConnectionInfo,
    IntoConnectionInfo, RedisConnectionInfo, TlsCertificates,
};
use tokio::sync::Mutex;

/// How long connecting, and each command, may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Why Redis could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// An address of `ha_redis_address` is not `host:port`.
    #[error("[unified_alerting] ha_redis_address = {0:?}: expected host:port")]
    Address(String),
    /// The client could not be built.
    #[error("redis client: {0}")]
    Client(redis::RedisError),
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

/// TLS to Redis (`ha_redis_tls_*`), as PEM bytes read from the configured files.
#[derive(Clone, Default)]
pub struct TlsTarget {
    /// CA certificates to trust instead of the system's.
    pub ca: Option<Vec<u8>>,
    /// Client certificate and key (mutual TLS).
    pub client: Option<(Vec<u8>, Vec<u8>)>,
    /// Skip certificate verification (`ha_redis_tls_insecure_skip_verify`).
    pub insecure_skip_verify: bool,
}

impl std::fmt::Debug for TlsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTarget")
            .field("ca", &self.ca.is_some())
            .field("client", &self.client.is_some())
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
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
    /// TLS (standalone Redis only).
    pub tls: Option<TlsTarget>,
    /// ACL user ("" for none).
    pub username: String,
    /// Password ("" for none).
    pub password: String,
    /// Database number (standalone only).
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

    fn info(&self, addr: &str) -> Result<ConnectionInfo, LinkError> {
        let (host, port) = host_port(addr)?;
        let mut settings =
            RedisConnectionInfo::default().set_db(if self.cluster { 0 } else { self.db });
        if !self.username.is_empty() {
            settings = settings.set_username(&self.username);
        }
        if !self.password.is_empty() {
            settings = settings.set_password(&self.password);
        }
        let addr = match &self.tls {
            Some(tls) => ConnectionAddr::TcpTls {
                host: host.to_owned(),
                port,
                insecure: tls.insecure_skip_verify,
                tls_params: None,
            },
            None => ConnectionAddr::Tcp(host.to_owned(), port),
        };
        Ok(addr
            .into_connection_info()
            .map_err(LinkError::Client)?
            .set_redis_settings(settings))
    }
}

fn host_port(addr: &str) -> Result<(&str, u16), LinkError> {
    addr.rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
        .filter(|(h, _)| !h.is_empty())
        .ok_or_else(|| LinkError::Address(addr.to_owned()))
}

enum Backend {
    Sentinel {
        client: Mutex<SentinelClient>,
        /// The current master's client and connection.
        conn: Mutex<Option<(Client, MultiplexedConnection)>>,
    },
    Single {
        client: Client,
        conn: Mutex<Option<MultiplexedConnection>>,
    },
    Cluster {
        client: ClusterClient,
        conn: Mutex<Option<ClusterConnection>>,
    },
}

/// A lazily (re)connected Redis connection.
pub(crate) struct Link {
    backend: Backend,
    /// One client per address, for subscriptions (tried in order).
    nodes: Vec<Client>,
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

impl Link {
    /// A link to `target`; nothing is connected yet.
    pub(crate) fn new(target: &Target) -> Result<Self, LinkError> {
        let infos = target
            .addrs
            .iter()
            .map(|a| target.info(a))
            .collect::<Result<Vec<_>, _>>()?;
        let nodes = if target.sentinel.is_some() {
            Vec::new()
        } else {
            infos
                .iter()
                .map(|i| match &target.tls {
                    Some(tls) => Client::build_with_tls(
                        i.clone(),
                        TlsCertificates {
                            client_tls: tls.client.clone().map(|(client_cert, client_key)| {
                                ClientTlsConfig {
                                    client_cert,
                                    client_key,
                                }
                            }),
                            root_cert: tls.ca.clone(),
                        },
                    )
                    .map_err(LinkError::Client),
                    None => Client::open(i.clone()).map_err(LinkError::Client),
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let backend = if let Some(sentinel) = &target.sentinel {
            let addrs = target
                .addrs
                .iter()
                .map(|a| host_port(a).map(|(h, p)| ConnectionAddr::Tcp(h.to_owned(), p)))
                .collect::<Result<Vec<_>, _>>()?;
            let mut b = SentinelClientBuilder::new(
                addrs,
                &sentinel.master_name,
                SentinelServerType::Master,
            )
            .map_err(LinkError::Client)?
            .set_client_to_redis_db(target.db);
            if !target.username.is_empty() {
                b = b.set_client_to_redis_username(&target.username);
            }
            if !target.password.is_empty() {
                b = b.set_client_to_redis_password(&target.password);
            }
            if !sentinel.username.is_empty() {
                b = b.set_client_to_sentinel_username(&sentinel.username);
            }
            if !sentinel.password.is_empty() {
                b = b.set_client_to_sentinel_password(&sentinel.password);
            }
            Backend::Sentinel {
                client: Mutex::new(b.build().map_err(LinkError::Client)?),
                conn: Mutex::new(None),
            }
        } else if target.cluster {
            let mut b = ClusterClient::builder(infos)
                .connection_timeout(TIMEOUT)
                .response_timeout(TIMEOUT);
            if !target.username.is_empty() {
                b = b.username(&target.username);
            }
            if !target.password.is_empty() {
                b = b.password(&target.password);
            }
            Backend::Cluster {
                client: b.build().map_err(LinkError::Client)?,
                conn: Mutex::new(None),
            }
        } else {
            let client = nodes
                .first()
                .cloned()
                .ok_or_else(|| LinkError::Address(String::new()))?;
            Backend::Single {
                client,
                conn: Mutex::new(None),
            }
        };
        Ok(Self { backend, nodes })
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
            Backend::Single { client, conn } => {
                let mut c = {
                    let mut slot = conn.lock().await;
                    match slot.as_ref() {
                        Some(c) => c.clone(),
                        None => {
                            let config = AsyncConnectionConfig::new()
                                .set_connection_timeout(Some(TIMEOUT))
                                .set_response_timeout(Some(TIMEOUT));
                            let c = client
                                .get_multiplexed_async_connection_with_config(&config)
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
                            let c =
                                tokio::time::timeout(TIMEOUT * 2, client.get_async_connection())
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
            Backend::Single { conn, .. } => *conn.lock().await = None,
            Backend::Cluster { conn, .. } => *conn.lock().await = None,
        }
    }

    /// With Sentinel: asks the sentinels which node is the master and, if it is not the one in
    /// use, forgets the connection; true when it changed. Between a failover and the old
    /// master's demotion both nodes accept writes, so failing writes alone would not notice.
    pub(crate) async fn master_moved(&self) -> bool {
        let Backend::Sentinel { client, conn } = &self.backend else {
            return false;
        };
        let named = {
            let mut sentinel = client.lock().await;
            match tokio::time::timeout(TIMEOUT * 2, sentinel.async_get_client()).await {
                Ok(Ok(c)) => c.get_connection_info().addr().to_string(),
                _ => return false,
            }
        };
        let mut slot = conn.lock().await;
        let moved = slot
            .as_ref()
            .is_some_and(|(c, _)| c.get_connection_info().addr().to_string() != named);
        if moved {
            tracing::info!(master = %named, "the sentinels name a new redis master");
            *slot = None;
        }
        moved
    }

    /// The current master (asking the sentinels when not known).
    async fn master(&self) -> redis::RedisResult<(Client, MultiplexedConnection)> {
        let Backend::Sentinel { client, conn } = &self.backend else {
            return Err(timed_out("not a sentinel link"));
        };
        let mut slot = conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let master = {
            let mut sentinel = client.lock().await;
            tokio::time::timeout(TIMEOUT * 2, sentinel.async_get_client())
                .await
                .map_err(|_| timed_out("asking the sentinels for the master"))??
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT));
        let c = master
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        tracing::info!(master = %master.get_connection_info().addr(), "using the redis master the sentinels name");
        *slot = Some((master.clone(), c.clone()));
        Ok((master, c))
    }

    /// A new pub/sub connection: to the server, to the current master (Sentinel; its replicas
    /// deliver what is published on it too, so a failover does not cut the subscription), or to
    /// the first Cluster node that answers.
    pub(crate) async fn pubsub(&self) -> redis::RedisResult<redis::aio::PubSub> {
        if matches!(self.backend, Backend::Sentinel { .. }) {
            let master = self.master().await?.0;
            tracing::debug!(node = %master.get_connection_info().addr(), "subscribing through the redis master");
            return match tokio::time::timeout(TIMEOUT, master.get_async_pubsub()).await {
                Ok(r) => r,
                Err(_) => Err(timed_out("connecting for pub/sub")),
            };
        }
        let mut last = timed_out("no redis address");
        for node in &self.nodes {
            match tokio::time::timeout(TIMEOUT, node.get_async_pubsub()).await {
                Ok(Ok(ps)) => return Ok(ps),
                Ok(Err(e)) => last = e,
                Err(_) => last = timed_out("connecting for pub/sub"),
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
