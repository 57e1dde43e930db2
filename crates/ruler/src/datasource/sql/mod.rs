//! Grafana's PostgreSQL (type `grafana-postgresql-datasource`, formerly `postgres`) and MySQL
//! (type `mysql`, also used for MariaDB) data sources, as alert rules use them: [`query`]
//! expands Grafana's macros in the model's `rawSql`, runs it and turns the rows into a
//! [`Value`].
//!
//! # Query model
//!
//! `rawSql` (required; an empty one is no data, as Grafana skips it), `format`
//! (`time_series` or `table`; both accepted, the result's shape decides, see below),
//! `intervalMs` (what `$__interval` and `$__interval_ms` become; 1000 by default, Grafana's
//! alert default). Other fields are ignored.
//!
//! # Macros
//!
//! As Grafana: `$__interval`, `$__interval_ms`, `$__unixEpochFrom()`, `$__unixEpochTo()`,
//! `$__time(col)`, `$__timeEpoch(col)`, `$__timeFilter(col)` (PostgreSQL: `col BETWEEN
//! '<RFC 3339>' AND '<RFC 3339>'`; MySQL: `col BETWEEN FROM_UNIXTIME(<s>) AND
//! FROM_UNIXTIME(<s>)`), `$__timeFrom()`, `$__timeTo()`, `$__timeGroup(col, interval)`,
//! `$__timeGroupAlias`, `$__unixEpochFilter(col)`, `$__unixEpochNanoFilter(col)`,
//! `$__unixEpochNanoFrom()`, `$__unixEpochNanoTo()`, `$__unixEpochGroup(col, interval)`,
//! `$__unixEpochGroupAlias` (`jsonData.timescaledb` makes PostgreSQL's `$__timeGroup` a
//! `time_bucket`). Fill modes (`$__timeGroup(col, 1m, NULL)`) and template variables are not
//! supported; an unknown macro is an error.
//!
//! # Results
//!
//! Rows with a time column (`time`; for MySQL also `time_sec`; a timestamp, a date or epoch
//! seconds, milliseconds or nanoseconds) become [`Value::Series`]: text columns are labels,
//! each numeric column a value, one series per label set and value column (Grafana's "long to
//! wide"), with `__name__` = the column's name when there are several value columns. Rows
//! without a time column become [`Value::Numbers`]: one per row and numeric column, labelled
//! by the text columns (Grafana's numeric table). NULL values are null points or numbers;
//! booleans count as 1 and 0; other timestamp columns are ignored. No rows is
//! [`Value::NoData`]; no numeric column is [`QueryError::UnusableResult`]. Both `format`s
//! accept every shape (Grafana refuses some: a `time_series` result without a time column, a
//! `table` result with several numeric columns).
//!
//! # Connection
//!
//! `url` is `host`, `host:port`, `[v6]:port` or a Unix socket path; `user`,
//! `secureJsonData.password`, the database from `jsonData.database` or `database`.
//! PostgreSQL: `jsonData.sslmode` (`disable`, `allow`, `prefer` (default, as pgx),
//! `require`, `verify-ca`, `verify-full`), certificates from `secureJsonData.tlsCACert`,
//! `tlsClientCert`, `tlsClientKey` when `jsonData.tlsConfigurationMethod` is `file-content`,
//! else from the files `jsonData.sslRootCertFile`, `sslCertFile`, `sslKeyFile`. MySQL:
//! `jsonData.tlsSkipVerify` (TLS without verification), `tlsAuthWithCACert` (verify against
//! `secureJsonData.tlsCACert`), `tlsAuth` (client certificate), otherwise TLS when the server
//! offers it; `jsonData.timezone` sets the session time zone (UTC by default, matching how
//! Grafana reads `DATETIME` values); `allowCleartextPasswords`. Each data source has a lazily
//! connecting pool of `jsonData.maxOpenConns` connections (5 by default), kept per uid and
//! replaced when its settings change; `connectionTimeout` bounds waiting for a connection and
//! `connMaxLifetime` recycles them.
//!
//! # Safety
//!
//! The SQL runs as written, any statement included, as in Grafana: give the data source a
//! database user that can only read what alerting needs.
//!
//! # Errors
//!
//! Database errors (syntax, permissions, authentication, connection) are
//! [`QueryError::Remote`] naming the data source and quoting the database; running longer than
//! `timeout` is [`QueryError::Timeout`] (the query is abandoned: its connection is dropped).

mod connect;
mod frame;
mod macros;
mod options;

use std::fmt;
use std::time::Duration;

use serde_json::Value as Json;

use crate::data::{TimeRange, Value};
use crate::datasource::{DataSourceConfig, QueryError};

/// PostgreSQL's data source type since Grafana 10.
pub const POSTGRES_TYPE: &str = "grafana-postgresql-datasource";

/// PostgreSQL's data source type before Grafana 10.
pub const LEGACY_POSTGRES_TYPE: &str = "postgres";

/// MySQL's (and MariaDB's) data source type.
pub const MYSQL_TYPE: &str = "mysql";

/// Grafana's `intervalMs` for alert queries that do not set one.
const DEFAULT_INTERVAL_MS: i64 = 1000;

/// The SQL dialect of a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Mysql,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
        })
    }
}

impl Dialect {
    fn of(ds_type: &str) -> Option<Self> {
        match ds_type {
            POSTGRES_TYPE | LEGACY_POSTGRES_TYPE => Some(Self::Postgres),
            MYSQL_TYPE => Some(Self::Mysql),
            _ => None,
        }
    }

    /// Names a time column may have.
    fn time_columns(self) -> &'static [&'static str] {
        match self {
            Self::Postgres => &["time"],
            Self::Mysql => &["time", "time_sec"],
        }
    }
}

/// Whether `ds_type` is a SQL data source [`query`] handles.
pub fn is_sql(ds_type: &str) -> bool {
    Dialect::of(ds_type).is_some()
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn str_field<'a>(
    m: &'a serde_json::Map<String, Json>,
    key: &str,
) -> Result<Option<&'a str>, QueryError> {
    match m.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(QueryError::invalid_field(
            key,
            format!("expected a string, got {}", type_name(other)),
        )),
    }
}

/// The message of a database error, without sqlx's wrapping for server errors.
fn error_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        other => other.to_string(),
    }
}

/// Runs a SQL query: `cfg` is a PostgreSQL or MySQL data source, `model` the rule query's
/// model, `range` the absolute time range and `timeout` the most it may take, waiting for a
/// connection included. See the module docs.
pub async fn query(
    cfg: &DataSourceConfig,
    model: &Json,
    range: TimeRange,
    timeout: Duration,
) -> Result<Value, QueryError> {
    let dialect =
        Dialect::of(&cfg.kind).ok_or_else(|| QueryError::UnsupportedType(cfg.kind.clone()))?;
    let Json::Object(m) = model else {
        return Err(QueryError::NotAnObject(type_name(model)));
    };
    let raw = str_field(m, "rawSql")?.unwrap_or("");
    if raw.trim().is_empty() {
        return Ok(Value::NoData);
    }
    str_field(m, "format")?;
    if range.to < range.from {
        return Err(QueryError::InvalidRequest(format!(
            "time range ends ({}) before it starts ({})",
            range.to, range.from
        )));
    }
    let interval_ms = m
        .get("intervalMs")
        .and_then(Json::as_f64)
        .map(|f| f as i64)
        .filter(|i| *i > 0)
        .unwrap_or(DEFAULT_INTERVAL_MS);
    let timescaledb = cfg
        .json_data
        .get("timescaledb")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let sql = macros::expand(dialect, raw, range, interval_ms, timescaledb)?;
    let pool = connect::pool(dialect, cfg)?;
    let table = match tokio::time::timeout(timeout, connect::fetch(&pool, sql)).await {
        Err(_) | Ok(Err(sqlx::Error::PoolTimedOut)) => return Err(QueryError::Timeout(timeout)),
        Ok(Err(e)) => {
            return Err(QueryError::Remote(format!(
                "{dialect} data source {:?}: query failed: {}",
                cfg.uid,
                error_message(&e)
            )));
        }
        Ok(Ok(t)) => t,
    };
    frame::to_value(&table, dialect.time_columns()).map_err(|e| {
        QueryError::UnusableResult(format!("{dialect} data source {:?}: {e}", cfg.uid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types() {
        assert!(is_sql("postgres"));
        assert!(is_sql("grafana-postgresql-datasource"));
        assert!(is_sql("mysql"));
        assert!(!is_sql("prometheus"));
    }

    #[tokio::test]
    async fn model_errors_and_empty_sql() {
        let cfg = DataSourceConfig {
            uid: "m".into(),
            kind: "mysql".into(),
            url: "127.0.0.1:1".into(),
            ..Default::default()
        };
        let r = TimeRange { from: 0, to: 1000 };
        let t = Duration::from_secs(1);
        assert!(matches!(
            query(&cfg, &json!(1), r, t).await,
            Err(QueryError::NotAnObject(_))
        ));
        assert_eq!(
            query(&cfg, &json!({"rawSql": " "}), r, t).await,
            Ok(Value::NoData)
        );
        assert!(matches!(
            query(&cfg, &json!({"rawSql": 1}), r, t).await,
            Err(QueryError::InvalidField { .. })
        ));
        assert!(matches!(
            query(&cfg, &json!({"rawSql": "SELECT $__bogus(x)"}), r, t).await,
            Err(QueryError::InvalidField { .. })
        ));
        let other = DataSourceConfig {
            kind: "loki".into(),
            ..cfg
        };
        assert!(matches!(
            query(&other, &json!({"rawSql": "SELECT 1"}), r, t).await,
            Err(QueryError::UnsupportedType(_))
        ));
    }
}
