//! Rules evaluated by the server, black-box: a TestData rule goes Normal → Pending → Alerting,
//! notifies the webhook through the embedded Alertmanager and resolves, with every transition
//! in state history; a restart keeps alert state; three clustered instances on one database
//! each evaluate every rule (history shows each transition once per instance) while the
//! webhook gets one notification per group; a rule on the real Prometheus fires.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::ha::{configure, count_after_first, eventually, hook_config, start_cluster_with};
use common::prometheus::{KillOnDrop, prometheus_binary};
use common::rules::{
    call, create_folder, csv_rule, db_args, fast_ticks, history, post_group, prometheus_alerts,
};
use common::webhook::Collector;
use common::{Server, Start, TempDir, cluster_args, free_port};
use serde_json::json;
use wk_store::Backend;
use wk_store::testing::test_database;

fn start_args(extra: &[String]) -> Start {
    let mut args = fast_ticks();
    args.extend_from_slice(extra);
    Start {
        args,
        ..Start::default()
    }
}

/// Stops `server` and starts it again on the same home (its SQLite database), with `extra`.
async fn restart(mut server: Server, extra: &[String]) -> Server {
    server.terminate(Duration::from_secs(20));
    let home = server.take_home();
    let server = Server::spawn_in(&start_args(extra), home);
    server.wait_healthy(Duration::from_secs(60)).await;
    server
}

/// Firing then resolved notifications about `alertname`, in order.
fn statuses(hook: &Collector, alertname: &str) -> Vec<String> {
    hook.bodies()
        .iter()
        .filter(|b| b["groupLabels"]["alertname"] == alertname)
        .map(|b| b["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_testdata_rule_goes_pending_then_alerting_notifies_and_resolves() {
    let server = Server::start(&start_args(&[])).await;
    let http = reqwest::Client::new();
    let hook = Collector::start().await;
    configure(
        &http,
        std::slice::from_ref(&server),
        &hook_config(&hook.url, "0s"),
    )
    .await;
    let folder = create_folder(&http, &server, "Infra").await;
    let saved = post_group(
        &http,
        &server,
        &folder,
        "g1",
        vec![csv_rule("HighValue", "1,9", "20s")],
    )
    .await;
    let uid = saved["created"][0]
        .as_str()
        .expect("new rule uid")
        .to_owned();

    hook.wait_for(
        Duration::from_secs(60),
        || format!("no firing notification; log:\n{}", server.log()),
        |_| {
            statuses(&hook, "HighValue")
                .contains(&"firing".to_owned())
                .then_some(())
        },
    )
    .await;
    let h = history(&http, &server).await;
    let steps: Vec<(&str, &str)> = h
        .iter()
        .map(|(p, c, _, _)| (p.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        steps[..2],
        [("Normal", "Pending"), ("Pending", "Alerting")],
        "{h:?}"
    );
    let pending_for = h[1].3 - h[0].3;
    assert!(
        (20_000..=22_000).contains(&pending_for),
        "Pending lasted {pending_for} ms, not `for` (20s)"
    );
    let body = hook
        .bodies()
        .into_iter()
        .find(|b| b["groupLabels"]["alertname"] == "HighValue")
        .expect("notification");
    let labels = &body["alerts"][0]["labels"];
    assert_eq!(labels["grafana_folder"], "Infra");
    assert_eq!(labels["team"], "ops");
    assert_eq!(body["alerts"][0]["annotations"]["summary"], "value is high");
    let alerts = prometheus_alerts(&http, &server).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["state"], "Alerting");

    // The same rule (by uid) with data below the threshold: the alert resolves and the
    // webhook hears it.
    let mut changed = csv_rule("HighValue", "9,1", "20s");
    changed["grafana_alert"]["uid"] = serde_json::Value::String(uid);
    post_group(&http, &server, &folder, "g1", vec![changed]).await;
    hook.wait_for(
        Duration::from_secs(30),
        || format!("no resolved notification; log:\n{}", server.log()),
        |_| {
            statuses(&hook, "HighValue")
                .contains(&"resolved".to_owned())
                .then_some(())
        },
    )
    .await;
    let h = history(&http, &server).await;
    assert!(
        h.iter()
            .any(|(p, c, _, _)| p == "Alerting" && c == "Normal"),
        "{h:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_alert_state() {
    let server = Server::start(&start_args(&[])).await;
    let http = reqwest::Client::new();
    let folder = create_folder(&http, &server, "Infra").await;
    post_group(
        &http,
        &server,
        &folder,
        "g1",
        vec![csv_rule("Kept", "1,9", "0s")],
    )
    .await;
    let active_at = eventually(30, "the alert fires", || async {
        prometheus_alerts(&http, &server)
            .await
            .into_iter()
            .find(|a| a["state"] == "Alerting")
            .map(|a| a["activeAt"].as_str().unwrap_or_default().to_owned())
    })
    .await;
    let server = restart(server, &[]).await;

    // Evaluated again after the restart, still Alerting since the same time; no new transition.
    let before = history(&http, &server).await.len();
    eventually(30, "an evaluation after the restart", || async {
        let alerts = prometheus_alerts(&http, &server).await;
        alerts.into_iter().find(|a| a["state"] == "Alerting")
    })
    .await;
    let alerts = prometheus_alerts(&http, &server).await;
    assert_eq!(alerts[0]["activeAt"].as_str(), Some(active_at.as_str()));
    let after = history(&http, &server).await;
    assert_eq!(
        after.len(),
        before,
        "no transition after the restart: {after:?}"
    );
    assert!(after.iter().all(|(_, c, _, _)| c != "Pending"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_each_evaluate_and_notify_once() {
    let Some(db) = test_database(Backend::Postgres).await else {
        return;
    };
    let mut extra = fast_ticks();
    extra.extend(db_args(&db));
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let servers = start_cluster_with(cluster_args(3), &extra, 3).await;
    let http = reqwest::Client::new();
    let hook = Collector::start().await;
    configure(&http, &servers, &hook_config(&hook.url, "1s")).await;

    // Created on one instance, evaluated by all three.
    let folder = create_folder(&http, &servers[1], "Shared").await;
    post_group(
        &http,
        &servers[1],
        &folder,
        "g1",
        vec![csv_rule("Everywhere", "1,9", "0s")],
    )
    .await;
    let h = eventually(30, "each instance records the transition", || async {
        let h = history(&http, &servers[0]).await;
        let seen: BTreeSet<&str> = h
            .iter()
            .filter(|(p, c, _, _)| p == "Normal" && c == "Alerting")
            .map(|(_, _, i, _)| i.as_str())
            .collect();
        (seen.len() == 3).then_some(h)
    })
    .await;
    let firsts: BTreeMap<&str, i64> = h.iter().fold(BTreeMap::new(), |mut m, (_, _, i, t)| {
        m.entry(i.as_str()).or_insert(*t);
        m
    });
    let spread =
        firsts.values().max().copied().unwrap_or(0) - firsts.values().min().copied().unwrap_or(0);
    assert!(
        spread <= 1_000,
        "every instance evaluated on the same tick: {firsts:?}"
    );

    // Several group intervals after the first there is still exactly one.
    assert_eq!(
        count_after_first(&hook, "Everywhere", Duration::from_secs(4)).await,
        1
    );
}

/// A rule on the real Prometheus (Debian's package, scraping itself): an instant query, a
/// threshold, and the alert carries the series' labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_on_prometheus_fires() {
    let Some(bin) = prometheus_binary() else {
        return;
    };
    let dir = TempDir::new("prom");
    let config = dir.path().join("prometheus.yml");
    let port = free_port();
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("config");
    let _prom = KillOnDrop(
        std::process::Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let server = Server::start(&start_args(&[])).await;
    let http = reqwest::Client::new();
    let (status, body) = call(
        &http,
        &server,
        reqwest::Method::POST,
        "/api/datasources",
        Some(&json!({"name": "Prom", "uid": "prom", "type": "prometheus",
                     "url": format!("http://127.0.0.1:{port}"), "access": "proxy"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let folder = create_folder(&http, &server, "Infra").await;
    let rule = json!({
        "for": "0s",
        "grafana_alert": {
            "title": "SelfUp",
            "condition": "B",
            "data": [
                {"refId": "A", "datasourceUid": "prom",
                 "relativeTimeRange": {"from": 60, "to": 0},
                 "model": {"refId": "A", "expr": "up{job=\"self\"}", "instant": true}},
                {"refId": "B", "datasourceUid": "__expr__",
                 "model": {"refId": "B", "type": "threshold", "expression": "A",
                           "conditions": [{"evaluator": {"type": "gt", "params": [0]}}]}}
            ]
        }
    });
    post_group(&http, &server, &folder, "g1", vec![rule]).await;
    let alert = eventually(60, "the Prometheus rule fires", || async {
        prometheus_alerts(&http, &server)
            .await
            .into_iter()
            .find(|a| a["state"] == "Alerting")
    })
    .await;
    assert_eq!(alert["labels"]["job"], "self", "{alert}");
    assert_eq!(alert["labels"]["alertname"], "SelfUp");
    assert!(
        alert["value"]
            .as_str()
            .unwrap_or_default()
            .contains("var='A'"),
        "{alert}"
    );
}

/// `[unified_alerting.state_history.annotations] max_annotations_to_keep`: after a restart with
/// a limit of 1, only the newest transition is left (retention runs at start, then every
/// minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_history_keeps_the_newest_entries() {
    let server = Server::start(&start_args(&[])).await;
    let http = reqwest::Client::new();
    let folder = create_folder(&http, &server, "Infra").await;
    post_group(
        &http,
        &server,
        &folder,
        "g1",
        vec![csv_rule("Trimmed", "1,9", "1s")],
    )
    .await;
    eventually(30, "two transitions", || async {
        (history(&http, &server).await.len() >= 2).then_some(())
    })
    .await;
    let limit =
        "cfg:unified_alerting.state_history.annotations.max_annotations_to_keep=1".to_owned();
    let server = restart(server, &[limit]).await;
    let left = eventually(30, "history trimmed to one entry", || async {
        let h = history(&http, &server).await;
        (h.len() == 1).then_some(h)
    })
    .await;
    assert_eq!(
        (left[0].0.as_str(), left[0].1.as_str()),
        ("Pending", "Alerting")
    );
}

/// A state history backend that is not built (Loki), and single-node evaluation, are start-up
/// errors naming the key.
#[tokio::test]
async fn unavailable_settings_are_start_up_errors() {
    let mut server = Server::spawn(&start_args(&[
        "cfg:unified_alerting.ha_single_node_evaluation=true".to_owned(),
    ]));
    assert!(!server.wait_exit(Duration::from_secs(30)).success());
    assert!(
        server
            .log()
            .contains("ha_single_node_evaluation: not available"),
        "{}",
        server.log()
    );
    let mut server = Server::spawn(&start_args(&[
        "cfg:unified_alerting.state_history.backend=loki".to_owned(),
        "cfg:unified_alerting.state_history.loki_remote_url=http://127.0.0.1:1".to_owned(),
    ]));
    let status = server.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    let log = server.log();
    assert!(
        log.contains("[unified_alerting.state_history] backend: loki is not available"),
        "{log}"
    );
}
