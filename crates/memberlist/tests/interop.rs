//! Interop with the real thing: a node of ours and Debian's `prometheus-alertmanager` 0.25 form
//! one memberlist cluster, whichever side joins; the Go node probes ours without suspecting it;
//! its gossip reaches our delegate; and a graceful leave of ours is seen by it.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wk_memberlist::messages::NodeState;
use wk_memberlist::{Config, Delegate, Memberlist};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default)]
struct Recorder {
    received: Mutex<Vec<Vec<u8>>>,
    merged: Mutex<Vec<Vec<u8>>>,
}

impl Delegate for Recorder {
    fn notify_msg(&self, msg: &[u8]) {
        self.received.lock().unwrap().push(msg.to_vec());
    }
    fn get_broadcasts(&self, _overhead: usize, _limit: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn local_state(&self, _join: bool) -> Vec<u8> {
        Vec::new()
    }
    fn merge_remote_state(&self, buf: &[u8], _join: bool) {
        self.merged.lock().unwrap().push(buf.to_vec());
    }
}

fn binary() -> Option<&'static str> {
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

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

struct GoNode {
    _child: KillOnDrop,
    _dir: tempfile::TempDir,
    web: u16,
    cluster: SocketAddr,
}

fn start_go(bin: &str, peer: Option<SocketAddr>) -> GoNode {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(&config, "route:\n  receiver: r\nreceivers:\n  - name: r\n").unwrap();
    let (web, cluster_port) = (free_port(), free_port());
    let cluster: SocketAddr = format!("127.0.0.1:{cluster_port}").parse().unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.path().display()))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .arg(format!("--cluster.listen-address={cluster}"))
        .arg("--cluster.settle-timeout=0s")
        .arg("--cluster.probe-interval=200ms")
        .arg("--cluster.pushpull-interval=2s")
        .arg("--cluster.gossip-interval=50ms")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(p) = peer {
        cmd.arg(format!("--cluster.peer={p}"));
    }
    GoNode {
        _child: KillOnDrop(cmd.spawn().unwrap()),
        _dir: dir,
        web,
        cluster,
    }
}

impl GoNode {
    /// Peer names in `GET /api/v2/status` (empty while the API is not up).
    async fn peers(&self) -> Vec<String> {
        let url = format!("http://127.0.0.1:{}/api/v2/status", self.web);
        let Ok(resp) = reqwest::get(&url).await else {
            return Vec::new();
        };
        let Ok(v) = resp.json::<serde_json::Value>().await else {
            return Vec::new();
        };
        v["cluster"]["peers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn post_silence(&self, comment: &str) {
        let now = chrono::Utc::now();
        let body = serde_json::json!({
            "matchers": [{"name": "alertname", "value": "Interop", "isRegex": false, "isEqual": true}],
            "startsAt": now.to_rfc3339(),
            "endsAt": (now + chrono::TimeDelta::hours(1)).to_rfc3339(),
            "createdBy": "interop",
            "comment": comment,
        });
        let url = format!("http://127.0.0.1:{}/api/v2/silences", self.web);
        let resp = reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    }
}

fn ours(name: &str) -> Config {
    let mut c = Config::new(name, "127.0.0.1:0".parse::<SocketAddr>().unwrap());
    c.gossip_interval = Duration::from_millis(50);
    c.probe_interval = Duration::from_millis(200);
    c.push_pull_interval = Duration::from_secs(2);
    c
}

async fn eventually<F: std::future::Future<Output = bool>>(
    secs: u64,
    what: &str,
    mut cond: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_join_a_go_alertmanager_and_gossip_with_it() {
    let Some(bin) = binary() else { return };
    let go = start_go(bin, None);
    let rec = Arc::new(Recorder::default());
    let me = Memberlist::create(ours("wk-interop-a"), rec.clone())
        .await
        .unwrap();
    // The Go node may still be starting: retry the join within a bound.
    eventually(15, "joining the Go node", || {
        let me = me.clone();
        async move { me.join(&[go.cluster]).await.is_ok() }
    })
    .await;
    eventually(10, "both sides list two members", || {
        let me = me.clone();
        let go = &go;
        async move { me.num_members() == 2 && go.peers().await.len() == 2 }
    })
    .await;
    assert!(go.peers().await.contains(&"wk-interop-a".to_owned()));

    // Its gossip (a small silence: Part{key: "sil"}) and a large one (sent reliably over TCP)
    // reach our delegate.
    go.post_silence("small").await;
    go.post_silence(&"x".repeat(900)).await;
    eventually(10, "both silences arrive as user messages", || {
        let rec = rec.clone();
        async move {
            let got = rec.received.lock().unwrap().clone();
            let sil = |m: &Vec<u8>| m.starts_with(b"\x0a\x03sil");
            got.iter().filter(|m| sil(m)).count() >= 2 && got.iter().any(|m| m.len() > 900)
        }
    })
    .await;
    // A periodic push/pull carries its full state (nfl and sil parts).
    eventually(10, "a push/pull with the Go node's state", || {
        let rec = rec.clone();
        async move { !rec.merged.lock().unwrap().is_empty() }
    })
    .await;

    // Over many probe rounds the Go node never suspected us: we never had to refute.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let self_node = me
        .members()
        .into_iter()
        .find(|n| n.name == "wk-interop-a")
        .unwrap();
    assert_eq!(self_node.incarnation, 1, "we were suspected and refuted");
    assert_eq!(me.health_score(), 0);

    // A graceful leave shows up on the Go side.
    me.leave(Duration::from_secs(5)).await.unwrap();
    eventually(10, "the Go node drops us", || {
        let go = &go;
        async move { go.peers().await.len() == 1 }
    })
    .await;
    me.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_alertmanager_joins_us_and_we_detect_its_death() {
    let Some(bin) = binary() else { return };
    let rec = Arc::new(Recorder::default());
    let me = Memberlist::create(ours("wk-interop-b"), rec.clone())
        .await
        .unwrap();
    let go = start_go(bin, Some(me.advertise_addr()));
    eventually(20, "the Go node joins us", || {
        let me = me.clone();
        let go = &go;
        async move { me.num_members() == 2 && go.peers().await.len() == 2 }
    })
    .await;
    let go_name = me
        .members()
        .into_iter()
        .find(|n| n.name != "wk-interop-b")
        .unwrap()
        .name;
    drop(go);
    eventually(15, "we mark the killed Go node dead", || {
        let me = me.clone();
        let go_name = go_name.clone();
        async move {
            me.all_nodes()
                .iter()
                .any(|n| n.name == go_name && n.state == NodeState::Dead)
        }
    })
    .await;
    me.shutdown().await;
}
