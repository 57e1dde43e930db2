//! Grafana's SQL macros, expanded in a query's `rawSql` before it is sent: first the global
//! ones (`$__interval_ms`, `$__interval`, `$__unixEpochFrom()`, `$__unixEpochTo()`), then every
//! `$name(args)` by the database's rules. An unknown macro is an error, as in Grafana.

use chrono::{DateTime, Utc};

use super::Dialect;
use crate::data::{Millis, TimeRange};
use crate::datasource::QueryError;
use crate::datasource::prometheus::interval;

/// Expands the macros of `sql` for `dialect` over `range`; `interval_ms` is the query's
/// interval and `timescaledb` PostgreSQL's `jsonData.timescaledb`.
pub(super) fn expand(
    dialect: Dialect,
    sql: &str,
    range: TimeRange,
    interval_ms: i64,
    timescaledb: bool,
) -> Result<String, QueryError> {
    let sql = sql
        .replace("$__interval_ms", &interval_ms.to_string())
        .replace("$__interval", &interval::format(interval_ms))
        .replace("$__unixEpochFrom()", &secs(range.from).to_string())
        .replace("$__unixEpochTo()", &secs(range.to).to_string());
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql.as_str();
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let (name, tail) = after.split_at(name_len);
        let call = tail
            .strip_prefix('(')
            .and_then(|t| t.find(')').map(|end| (&t[..end], &t[end + 1..])));
        match call {
            Some((args, tail)) if !name.is_empty() => {
                let args: Vec<&str> = args.split(',').map(|a| a.trim_matches(' ')).collect();
                // PostgreSQL: `$__timeGroup(...)` directly followed by a comma is the pre-5.3
                // form that also names the column.
                let name = if dialect == Dialect::Postgres
                    && name == "__timeGroup"
                    && tail.starts_with(',')
                {
                    "__timeGroupAlias"
                } else {
                    name
                };
                out.push_str(&macro_sql(dialect, name, &args, range, timescaledb)?);
                rest = tail;
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Whole seconds (Go's `Unix()`).
fn secs(ms: Millis) -> i64 {
    ms.div_euclid(1000)
}

/// Go's `RFC3339Nano` in UTC: `2024-01-02T03:04:05.5Z`.
fn rfc3339(ms: Millis) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    let frac = ms.rem_euclid(1000);
    let base = t.format("%Y-%m-%dT%H:%M:%S");
    if frac == 0 {
        format!("{base}Z")
    } else {
        let f = format!("{frac:03}");
        format!("{base}.{}Z", f.trim_end_matches('0'))
    }
}

/// A float as Go's `%v` prints it: shortest digits, exponent form from 1e6 up or below 1e-4.
fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
    format!("{mantissa}e{sign}{digits:0>2}")
}

fn macro_error(reason: String) -> QueryError {
    QueryError::invalid_field("rawSql", reason)
}

/// The `$__timeGroup` interval in seconds; fill modes are refused.
fn group_interval(name: &str, args: &[&str], quotes: &[char]) -> Result<f64, QueryError> {
    if args.len() < 2 {
        return Err(macro_error(format!(
            "macro {name} needs time column and interval"
        )));
    }
    if args.len() > 2 {
        return Err(macro_error(format!(
            "macro {name}: fill modes are not supported in alert queries"
        )));
    }
    let raw = args[1].trim_matches(quotes);
    interval::parse(raw)
        .map(|ms| ms as f64 / 1000.0)
        .ok_or_else(|| macro_error(format!("error parsing interval {}", args[1])))
}

fn macro_sql(
    dialect: Dialect,
    name: &str,
    args: &[&str],
    range: TimeRange,
    timescaledb: bool,
) -> Result<String, QueryError> {
    let col = args.first().copied().unwrap_or("");
    let (from, to) = (range.from, range.to);
    let pg = dialect == Dialect::Postgres;
    let needs_column = matches!(
        name,
        "__time" | "__timeEpoch" | "__timeFilter" | "__unixEpochFilter" | "__unixEpochNanoFilter"
    );
    if needs_column && col.is_empty() {
        return Err(macro_error(format!(
            "missing time column argument for macro {name}"
        )));
    }
    Ok(match name {
        "__time" if pg => format!("{col} AS \"time\""),
        "__timeEpoch" if pg => format!("extract(epoch from {col}) as \"time\""),
        "__time" | "__timeEpoch" => format!("UNIX_TIMESTAMP({col}) as time_sec"),
        "__timeFilter" if pg => {
            format!("{col} BETWEEN '{}' AND '{}'", rfc3339(from), rfc3339(to))
        }
        "__timeFilter" if secs(from) < 0 => format!(
            "{col} BETWEEN DATE_ADD(FROM_UNIXTIME(0), INTERVAL {} SECOND) AND FROM_UNIXTIME({})",
            secs(from),
            secs(to)
        ),
        "__timeFilter" => format!(
            "{col} BETWEEN FROM_UNIXTIME({}) AND FROM_UNIXTIME({})",
            secs(from),
            secs(to)
        ),
        "__timeFrom" if pg => format!("'{}'", rfc3339(from)),
        "__timeTo" if pg => format!("'{}'", rfc3339(to)),
        "__timeFrom" => format!("FROM_UNIXTIME({})", secs(from)),
        "__timeTo" => format!("FROM_UNIXTIME({})", secs(to)),
        "__timeGroup" if pg => {
            let s = group_interval(name, args, &['\''])?;
            if timescaledb {
                format!("time_bucket('{s:.3}s',{col})")
            } else {
                let s = go_float(s);
                format!("floor(extract(epoch from {col})/{s})*{s}")
            }
        }
        "__timeGroup" => {
            let s = group_interval(name, args, &['\'', '"'])?;
            format!("UNIX_TIMESTAMP({col}) DIV {s:.0} * {s:.0}")
        }
        "__unixEpochGroup" => {
            let s = go_float(group_interval(name, args, &['\''])?);
            if pg {
                format!("floor(({col})/{s})*{s}")
            } else {
                format!("{col} DIV {s} * {s}")
            }
        }
        "__timeGroupAlias" => {
            macro_sql(dialect, "__timeGroup", args, range, timescaledb)? + " AS \"time\""
        }
        "__unixEpochGroupAlias" => {
            macro_sql(dialect, "__unixEpochGroup", args, range, timescaledb)? + " AS \"time\""
        }
        "__unixEpochFilter" => format!("{col} >= {} AND {col} <= {}", secs(from), secs(to)),
        "__unixEpochNanoFilter" => format!(
            "{col} >= {} AND {col} <= {}",
            i128::from(from) * 1_000_000,
            i128::from(to) * 1_000_000
        ),
        "__unixEpochNanoFrom" => (i128::from(from) * 1_000_000).to_string(),
        "__unixEpochNanoTo" => (i128::from(to) * 1_000_000).to_string(),
        other => return Err(macro_error(format!("unknown macro \"{other}\""))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-01-01T00:00:00Z .. +1h, plus 500 ms on the start.
    const RANGE: TimeRange = TimeRange {
        from: 1_704_067_200_500,
        to: 1_704_070_800_000,
    };

    fn pg(sql: &str) -> Result<String, QueryError> {
        expand(Dialect::Postgres, sql, RANGE, 15_000, false)
    }

    fn my(sql: &str) -> Result<String, QueryError> {
        expand(Dialect::Mysql, sql, RANGE, 15_000, false)
    }

    #[test]
    fn global_macros() {
        assert_eq!(
            pg("$__interval_ms $__interval $__unixEpochFrom() $__unixEpochTo()").unwrap(),
            "15000 15s 1704067200 1704070800"
        );
    }

    #[test]
    fn postgres_macros() {
        assert_eq!(
            pg("WHERE $__timeFilter(ts)").unwrap(),
            "WHERE ts BETWEEN '2024-01-01T00:00:00.5Z' AND '2024-01-01T01:00:00Z'"
        );
        assert_eq!(
            pg("$__timeFrom() $__timeTo()").unwrap(),
            "'2024-01-01T00:00:00.5Z' '2024-01-01T01:00:00Z'"
        );
        assert_eq!(pg("SELECT $__time(ts)").unwrap(), "SELECT ts AS \"time\"");
        assert_eq!(
            pg("$__timeEpoch(ts)").unwrap(),
            "extract(epoch from ts) as \"time\""
        );
        assert_eq!(
            pg("$__timeGroup(ts, '5m')").unwrap(),
            "floor(extract(epoch from ts)/300)*300"
        );
        assert_eq!(
            pg("SELECT $__timeGroup(ts,5m), v").unwrap(),
            "SELECT floor(extract(epoch from ts)/300)*300 AS \"time\", v"
        );
        assert_eq!(
            expand(Dialect::Postgres, "$__timeGroup(ts,1m)", RANGE, 1000, true).unwrap(),
            "time_bucket('60.000s',ts)"
        );
        assert_eq!(
            pg("$__unixEpochFilter(t)").unwrap(),
            "t >= 1704067200 AND t <= 1704070800"
        );
        assert_eq!(pg("$__unixEpochNanoFrom()").unwrap(), "1704067200500000000");
        assert_eq!(
            pg("$__unixEpochGroupAlias(t, 30d)").unwrap(),
            "floor((t)/2.592e+06)*2.592e+06 AS \"time\""
        );
    }

    #[test]
    fn mysql_macros() {
        assert_eq!(
            my("WHERE $__timeFilter(ts)").unwrap(),
            "WHERE ts BETWEEN FROM_UNIXTIME(1704067200) AND FROM_UNIXTIME(1704070800)"
        );
        assert_eq!(
            my("$__timeFrom() $__timeTo()").unwrap(),
            "FROM_UNIXTIME(1704067200) FROM_UNIXTIME(1704070800)"
        );
        assert_eq!(my("$__time(ts)").unwrap(), "UNIX_TIMESTAMP(ts) as time_sec");
        assert_eq!(
            my("$__timeGroup(ts, \"5m\")").unwrap(),
            "UNIX_TIMESTAMP(ts) DIV 300 * 300"
        );
        assert_eq!(
            my("$__timeGroupAlias(ts, 5m)").unwrap(),
            "UNIX_TIMESTAMP(ts) DIV 300 * 300 AS \"time\""
        );
        assert_eq!(my("$__unixEpochGroup(t, 1h)").unwrap(), "t DIV 3600 * 3600");
        let before_1970 = TimeRange {
            from: -10_000,
            to: 0,
        };
        assert_eq!(
            expand(Dialect::Mysql, "$__timeFilter(t)", before_1970, 1000, false).unwrap(),
            "t BETWEEN DATE_ADD(FROM_UNIXTIME(0), INTERVAL -10 SECOND) AND FROM_UNIXTIME(0)"
        );
    }

    #[test]
    fn errors_and_non_macros() {
        for bad in [
            "$__timeFilter()",
            "$__nope(x)",
            "$__timeGroup(ts)",
            "$__timeGroup(ts, 1m, 0)",
            "$__timeGroup(ts, soon)",
        ] {
            let e = pg(bad).unwrap_err();
            assert!(
                matches!(e, QueryError::InvalidField { ref field, .. } if field == "rawSql"),
                "{bad}: {e}"
            );
        }
        // Not macros: a bare `$`, dollar quoting, positional parameters without a call.
        assert_eq!(
            pg("SELECT '$' || $$x$$, $1").unwrap(),
            "SELECT '$' || $$x$$, $1"
        );
    }

    #[test]
    fn go_floats() {
        assert_eq!(go_float(300.0), "300");
        assert_eq!(go_float(0.5), "0.5");
        assert_eq!(go_float(2_592_000.0), "2.592e+06");
        assert_eq!(go_float(31_536_000.0), "3.1536e+07");
    }
}
