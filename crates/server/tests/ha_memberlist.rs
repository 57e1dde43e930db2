//! Memberlist HA, black box: three `watchkeeper` processes on loopback form one cluster
//! (members, positions, metrics), replicate silences (small ones by gossip, large ones over
//! TCP) and their expiry, notify once per group, fail over when position 0 dies, keep their
//! state across a restart of all three, and never merge with a cluster of another label.
//! Every wait is a bounded poll; "nothing more arrives" checks watch a fixed window after the
//! last timer that could fire.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::ha::{
    AM_API, configure, count_after_first, eventually, get, hook_config, metric, notifications,
    peer_names, post_alerts, post_silence, silence_body, silence_state, start_cluster,
    start_cluster_with,
};
use common::webhook::Collector;
use common::{Server, Start, cluster_args, wait_cluster_ready};
use serde_json::{Value, json};

/// The index of each server in name order (its position).
async fn positions(http: &reqwest::Client, servers: &[Server]) -> Vec<usize> {
    let mut out = Vec::new();
    for s in servers {
        let status = get(http, s, "/status").await;
        let name = status["cluster"]["name"].as_str().expect("name").to_owned();
        let peers = peer_names(&status);
        out.push(
            peers
                .iter()
                .position(|p| *p == name)
                .expect("self in peers"),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_form_one_cluster() {
    let servers = start_cluster(3, &[]).await;
    let http = reqwest::Client::new();
    let mut pos = positions(&http, &servers).await;
    pos.sort_unstable();
    assert_eq!(pos, vec![0, 1, 2]);
    let status = get(&http, &servers[0], "/status").await;
    let names = peer_names(&status);
    assert!(names.iter().all(|n| n.len() == 26), "ULID names: {names:?}");
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted: {names:?}");
    // The gauges are refreshed every second.
    let mut metric_positions = BTreeSet::new();
    for s in &servers {
        eventually(10, "alertmanager_cluster_members is 3", || async {
            (metric(&http, s, "alertmanager_cluster_members").await == Some(3.0)).then_some(())
        })
        .await;
        assert_eq!(
            metric(&http, s, "alertmanager_cluster_enabled").await,
            Some(1.0)
        );
        let p = metric(&http, s, "alertmanager_peer_position")
            .await
            .expect("position");
        metric_positions.insert(p as i64);
    }
    assert_eq!(metric_positions, BTreeSet::from([0, 1, 2]));

    // amtool reads the same status.
    let found = std::process::Command::new("amtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "amtool is required (WATCHKEEPER_TEST_REQUIRE_SERVICES=1) but not installed"
        );
        eprintln!("skipping the amtool check: amtool is not installed");
        return;
    }
    let dir = common::TempDir::new("amtool-cluster");
    let http_config = dir.path().join("http.yml");
    std::fs::write(
        &http_config,
        "basic_auth:\n  username: admin\n  password: admin\n",
    )
    .expect("http config");
    let out = std::process::Command::new("amtool")
        .arg("cluster")
        .arg("show")
        .arg("--output=extended")
        .arg(format!(
            "--alertmanager.url={}",
            servers[0].url("/api/alertmanager/grafana")
        ))
        .arg(format!("--http.config.file={}", http_config.display()))
        .output()
        .expect("amtool");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ready"), "{text}");
    for name in &names {
        assert!(
            text.contains(name),
            "{name} missing from amtool's output:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_and_their_expiry_replicate() {
    let servers = start_cluster(3, &[]).await;
    let http = reqwest::Client::new();
    // A small silence (gossiped) on the first, a large one (> 700 bytes: sent over TCP) on the
    // second.
    let small = post_silence(&http, &servers[0], &silence_body("small")).await;
    let large = post_silence(&http, &servers[1], &silence_body(&"x".repeat(2000))).await;
    for s in &servers {
        for id in [&small, &large] {
            eventually(10, "the silence reaches every instance", || async {
                (silence_state(&http, s, id).await.as_deref() == Some("active")).then_some(())
            })
            .await;
        }
    }
    // It mutes there: an alert pushed only to the third instance is suppressed by it.
    post_alerts(
        &http,
        &servers[2],
        &json!([{"labels": {"alertname": "Muted"}}]),
    )
    .await;
    let alerts = get(&http, &servers[2], "/alerts").await;
    assert_eq!(alerts[0]["status"]["state"], "suppressed", "{alerts}");
    // Expiring it on the third instance expires it everywhere.
    let r = http
        .delete(servers[2].url(&format!("{AM_API}/silence/{small}")))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), 200);
    for s in &servers {
        eventually(10, "the expiry reaches every instance", || async {
            (silence_state(&http, s, &small).await.as_deref() == Some("expired")).then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_notification_per_group_and_failover_when_position_zero_dies() {
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let mut servers = start_cluster(3, &["cfg:unified_alerting.ha_peer_timeout=1s"]).await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;

    // Every instance gets the alert; only one notifies. The window covers positions 1 and 2
    // waking (1 s and 2 s after the flush) with margin.
    let alert = json!([{"labels": {"alertname": "Once"}}]);
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    assert_eq!(
        count_after_first(&hook, "Once", Duration::from_secs(4)).await,
        1
    );

    // Position 0 dies without a word; the others still count it, so position 1 waits one
    // peer timeout, finds no notification logged, and sends; position 2 then skips.
    let pos = positions(&http, &servers).await;
    let first = pos.iter().position(|p| *p == 0).expect("position 0");
    drop(servers.remove(first));
    let alert = json!([{"labels": {"alertname": "Failover"}}]);
    let pushed = tokio::time::Instant::now();
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    hook.wait_for(
        Duration::from_secs(30),
        || "no failover notification".to_owned(),
        |got| (notifications(got, "Failover") > 0).then_some(()),
    )
    .await;
    // Group wait (0.5 s) plus one peer timeout (1 s), with a margin for loaded machines.
    let took = pushed.elapsed();
    assert!(took < Duration::from_secs(3), "failover took {took:?}");
    assert_eq!(
        count_after_first(&hook, "Failover", Duration::from_secs(4)).await,
        1
    );
    let got = hook.requests();
    let failover = got
        .iter()
        .find(|(_, b)| b["groupLabels"]["alertname"] == "Failover")
        .expect("failover notification");
    assert_eq!(failover.1["status"], "firing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_of_every_instance_keeps_silences_and_sends_nothing_again() {
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let mut servers = start_cluster(3, &["cfg:unified_alerting.ha_peer_timeout=1s"]).await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;
    let alert = json!([{"labels": {"alertname": "Restart"}}]);
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    assert_eq!(
        count_after_first(&hook, "Restart", Duration::from_secs(3)).await,
        1
    );
    let id = post_silence(&http, &servers[0], &silence_body("kept")).await;
    for s in &servers {
        eventually(10, "the silence reaches every instance", || async {
            silence_state(&http, s, &id).await.map(|_| ())
        })
        .await;
    }

    // All three stop gracefully (state saved to their databases) and start again.
    let mut homes = Vec::new();
    for s in &mut servers {
        assert!(
            s.terminate(Duration::from_secs(30)).success(),
            "log:\n{}",
            s.log()
        );
        homes.push(s.take_home());
    }
    drop(servers);
    let mut args = cluster_args(3).into_iter();
    let mut restarted = Vec::new();
    for home in homes {
        let mut a = args.next().expect("args");
        a.push("cfg:unified_alerting.ha_peer_timeout=1s".to_owned());
        restarted.push(Server::spawn_in(
            &Start {
                args: a,
                ..Start::default()
            },
            home,
        ));
    }
    for s in &restarted {
        s.wait_healthy(Duration::from_secs(60)).await;
    }
    for s in &restarted {
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", 3, s).await;
        assert_eq!(
            silence_state(&http, s, &id).await.as_deref(),
            Some("active")
        );
    }
    // The same alert again: the restored notification log says it was sent within the
    // repeat interval, so no instance sends it (group wait + two positions, with margin).
    for s in &restarted {
        post_alerts(&http, s, &alert).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(notifications(&hook.requests(), "Restart"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_with_different_labels_never_merge() {
    let mut args = cluster_args(2);
    args[0].push("cfg:unified_alerting.ha_label=blue".to_owned());
    args[1].push("cfg:unified_alerting.ha_label=green".to_owned());
    // Each settles alone: the second one's join (the first is up by then) is refused because
    // of the label; with equal labels it would see two members and never report one.
    let mut servers = Vec::new();
    for a in args {
        servers.push(start_cluster_with(vec![a], &[], 1).await.remove(0));
    }
    let http = reqwest::Client::new();
    for s in &servers {
        let status = get(&http, s, "/status").await;
        assert_eq!(
            status["cluster"]["peers"].as_array().map(Vec::len),
            Some(1),
            "{status}"
        );
    }
}

/// The sending instance is killed 20 ms after its notification arrives, with the default
/// 200 ms gossip interval: its notification-log entry was pushed to every peer over TCP as soon
/// as it was written, so positions 1 and 2 see it and do not repeat the notification
/// (Alertmanager 0.25 only gossips it, at the next gossip round, and repeats it here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_killed_right_after_notifying_is_not_repeated() {
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let mut servers = Vec::new();
    for mut a in cluster_args(3) {
        a.retain(|arg| !arg.contains("ha_gossip_interval"));
        a.push("cfg:unified_alerting.ha_peer_timeout=1s".to_owned());
        servers.push(a);
    }
    let mut servers = start_cluster_with(servers, &[], 3).await;
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;
    let pos = positions(&http, &servers).await;
    let first = pos.iter().position(|p| *p == 0).expect("position 0");

    let alert = json!([{"labels": {"alertname": "KilledSender"}}]);
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    hook.wait_for(
        Duration::from_secs(30),
        || "no notification".to_owned(),
        |got| (notifications(got, "KilledSender") > 0).then_some(()),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(servers.remove(first));
    // Positions 1 and 2 wake 1 s and 2 s after their flush; watch well past both.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(notifications(&hook.requests(), "KilledSender"), 1);
}

/// Tight timers: `group_interval` equals `ha_peer_timeout` (2 s) on three instances, and alerts
/// resolve at different points of the flush cycle. Every group gets exactly one firing and then
/// one resolved notification: no duplicate, and no firing notification after the resolved one
/// (a peer that wakes after another one notified the group since its own flush stays quiet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tight_timers_give_no_duplicate_and_no_late_firing() {
    let hook = Collector::start().await;
    let http = reqwest::Client::new();
    let servers = start_cluster(3, &["cfg:unified_alerting.ha_peer_timeout=2s"]).await;
    let config = json!({
        "template_files": {},
        "alertmanager_config": {
            "route": {
                "receiver": "hook",
                "group_by": ["alertname"],
                "group_wait": "2s",
                "group_interval": "2s",
                "repeat_interval": "1h",
            },
            "receivers": [{"name": "hook", "webhook_configs": [
                {"url": hook.url, "send_resolved": true}
            ]}],
        },
    });
    configure(&http, &servers, &config).await;

    let groups: Vec<String> = (0..8).map(|k| format!("Tight{k}")).collect();
    let start = tokio::time::Instant::now();
    let firing: Vec<Value> = groups
        .iter()
        .map(|g| json!({"labels": {"alertname": g}}))
        .collect();
    for s in &servers {
        post_alerts(&http, s, &Value::Array(firing.clone())).await;
    }
    // Resolve group k at 2.4 s + k × 0.4 s: across the first flushes and the waits.
    for (k, g) in groups.iter().enumerate() {
        tokio::time::sleep_until(start + Duration::from_millis(2400 + 400 * k as u64)).await;
        let resolved = json!([{
            "labels": {"alertname": g},
            "endsAt": chrono::Utc::now().to_rfc3339(),
        }]);
        for s in &servers {
            post_alerts(&http, s, &resolved).await;
        }
    }
    // The last resolve is at 5.2 s; its group notifies by the next flush (2 s) and the
    // positions wait at most 4 s more.
    tokio::time::sleep_until(start + Duration::from_secs(15)).await;
    let got = hook.requests();
    for g in &groups {
        let statuses: Vec<&str> = got
            .iter()
            .filter(|(_, b)| b["groupLabels"]["alertname"] == g.as_str())
            .map(|(_, b)| b["status"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(statuses, ["firing", "resolved"], "group {g}; all: {got:?}");
    }
}

/// Bad cluster settings stop the server at start with the key named, a Redis cipher suite that
/// is not available among them.
#[tokio::test]
async fn bad_cluster_settings_are_start_up_errors() {
    let port = common::free_cluster_port();
    let cases = [
        (
            vec![
                "cfg:unified_alerting.ha_peers=127.0.0.1:1".to_owned(),
                "cfg:unified_alerting.ha_listen_address=nonsense".to_owned(),
            ],
            "[unified_alerting] ha_listen_address = \"nonsense\"",
        ),
        (
            vec![
                format!("cfg:unified_alerting.ha_redis_address=127.0.0.1:{port}"),
                "cfg:unified_alerting.ha_redis_tls_enabled=true".to_owned(),
                "cfg:unified_alerting.ha_redis_tls_cipher_suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_RC4_128_SHA".to_owned(),
            ],
            "ha_redis_tls_cipher_suites: unsupported cipher suite \"TLS_RSA_WITH_RC4_128_SHA\"",
        ),
    ];
    for (args, want) in cases {
        let mut s = Server::spawn(&Start {
            args,
            ..Start::default()
        });
        let status = s.wait_exit(Duration::from_secs(30));
        assert!(!status.success());
        assert!(s.log().contains(want), "{want:?} not in log:\n{}", s.log());
    }
}
