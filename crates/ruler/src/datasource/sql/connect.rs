//! Connections to PostgreSQL and MySQL/MariaDB: one small pool per data source (made from
//! [`super::options`], rebuilt when its settings change), and running a query into a
//! [`Table`] of typed cells.
//!
//! Queries run as plain text (PostgreSQL's simple query protocol, MySQL's `COM_QUERY`), as
//! Grafana does, so any statement the user may run works and every value arrives as text.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex};

use sqlx::mysql::{MySql, MySqlPool, MySqlRow};
use sqlx::postgres::{PgPool, PgRow, Postgres};
use sqlx::{AssertSqlSafe, Column as _, Decode, Row, TypeInfo, ValueRef};

use super::Dialect;
use super::options::{mysql_options, pool_options, postgres_options};
use crate::datasource::{DataSourceConfig, QueryError};

/// How a column's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Integers, floats, decimals, booleans.
    Number,
    /// Timestamps and dates.
    Time,
    /// Everything else, as text.
    Text,
}

/// A column of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A result: its columns and rows of raw text cells (`None` is NULL).
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A pool for either database.
#[derive(Debug, Clone)]
pub(super) enum Pool {
    Postgres(PgPool),
    Mysql(MySqlPool),
}

fn settings_hash(cfg: &DataSourceConfig) -> u64 {
    let mut h = DefaultHasher::new();
    cfg.kind.hash(&mut h);
    cfg.url.hash(&mut h);
    cfg.user.hash(&mut h);
    cfg.database.hash(&mut h);
    cfg.json_data.to_string().hash(&mut h);
    cfg.secure.hash(&mut h);
    h.finish()
}

/// Pools by data source uid, with the hash of the settings they were made from.
static POOLS: LazyLock<Mutex<HashMap<String, (u64, Pool)>>> = LazyLock::new(Default::default);

/// The pool of `cfg`, made (without connecting) once per uid and settings; a replaced pool is
/// closed once its running queries end.
pub(super) fn pool(dialect: Dialect, cfg: &DataSourceConfig) -> Result<Pool, QueryError> {
    let hash = settings_hash(cfg);
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((h, p)) = pools.get(&cfg.uid)
        && *h == hash
    {
        return Ok(p.clone());
    }
    let pool = match dialect {
        Dialect::Postgres => {
            Pool::Postgres(pool_options(cfg).connect_lazy_with(postgres_options(cfg)?))
        }
        Dialect::Mysql => Pool::Mysql(pool_options(cfg).connect_lazy_with(mysql_options(cfg)?)),
    };
    if let Some((_, old)) = pools.insert(cfg.uid.clone(), (hash, pool.clone())) {
        tokio::spawn(async move {
            match old {
                Pool::Postgres(p) => p.close().await,
                Pool::Mysql(p) => p.close().await,
            }
        });
    }
    Ok(pool)
}

fn pg_kind(type_name: &str) -> Kind {
    match type_name {
        "INT2" | "INT4" | "INT8" | "FLOAT4" | "FLOAT8" | "NUMERIC" | "OID" | "BOOL" => Kind::Number,
        "TIMESTAMPTZ" | "TIMESTAMP" | "DATE" => Kind::Time,
        _ => Kind::Text,
    }
}

fn mysql_kind(type_name: &str) -> Kind {
    let base = type_name.trim_end_matches(" UNSIGNED");
    match base {
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "FLOAT" | "DOUBLE"
        | "DECIMAL" | "BOOLEAN" | "YEAR" => Kind::Number,
        "DATETIME" | "TIMESTAMP" | "DATE" => Kind::Time,
        _ => Kind::Text,
    }
}

fn columns<R: Row>(row: &R, kind: fn(&str) -> Kind) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            kind: kind(c.type_info().name()),
        })
        .collect()
}

fn pg_table(rows: &[PgRow]) -> Result<Table, sqlx::Error> {
    let Some(first) = rows.first() else {
        return Ok(Table::default());
    };
    let mut table = Table {
        columns: columns(first, pg_kind),
        rows: Vec::with_capacity(rows.len()),
    };
    for row in rows {
        let mut cells = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            let v = row.try_get_raw(i)?;
            cells.push(if v.is_null() {
                None
            } else {
                Some(
                    <&str as Decode<Postgres>>::decode(v)
                        .map_err(sqlx::Error::Decode)?
                        .to_owned(),
                )
            });
        }
        table.rows.push(cells);
    }
    Ok(table)
}

fn mysql_table(rows: &[MySqlRow]) -> Result<Table, sqlx::Error> {
    let Some(first) = rows.first() else {
        return Ok(Table::default());
    };
    let mut table = Table {
        columns: columns(first, mysql_kind),
        rows: Vec::with_capacity(rows.len()),
    };
    for row in rows {
        let mut cells = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            let v = row.try_get_raw(i)?;
            cells.push(if v.is_null() {
                None
            } else {
                let bytes = <&[u8] as Decode<MySql>>::decode(v).map_err(sqlx::Error::Decode)?;
                Some(String::from_utf8_lossy(bytes).into_owned())
            });
        }
        table.rows.push(cells);
    }
    Ok(table)
}

/// Runs `sql` on `pool`. Rows whose column count differs from the first row's (a later
/// statement of a multi-statement query) are an error.
pub(super) async fn fetch(pool: &Pool, sql: String) -> Result<Table, sqlx::Error> {
    let table = match pool {
        Pool::Postgres(p) => pg_table(&sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(p).await?)?,
        Pool::Mysql(p) => mysql_table(&sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(p).await?)?,
    };
    if table.rows.iter().any(|r| r.len() != table.columns.len()) {
        return Err(sqlx::Error::Protocol(
            "statements returned results with different columns".into(),
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_kinds() {
        assert_eq!(pg_kind("NUMERIC"), Kind::Number);
        assert_eq!(pg_kind("TIMESTAMPTZ"), Kind::Time);
        assert_eq!(pg_kind("VARCHAR"), Kind::Text);
        assert_eq!(mysql_kind("BIGINT UNSIGNED"), Kind::Number);
        assert_eq!(mysql_kind("DATETIME"), Kind::Time);
        assert_eq!(mysql_kind("VARBINARY"), Kind::Text);
    }
}
