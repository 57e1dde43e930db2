//! Sends one query to the data source its type names.

use std::time::Duration;

use crate::data::{TimeRange, Value};
use crate::datasource::{DataSourceConfig, QueryError, prometheus, sql, testdata};

/// Grafana's default `intervalMs` and `maxDataPoints` for alert queries.
const DEFAULT_INTERVAL_MS: i64 = 1000;
const DEFAULT_MAX_POINTS: usize = 43_200;

/// Runs `model` against `config` over `range`.
pub async fn run_query(
    config: &DataSourceConfig,
    model: &serde_json::Value,
    range: TimeRange,
    timeout: Duration,
) -> Result<Value, QueryError> {
    let interval_ms = model
        .get("intervalMs")
        .and_then(serde_json::Value::as_i64)
        .filter(|i| *i > 0)
        .unwrap_or(DEFAULT_INTERVAL_MS);
    let max_points = model
        .get("maxDataPoints")
        .and_then(serde_json::Value::as_u64)
        .and_then(|m| usize::try_from(m).ok())
        .filter(|m| *m > 0)
        .unwrap_or(DEFAULT_MAX_POINTS);
    if testdata::is_testdata(&config.kind) {
        return testdata::query(model, range, interval_ms, max_points);
    }
    if prometheus::is_prometheus(&config.kind) {
        return prometheus::query(config, model, range, interval_ms, timeout).await;
    }
    if sql::is_sql(&config.kind) {
        return sql::query(config, model, range, timeout).await;
    }
    Err(QueryError::UnsupportedType(config.kind.clone()))
}
