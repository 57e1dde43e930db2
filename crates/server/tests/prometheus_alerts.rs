//! A real Prometheus (Debian's `prometheus` package, 2.42) as an Alertmanager client: its
//! always-firing rule reaches organization 1's Alertmanager through the API v2
//! (`path_prefix: /api/alertmanager/grafana`, basic auth) and is delivered to a webhook contact
//! point, which the notification metrics then count.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::prometheus::{KillOnDrop, prometheus_binary};
use common::webhook::{Collector, has_alert};
use common::{Server, Start, TempDir, free_port, post_am_config};
use serde_json::json;

/// The value of an exposition sample line `series value`, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split(' ').next()?.parse().ok())
}

#[tokio::test]
async fn prometheus_alerts_reach_the_webhook() {
    let Some(bin) = prometheus_binary() else {
        return;
    };
    let server = Server::start(&Start::default()).await;
    let hook = Collector::start().await;
    let http = reqwest::Client::new();

    let config = json!({
        "template_files": {},
        "alertmanager_config": {
            "route": {
                "receiver": "collector",
                "group_by": ["alertname"],
                "group_wait": "1s",
                "group_interval": "1s"
            },
            "receivers": [{
                "name": "collector",
                "grafana_managed_receiver_configs": [{
                    "uid": "c1", "name": "collector", "type": "webhook",
                    "settings": {"url": hook.url}
                }]
            }]
        }
    });
    let r = post_am_config(&http, &server, &config).await;
    assert_eq!(r.status(), 202, "log:\n{}", server.log());

    let dir = TempDir::new("prom-alerts");
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:
  - name: watchkeeper
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels:
          severity: page
        annotations:
          summary: always firing
",
    )
    .expect("rules");
    let prom_config = dir.path().join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global:
  evaluation_interval: 1s
rule_files:
  - {}
alerting:
  alertmanagers:
    - api_version: v2
      path_prefix: /api/alertmanager/grafana
      basic_auth:
        username: admin
        password: admin
      static_configs:
        - targets: ['127.0.0.1:{}']
",
            rules.display(),
            server.port
        ),
    )
    .expect("config");
    let port = free_port();
    let prom_log = dir.path().join("prometheus.log");
    let log_file = std::fs::File::create(&prom_log).expect("log file");
    let _prom = KillOnDrop(
        Command::new(bin)
            .arg(format!("--config.file={}", prom_config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Alertmanagers are discovered about 5s after start; alerts sent before that are
            // dropped, so resend every second rather than every minute.
            .arg("--rules.alert.resend-delay=1s")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start prometheus"),
    );

    let body = hook
        .wait_for(
            Duration::from_secs(60),
            || {
                format!(
                    "watchkeeper log:\n{}\nprometheus log:\n{}",
                    server.log(),
                    std::fs::read_to_string(&prom_log).unwrap_or_default()
                )
            },
            |got| {
                got.iter()
                    .map(|(_, b)| b)
                    .find(|b| has_alert(b, "AlwaysFiring"))
                    .cloned()
            },
        )
        .await;
    assert_eq!(body["receiver"], "collector", "{body}");
    assert_eq!(body["status"], "firing");
    let alert = &body["alerts"][0];
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["annotations"]["summary"], "always firing");
    assert!(
        alert["generatorURL"]
            .as_str()
            .is_some_and(|u| u.contains(&format!(":{port}/graph?g0.expr=vector%281%29"))),
        "{alert}"
    );

    // The delivery is counted: one notification, at least one request, no failure. The
    // webhook sees the request before the sender has counted it: poll until it is (bounded).
    let l = "{org=\"1\",integration=\"webhook\"}";
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = http
            .get(server.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let counted = sample(
            &text,
            &format!("alertmanager_notification_requests_total{l}"),
        )
        .is_some_and(|n| n >= 1.0);
        if counted || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let v = |s: String| sample(&text, &s);
    assert!(
        v(format!("alertmanager_notifications_total{l}")).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(v(format!("alertmanager_notification_requests_total{l}")).is_some_and(|n| n >= 1.0));
    assert_eq!(
        v(format!(
            "alertmanager_notification_requests_failed_total{l}"
        )),
        Some(0.0)
    );
    assert!(
        v("alertmanager_alerts_received_total{org=\"1\",status=\"firing\"}".to_owned())
            .is_some_and(|n| n >= 1.0)
    );
}
