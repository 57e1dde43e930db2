//! Helpers of the HA tests: clustered servers, the Alertmanager API calls they make, bounded
//! polling, and the checks every Redis mode must pass.

use std::time::Duration;

use serde_json::{Value, json};

use super::webhook::{Collector, Request};
use super::{Server, Start, cluster_args, post_am_config, wait_cluster_ready};

/// The Alertmanager API v2 of organization 1.
pub const AM_API: &str = "/api/alertmanager/grafana/api/v2";

/// Starts `n` clustered servers (each with `extra` arguments) and waits until all are ready.
pub async fn start_cluster(n: usize, extra: &[&str]) -> Vec<Server> {
    start_cluster_with(cluster_args(n), extra, n).await
}

/// Starts one server per argument list (plus `extra`) and waits until each is ready in a
/// cluster of `members`.
pub async fn start_cluster_with(
    args: Vec<Vec<String>>,
    extra: &[&str],
    members: usize,
) -> Vec<Server> {
    let mut servers = Vec::new();
    for mut a in args {
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        servers.push(Server::spawn(&Start {
            args: a,
            ..Start::default()
        }));
    }
    let http = reqwest::Client::new();
    for s in &servers {
        s.wait_healthy(Duration::from_secs(60)).await;
    }
    for s in &servers {
        wait_cluster_ready(&http, &s.url(&format!("{AM_API}/status")), "", members, s).await;
    }
    servers
}

pub async fn get(http: &reqwest::Client, server: &Server, path: &str) -> Value {
    let r = http
        .get(server.url(&format!("{AM_API}{path}")))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200, "GET {path}; log:\n{}", server.log());
    r.json().await.expect("JSON")
}

/// The value of an unlabelled metric in `/metrics`.
pub async fn metric(http: &reqwest::Client, server: &Server, name: &str) -> Option<f64> {
    let text = http
        .get(server.url("/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `secs`; panics with `what`.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    secs: u64,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn silence_body(comment: &str) -> Value {
    let now = chrono::Utc::now();
    json!({
        "matchers": [{"name": "alertname", "value": "Muted", "isRegex": false, "isEqual": true}],
        "startsAt": now.to_rfc3339(),
        "endsAt": (now + chrono::TimeDelta::hours(1)).to_rfc3339(),
        "createdBy": "ha-test",
        "comment": comment,
    })
}

pub async fn post_silence(http: &reqwest::Client, server: &Server, body: &Value) -> String {
    let r = http
        .post(server.url(&format!("{AM_API}/silences")))
        .basic_auth("admin", Some("admin"))
        .json(body)
        .send()
        .await
        .expect("POST silence");
    assert_eq!(r.status(), 200, "log:\n{}", server.log());
    let v: Value = r.json().await.expect("JSON");
    v["silenceID"].as_str().expect("silenceID").to_owned()
}

/// The state of silence `id` on `server` (None: unknown there).
pub async fn silence_state(http: &reqwest::Client, server: &Server, id: &str) -> Option<String> {
    let all = get(http, server, "/silences").await;
    all.as_array()?
        .iter()
        .find(|s| s["id"] == id)
        .and_then(|s| s["status"]["state"].as_str().map(str::to_owned))
}

pub async fn post_alerts(http: &reqwest::Client, server: &Server, alerts: &Value) {
    let r = http
        .post(server.url(&format!("{AM_API}/alerts")))
        .basic_auth("admin", Some("admin"))
        .json(alerts)
        .send()
        .await
        .expect("POST alerts");
    assert_eq!(r.status(), 200, "log:\n{}", server.log());
}

pub fn hook_config(url: &str, group_wait: &str) -> Value {
    json!({
        "template_files": {},
        "alertmanager_config": {
            "route": {
                "receiver": "hook",
                "group_by": ["alertname"],
                "group_wait": group_wait,
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [{"name": "hook", "webhook_configs": [{"url": url}]}],
        },
    })
}

pub async fn configure(http: &reqwest::Client, servers: &[Server], config: &Value) {
    for s in servers {
        let r = post_am_config(http, s, config).await;
        assert_eq!(r.status(), 202, "log:\n{}", s.log());
    }
}

/// Notifications about `alertname` received so far.
pub fn notifications(got: &[Request], alertname: &str) -> usize {
    got.iter()
        .filter(|(_, b)| b["groupLabels"]["alertname"] == alertname)
        .count()
}

/// Waits for the first notification about `alertname`, then watches `window` more and returns
/// how many arrived in all.
pub async fn count_after_first(hook: &Collector, alertname: &str, window: Duration) -> usize {
    hook.wait_for(
        Duration::from_secs(30),
        || format!("no notification about {alertname}"),
        |got| (notifications(got, alertname) > 0).then_some(()),
    )
    .await;
    tokio::time::sleep(window).await;
    notifications(&hook.requests(), alertname)
}

/// The member names in a `/status` answer, in its order (sorted by name).
pub fn peer_names(status: &Value) -> Vec<String> {
    status["cluster"]["peers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Each server's own name (`cluster.name`), in start order.
pub async fn own_names(http: &reqwest::Client, servers: &[Server]) -> Vec<String> {
    let mut names = Vec::new();
    for s in servers {
        let status = get(http, s, "/status").await;
        let name = status["cluster"]["name"].as_str().unwrap_or("");
        assert!(!name.is_empty(), "no cluster.name: {status}");
        names.push(name.to_owned());
    }
    names
}

/// Asserts that every server lists the members in start order: position k is the k-th
/// started server (the oldest live member is position 0).
pub async fn assert_start_order(http: &reqwest::Client, servers: &[Server]) -> Vec<String> {
    let names = own_names(http, servers).await;
    for (k, s) in servers.iter().enumerate() {
        let status = get(http, s, "/status").await;
        assert_eq!(
            peer_names(&status),
            names,
            "server {k}: members not in start order; status {status}"
        );
        for p in status["cluster"]["peers"].as_array().expect("peers") {
            assert!(
                p["address"].as_str().is_some(),
                "server {k}: a peer without an address: {status}"
            );
        }
    }
    names
}

/// Waits until silence `id` is in `state` on every server (10 s each).
pub async fn wait_silence_state(http: &reqwest::Client, servers: &[Server], id: &str, state: &str) {
    for (k, s) in servers.iter().enumerate() {
        let what = format!("silence {id} is {state} on server {k}");
        eventually(10, &what, || async {
            (silence_state(http, s, id).await.as_deref() == Some(state)).then_some(())
        })
        .await;
    }
}

/// The checks every Redis mode must pass, on `servers` (at least three, started in order,
/// configured with `hook`): one notification per group, a silence and its expiry on every
/// instance, and, once position 0 is killed, exactly one notification from a survivor within
/// about one peer timeout. `tag` keeps alert names apart between calls.
pub async fn the_same_checks(
    http: &reqwest::Client,
    hook: &Collector,
    servers: &mut Vec<Server>,
    tag: &str,
) {
    let once = format!("{tag}Once");
    let alert = json!([{"labels": {"alertname": once}}]);
    for s in servers.iter() {
        post_alerts(http, s, &alert).await;
    }
    assert_eq!(
        count_after_first(hook, &once, Duration::from_secs(4)).await,
        1
    );

    let id = post_silence(http, &servers[2], &silence_body(tag)).await;
    wait_silence_state(http, servers, &id, "active").await;
    let r = http
        .delete(servers[0].url(&format!("{AM_API}/silence/{id}")))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("DELETE silence");
    assert_eq!(r.status(), 200);
    wait_silence_state(http, servers, &id, "expired").await;

    drop(servers.remove(0));
    let failover = format!("{tag}Failover");
    let alert = json!([{"labels": {"alertname": failover}}]);
    let pushed = tokio::time::Instant::now();
    for s in servers.iter() {
        post_alerts(http, s, &alert).await;
    }
    hook.wait_for(
        Duration::from_secs(30),
        || "no failover notification".to_owned(),
        |got| (notifications(got, &failover) > 0).then_some(()),
    )
    .await;
    let took = pushed.elapsed();
    assert!(took < Duration::from_secs(3), "failover took {took:?}");
    let n = count_after_first(hook, &failover, Duration::from_secs(4)).await;
    assert_eq!(n, 1);
}
