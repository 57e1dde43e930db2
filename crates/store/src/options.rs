//! Public connection settings: which backend, where, and how to pool connections.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::error::StoreError;

/// The database engine behind a [`Store`](crate::Store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// Embedded SQLite (bundled library), one file on local disk.
    #[default]
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

impl Backend {
    /// Grafana's name for the backend: `sqlite3`, `postgres` or `mysql`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite3",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = StoreError;

    /// Accepts Grafana's `[database] type` values (`sqlite3`, `postgres`, `mysql`) and common aliases.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sqlite3" | "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::Mysql),
            other => Err(StoreError::InvalidOptions(format!(
                "unknown database type {other:?} (expected sqlite3, postgres or mysql)"
            ))),
        }
    }
}

/// How to reach the database; the server fills it from Grafana-style `[database]` settings.
#[derive(Clone)]
pub struct StoreOptions {
    /// Which engine to use (ignored when `url` names one).
    pub backend: Backend,
    /// Full URL (`postgres://`, `postgresql://`, `mysql://`, `sqlite:`); when non-empty its scheme
    /// decides the backend and it replaces host/name/user/password/path/ssl settings. Pool and
    /// SQLite tuning settings still apply. A `backend` other than the default (SQLite) that
    /// disagrees with the scheme is an error.
    pub url: String,
    /// `host:port` (default port 5432/3306 when omitted, `[v6addr]:port` for IPv6), or a path
    /// starting with `/` for a unix socket (PostgreSQL: the socket directory).
    pub host: String,
    /// Database name.
    pub name: String,
    /// User name.
    pub user: String,
    /// Password; never logged or displayed.
    pub password: String,
    /// SQLite database file; missing parent directories are created.
    pub path: PathBuf,
    /// PostgreSQL: `disable` (default), `allow`, `prefer`, `require`, `verify-ca`, `verify-full`.
    /// MySQL: Grafana's `false` (default), `true` (verify server certificate and name),
    /// `skip-verify` (encrypt without verification); sqlx names (`preferred`...) are accepted too.
    pub ssl_mode: String,
    /// CA certificate for verifying the server.
    pub ca_cert_path: Option<PathBuf>,
    /// Client certificate for mutual TLS.
    pub client_cert_path: Option<PathBuf>,
    /// Client key for mutual TLS.
    pub client_key_path: Option<PathBuf>,
    /// Pool size; 0 = sqlx default (10). SQLite: read pool size (0 = 4); the writer is always 1.
    pub max_open_conn: u32,
    /// sqlx pools cannot cap idle connections by count: 0 closes idle connections after 1 s,
    /// any other value keeps them for up to 10 minutes.
    pub max_idle_conn: u32,
    /// Close connections after this long (0 = never).
    pub conn_max_lifetime: Duration,
    /// SQLite: how long to wait for a lock held by another connection (0 = 5 s).
    pub busy_timeout: Duration,
    /// SQLite: use write-ahead logging (readers never block the writer).
    pub wal: bool,
}

impl Default for StoreOptions {
    /// Grafana's defaults: SQLite at `data/watchkeeper.db`, WAL on, 4 h connection lifetime.
    fn default() -> Self {
        StoreOptions {
            backend: Backend::Sqlite,
            url: String::new(),
            host: String::new(),
            name: "watchkeeper".to_owned(),
            user: "root".to_owned(),
            password: String::new(),
            path: PathBuf::from("data/watchkeeper.db"),
            ssl_mode: String::new(),
            ca_cert_path: None,
            client_cert_path: None,
            client_key_path: None,
            max_open_conn: 0,
            max_idle_conn: 2,
            conn_max_lifetime: Duration::from_secs(14_400),
            busy_timeout: Duration::from_secs(5),
            wal: true,
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = if self.password.is_empty() {
            ""
        } else {
            "<redacted>"
        };
        f.debug_struct("StoreOptions")
            .field("backend", &self.backend)
            .field("target", &self.target())
            .field("host", &self.host)
            .field("name", &self.name)
            .field("user", &self.user)
            .field("password", &password)
            .field("path", &self.path)
            .field("ssl_mode", &self.ssl_mode)
            .field("ca_cert_path", &self.ca_cert_path)
            .field("client_cert_path", &self.client_cert_path)
            .field("client_key_path", &self.client_key_path)
            .field("max_open_conn", &self.max_open_conn)
            .field("max_idle_conn", &self.max_idle_conn)
            .field("conn_max_lifetime", &self.conn_max_lifetime)
            .field("busy_timeout", &self.busy_timeout)
            .field("wal", &self.wal)
            .finish()
    }
}

impl fmt::Display for StoreOptions {
    /// Shows the password-free target, e.g. `postgres://root@127.0.0.1:5432/watchkeeper`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.target())
    }
}

impl StoreOptions {
    /// Password-free description of the database these options point at.
    pub fn target(&self) -> String {
        crate::resolve::describe(self)
    }
}
