//! Alertmanager state across a graceful restart: an alert resolved just before SIGTERM, whose
//! resolved notification had not gone out yet, is notified after the restart, and its firing
//! notification is not repeated (alerts and the notification log are saved to the kvstore on
//! shutdown and restored at start).

mod common;

use std::time::Duration;

use common::webhook::{Collector, Request};
use common::{Server, Start, post_am_config};
use serde_json::{Value, json};

const ALERTS_PATH: &str = "/api/alertmanager/grafana/api/v2/alerts";
const ALERTNAME: &str = "RestartPending";

/// The notifications about [`ALERTNAME`] received so far, as their `status`.
fn statuses(got: &[Request]) -> Vec<String> {
    got.iter()
        .map(|(_, b)| b)
        .filter(|b| b["groupLabels"]["alertname"] == ALERTNAME)
        .map(|b| b["status"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// Polls the collector until `want` notifications have arrived; panics with the log after 30s.
async fn wait_for(hook: &Collector, want: usize, server: &Server) -> Vec<String> {
    hook.wait_for(
        Duration::from_secs(30),
        || format!("expected {want} notifications; log:\n{}", server.log()),
        |got| {
            let seen = statuses(got);
            (seen.len() >= want).then_some(seen)
        },
    )
    .await
}

async fn post_alert(http: &reqwest::Client, server: &Server, alert: Value) {
    let r = http
        .post(server.url(ALERTS_PATH))
        .basic_auth("admin", Some("admin"))
        .json(&json!([alert]))
        .send()
        .await
        .expect("post alert");
    assert_eq!(r.status(), 200, "log:\n{}", server.log());
}

#[tokio::test]
async fn pending_resolved_notification_is_sent_after_sigterm_restart() {
    let hook = Collector::start().await;
    let hook_url = hook.url.clone();
    let http = reqwest::Client::new();
    let mut server = Server::start(&Start::default()).await;

    // group_interval is long: the resolved notification can only go out before it elapses
    // because the restart rebuilds the group and flushes it at once.
    let config = json!({
        "template_files": {},
        "alertmanager_config": {
            "route": {
                "receiver": "collector",
                "group_by": ["alertname"],
                "group_wait": "1s",
                "group_interval": "10m",
                "repeat_interval": "4h"
            },
            "receivers": [{
                "name": "collector",
                "grafana_managed_receiver_configs": [{
                    "uid": "c1", "name": "collector", "type": "webhook",
                    "settings": {"url": hook_url}
                }]
            }]
        }
    });
    let r = post_am_config(&http, &server, &config).await;
    assert_eq!(r.status(), 202, "log:\n{}", server.log());

    let starts_at = chrono::Utc::now() - chrono::TimeDelta::seconds(5);
    let labels = json!({"alertname": ALERTNAME, "instance": "db-1"});
    post_alert(
        &http,
        &server,
        json!({"labels": labels, "startsAt": starts_at.to_rfc3339()}),
    )
    .await;
    assert_eq!(wait_for(&hook, 1, &server).await, ["firing"]);

    // Resolve it, then stop gracefully well before group_interval: the resolved notification
    // is still pending in the aggregation group.
    post_alert(
        &http,
        &server,
        json!({
            "labels": labels,
            "startsAt": starts_at.to_rfc3339(),
            "endsAt": chrono::Utc::now().to_rfc3339()
        }),
    )
    .await;
    assert!(
        server.terminate(Duration::from_secs(30)).success(),
        "log:\n{}",
        server.log()
    );
    assert_eq!(
        statuses(&hook.requests()),
        ["firing"],
        "the resolved notification went out before the restart; the test proves nothing"
    );

    // Same home, same SQLite database.
    let home = server.take_home();
    let server = Server::spawn_in(&Start::default(), home);
    server.wait_healthy(Duration::from_secs(60)).await;

    // The resolved notification comes from the restored alert; a repeat of the firing one
    // would have come from the same first flush, so nothing can follow it unnoticed.
    let seen = wait_for(&hook, 2, &server).await;
    assert_eq!(seen, ["firing", "resolved"], "log:\n{}", server.log());
    let bodies = hook.bodies();
    let resolved = bodies.last().expect("resolved notification");
    assert_eq!(resolved["alerts"][0]["status"], "resolved", "{resolved}");
    assert_eq!(resolved["alerts"][0]["labels"]["instance"], "db-1");
}
