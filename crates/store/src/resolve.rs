//! Turns [`StoreOptions`] into typed sqlx connect options and a password-free target string.

use std::path::Path;
use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};

use crate::error::StoreError;
use crate::options::{Backend, StoreOptions};

/// Typed connect options for the selected backend.
pub(crate) enum Connect {
    /// SQLite; `in_memory` disables the separate read pool (each pool would see its own database).
    Sqlite {
        options: SqliteConnectOptions,
        in_memory: bool,
    },
    /// PostgreSQL.
    Postgres(PgConnectOptions),
    /// MySQL / MariaDB.
    Mysql(MySqlConnectOptions),
}

/// Fully resolved options: backend, password-free target, and how to connect.
pub(crate) struct Resolved {
    pub backend: Backend,
    pub target: String,
    pub connect: Connect,
}

const DEFAULT_SQLITE_BUSY: std::time::Duration = std::time::Duration::from_secs(5);

/// Validates `o` and builds the sqlx connect options.
pub(crate) fn resolve(o: &StoreOptions) -> Result<Resolved, StoreError> {
    let target = describe(o);
    let connect = if o.url.trim().is_empty() {
        from_fields(o)?
    } else {
        from_url(o)?
    };
    let backend = match &connect {
        Connect::Sqlite { .. } => Backend::Sqlite,
        Connect::Postgres(_) => Backend::Postgres,
        Connect::Mysql(_) => Backend::Mysql,
    };
    Ok(Resolved {
        backend,
        target,
        connect,
    })
}

/// Password-free description: `postgres://user@host:port/db`, `mysql://...`, `sqlite3:path`.
pub(crate) fn describe(o: &StoreOptions) -> String {
    let url = o.url.trim();
    if !url.is_empty() {
        return describe_url(url);
    }
    match o.backend {
        Backend::Sqlite => format!("sqlite3:{}", o.path.display()),
        Backend::Postgres | Backend::Mysql => {
            let (scheme, port) = scheme_and_port(o.backend);
            let addr = match parse_host(&o.host, port) {
                Ok(Host::Socket(path)) => format!("unix({path})"),
                Ok(Host::Tcp(h, p)) if h.contains(':') => format!("[{h}]:{p}"),
                Ok(Host::Tcp(h, p)) => format!("{h}:{p}"),
                Err(_) => o.host.clone(),
            };
            format!("{scheme}://{}@{addr}/{}", o.user, o.name)
        }
    }
}

fn describe_url(url: &str) -> String {
    if let Some(rest) = strip_prefix_ci(url, "sqlite:") {
        let rest = rest.split('?').next().unwrap_or_default();
        return format!("sqlite3:{}", rest.strip_prefix("//").unwrap_or(rest));
    }
    let Ok(mut u) = url::Url::parse(url) else {
        return "<invalid database url>".to_owned();
    };
    // Both setters only fail for URLs that cannot have credentials, which then have none to hide.
    let _ = u.set_password(None);
    if u.port().is_none()
        && let Some(b) = scheme_backend(u.scheme())
    {
        let _ = u.set_port(Some(scheme_and_port(b).1));
    }
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn scheme_backend(scheme: &str) -> Option<Backend> {
    match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => Some(Backend::Postgres),
        "mysql" | "mariadb" => Some(Backend::Mysql),
        "sqlite" | "sqlite3" => Some(Backend::Sqlite),
        _ => None,
    }
}

fn scheme_and_port(b: Backend) -> (&'static str, u16) {
    match b {
        Backend::Postgres => ("postgres", 5432),
        Backend::Mysql => ("mysql", 3306),
        Backend::Sqlite => ("sqlite3", 0),
    }
}

fn from_url(o: &StoreOptions) -> Result<Connect, StoreError> {
    let url = o.url.trim();
    let scheme = url.split(':').next().unwrap_or_default();
    let backend = scheme_backend(scheme).ok_or_else(|| {
        StoreError::InvalidOptions(format!(
            "unsupported database url scheme {scheme:?} (expected postgres, mysql or sqlite)"
        ))
    })?;
    if o.backend != Backend::Sqlite && o.backend != backend {
        return Err(StoreError::InvalidOptions(format!(
            "database type {} does not match the url scheme {scheme:?}",
            o.backend
        )));
    }
    let bad_url = |e: sqlx::Error| StoreError::InvalidOptions(format!("invalid database url: {e}"));
    Ok(match backend {
        Backend::Sqlite => {
            let normalized = if strip_prefix_ci(url, "sqlite3:").is_some() {
                format!("sqlite:{}", &url["sqlite3:".len()..])
            } else {
                url.to_owned()
            };
            let options = SqliteConnectOptions::from_str(&normalized).map_err(bad_url)?;
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            Connect::Sqlite {
                options: sqlite_tuning(options, o),
                in_memory,
            }
        }
        Backend::Postgres => {
            url::Url::parse(url)
                .map_err(|e| StoreError::InvalidOptions(format!("invalid database url: {e}")))?;
            let options = PgConnectOptions::from_str(url).map_err(bad_url)?;
            let options = if options.get_application_name().is_none() {
                options.application_name("watchkeeper")
            } else {
                options
            };
            Connect::Postgres(options)
        }
        Backend::Mysql => {
            let mut u = url::Url::parse(url)
                .map_err(|e| StoreError::InvalidOptions(format!("invalid database url: {e}")))?;
            if u.scheme() != "mysql" {
                // sqlx only cares about the parts after the scheme; normalize `mariadb://`.
                u = url::Url::parse(&format!("mysql{}", &url[scheme.len()..])).map_err(|e| {
                    StoreError::InvalidOptions(format!("invalid database url: {e}"))
                })?;
            }
            Connect::Mysql(MySqlConnectOptions::from_str(u.as_str()).map_err(bad_url)?)
        }
    })
}

fn from_fields(o: &StoreOptions) -> Result<Connect, StoreError> {
    for (what, path) in [
        ("ca_cert_path", &o.ca_cert_path),
        ("client_cert_path", &o.client_cert_path),
        ("client_key_path", &o.client_key_path),
    ] {
        if let Some(p) = path
            && !p.is_file()
        {
            return Err(StoreError::InvalidOptions(format!(
                "{what} {} is not a readable file",
                p.display()
            )));
        }
    }
    Ok(match o.backend {
        Backend::Sqlite => {
            if o.path.as_os_str().is_empty() {
                return Err(StoreError::InvalidOptions(
                    "sqlite path is empty".to_owned(),
                ));
            }
            let options = SqliteConnectOptions::new()
                .filename(&o.path)
                .create_if_missing(true);
            Connect::Sqlite {
                options: sqlite_tuning(options, o),
                in_memory: false,
            }
        }
        Backend::Postgres => Connect::Postgres(postgres_fields(o)?),
        Backend::Mysql => Connect::Mysql(mysql_fields(o)?),
    })
}

fn sqlite_tuning(options: SqliteConnectOptions, o: &StoreOptions) -> SqliteConnectOptions {
    let busy = if o.busy_timeout.is_zero() {
        DEFAULT_SQLITE_BUSY
    } else {
        o.busy_timeout
    };
    let options = options
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(busy);
    // journal_mode is switched once at connect (see db.rs), not per connection: the switch needs
    // an exclusive lock that the busy timeout does not cover. In WAL mode NORMAL is durable
    // against application crashes and only risks the last commits on power loss.
    if o.wal {
        options.synchronous(SqliteSynchronous::Normal)
    } else {
        options
    }
}

fn postgres_fields(o: &StoreOptions) -> Result<PgConnectOptions, StoreError> {
    let mut p = PgConnectOptions::new()
        .username(&o.user)
        .database(&o.name)
        .application_name("watchkeeper")
        .ssl_mode(pg_ssl_mode(&o.ssl_mode)?);
    p = match parse_host(&o.host, 5432)? {
        Host::Socket(dir) => p.socket(dir),
        Host::Tcp(h, port) => p.host(&h).port(port),
    };
    if !o.password.is_empty() {
        p = p.password(&o.password);
    }
    if let Some(ca) = &o.ca_cert_path {
        p = p.ssl_root_cert(ca);
    }
    if let Some(c) = &o.client_cert_path {
        p = p.ssl_client_cert(c);
    }
    if let Some(k) = &o.client_key_path {
        p = p.ssl_client_key(k);
    }
    Ok(p)
}

fn mysql_fields(o: &StoreOptions) -> Result<MySqlConnectOptions, StoreError> {
    let mut m = MySqlConnectOptions::new()
        .username(&o.user)
        .database(&o.name)
        .charset("utf8mb4")
        .ssl_mode(mysql_ssl_mode(&o.ssl_mode)?);
    m = match parse_host(&o.host, 3306)? {
        Host::Socket(path) => m.socket(path),
        Host::Tcp(h, port) => m.host(&h).port(port),
    };
    if !o.password.is_empty() {
        m = m.password(&o.password);
    }
    if let Some(ca) = &o.ca_cert_path {
        m = m.ssl_ca(ca);
    }
    if let Some(c) = &o.client_cert_path {
        m = m.ssl_client_cert(c);
    }
    if let Some(k) = &o.client_key_path {
        m = m.ssl_client_key(k);
    }
    Ok(m)
}

fn pg_ssl_mode(mode: &str) -> Result<PgSslMode, StoreError> {
    match mode.trim().to_ascii_lowercase().as_str() {
        "" | "disable" => Ok(PgSslMode::Disable),
        "allow" => Ok(PgSslMode::Allow),
        "prefer" => Ok(PgSslMode::Prefer),
        "require" => Ok(PgSslMode::Require),
        "verify-ca" => Ok(PgSslMode::VerifyCa),
        "verify-full" => Ok(PgSslMode::VerifyFull),
        other => Err(StoreError::InvalidOptions(format!(
            "unknown postgres ssl_mode {other:?} (expected disable, require, verify-ca or verify-full)"
        ))),
    }
}

fn mysql_ssl_mode(mode: &str) -> Result<MySqlSslMode, StoreError> {
    match mode.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "disable" | "disabled" => Ok(MySqlSslMode::Disabled),
        "true" | "verify_identity" | "verify-identity" => Ok(MySqlSslMode::VerifyIdentity),
        "skip-verify" | "required" | "require" => Ok(MySqlSslMode::Required),
        "preferred" | "prefer" => Ok(MySqlSslMode::Preferred),
        "verify_ca" | "verify-ca" => Ok(MySqlSslMode::VerifyCa),
        other => Err(StoreError::InvalidOptions(format!(
            "unknown mysql ssl_mode {other:?} (expected true, false or skip-verify)"
        ))),
    }
}

/// Where a Grafana-style `host` setting points.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Host {
    /// Unix socket path (PostgreSQL: socket directory).
    Socket(String),
    /// Host name or address, and port.
    Tcp(String, u16),
}

/// Parses `host`, `host:port`, `[v6]:port`, a bare IPv6 address, or `/socket/path`.
pub(crate) fn parse_host(host: &str, default_port: u16) -> Result<Host, StoreError> {
    let host = host.trim();
    if host.starts_with('/') {
        return Ok(Host::Socket(host.to_owned()));
    }
    if host.is_empty() {
        return Ok(Host::Tcp("127.0.0.1".to_owned(), default_port));
    }
    let bad_port = |p: &str| StoreError::InvalidOptions(format!("invalid port {p:?} in host"));
    if let Some(rest) = host.strip_prefix('[') {
        let (addr, tail) = rest
            .split_once(']')
            .ok_or_else(|| StoreError::InvalidOptions("unterminated [ in host".to_owned()))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad_port(p))?,
            None if tail.is_empty() => default_port,
            None => return Err(bad_port(tail)),
        };
        return Ok(Host::Tcp(addr.to_owned(), port));
    }
    match host.split_once(':') {
        Some((h, p)) if !p.contains(':') => {
            let port = p.parse().map_err(|_| bad_port(p))?;
            Ok(Host::Tcp(h.to_owned(), port))
        }
        // Several colons and no brackets: a bare IPv6 address.
        _ => Ok(Host::Tcp(host.to_owned(), default_port)),
    }
}

/// Parent directory of a SQLite file, when it has one worth creating.
pub(crate) fn sqlite_parent(file: &Path) -> Option<&Path> {
    file.parent().filter(|p| !p.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let tcp = |h: &str, p| Host::Tcp(h.to_owned(), p);
        assert_eq!(parse_host("", 5432).unwrap(), tcp("127.0.0.1", 5432));
        assert_eq!(parse_host("db", 5432).unwrap(), tcp("db", 5432));
        assert_eq!(parse_host("db:6432", 5432).unwrap(), tcp("db", 6432));
        assert_eq!(parse_host("[::1]:3307", 3306).unwrap(), tcp("::1", 3307));
        assert_eq!(parse_host("[::1]", 3306).unwrap(), tcp("::1", 3306));
        assert_eq!(parse_host("::1", 3306).unwrap(), tcp("::1", 3306));
        assert_eq!(
            parse_host("/var/run/postgresql", 5432).unwrap(),
            Host::Socket("/var/run/postgresql".to_owned())
        );
        assert!(parse_host("db:x", 5432).is_err());
    }

    #[test]
    fn url_targets_hide_passwords() {
        assert_eq!(
            describe_url("postgres://root:hunter2@db/wk?sslmode=require&password=x"),
            "postgres://root@db:5432/wk"
        );
        assert_eq!(describe_url("mysql://u:p@h:3307/d"), "mysql://u@h:3307/d");
        assert_eq!(
            describe_url("sqlite:///tmp/x.db?mode=rwc"),
            "sqlite3:/tmp/x.db"
        );
        assert_eq!(describe_url("sqlite:data/x.db"), "sqlite3:data/x.db");
    }

    #[test]
    fn ssl_modes() {
        assert!(matches!(pg_ssl_mode("").unwrap(), PgSslMode::Disable));
        assert!(matches!(
            pg_ssl_mode("verify-full").unwrap(),
            PgSslMode::VerifyFull
        ));
        assert!(pg_ssl_mode("true").is_err());
        assert!(matches!(
            mysql_ssl_mode("true").unwrap(),
            MySqlSslMode::VerifyIdentity
        ));
        assert!(matches!(
            mysql_ssl_mode("skip-verify").unwrap(),
            MySqlSslMode::Required
        ));
        assert!(matches!(
            mysql_ssl_mode("false").unwrap(),
            MySqlSslMode::Disabled
        ));
        assert!(mysql_ssl_mode("maybe").is_err());
    }
}
