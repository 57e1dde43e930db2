//! Helpers of the rule tests: short scheduler ticks, a shared database, folders and rule
//! groups through Grafana's APIs, state history and the Prometheus-compatible rule state.

use serde_json::{Value, json};
use wk_store::Backend;
use wk_store::testing::TestDatabase;

use super::Server;

/// `cfg:` arguments for 1-second scheduler ticks (and rule intervals).
pub fn fast_ticks() -> Vec<String> {
    vec![
        "cfg:unified_alerting.scheduler_tick_interval=1s".to_owned(),
        "cfg:unified_alerting.min_interval=1s".to_owned(),
    ]
}

/// `cfg:` arguments pointing a server at a test database.
pub fn db_args(db: &TestDatabase) -> Vec<String> {
    let backend = match db.backend {
        Backend::Sqlite => "sqlite3",
        Backend::Postgres => "postgres",
        Backend::Mysql => "mysql",
    };
    vec![
        format!("cfg:database.type={backend}"),
        format!("cfg:database.url={}", db.options.url),
    ]
}

/// Sends `method path` with `body` as admin; returns status and JSON body (Null if none).
pub async fn call(
    http: &reqwest::Client,
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = http
        .request(method, server.url(path))
        .basic_auth("admin", Some("admin"));
    if let Some(b) = body {
        req = req.json(b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates a folder titled `title`; returns its uid.
pub async fn create_folder(http: &reqwest::Client, server: &Server, title: &str) -> String {
    let (status, body) = call(
        http,
        server,
        reqwest::Method::POST,
        "/api/folders",
        Some(&json!({"title": title})),
    )
    .await;
    assert_eq!(status, 200, "create folder: {body}; log:\n{}", server.log());
    body["uid"].as_str().expect("uid").to_owned()
}

/// A rule on TestData: the last of `csv` above 5 fires; evaluated every second.
pub fn csv_rule(title: &str, csv: &str, for_duration: &str) -> Value {
    json!({
        "for": for_duration,
        "labels": {"team": "ops"},
        "annotations": {"summary": "value is high"},
        "grafana_alert": {
            "title": title,
            "condition": "C",
            "no_data_state": "NoData",
            "exec_err_state": "Error",
            "data": [
                {"refId": "A", "datasourceUid": "testdata",
                 "relativeTimeRange": {"from": 600, "to": 0},
                 "model": {"refId": "A", "scenarioId": "csv_metric_values", "stringInput": csv}},
                {"refId": "B", "datasourceUid": "__expr__",
                 "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last"}},
                {"refId": "C", "datasourceUid": "__expr__",
                 "model": {"refId": "C", "type": "threshold", "expression": "B",
                           "conditions": [{"evaluator": {"type": "gt", "params": [5]}}]}}
            ]
        }
    })
}

/// Saves group `group` of folder `folder` with `rules` (1-second interval); returns the body.
pub async fn post_group(
    http: &reqwest::Client,
    server: &Server,
    folder: &str,
    group: &str,
    rules: Vec<Value>,
) -> Value {
    let (status, body) = call(
        http,
        server,
        reqwest::Method::POST,
        &format!("/api/ruler/grafana/api/v1/rules/{folder}"),
        Some(&json!({"name": group, "interval": "1s", "rules": rules})),
    )
    .await;
    assert_eq!(status, 202, "save group: {body}; log:\n{}", server.log());
    body
}

/// The state history of the organization: `(previous, current, instance, time)` oldest first.
pub async fn history(
    http: &reqwest::Client,
    server: &Server,
) -> Vec<(String, String, String, i64)> {
    let (status, body) = call(
        http,
        server,
        reqwest::Method::GET,
        "/api/v1/rules/history",
        None,
    )
    .await;
    assert_eq!(status, 200, "history: {body}");
    let values = &body["data"]["values"];
    let times = values[0].as_array().cloned().unwrap_or_default();
    let lines = values[1].as_array().cloned().unwrap_or_default();
    let mut out: Vec<_> = times
        .iter()
        .zip(lines.iter())
        .map(|(t, l)| {
            (
                l["previous"].as_str().unwrap_or_default().to_owned(),
                l["current"].as_str().unwrap_or_default().to_owned(),
                l["instance"].as_str().unwrap_or_default().to_owned(),
                t.as_i64().unwrap_or_default(),
            )
        })
        .collect();
    out.reverse();
    out
}

/// The alerts of the Prometheus-compatible rule state API.
pub async fn prometheus_alerts(http: &reqwest::Client, server: &Server) -> Vec<Value> {
    let (status, body) = call(
        http,
        server,
        reqwest::Method::GET,
        "/api/prometheus/grafana/api/v1/alerts",
        None,
    )
    .await;
    assert_eq!(status, 200, "alerts: {body}");
    body["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
