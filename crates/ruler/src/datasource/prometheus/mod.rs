//! Grafana's Prometheus data source (type `prometheus`), as alert rules use it: [`query`] runs
//! the PromQL of a rule's query model against Prometheus' HTTP API and turns the answer into a
//! [`Value`].
//!
//! # Query model
//!
//! | field | meaning |
//! | --- | --- |
//! | `expr` | the PromQL expression (required) |
//! | `instant` | `true`: an instant query at the range's end, else a range query (Grafana runs alert queries as range queries unless `instant` is set) |
//! | `range` | ignored: range is the default |
//! | `interval` | min step (`15s`, `1m`, `>10s`, `$__interval`, `$__rate_interval`) |
//! | `intervalFactor` | multiplies the step (deprecated in Grafana) |
//! | `maxDataPoints` | resolution of the step computation (Grafana's alert default 43,200) |
//! | `legendFormat`, `format`, `exemplar`, `editorMode`, … | ignored |
//!
//! The step is Grafana's: the larger of the min step (the query's `interval`, else its
//! `intervalMs`, else the data source's `timeInterval`, else 15 s) or the range over
//! `maxDataPoints`, and the range over 11,000 points, both rounded to a "nice" interval;
//! start and end are aligned down to it. The step is raised further if Prometheus would
//! otherwise have to return more than 11,000 points. `$__interval`, `$__interval_ms`,
//! `$__range`, `$__range_s`, `$__range_ms`, `$__rate_interval` and `$__rate_interval_ms` in
//! `expr` are replaced as Grafana does.
//!
//! # Results
//!
//! A range query's matrix becomes [`Value::Series`], an instant query's vector
//! [`Value::Numbers`] (one per sample), both with the labels Prometheus returns, `__name__`
//! included as in Grafana. A scalar becomes one unlabelled number (Grafana turns it into a
//! numeric frame without labels, which server-side expressions read as a number), so
//! conditions, reduce and math treat it like a one-element vector. An empty matrix or vector
//! is [`Value::NoData`]. Strings and native histograms are [`QueryError::UnusableResult`].
//!
//! # Data source settings
//!
//! `url` (a path prefix is kept), `jsonData.httpMethod` (`POST`, form-encoded, by default as
//! in Grafana, or `GET`), basic authentication (`basic_auth_user` and
//! `secureJsonData.basicAuthPassword`), custom headers (`jsonData.httpHeaderName<n>` with
//! `secureJsonData.httpHeaderValue<n>`, e.g. a bearer token as `Authorization`), TLS
//! (`jsonData.tlsSkipVerify`; `tlsAuthWithCACert` with `secureJsonData.tlsCACert`; `tlsAuth`
//! with `tlsClientCert` and `tlsClientKey`; `serverName`), `jsonData.queryTimeout` (sent as
//! Prometheus' `timeout` parameter), `jsonData.timeout` (seconds; caps the call's timeout),
//! `jsonData.customQueryParameters` and `jsonData.timeInterval`. SigV4 and Azure
//! authentication are refused ([`QueryError::InvalidSettings`]); OAuth pass-through, proxies
//! and cookies do not apply to alerting. HTTP clients are cached per data source uid and
//! rebuilt when its settings change.
//!
//! # Errors
//!
//! Prometheus' own errors (`bad_data`, `execution`, `timeout`, …), other HTTP failures and
//! connection failures are [`QueryError::Remote`], naming the data source uid and quoting
//! Prometheus; exceeding the timeout is [`QueryError::Timeout`].

mod client;
pub(crate) mod interval;
mod response;
mod step;

use std::time::Duration;

use serde_json::Value as Json;

use crate::data::{Millis, TimeRange, Value};
use crate::datasource::{DataSourceConfig, QueryError};
use step::StepInput;

/// The data source type.
pub const DATASOURCE_TYPE: &str = "prometheus";

/// Grafana's `maxDataPoints` for alert queries that do not set one.
const DEFAULT_MAX_DATA_POINTS: i64 = 43_200;

/// Whether `ds_type` is the Prometheus data source.
pub fn is_prometheus(ds_type: &str) -> bool {
    ds_type == DATASOURCE_TYPE
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

fn wrong(key: &str, expected: &str, got: &Json) -> QueryError {
    QueryError::invalid_field(key, format!("expected {expected}, got {}", type_name(got)))
}

fn str_field<'a>(
    m: &'a serde_json::Map<String, Json>,
    key: &str,
) -> Result<Option<&'a str>, QueryError> {
    match m.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong(key, "a string", other)),
    }
}

fn bool_field(m: &serde_json::Map<String, Json>, key: &str) -> Result<bool, QueryError> {
    match m.get(key) {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(other) => Err(wrong(key, "a boolean", other)),
    }
}

fn int_field(m: &serde_json::Map<String, Json>, key: &str) -> Result<Option<i64>, QueryError> {
    match m.get(key) {
        None | Some(Json::Null) => Ok(None),
        // Grafana stores these as JSON numbers, floats included.
        Some(Json::Number(n)) => Ok(n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))),
        Some(other) => Err(wrong(key, "a number", other)),
    }
}

/// Prometheus' time parameter: seconds since the epoch, with milliseconds when not whole.
fn seconds(ms: Millis) -> String {
    if ms < 0 {
        return format!("-{}", seconds(ms.unsigned_abs() as Millis));
    }
    let (s, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        s.to_string()
    } else {
        format!("{s}.{frac:03}").trim_end_matches('0').to_owned()
    }
}

/// Runs a Prometheus query: `model` is the rule query's model, `range` the absolute time
/// range, `interval_ms` the query's `intervalMs` (Grafana's alert default is 1000) and
/// `timeout` the most the call may take. See the module docs.
pub async fn query(
    cfg: &DataSourceConfig,
    model: &Json,
    range: TimeRange,
    interval_ms: i64,
    timeout: Duration,
) -> Result<Value, QueryError> {
    let Json::Object(m) = model else {
        return Err(QueryError::NotAnObject(type_name(model)));
    };
    let expr = match str_field(m, "expr")? {
        Some(e) if !e.trim().is_empty() => e,
        _ => {
            return Err(QueryError::invalid_field(
                "expr",
                "a PromQL expression is required",
            ));
        }
    };
    if range.to < range.from {
        return Err(QueryError::InvalidRequest(format!(
            "time range ends ({}) before it starts ({})",
            range.to, range.from
        )));
    }
    let settings = client::Settings::from_config(cfg)?;
    let input = StepInput {
        model_interval: str_field(m, "interval")?,
        interval_ms,
        interval_factor: int_field(m, "intervalFactor")?.unwrap_or(0),
        max_data_points: int_field(m, "maxDataPoints")?
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MAX_DATA_POINTS),
        scrape_interval: settings.scrape_interval.as_deref(),
        range_ms: range.to - range.from,
    };
    let step = step::step(&input)?;
    let expr = step::interpolate(expr, &input, step);
    let (endpoint, params) = if bool_field(m, "instant")? {
        ("api/v1/query", vec![("time", seconds(range.to))])
    } else {
        let start = range.from.div_euclid(step) * step;
        let end = range.to.div_euclid(step) * step;
        (
            "api/v1/query_range",
            vec![
                ("start", seconds(start)),
                ("end", seconds(end)),
                ("step", seconds(step)),
            ],
        )
    };
    let mut params: Vec<(String, String)> =
        params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    params.insert(0, ("query".into(), expr));
    let data = client::call(cfg, &settings, endpoint, params, timeout).await?;
    response::to_value(data).map_err(|e| {
        QueryError::UnusableResult(format!("prometheus data source {:?}: {e}", cfg.uid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_seconds() {
        assert_eq!(seconds(1_700_000_000_000), "1700000000");
        assert_eq!(seconds(1_700_000_000_500), "1700000000.5");
        assert_eq!(seconds(1_700_000_000_012), "1700000000.012");
        assert_eq!(seconds(15_000), "15");
        assert_eq!(seconds(-1_500), "-1.5");
    }

    #[tokio::test]
    async fn model_errors() {
        let cfg = DataSourceConfig {
            kind: "prometheus".into(),
            url: "http://127.0.0.1:1".into(),
            ..Default::default()
        };
        let r = TimeRange { from: 0, to: 1000 };
        let t = Duration::from_secs(1);
        assert!(matches!(
            query(&cfg, &json!([]), r, 1000, t).await,
            Err(QueryError::NotAnObject(_))
        ));
        for model in [json!({}), json!({"expr": " "}), json!({"expr": 3})] {
            let e = query(&cfg, &model, r, 1000, t).await.unwrap_err();
            assert!(
                matches!(e, QueryError::InvalidField { ref field, .. } if field == "expr"),
                "{e}"
            );
        }
        let e = query(&cfg, &json!({"expr": "up", "instant": "yes"}), r, 1000, t)
            .await
            .unwrap_err();
        assert!(matches!(e, QueryError::InvalidField { ref field, .. } if field == "instant"));
    }
}
