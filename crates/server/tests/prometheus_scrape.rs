//! A real Prometheus (Debian's `prometheus` package) scrapes `/metrics` and can query the series.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::prometheus::{KillOnDrop, prometheus_binary};
use common::{Server, Start, TempDir, free_port};

#[tokio::test]
async fn prometheus_scrapes_metrics() {
    let Some(bin) = prometheus_binary() else {
        return;
    };
    let server = Server::start(&Start::default()).await;
    let dir = TempDir::new("prom");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: watchkeeper\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            server.port
        ),
    )
    .expect("config");
    let port = free_port();
    let _prom = KillOnDrop(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let query = |q: &str| {
        http.get(format!("http://127.0.0.1:{port}/api/v1/query"))
            .query(&[("query", q)])
            .send()
    };
    // Prometheus accepts the exposition (up == 1) and stores process and request series with
    // their labels (the request series appear from the second scrape on).
    let queries = [
        "up{job=\"watchkeeper\"} == 1",
        "process_cpu_seconds_total{job=\"watchkeeper\"}",
        "process_resident_memory_bytes{job=\"watchkeeper\"} > 0",
        "watchkeeper_http_request_duration_seconds_count{handler=\"/metrics\",method=\"GET\",status_code=\"200\"}",
    ];
    for q in queries {
        loop {
            let found = async {
                let v: serde_json::Value = query(q).await.ok()?.json().await.ok()?;
                Some(v["data"]["result"].as_array()?.len())
            };
            if found.await == Some(1) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus has no result for {q}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
