//! Opening connections to Redis nodes ourselves, plain or over TLS with the configuration the
//! settings give (rustls; the name checked, versions and cipher suites are ours to choose,
//! which the Redis client's own TLS does not allow), and handing the stream to the Redis
//! client's multiplexed or pub/sub connection.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use redis::RedisConnectionInfo;
use redis::aio::{MultiplexedConnection, PubSub};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// TLS to Redis: the client configuration (built from `ha_redis_tls_*`) and the name to check
/// certificates against instead of the dialled host (`ha_redis_tls_server_name`).
#[derive(Clone)]
pub struct TlsTarget {
    /// The rustls client configuration.
    pub config: Arc<rustls::ClientConfig>,
    /// The name certificates are checked against and sent as SNI; `None` for the dialled host.
    pub server_name: Option<String>,
}

impl std::fmt::Debug for TlsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTarget")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// A byte stream to a node.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Opens streams to nodes, plain or over TLS.
#[derive(Clone, Debug)]
pub(crate) struct Dialer {
    tls: Option<TlsTarget>,
    timeout: Duration,
}

fn io_error(kind: std::io::ErrorKind, what: String) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(kind, what))
}

impl Dialer {
    /// A dialer; `timeout` bounds the TCP connect plus the TLS handshake.
    pub(crate) fn new(tls: Option<TlsTarget>, timeout: Duration) -> Self {
        Self { tls, timeout }
    }

    /// Whether connections use TLS.
    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    async fn stream(&self, host: &str, port: u16) -> redis::RedisResult<Pin<Box<dyn Stream>>> {
        let open = async {
            let tcp = TcpStream::connect((host, port)).await?;
            tcp.set_nodelay(true)?;
            let Some(tls) = &self.tls else {
                return Ok::<Pin<Box<dyn Stream>>, redis::RedisError>(Box::pin(tcp));
            };
            let name = tls.server_name.as_deref().unwrap_or(host);
            let name = ServerName::try_from(name.to_owned()).map_err(|_| {
                io_error(
                    std::io::ErrorKind::InvalidInput,
                    format!("{name:?} is not a valid TLS server name"),
                )
            })?;
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config));
            let stream = connector.connect(name, tcp).await.map_err(|e| {
                io_error(e.kind(), format!("TLS handshake with {host}:{port}: {e}"))
            })?;
            Ok(Box::pin(stream))
        };
        match tokio::time::timeout(self.timeout, open).await {
            Ok(r) => r,
            Err(_) => Err(io_error(
                std::io::ErrorKind::TimedOut,
                format!("connecting to {host}:{port} timed out"),
            )),
        }
    }

    /// A multiplexed connection to `host:port`, authenticated and on the database of `info`;
    /// commands time out after `response_timeout`.
    pub(crate) async fn multiplexed(
        &self,
        host: &str,
        port: u16,
        info: &RedisConnectionInfo,
        config: redis::AsyncConnectionConfig,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let stream = self.stream(host, port).await?;
        let (conn, driver) = tokio::time::timeout(
            self.timeout,
            MultiplexedConnection::new_with_config(info, stream, config),
        )
        .await
        .map_err(|_| {
            io_error(
                std::io::ErrorKind::TimedOut,
                format!("setting up the connection to {host}:{port} timed out"),
            )
        })??;
        // The driver ends when the last handle of the connection is dropped.
        tokio::spawn(driver);
        Ok(conn)
    }

    /// A pub/sub connection to `host:port`.
    pub(crate) async fn pubsub(
        &self,
        host: &str,
        port: u16,
        info: &RedisConnectionInfo,
    ) -> redis::RedisResult<PubSub> {
        let stream = self.stream(host, port).await?;
        tokio::time::timeout(self.timeout, PubSub::new(info, stream))
            .await
            .map_err(|_| {
                io_error(
                    std::io::ErrorKind::TimedOut,
                    format!("setting up pub/sub with {host}:{port} timed out"),
                )
            })?
    }
}
