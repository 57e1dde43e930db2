//! The connection to Redis: one multiplexed connection, made lazily and made again after an
//! error, with short connect and response timeouts so an unreachable Redis never stalls the
//! caller for long.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
};
use tokio::sync::Mutex;

/// How long connecting, and each command, may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Why Redis could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// `ha_redis_address` is not `host:port`.
    #[error("[unified_alerting] ha_redis_address = {0:?}: expected host:port")]
    Address(String),
    /// The client could not be built.
    #[error("redis client: {0}")]
    Client(redis::RedisError),
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// ACL user ("" for none).
    pub username: String,
    /// Password ("" for none).
    pub password: String,
    /// Database number.
    pub db: i64,
}

/// A lazily (re)connected Redis connection.
pub(crate) struct Link {
    client: Client,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Link {
    /// A link to `target`; nothing is connected yet.
    pub(crate) fn new(target: &Target) -> Result<Self, LinkError> {
        let (host, port) = target
            .addr
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
            .filter(|(h, _)| !h.is_empty())
            .ok_or_else(|| LinkError::Address(target.addr.clone()))?;
        let mut settings = RedisConnectionInfo::default().set_db(target.db);
        if !target.username.is_empty() {
            settings = settings.set_username(&target.username);
        }
        if !target.password.is_empty() {
            settings = settings.set_password(&target.password);
        }
        let info = ConnectionAddr::Tcp(host.to_owned(), port)
            .into_connection_info()
            .map_err(LinkError::Client)?
            .set_redis_settings(settings);
        let client = Client::open(info).map_err(LinkError::Client)?;
        Ok(Self {
            client,
            conn: Mutex::new(None),
        })
    }

    /// The shared connection, connecting first if needed.
    pub(crate) async fn conn(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT));
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Runs `cmd`; on an error the connection is dropped so the next call reconnects.
    pub(crate) async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> redis::RedisResult<T> {
        let mut c = self.conn().await?;
        match cmd.query_async::<T>(&mut c).await {
            Ok(v) => Ok(v),
            Err(e) => {
                if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
                    *self.conn.lock().await = None;
                }
                Err(e)
            }
        }
    }

    /// A new pub/sub connection (within the connect timeout).
    pub(crate) async fn pubsub(&self) -> redis::RedisResult<redis::aio::PubSub> {
        match tokio::time::timeout(TIMEOUT, self.client.get_async_pubsub()).await {
            Ok(r) => r,
            Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connecting for pub/sub timed out",
            ))),
        }
    }
}
