//! Alertmanager state across a graceful restart: an alert resolved just before SIGTERM, whose
//! resolved notification had not gone out yet, is notified after the restart, and its firing
//! notification is not repeated (alerts and the notification log are saved to the kvstore on
//! shutdown and restored at start).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use common::{Server, Start};
use serde_json::{Value, json};

const CONFIG_PATH: &str = "/api/alertmanager/grafana/config/api/v1/alerts";
const ALERTS_PATH: &str = "/api/alertmanager/grafana/api/v2/alerts";
const ALERTNAME: &str = "RestartPending";

type Received = Arc<Mutex<Vec<Value>>>;

async fn record(State(got): State<Received>, body: String) -> &'static str {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    got.lock().expect("lock").push(body);
    "ok"
}

/// A local webhook receiver recording every POST body; it outlives both servers.
async fn collector() -> (String, Received) {
    let got: Received = Arc::default();
    let app = Router::new()
        .route("/hook", post(record))
        .with_state(Arc::clone(&got));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind collector");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

/// The notifications about [`ALERTNAME`] received so far, as their `status`.
fn statuses(got: &Received) -> Vec<String> {
    got.lock()
        .expect("lock")
        .iter()
        .filter(|b| b["groupLabels"]["alertname"] == ALERTNAME)
        .map(|b| b["status"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// Polls the collector until `want` notifications have arrived; panics with the log after 30s.
async fn wait_for(got: &Received, want: usize, server: &Server) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = statuses(got);
        if seen.len() >= want {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "expected {want} notifications, got {seen:?}; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    let (hook_url, got) = collector().await;
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
    let r = http
        .post(server.url(CONFIG_PATH))
        .basic_auth("admin", Some("admin"))
        .json(&config)
        .send()
        .await
        .expect("post config");
    assert_eq!(r.status(), 202, "log:\n{}", server.log());

    let starts_at = chrono::Utc::now() - chrono::TimeDelta::seconds(5);
    let labels = json!({"alertname": ALERTNAME, "instance": "db-1"});
    post_alert(
        &http,
        &server,
        json!({"labels": labels, "startsAt": starts_at.to_rfc3339()}),
    )
    .await;
    assert_eq!(wait_for(&got, 1, &server).await, ["firing"]);

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
        statuses(&got),
        ["firing"],
        "the resolved notification went out before the restart; the test proves nothing"
    );

    // Same home, same SQLite database.
    let home = server.take_home();
    let server = Server::spawn_in(&Start::default(), home);
    server.wait_healthy(Duration::from_secs(60)).await;

    // The resolved notification comes from the restored alert; a repeat of the firing one
    // would have come from the same first flush, so nothing can follow it unnoticed.
    let seen = wait_for(&got, 2, &server).await;
    assert_eq!(seen, ["firing", "resolved"], "log:\n{}", server.log());
    let bodies = got.lock().expect("lock").clone();
    let resolved = bodies.last().expect("resolved notification");
    assert_eq!(resolved["alerts"][0]["status"], "resolved", "{resolved}");
    assert_eq!(resolved["alerts"][0]["labels"]["instance"], "db-1");
}
