//! `--scenario silences`: how long a new silence takes to reach the other members of a
//! three-node cluster, for Watchkeeper (memberlist HA) and for `prometheus-alertmanager`, one
//! cluster after the other in the same run.
//!
//! Each cluster runs on loopback with the default gossip timings (gossip every 200 ms, full
//! push/pull every 60 s; the same defaults in both). Once every node reports `cluster.status`
//! `ready` with three peers, silence `i` is posted to node `i % 3` and the other two nodes are
//! polled concurrently (`GET /api/v2/silences`, one keep-alive connection per node, a fresh
//! request every `--poll-ms`) until the new id is listed by both. Times are measured from the
//! moment the `POST` answer was read (the silence exists on its node then), to the moment the
//! first answer listing the id was read; the time from just before the `POST` was sent is kept
//! too. The next silence follows after `--silence-gap-ms` plus a spread over one gossip
//! interval (a low-discrepancy sequence), so the posts fall evenly over the gossip tick.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{SecondsFormat, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::load::{self, Auth};
use crate::process::{self, Server, TempDir};
use crate::report::{cpu_model, render_rows};
use crate::{Args, Kind};

/// Cluster members.
const NODES: usize = 3;
/// The default gossip interval of both systems; the spread of the pause between silences.
const GOSSIP_INTERVAL: Duration = Duration::from_millis(200);
/// A silence not listed by a peer after this long is counted as lost (at this time).
const LOST_AFTER: Duration = Duration::from_secs(10);
/// How long a cluster may take to form and settle (Alertmanager settles for about 10 s).
const READY_LIMIT: Duration = Duration::from_secs(90);
/// The issue's target for Watchkeeper's p99 propagation time on loopback.
const TARGET_P99_MS: f64 = 100.0;

/// One member of a cluster under test.
struct Node {
    server: Server,
    /// `…/api/v2/silences`.
    silences_url: String,
    /// `…/api/v2/status`.
    status_url: String,
    auth: Auth,
    /// This node's keep-alive connection.
    client: reqwest::Client,
}

/// One silence: where it was posted and when each peer listed it.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Position in the run.
    pub index: usize,
    /// The node it was posted to.
    pub origin: usize,
    /// `POST /silences` round trip.
    pub post_ms: f64,
    /// Per other node: `(node, ms from the POST answer until it listed the id)`, `None` if lost.
    pub arrivals: Vec<(usize, Option<f64>)>,
    /// Until both other nodes listed it (lost ones count as the loss timeout).
    pub both_ms: f64,
    /// Until the first of them listed it.
    pub first_ms: f64,
}

/// Order statistics of a set of times, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Values.
    pub count: usize,
    /// 50th percentile.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Stats {
    /// The statistics of `values` (percentiles by [`percentile`]); all zero when empty.
    pub fn of(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return Self::default();
        }
        Self {
            count: sorted.len(),
            median: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        }
    }
}

/// The `p`-th percentile (0–100) of ascending `sorted` values, interpolating linearly between
/// the two nearest ranks (rank `p/100 × (n − 1)`, numpy's and R's default); `NaN` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let rank = (p.clamp(0.0, 100.0) / 100.0) * last as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(last);
    let frac = rank - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// The pause after silence `i`: `gap` plus `frac(i × φ)` of one gossip interval, which spreads
/// the posts evenly over the phase of the senders' gossip ticks.
pub fn pause(i: usize, gap: Duration) -> Duration {
    let golden = 0.618_033_988_749_895_f64;
    gap + GOSSIP_INTERVAL.mul_f64((i as f64 * golden).fract())
}

/// What one cluster measured.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterResult {
    /// `watchkeeper` or `alertmanager`.
    pub name: String,
    /// `versionInfo.version` of `GET /api/v2/status`.
    pub version: String,
    /// Authentication of the API requests.
    pub auth: String,
    /// Seconds from starting the processes until every node was ready with all peers.
    pub ready_seconds: f64,
    /// `/proc/loadavg` before the silences.
    pub load_average_before: String,
    /// Silences posted.
    pub silences: usize,
    /// Silences some peer had not listed after the loss timeout.
    pub lost: usize,
    /// `POST /silences` round trips.
    pub post: Stats,
    /// `GET /silences` round trips of the pollers (the time resolution of the arrivals).
    pub poll_get: Stats,
    /// `GET /silences` requests per silence and peer, mean.
    pub polls_per_arrival: f64,
    /// From the `POST` answer until both other nodes listed the silence: the propagation time.
    pub both: Stats,
    /// From the `POST` answer until the first other node listed it.
    pub first: Stats,
    /// From just before the `POST` was sent until both other nodes listed it.
    pub both_from_send: Stats,
    /// Arrivals per receiving node (index = node).
    pub per_node: Vec<Stats>,
    /// Every silence, in order.
    pub samples: Vec<Sample>,
}

/// A Watchkeeper ÷ Alertmanager comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// What is compared.
    pub metric: String,
    /// Watchkeeper ÷ Alertmanager.
    pub ratio: f64,
}

/// The whole silence run.
#[derive(Debug, Clone, Serialize)]
pub struct SilenceReport {
    /// UTC time the run started.
    pub date: String,
    /// Online CPUs.
    pub cpus: usize,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `/proc/loadavg` at the start.
    pub load_before: String,
    /// `/proc/loadavg` at the end.
    pub load_after: String,
    /// Nodes per cluster.
    pub nodes: usize,
    /// Silences per cluster.
    pub silences: usize,
    /// `--silence-gap-ms`.
    pub gap_ms: u64,
    /// `--poll-ms`.
    pub poll_ms: u64,
    /// Gossip settings (the defaults of both, unless `--wk-arg` changed Watchkeeper's).
    pub gossip: String,
    /// The Watchkeeper binary run.
    pub watchkeeper_binary: String,
    /// Extra `watchkeeper server` arguments.
    pub watchkeeper_args: Vec<String>,
    /// Per system.
    pub targets: Vec<ClusterResult>,
    /// Watchkeeper ÷ Alertmanager, when both ran.
    pub ratios: Vec<Ratio>,
    /// Watchkeeper's p99 propagation time against the issue's 100 ms, when it ran.
    pub target_p99_met: Option<bool>,
}

impl SilenceReport {
    fn compute(&mut self) {
        let wk = self.targets.iter().find(|t| t.name == "watchkeeper");
        let am = self.targets.iter().find(|t| t.name == "alertmanager");
        self.target_p99_met = wk.map(|w| w.lost == 0 && w.both.p99 <= TARGET_P99_MS);
        if let (Some(wk), Some(am)) = (wk, am) {
            self.ratios = vec![
                Ratio {
                    metric: "propagation median".into(),
                    ratio: wk.both.median / am.both.median,
                },
                Ratio {
                    metric: "propagation p99".into(),
                    ratio: wk.both.p99 / am.both.p99,
                },
            ];
        }
    }

    /// The report as a text table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "\nwk-bench silences {}: {} CPUs ({}), load average {} before, {} after\n\
             {} silences per cluster of {} nodes on loopback, each posted to node i % {} and \
             polled on the other two every {} ms; pause {} ms + up to {} ms between silences\n\
             gossip: {}\n\
             times from the POST answer until listed (\"from send\": from before the POST)\n\n",
            self.date,
            self.cpus,
            self.cpu_model,
            self.load_before,
            self.load_after,
            self.silences,
            self.nodes,
            self.nodes,
            self.poll_ms,
            self.gap_ms,
            GOSSIP_INTERVAL.as_millis(),
            self.gossip,
        );
        let cols = &self.targets;
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        let mut row = |label: &str, f: &dyn Fn(&ClusterResult) -> String| {
            rows.push((label.to_owned(), cols.iter().map(f).collect()));
        };
        let ms = |x: f64| format!("{x:.1}");
        row("", &|t| format!("{} {}", t.name, t.version));
        row("auth", &|t| t.auth.clone());
        row("cluster ready after s", &|t| {
            format!("{:.1}", t.ready_seconds)
        });
        row("load average before", &|t| t.load_average_before.clone());
        row("silences (lost)", &|t| {
            format!("{} ({})", t.silences, t.lost)
        });
        row("POST /silences median ms", &|t| ms(t.post.median));
        row("poll GET /silences median ms", &|t| ms(t.poll_get.median));
        row("polls per silence and peer", &|t| {
            format!("{:.1}", t.polls_per_arrival)
        });
        for (name, get) in [
            (
                "both peers",
                (|t: &ClusterResult| t.both) as fn(&ClusterResult) -> Stats,
            ),
            ("first peer", |t| t.first),
            ("both peers from send", |t| t.both_from_send),
        ] {
            row(&format!("{name}: median ms"), &|t| ms(get(t).median));
            row(&format!("{name}: p90 ms"), &|t| ms(get(t).p90));
            row(&format!("{name}: p99 ms"), &|t| ms(get(t).p99));
            row(&format!("{name}: max ms"), &|t| ms(get(t).max));
        }
        row("both peers: mean ms", &|t| ms(t.both.mean));
        for n in 0..self.nodes {
            row(&format!("node {n} receives: median / p99 ms"), &|t| {
                t.per_node
                    .get(n)
                    .map(|s| format!("{:.1} / {:.1}", s.median, s.p99))
                    .unwrap_or_default()
            });
        }
        out.push_str(&render_rows(&rows));
        if !self.ratios.is_empty() {
            out.push_str("\nwatchkeeper ÷ alertmanager:\n");
            for r in &self.ratios {
                out.push_str(&format!("  {:<40} {:>8.3}\n", r.metric, r.ratio));
            }
        }
        if let (Some(met), Some(wk)) = (
            self.target_p99_met,
            self.targets.iter().find(|t| t.name == "watchkeeper"),
        ) {
            out.push_str(&format!(
                "\nwatchkeeper propagation p99 {:.1} ms ({} lost), target ≤ {TARGET_P99_MS} ms  {}\n",
                wk.both.p99,
                wk.lost,
                if met { "met" } else { "MISSED" }
            ));
        }
        out
    }
}

/// Runs the scenario for `kinds` and prints (and saves) the report.
pub async fn run(args: &Args, kinds: &[Kind], wk_binary: &Path) -> Result<()> {
    if args.silences == 0 || args.poll_ms == 0 {
        bail!("--silences and --poll-ms must be positive");
    }
    if args.silences < 50 && !args.json {
        eprintln!("wk-bench: warning: fewer than 50 silences make a poor p99");
    }
    let gossip = if args
        .wk_args
        .iter()
        .any(|a| a.contains("ha_gossip_interval") || a.contains("ha_push_pull_interval"))
    {
        "Alertmanager defaults (gossip 200 ms, push/pull 60 s); Watchkeeper changed by --wk-arg"
    } else {
        "defaults of both (gossip interval 200 ms, push/pull 60 s, 3 gossip nodes, peer timeout 15 s)"
    };
    let mut report = SilenceReport {
        date: Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model: cpu_model(),
        load_before: process::load_average(),
        load_after: String::new(),
        nodes: NODES,
        silences: args.silences,
        gap_ms: args.silence_gap_ms,
        poll_ms: args.poll_ms,
        gossip: gossip.to_owned(),
        watchkeeper_binary: wk_binary.display().to_string(),
        watchkeeper_args: args.wk_args.clone(),
        targets: Vec::new(),
        ratios: Vec::new(),
        target_p99_met: None,
    };
    for &kind in kinds {
        if !args.json {
            eprintln!(
                "wk-bench: silences on a {NODES}-node {kind:?} cluster (load average {})",
                process::load_average()
            );
        }
        let result = run_cluster(kind, args, wk_binary)
            .await
            .with_context(|| format!("{kind:?} cluster"))?;
        report.targets.push(result);
    }
    report.load_after = process::load_average();
    report.compute();
    let text = serde_json::to_string_pretty(&report).context("serializing the report")?;
    if let Some(path) = &args.save {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{text}");
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// Starts a cluster, measures, stops it.
async fn run_cluster(kind: Kind, args: &Args, wk_binary: &Path) -> Result<ClusterResult> {
    let started = Instant::now();
    let mut nodes = start_cluster(kind, args, wk_binary).await?;
    for node in &mut nodes {
        wait_cluster(node, started + READY_LIMIT).await?;
    }
    let ready_seconds = started.elapsed().as_secs_f64();
    let version = version(&nodes[0]).await;
    let load_average_before = process::load_average();
    let measured = measure(&nodes, args).await;
    let (samples, gets) = match measured {
        Ok(m) => m,
        Err(e) => {
            let logs: Vec<String> = nodes
                .iter()
                .enumerate()
                .map(|(i, n)| format!("node {i}:\n{}", n.server.log_tail()))
                .collect();
            return Err(e.context(logs.join("\n")));
        }
    };
    let lost = samples
        .iter()
        .filter(|s| s.arrivals.iter().any(|(_, t)| t.is_none()))
        .count();
    let post: Vec<f64> = samples.iter().map(|s| s.post_ms).collect();
    let both: Vec<f64> = samples.iter().map(|s| s.both_ms).collect();
    let first: Vec<f64> = samples.iter().map(|s| s.first_ms).collect();
    let from_send: Vec<f64> = samples.iter().map(|s| s.both_ms + s.post_ms).collect();
    let per_node = (0..NODES)
        .map(|n| {
            let times: Vec<f64> = samples
                .iter()
                .flat_map(|s| &s.arrivals)
                .filter(|(node, _)| *node == n)
                .map(|(_, t)| t.unwrap_or(LOST_AFTER.as_secs_f64() * 1e3))
                .collect();
            Stats::of(&times)
        })
        .collect();
    let arrivals = samples.len() * (NODES - 1);
    Ok(ClusterResult {
        name: kind.name().to_owned(),
        version,
        auth: match &nodes[0].auth {
            Auth::None => "none".into(),
            Auth::Bearer(_) => "bearer API token".into(),
            Auth::Basic(..) => "basic".into(),
        },
        ready_seconds,
        load_average_before,
        silences: samples.len(),
        lost,
        post: Stats::of(&post),
        poll_get: Stats::of(&gets),
        polls_per_arrival: gets.len() as f64 / arrivals.max(1) as f64,
        both: Stats::of(&both),
        first: Stats::of(&first),
        both_from_send: Stats::of(&from_send),
        per_node,
        samples,
    })
}

/// Starts the three processes of a cluster and waits until each answers HTTP (not yet until
/// the cluster has formed: see [`wait_cluster`]).
async fn start_cluster(kind: Kind, args: &Args, wk_binary: &Path) -> Result<Vec<Node>> {
    let ports = process::distinct_ports(2 * NODES, || {
        // HTTP ports are only used for TCP, but taking both from the same pool keeps them apart.
        process::free_cluster_port()
    })?;
    let (http, cluster) = ports.split_at(NODES);
    let peers: Vec<String> = cluster.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let probe = load::client()?;
    let mut nodes = Vec::with_capacity(NODES);
    // Spawn all first, so that they find each other while starting.
    let mut servers = Vec::with_capacity(NODES);
    for i in 0..NODES {
        let server = match kind {
            Kind::Watchkeeper => {
                let dir = TempDir::new(&format!("watchkeeper-ha{i}"))?;
                let mut cli = vec![
                    "server".to_owned(),
                    "--homepath".to_owned(),
                    dir.path().display().to_string(),
                    format!("cfg:server.http_port={}", http[i]),
                    "cfg:server.http_addr=127.0.0.1".to_owned(),
                    format!("cfg:unified_alerting.ha_listen_address={}", peers[i]),
                    format!("cfg:unified_alerting.ha_peers={}", peers.join(",")),
                ];
                cli.extend(args.wk_args.iter().cloned());
                Server::spawn(wk_binary, &cli, http[i], dir)?
            }
            Kind::Alertmanager => {
                let dir = TempDir::new(&format!("alertmanager-ha{i}"))?;
                let config = dir.path().join("alertmanager.yml");
                std::fs::write(
                    &config,
                    "route:\n  receiver: blackhole\n  group_by: ['alertname']\n\
                     receivers:\n  - name: blackhole\n",
                )
                .with_context(|| format!("writing {}", config.display()))?;
                let mut cli = vec![
                    format!("--config.file={}", config.display()),
                    format!("--storage.path={}", dir.path().join("data").display()),
                    format!("--web.listen-address=127.0.0.1:{}", http[i]),
                    format!("--cluster.listen-address={}", peers[i]),
                    "--log.level=warn".to_owned(),
                ];
                for (j, peer) in peers.iter().enumerate() {
                    if j != i {
                        cli.push(format!("--cluster.peer={peer}"));
                    }
                }
                Server::spawn(&args.alertmanager, &cli, http[i], dir)?
            }
        };
        servers.push(server);
    }
    for mut server in servers {
        let node = match kind {
            Kind::Watchkeeper => {
                server
                    .wait_ready(&probe, "/api/health", READY_LIMIT)
                    .await?;
                let token = crate::create_token(&probe, &server.base).await?;
                let api = format!("{}/api/alertmanager/grafana/api/v2", server.base);
                Node {
                    silences_url: format!("{api}/silences"),
                    status_url: format!("{api}/status"),
                    server,
                    auth: Auth::Bearer(token),
                    client: load::client()?,
                }
            }
            Kind::Alertmanager => {
                server.wait_ready(&probe, "/-/healthy", READY_LIMIT).await?;
                let api = format!("{}/api/v2", server.base);
                Node {
                    silences_url: format!("{api}/silences"),
                    status_url: format!("{api}/status"),
                    server,
                    auth: Auth::None,
                    client: load::client()?,
                }
            }
        };
        nodes.push(node);
    }
    Ok(nodes)
}

/// Polls a node's `GET /status` until `cluster.status` is `ready` with all peers.
async fn wait_cluster(node: &mut Node, deadline: Instant) -> Result<()> {
    let mut last = Value::Null;
    loop {
        let answer = node
            .auth
            .apply(node.client.get(&node.status_url))
            .send()
            .await;
        if let Ok(r) = answer
            && let Ok(body) = r.json::<Value>().await
        {
            let cluster = &body["cluster"];
            if cluster["status"] == "ready"
                && cluster["peers"].as_array().map(Vec::len) == Some(NODES)
            {
                return Ok(());
            }
            last = body;
        }
        if let Some(status) = node.server.exited() {
            bail!(
                "{} exited with {status}; log:\n{}",
                node.server.base,
                node.server.log_tail()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{} not ready with {NODES} peers; last status {}; log:\n{}",
                node.server.base,
                last["cluster"],
                node.server.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The version a node reports in `GET /api/v2/status`.
async fn version(node: &Node) -> String {
    let answer = node
        .auth
        .apply(node.client.get(&node.status_url))
        .send()
        .await;
    let body: Option<Value> = match answer {
        Ok(r) => r.json().await.ok(),
        Err(_) => None,
    };
    body.as_ref()
        .and_then(|b| b.pointer("/versionInfo/version"))
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

/// Posts the silences one after the other and times their arrival on the other nodes.
/// Returns the samples and the round trips of every poll (ms).
async fn measure(nodes: &[Node], args: &Args) -> Result<(Vec<Sample>, Vec<f64>)> {
    let poll = Duration::from_millis(args.poll_ms);
    let gap = Duration::from_millis(args.silence_gap_ms);
    // One warm-up listing per node, so every keep-alive connection is open before timing.
    for node in nodes {
        poll_once(node, b"").await?;
    }
    let mut samples = Vec::with_capacity(args.silences);
    let mut gets = Vec::new();
    for i in 0..args.silences {
        let origin = i % NODES;
        let body = silence_body(i)?;
        let sender = &nodes[origin];
        let sent = Instant::now();
        let resp = sender
            .auth
            .apply(
                sender
                    .client
                    .post(&sender.silences_url)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .send()
            .await
            .context("POST silences")?;
        let status = resp.status();
        let answer = resp.bytes().await.context("reading the POST answer")?;
        let t0 = Instant::now();
        if !status.is_success() {
            bail!(
                "POST silences to node {origin} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        let id = serde_json::from_slice::<Value>(&answer)
            .ok()
            .and_then(|v| v["silenceID"].as_str().map(str::to_owned))
            .with_context(|| {
                format!(
                    "no silenceID in the POST answer: {}",
                    String::from_utf8_lossy(&answer)
                )
            })?;
        let needle = format!("\"{id}\"");
        let peers: Vec<usize> = (0..NODES).filter(|n| *n != origin).collect();
        let (a, b) = tokio::join!(
            await_listed(&nodes[peers[0]], needle.as_bytes(), t0, poll),
            await_listed(&nodes[peers[1]], needle.as_bytes(), t0, poll),
        );
        let (ta, ga) = a.with_context(|| format!("polling node {}", peers[0]))?;
        let (tb, gb) = b.with_context(|| format!("polling node {}", peers[1]))?;
        gets.extend(ga);
        gets.extend(gb);
        let lost_ms = LOST_AFTER.as_secs_f64() * 1e3;
        let (ma, mb) = (ta.unwrap_or(lost_ms), tb.unwrap_or(lost_ms));
        samples.push(Sample {
            index: i,
            origin,
            post_ms: (t0 - sent).as_secs_f64() * 1e3,
            arrivals: vec![(peers[0], ta), (peers[1], tb)],
            both_ms: ma.max(mb),
            first_ms: ma.min(mb),
        });
        tokio::time::sleep(pause(i, gap)).await;
    }
    Ok((samples, gets))
}

/// Polls `GET /silences` on `node` until the answer contains `needle`: the time since `t0`
/// when the first such answer had been read (ms; `None` after [`LOST_AFTER`]), and the round
/// trip of every poll (ms).
async fn await_listed(
    node: &Node,
    needle: &[u8],
    t0: Instant,
    poll: Duration,
) -> Result<(Option<f64>, Vec<f64>)> {
    let mut gets = Vec::new();
    loop {
        let start = Instant::now();
        let found = poll_once(node, needle).await?;
        gets.push(start.elapsed().as_secs_f64() * 1e3);
        let since = t0.elapsed();
        if found {
            return Ok((Some(since.as_secs_f64() * 1e3), gets));
        }
        if since > LOST_AFTER {
            return Ok((None, gets));
        }
        tokio::time::sleep(poll).await;
    }
}

/// One `GET /silences` on `node`; whether the answer contains `needle`.
async fn poll_once(node: &Node, needle: &[u8]) -> Result<bool> {
    let resp = node
        .auth
        .apply(node.client.get(&node.silences_url))
        .send()
        .await
        .context("GET silences")?;
    let status = resp.status();
    let body = resp.bytes().await.context("reading GET silences")?;
    if !status.is_success() {
        bail!("GET silences answered {status}");
    }
    Ok(contains(&body, needle))
}

/// The body of silence `i`: one equality matcher on `alertname`, active for an hour.
fn silence_body(i: usize) -> Result<Vec<u8>> {
    let now = Utc::now();
    serde_json::to_vec(&json!({
        "matchers": [{
            "name": "alertname",
            "value": format!("wk-bench-silence-{i}"),
            "isRegex": false,
            "isEqual": true,
        }],
        "startsAt": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "endsAt": (now + TimeDelta::hours(1)).to_rfc3339_opts(SecondsFormat::Millis, true),
        "createdBy": "wk-bench",
        "comment": format!("wk-bench silence propagation #{i}"),
    }))
    .context("serializing a silence")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!((percentile(&v, 50.0) - 50.5).abs() < 1e-9);
        assert!((percentile(&v, 99.0) - 99.01).abs() < 1e-9);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
        // 60 samples: p99 lies 41% of the way from the 59th to the 60th value.
        let mut s = vec![10.0; 58];
        s.extend([100.0, 200.0]);
        assert!((percentile(&s, 99.0) - 141.0).abs() < 1e-9);
    }

    #[test]
    fn stats_sort_first() {
        let s = Stats::of(&[3.0, 1.0, 2.0, 4.0]);
        assert_eq!(s.count, 4);
        assert_eq!(s.median, 2.5);
        assert_eq!(s.max, 4.0);
        assert_eq!(s.mean, 2.5);
        assert!((s.p90 - 3.7).abs() < 1e-9);
        assert_eq!(Stats::of(&[]), Stats::default());
    }

    #[test]
    fn finds_the_quoted_id() {
        let body = br#"[{"id":"3f2a","status":{"state":"active"}},{"id":"77"}]"#;
        assert!(contains(body, br#""3f2a""#));
        assert!(contains(body, br#""77""#));
        assert!(!contains(body, br#""7""#));
        assert!(!contains(b"", b"x"));
        assert!(contains(b"", b""));
    }

    #[test]
    fn pauses_spread_over_one_gossip_interval() {
        let gap = Duration::from_millis(100);
        let mut extra: Vec<f64> = (0..60)
            .map(|i| (pause(i, gap) - gap).as_secs_f64() * 1e3)
            .collect();
        assert!(extra.iter().all(|e| (0.0..200.0).contains(e)));
        extra.sort_by(f64::total_cmp);
        // Evenly spread: every 20 ms slice of the interval gets some.
        for slot in 0..10 {
            let lo = slot as f64 * 20.0;
            assert!(extra.iter().any(|e| (lo..lo + 20.0).contains(e)), "{lo}");
        }
    }

    #[test]
    fn silence_bodies_carry_an_equality_matcher() {
        let v: Value = serde_json::from_slice(&silence_body(3).expect("body")).expect("json");
        assert_eq!(v["matchers"][0]["value"], "wk-bench-silence-3");
        assert_eq!(v["matchers"][0]["isEqual"], true);
        assert!(v["endsAt"].as_str() > v["startsAt"].as_str());
    }
}
