//! Connections to Redis Cluster nodes made by our [`Dialer`]. The cluster client discovers
//! nodes itself and connects to each through a static constructor ([`Connect`]) that receives
//! only the node's connection info, so the TLS dialer reaches it through a process-wide slot,
//! set when a Cluster link with TLS is made. The cluster client is told to use TLS only so
//! that the node infos it hands over say so; its own TLS is never used. One process runs one
//! Redis peer, so one TLS configuration; a second, different one is refused.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::FutureExt;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::Connect;
use redis::{
    AsyncConnectionConfig, Cmd, ConnectionAddr, IntoConnectionInfo, Pipeline, RedisFuture, Value,
};

use super::dial::{Dialer, TlsTarget};

/// The TLS configuration installed for Cluster nodes, and its dialer.
struct Installed {
    config: Arc<rustls::ClientConfig>,
    server_name: Option<String>,
    dialer: Dialer,
}

/// The TLS dialer for Cluster nodes in this process.
static TLS_DIALER: OnceLock<Mutex<Option<Installed>>> = OnceLock::new();

/// Makes `tls` the process's TLS configuration for Cluster nodes; false when another one is
/// already in use.
pub(crate) fn install(tls: &TlsTarget, timeout: Duration) -> bool {
    let slot = TLS_DIALER.get_or_init(|| Mutex::new(None));
    let mut slot = match slot.lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    match slot.as_ref() {
        Some(i) => Arc::ptr_eq(&i.config, &tls.config) && i.server_name == tls.server_name,
        None => {
            *slot = Some(Installed {
                config: Arc::clone(&tls.config),
                server_name: tls.server_name.clone(),
                dialer: Dialer::new(Some(tls.clone()), timeout),
            });
            true
        }
    }
}

fn tls_dialer() -> Option<Dialer> {
    let slot = TLS_DIALER.get()?;
    let slot = match slot.lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    slot.as_ref().map(|i| i.dialer.clone())
}

/// A connection to one Cluster node, opened by our dialer.
#[derive(Clone)]
pub(crate) struct NodeConnection(MultiplexedConnection);

impl ConnectionLike for NodeConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.0.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}

impl Connect for NodeConnection {
    fn connect_with_config<'a, T>(info: T, config: AsyncConnectionConfig) -> RedisFuture<'a, Self>
    where
        T: IntoConnectionInfo + Send + 'a,
    {
        async move {
            let info = info.into_connection_info()?;
            let (dialer, host, port) = match info.addr() {
                ConnectionAddr::TcpTls { host, port, .. } => {
                    let dialer = tls_dialer().ok_or_else(|| {
                        redis::RedisError::from(std::io::Error::other(
                            "no TLS configuration for redis cluster nodes",
                        ))
                    })?;
                    (dialer, host.clone(), *port)
                }
                ConnectionAddr::Tcp(host, port) => {
                    (Dialer::new(None, super::link::TIMEOUT), host.clone(), *port)
                }
                other => {
                    return Err(redis::RedisError::from(std::io::Error::other(format!(
                        "unsupported redis cluster node address {other}"
                    ))));
                }
            };
            let conn = dialer
                .multiplexed(&host, port, info.redis_settings(), config)
                .await?;
            Ok(Self(conn))
        }
        .boxed()
    }
}
