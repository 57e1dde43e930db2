//! Connect and pool options from a SQL data source's settings, as Grafana stores them:
//! address, credentials, database, TLS, session time zone and pool sizes.

use std::time::Duration;

use serde_json::Value as Json;
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use super::Dialect;
use crate::datasource::{DataSourceConfig, QueryError};

fn json_str<'a>(j: &'a Json, key: &str) -> Option<&'a str> {
    j.get(key)
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn json_bool(j: &Json, key: &str) -> bool {
    j.get(key).and_then(Json::as_bool).unwrap_or(false)
}

fn json_u64(j: &Json, key: &str) -> Option<u64> {
    match j.get(key)? {
        Json::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn secret<'a>(cfg: &'a DataSourceConfig, key: &str) -> Option<&'a str> {
    cfg.secure
        .get(key)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

fn invalid(dialect: Dialect, cfg: &DataSourceConfig, reason: impl std::fmt::Display) -> QueryError {
    QueryError::InvalidSettings(format!("{dialect} data source {:?}: {reason}", cfg.uid))
}

/// Where to connect: a Unix socket path, or host and optional port (`host`, `host:port`,
/// `[v6]`, `[v6]:port`).
enum Address {
    Socket(String),
    Tcp(String, Option<u16>),
}

fn address(dialect: Dialect, cfg: &DataSourceConfig) -> Result<Address, QueryError> {
    let url = cfg.url.trim();
    if url.is_empty() {
        return Err(invalid(dialect, cfg, "no host set"));
    }
    if url.starts_with('/') {
        return Ok(Address::Socket(url.to_owned()));
    }
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| invalid(dialect, cfg, format!("invalid port in host {url:?}")))
    };
    if let Some(v6) = url.strip_prefix('[') {
        let (host, rest) = v6
            .split_once(']')
            .ok_or_else(|| invalid(dialect, cfg, format!("invalid host {url:?}")))?;
        return match rest.strip_prefix(':') {
            Some(p) => Ok(Address::Tcp(host.to_owned(), Some(port(p)?))),
            None if rest.is_empty() => Ok(Address::Tcp(host.to_owned(), None)),
            None => Err(invalid(dialect, cfg, format!("invalid host {url:?}"))),
        };
    }
    match url.split_once(':') {
        Some((host, p)) => Ok(Address::Tcp(host.to_owned(), Some(port(p)?))),
        None => Ok(Address::Tcp(url.to_owned(), None)),
    }
}

/// The database: `jsonData.database`, else the data source's `database`.
fn database(cfg: &DataSourceConfig) -> Option<&str> {
    json_str(&cfg.json_data, "database").or(Some(cfg.database.trim()).filter(|d| !d.is_empty()))
}

pub(super) fn postgres_options(cfg: &DataSourceConfig) -> Result<PgConnectOptions, QueryError> {
    let d = Dialect::Postgres;
    let j = &cfg.json_data;
    let mut o = PgConnectOptions::new_without_pgpass()
        .username(&cfg.user)
        .application_name("watchkeeper");
    if let Some(p) = secret(cfg, "password") {
        o = o.password(p);
    }
    if let Some(db) = database(cfg) {
        o = o.database(db);
    }
    o = match address(d, cfg)? {
        Address::Socket(path) => o.socket(path),
        Address::Tcp(host, port) => o.host(&host).port(port.unwrap_or(5432)),
    };
    let mode = match json_str(j, "sslmode").unwrap_or("prefer") {
        "disable" => PgSslMode::Disable,
        "allow" => PgSslMode::Allow,
        "prefer" => PgSslMode::Prefer,
        "require" => PgSslMode::Require,
        "verify-ca" => PgSslMode::VerifyCa,
        "verify-full" => PgSslMode::VerifyFull,
        other => return Err(invalid(d, cfg, format!("unknown sslmode {other:?}"))),
    };
    let disabled = matches!(mode, PgSslMode::Disable);
    o = o.ssl_mode(mode);
    if disabled {
        return Ok(o);
    }
    if json_str(j, "tlsConfigurationMethod") == Some("file-content") {
        if let Some(ca) = secret(cfg, "tlsCACert") {
            o = o.ssl_root_cert_from_pem(ca.as_bytes().to_vec());
        }
        match (secret(cfg, "tlsClientCert"), secret(cfg, "tlsClientKey")) {
            (Some(c), Some(k)) => o = o.ssl_client_cert_from_pem(c).ssl_client_key_from_pem(k),
            (None, None) => {}
            _ => {
                return Err(invalid(
                    d,
                    cfg,
                    "TLS client certificate and key must both be set",
                ));
            }
        }
    } else {
        if let Some(ca) = json_str(j, "sslRootCertFile") {
            o = o.ssl_root_cert(ca);
        }
        match (json_str(j, "sslCertFile"), json_str(j, "sslKeyFile")) {
            (Some(c), Some(k)) => o = o.ssl_client_cert(c).ssl_client_key(k),
            (None, None) => {}
            _ => {
                return Err(invalid(
                    d,
                    cfg,
                    "TLS client certificate and key must both be set",
                ));
            }
        }
    }
    Ok(o)
}

pub(super) fn mysql_options(cfg: &DataSourceConfig) -> Result<MySqlConnectOptions, QueryError> {
    let d = Dialect::Mysql;
    let j = &cfg.json_data;
    let mut o = MySqlConnectOptions::new()
        .username(&cfg.user)
        // Keep `||` a logical OR, as in a plain MySQL session.
        .pipes_as_concat(false)
        .enable_cleartext_plugin(json_bool(j, "allowCleartextPasswords"));
    if let Some(p) = secret(cfg, "password") {
        o = o.password(p);
    }
    if let Some(db) = database(cfg) {
        o = o.database(db);
    }
    o = match address(d, cfg)? {
        Address::Socket(path) => o.socket(path),
        Address::Tcp(host, port) => o.host(&host).port(port.unwrap_or(3306)),
    };
    // The session time zone: UTC (what `DATETIME` values are read as) unless set.
    o = o.timezone(json_str(j, "timezone").unwrap_or("+00:00").to_owned());
    let (skip, with_ca, client) = (
        json_bool(j, "tlsSkipVerify"),
        json_bool(j, "tlsAuthWithCACert"),
        json_bool(j, "tlsAuth"),
    );
    let pem = |key: &str| {
        secret(cfg, key).ok_or_else(|| invalid(d, cfg, format!("secureJsonData.{key} is required")))
    };
    if with_ca && !skip {
        o = o.ssl_ca_from_pem(pem("tlsCACert")?.as_bytes().to_vec());
    }
    o = o.ssl_mode(if skip {
        MySqlSslMode::Required
    } else if with_ca || client {
        MySqlSslMode::VerifyIdentity
    } else {
        MySqlSslMode::Preferred
    });
    if client {
        o = o
            .ssl_client_cert_from_pem(pem("tlsClientCert")?)
            .ssl_client_key_from_pem(pem("tlsClientKey")?);
    }
    Ok(o)
}

pub(super) fn pool_options<DB: sqlx::Database>(cfg: &DataSourceConfig) -> PoolOptions<DB> {
    let j = &cfg.json_data;
    let max = json_u64(j, "maxOpenConns")
        .filter(|n| *n > 0)
        .unwrap_or(5)
        .min(100) as u32;
    let lifetime = json_u64(j, "connMaxLifetime")
        .filter(|n| *n > 0)
        .unwrap_or(14_400);
    let connect = json_u64(j, "connectionTimeout")
        .filter(|n| *n > 0)
        .unwrap_or(30);
    PoolOptions::new()
        .min_connections(0)
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(connect))
        .idle_timeout(Duration::from_secs(600))
        .max_lifetime(Duration::from_secs(lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(url: &str, json_data: Json) -> DataSourceConfig {
        DataSourceConfig {
            uid: "s1".into(),
            kind: "postgres".into(),
            url: url.into(),
            user: "u".into(),
            database: "db".into(),
            json_data,
            ..DataSourceConfig::default()
        }
    }

    #[test]
    fn addresses() {
        let d = Dialect::Postgres;
        assert!(
            matches!(address(d, &cfg("db:6543", json!({}))), Ok(Address::Tcp(h, Some(6543))) if h == "db")
        );
        assert!(
            matches!(address(d, &cfg("db", json!({}))), Ok(Address::Tcp(h, None)) if h == "db")
        );
        assert!(
            matches!(address(d, &cfg("[::1]:5432", json!({}))), Ok(Address::Tcp(h, Some(5432))) if h == "::1")
        );
        assert!(
            matches!(address(d, &cfg("/run/pg", json!({}))), Ok(Address::Socket(p)) if p == "/run/pg")
        );
        assert!(address(d, &cfg("db:x", json!({}))).is_err());
        assert!(address(d, &cfg("", json!({}))).is_err());
    }

    #[test]
    fn postgres_settings() {
        let o = postgres_options(&cfg("db:6543", json!({"database": "other"}))).unwrap();
        assert_eq!(o.get_port(), 6543);
        assert_eq!(o.get_database(), Some("other"));
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Prefer));
        let o = postgres_options(&cfg("db", json!({"sslmode": "verify-full"}))).unwrap();
        assert!(matches!(o.get_ssl_mode(), PgSslMode::VerifyFull));
        assert_eq!(o.get_database(), Some("db"));
        assert!(postgres_options(&cfg("db", json!({"sslmode": "sometimes"}))).is_err());
        let half = json!({"sslmode": "require", "tlsConfigurationMethod": "file-content"});
        let mut c = cfg("db", half);
        c.secure.insert("tlsClientCert".into(), "x".into());
        assert!(postgres_options(&c).is_err());
    }

    #[test]
    fn mysql_settings() {
        let o = mysql_options(&cfg("db", json!({}))).unwrap();
        assert_eq!(o.get_port(), 3306);
        assert!(matches!(o.get_ssl_mode(), MySqlSslMode::Preferred));
        let o = mysql_options(&cfg("db", json!({"tlsSkipVerify": true}))).unwrap();
        assert!(matches!(o.get_ssl_mode(), MySqlSslMode::Required));
        assert!(mysql_options(&cfg("db", json!({"tlsAuthWithCACert": true}))).is_err());
    }
}
