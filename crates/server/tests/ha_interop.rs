//! One cluster of Debian's `prometheus-alertmanager` 0.25 and two `watchkeeper` instances
//! (`ha_state_keys = alertmanager`, so the states are gossiped as `nfl` and `sil`): every
//! member lists all three peers, silences replicate both ways, and an alert pushed to all three
//! with the same route produces one notification. The Go node starts first, so it is position
//! 0: our instances must recognise its notification-log entry and stay quiet.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::ha::{
    configure, count_after_first, eventually, get, hook_config, peer_names, post_alerts,
    post_silence, silence_body, silence_state, start_cluster_with,
};
use common::prometheus::{KillOnDrop, alertmanager_config};
use common::webhook::Collector;
use common::{TempDir, free_cluster_port, free_port};
use serde_json::{Value, json};

fn alertmanager_binary() -> Option<&'static str> {
    let found = Command::new("prometheus-alertmanager")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("prometheus-alertmanager");
    }
    if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("prometheus-alertmanager is not installed but WATCHKEEPER_TEST_REQUIRE_SERVICES=1");
    }
    eprintln!("skipping: prometheus-alertmanager is not installed");
    None
}

/// The Go node's API v2 (no authentication).
struct GoNode {
    web: u16,
    http: reqwest::Client,
}

impl GoNode {
    async fn get(&self, path: &str) -> Option<Value> {
        let url = format!("http://127.0.0.1:{}/api/v2{path}", self.web);
        self.http.get(url).send().await.ok()?.json().await.ok()
    }

    async fn peers(&self) -> usize {
        self.get("/status")
            .await
            .map_or(0, |v| v["cluster"]["peers"].as_array().map_or(0, Vec::len))
    }

    async fn silence_ids(&self) -> Vec<String> {
        self.get("/silences").await.map_or(Vec::new(), |v| {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s["id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_alertmanager_and_two_instances_form_one_cluster() {
    let Some(bin) = alertmanager_binary() else {
        return;
    };
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let ports: Vec<u16> = (0..3).map(|_| free_cluster_port()).collect();
    let addr = |p: u16| format!("127.0.0.1:{p}");

    let dir = TempDir::new("go-am");
    let config = alertmanager_config(dir.path(), &hook.url);
    let web = free_port();
    let _go = KillOnDrop(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{web}"))
            .arg(format!("--cluster.listen-address={}", addr(ports[0])))
            .arg(format!("--cluster.peer={}", addr(ports[1])))
            .arg(format!("--cluster.peer={}", addr(ports[2])))
            .arg("--cluster.peer-timeout=2s")
            .arg("--cluster.gossip-interval=50ms")
            .arg("--cluster.pushpull-interval=1s")
            .arg("--cluster.settle-timeout=0s")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-alertmanager"),
    );
    let go = GoNode {
        web,
        http: http.clone(),
    };
    // Started first, the Go node has the oldest ULID: position 0.
    eventually(20, "the Go node's API is up", || async {
        go.get("/status").await.map(|_| ())
    })
    .await;

    let peers: Vec<String> = ports.iter().map(|p| addr(*p)).collect();
    let args: Vec<Vec<String>> = ports[1..]
        .iter()
        .map(|p| {
            vec![
                format!("cfg:unified_alerting.ha_listen_address={}", addr(*p)),
                format!("cfg:unified_alerting.ha_peers={}", peers.join(",")),
                "cfg:unified_alerting.ha_gossip_interval=50ms".to_owned(),
                "cfg:unified_alerting.ha_push_pull_interval=1s".to_owned(),
                "cfg:unified_alerting.ha_peer_timeout=2s".to_owned(),
                "cfg:unified_alerting.ha_state_keys=alertmanager".to_owned(),
            ]
        })
        .collect();
    let ours = start_cluster_with(args, &[], 3).await;
    eventually(20, "the Go node lists three peers", || async {
        (go.peers().await == 3).then_some(())
    })
    .await;
    for s in &ours {
        let status = get(&http, s, "/status").await;
        let names = peer_names(&status);
        assert_eq!(names.len(), 3, "{status}");
        assert_ne!(
            names[0], status["cluster"]["name"],
            "the Go node is position 0"
        );
    }
    configure(&http, &ours, &hook_config(&hook.url, "1s")).await;

    // A silence created on the Go node reaches ours; one created on ours reaches the Go node.
    let r = http
        .post(format!("http://127.0.0.1:{web}/api/v2/silences"))
        .json(&silence_body("from go"))
        .send()
        .await
        .expect("POST silence to Go");
    assert!(r.status().is_success());
    let from_go: Value = r.json().await.expect("JSON");
    let from_go = from_go["silenceID"].as_str().expect("id").to_owned();
    for s in &ours {
        eventually(10, "the Go silence reaches our instances", || async {
            silence_state(&http, s, &from_go).await.map(|_| ())
        })
        .await;
    }
    let from_us = post_silence(&http, &ours[1], &silence_body(&"y".repeat(1000))).await;
    eventually(10, "our (large) silence reaches the Go node", || async {
        go.silence_ids().await.contains(&from_us).then_some(())
    })
    .await;

    // The same alert to all three: the Go node (position 0) notifies and gossips its
    // notification-log entry; ours (positions 1 and 2, waiting 2 s and 4 s) find it and skip.
    let alert = json!([{"labels": {"alertname": "Interop"}}]);
    let r = http
        .post(format!("http://127.0.0.1:{web}/api/v2/alerts"))
        .json(&alert)
        .send()
        .await
        .expect("POST alert to Go");
    assert!(r.status().is_success());
    for s in &ours {
        post_alerts(&http, s, &alert).await;
    }
    assert_eq!(
        count_after_first(&hook, "Interop", Duration::from_secs(6)).await,
        1
    );
}
