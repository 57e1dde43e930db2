//! A network partition, for real: three `watchkeeper` instances each in its own network
//! namespace, clustered over one bridge and reachable by the test (API, webhook) over another.
//! Cutting the third instance's cluster link splits the cluster in two: each side keeps
//! notifying (one notification per side), silences are created on both sides, and after the
//! link comes back the cluster re-forms and every instance has both silences.
//!
//! Needs root (network namespaces, veth pairs, bridges): skipped with the reason printed
//! otherwise, and never skipped when `WATCHKEEPER_TEST_REQUIRE_SERVICES=1` (CI).

mod common;

use std::process::Command;
use std::time::Duration;

use common::ha::{
    AM_API, configure, eventually, get, hook_config, notifications, peer_names, post_alerts,
    post_silence, silence_body, silence_state,
};
use common::webhook::Collector;
use common::{Server, Start, wait_cluster_ready};
use serde_json::json;

/// Runs `ip` with `args`; panics with its output on failure.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespaces, veth pairs and bridges of one test; removed on drop.
struct Net {
    tag: String,
    nodes: usize,
}

impl Net {
    fn ns(&self, i: usize) -> String {
        format!("{}n{i}", self.tag)
    }
    /// The root-side end of node `i`'s cluster link.
    fn cluster_link(&self, i: usize) -> String {
        format!("{}c{i}", self.tag)
    }
    fn cluster_ip(i: usize) -> String {
        format!("10.231.0.{}", i + 1)
    }
    fn api_ip(i: usize) -> String {
        format!("10.232.0.{}", i + 1)
    }
    const HOST_API_IP: &str = "10.232.0.254";

    /// Builds it, or says why it cannot.
    fn create(nodes: usize) -> Result<Self, String> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        if !root {
            return Err("not running as root".into());
        }
        let tag = format!("wk{}", std::process::id() % 100_000);
        let probe = Command::new("ip")
            .args(["netns", "add", &format!("{tag}probe")])
            .output();
        match probe {
            Ok(o) if o.status.success() => {
                let _ = Command::new("ip")
                    .args(["netns", "del", &format!("{tag}probe")])
                    .status();
            }
            Ok(o) => {
                return Err(format!(
                    "ip netns add: {}",
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
            Err(e) => return Err(format!("ip: {e}")),
        }
        let net = Net { tag, nodes };
        let (brc, bra) = (format!("{}bc", net.tag), format!("{}ba", net.tag));
        for br in [&brc, &bra] {
            ip(&["link", "add", br, "type", "bridge"]);
            ip(&["link", "set", br, "up"]);
        }
        ip(&[
            "addr",
            "add",
            &format!("{}/24", Self::HOST_API_IP),
            "dev",
            &bra,
        ]);
        for i in 0..nodes {
            let ns = net.ns(i);
            ip(&["netns", "add", &ns]);
            ip(&["netns", "exec", &ns, "ip", "link", "set", "lo", "up"]);
            for (kind, br, addr) in [
                ("c", &brc, Self::cluster_ip(i)),
                ("a", &bra, Self::api_ip(i)),
            ] {
                let outer = format!("{}{kind}{i}", net.tag);
                let inner = format!("{}{kind}{i}i", net.tag);
                ip(&[
                    "link", "add", &outer, "type", "veth", "peer", "name", &inner,
                ]);
                ip(&["link", "set", &inner, "netns", &ns]);
                ip(&["link", "set", &outer, "master", br]);
                ip(&["link", "set", &outer, "up"]);
                ip(&[
                    "netns",
                    "exec",
                    &ns,
                    "ip",
                    "addr",
                    "add",
                    &format!("{addr}/24"),
                    "dev",
                    &inner,
                ]);
                ip(&["netns", "exec", &ns, "ip", "link", "set", &inner, "up"]);
            }
        }
        Ok(net)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for i in 0..self.nodes {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(i)])
                .status();
        }
        for br in ["bc", "ba"] {
            let _ = Command::new("ip")
                .args(["link", "del", &format!("{}{br}", self.tag)])
                .status();
        }
    }
}

/// How many members `server` lists.
async fn members(http: &reqwest::Client, server: &Server) -> usize {
    peer_names(&get(http, server, "/status").await).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_of_a_partition_notify_and_silences_merge_after_healing() {
    let net = match Net::create(3) {
        Ok(n) => n,
        Err(reason) => {
            if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!(
                    "cannot build the test network ({reason}) but WATCHKEEPER_TEST_REQUIRE_SERVICES=1"
                );
            }
            eprintln!("skipping the partition test: {reason}");
            return;
        }
    };
    let hook = Collector::start_on(Net::HOST_API_IP).await;
    let http = reqwest::Client::new();
    let peers: Vec<String> = (0..3)
        .map(|i| format!("{}:9094", Net::cluster_ip(i)))
        .collect();
    let mut servers = Vec::new();
    for (i, own) in peers.iter().enumerate() {
        servers.push(Server::spawn(&Start {
            args: vec![
                format!("cfg:unified_alerting.ha_listen_address={own}"),
                format!("cfg:unified_alerting.ha_peers={}", peers.join(",")),
                "cfg:unified_alerting.ha_gossip_interval=20ms".to_owned(),
                "cfg:unified_alerting.ha_push_pull_interval=1s".to_owned(),
                "cfg:unified_alerting.ha_peer_timeout=1s".to_owned(),
            ],
            netns: Some(net.ns(i)),
            host: Some(Net::api_ip(i)),
            ..Start::default()
        }));
    }
    for s in &servers {
        s.wait_healthy(Duration::from_secs(60)).await;
    }
    for s in &servers {
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", 3, s).await;
    }
    configure(&http, &servers, &hook_config(&hook.url, "500ms")).await;

    // Split: the third instance loses its cluster link (the API and webhook link stays).
    ip(&["link", "set", &net.cluster_link(2), "down"]);
    eventually(30, "each side sees only itself", || async {
        let a = members(&http, &servers[0]).await == 2 && members(&http, &servers[1]).await == 2;
        (a && members(&http, &servers[2]).await == 1).then_some(())
    })
    .await;

    // Each side notifies once: the pair deduplicates between itself, the lone one sends too.
    let alert = json!([{"labels": {"alertname": "Split"}}]);
    for s in &servers {
        post_alerts(&http, s, &alert).await;
    }
    hook.wait_for(
        Duration::from_secs(30),
        || "no notification during the split".to_owned(),
        |got| (notifications(got, "Split") >= 2).then_some(()),
    )
    .await;
    // Both positions of the pair have woken (1 s) well within this.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(notifications(&hook.requests(), "Split"), 2);

    // A silence on each side while split.
    let left = post_silence(&http, &servers[0], &silence_body("left side")).await;
    let right = post_silence(&http, &servers[2], &silence_body("right side")).await;
    assert_eq!(silence_state(&http, &servers[2], &left).await, None);

    // Heal: the cluster re-forms and both silences are everywhere.
    ip(&["link", "set", &net.cluster_link(2), "up"]);
    for s in &servers {
        eventually(60, "the cluster re-forms", || async {
            (members(&http, s).await == 3).then_some(())
        })
        .await;
        for id in [&left, &right] {
            eventually(30, "both silences on every instance", || async {
                silence_state(&http, s, id).await.map(|_| ())
            })
            .await;
        }
    }
}
