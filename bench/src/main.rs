//! `wk-bench`: ingest benchmark of Watchkeeper's embedded Alertmanager side by side with
//! `prometheus-alertmanager`, in one run on one machine.
//!
//! For each target in turn it starts the server (temporary home or storage directory, free
//! loopback port), waits until it answers, and then:
//!
//! 1. records the resident memory (`VmRSS`) as the baseline, after one warm-up `GET`;
//! 2. posts distinct alerts to `POST /api/v2/alerts` in batches over a few concurrent
//!    keep-alive HTTP/1.1 connections, up to each checkpoint (10k and 100k alerts by default),
//!    measuring wall-clock alerts per second and the server's CPU seconds (`utime + stime`),
//!    and at each checkpoint, once the server is idle again, `(VmRSS − baseline) / alerts`;
//! 3. times `GET /api/v2/alerts` (median of several, full body read) at the last checkpoint;
//! 4. re-posts the first alerts (updates, no new memory) to compare authentication costs:
//!    an API token and, for Watchkeeper, basic authentication (an argon2 verification each).
//!
//! Request bodies are serialized before the clock starts, so the client does little more than
//! write bytes; its own CPU time is reported too. Results print as a table with the ratios
//! against the targets of the issue, or as JSON with `--json`.
//!
//! `--scenario silences` measures instead how long a new silence takes to reach the other
//! members of a three-node cluster of each system (see [`silences`]).
//!
//! `--scenario rules` measures the cost of evaluating alert rules on the TestData data source:
//! evaluations per second on one core in process, and the CPU 10,000 rules every 10 s use in
//! the server (see [`rules`]).

mod load;
mod process;
mod report;
mod rules;
mod silences;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

use load::Auth;
use process::{Server, TempDir};
use report::{Checkpoint, Phase, Report, TargetResult, Update};

/// Command-line options.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "wk-bench",
    about = "Alert ingest (or, with --scenario silences, cluster silence propagation) benchmark: \
             Watchkeeper against prometheus-alertmanager; --scenario rules: rule evaluation cost"
)]
struct Args {
    /// What to measure: `ingest` (alert ingest, memory and listing of one server),
    /// `silences` (silence propagation across a three-node cluster of each system) or `rules`
    /// (rule evaluations per core in process, and the CPU of many rules in the server).
    #[arg(long, value_parser = ["ingest", "silences", "rules"], default_value = "ingest")]
    scenario: String,
    /// `--scenario rules`: evaluations per in-process pass (0 skips the in-process part).
    #[arg(long, default_value_t = 200_000)]
    rule_evals: usize,
    /// `--scenario rules`: in-process passes per mode (the median is reported).
    #[arg(long, default_value_t = 3)]
    rule_runs: usize,
    /// `--scenario rules`: rules provisioned in the server (0 skips the server part).
    #[arg(long, default_value_t = 10_000)]
    rules: usize,
    /// `--scenario rules`: rules per group.
    #[arg(long, default_value_t = 10)]
    rules_per_group: usize,
    /// `--scenario rules`: folders the groups are spread over.
    #[arg(long, default_value_t = 10)]
    rule_folders: usize,
    /// `--scenario rules`: the groups' evaluation interval, seconds (a multiple of the
    /// server's 10 s tick unless `--wk-arg` changes it).
    #[arg(long, default_value_t = 10)]
    rule_interval: u64,
    /// `--scenario rules`: one rule in this many fires (0: none).
    #[arg(long, default_value_t = 100)]
    firing_every: usize,
    /// `--scenario rules`: seconds to wait, once every rule has been evaluated, before measuring
    /// (70: the firing rules' `for: 1m` has elapsed, so they are Alerting and re-sent).
    #[arg(long, default_value_t = 70)]
    warmup: u64,
    /// `--scenario rules`: the measurement window, seconds (60 = six 10 s ticks).
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// `--scenario silences`: silences posted per cluster (at least 50 for a meaningful p99).
    #[arg(long, default_value_t = 60)]
    silences: usize,
    /// `--scenario silences`: pause between silences in ms, plus a spread over one gossip
    /// interval (200 ms).
    #[arg(long, default_value_t = 100)]
    silence_gap_ms: u64,
    /// `--scenario silences`: pause between two `GET /silences` polls of one node, in ms.
    #[arg(long, default_value_t = 2)]
    poll_ms: u64,
    /// Active-alert counts at which memory is measured; the last is the total ingested.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    checkpoints: Vec<usize>,
    /// Alerts per `POST /api/v2/alerts` request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Concurrent clients, one keep-alive HTTP/1.1 connection each.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Timed `GET /api/v2/alerts` requests at the last checkpoint (the median is reported).
    #[arg(long, default_value_t = 5)]
    gets: usize,
    /// Alerts re-posted to compare authentication methods (0 skips the comparison).
    #[arg(long, default_value_t = 10_000)]
    updates: usize,
    /// The Watchkeeper binary (default: `watchkeeper` next to this binary, i.e.
    /// `target/release/watchkeeper`).
    #[arg(long)]
    watchkeeper: Option<PathBuf>,
    /// The Alertmanager binary.
    #[arg(long, default_value = "/usr/bin/prometheus-alertmanager")]
    alertmanager: PathBuf,
    /// Extra arguments for `watchkeeper server` (e.g. `cfg:log.level=warn`); repeatable.
    #[arg(long = "wk-arg")]
    wk_args: Vec<String>,
    /// Run only one target.
    #[arg(long, value_parser = ["watchkeeper", "alertmanager"])]
    only: Option<String>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the JSON results to this file.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Record a `perf` profile of the server for every ingest phase and for the `GET`s, as
    /// `<DIR>/<target>-<phase>.data` (needs `perf` and the permission to attach); with
    /// `--scenario rules`, of the measurement window as `<DIR>/watchkeeper-rules.data`.
    #[arg(long)]
    perf_dir: Option<PathBuf>,
    /// Options for `perf record` with `--perf-dir`.
    #[arg(
        long,
        default_value = "-F 499 --call-graph dwarf,32768",
        allow_hyphen_values = true
    )]
    perf_args: String,
}

impl Args {
    /// Starts `perf record` for a phase if `--perf-dir` is set.
    async fn perf(&self, pid: u32, name: &str) -> Result<Option<process::Perf>> {
        let Some(dir) = &self.perf_dir else {
            return Ok(None);
        };
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let extra: Vec<String> = self
            .perf_args
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let out = dir.join(format!("{name}.data"));
        Ok(Some(process::Perf::start(pid, &out, &extra).await?))
    }
}

/// Stops a phase's `perf record`, if any.
fn stop_perf(perf: Option<process::Perf>) -> Result<()> {
    perf.map_or(Ok(()), process::Perf::stop)
}

/// Which server a run is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Watchkeeper,
    Alertmanager,
}

impl Kind {
    /// `watchkeeper` or `alertmanager`.
    fn name(self) -> &'static str {
        match self {
            Kind::Watchkeeper => "watchkeeper",
            Kind::Alertmanager => "alertmanager",
        }
    }
}

/// A started target: the server and how to talk to it.
struct Target {
    server: Server,
    /// `…/api/v2/alerts`.
    alerts_url: String,
    /// `…/api/v2/status`.
    status_url: String,
    /// The authentication used for the measurements.
    auth: Auth,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("wk-bench: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let mut checkpoints = args.checkpoints.clone();
    checkpoints.sort_unstable();
    checkpoints.dedup();
    checkpoints.retain(|c| *c > 0);
    if checkpoints.is_empty() {
        bail!("--checkpoints needs at least one positive count");
    }
    if args.batch == 0 || args.concurrency == 0 {
        bail!("--batch and --concurrency must be positive");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "wk-bench: warning: this is a debug build of the load generator; \
             use `cargo build --release -p watchkeeper -p wk-bench`"
        );
    }
    if args.scenario == "rules" {
        // Only Watchkeeper: no Alertmanager needed.
        let wk_binary = match &args.watchkeeper {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .context("locating wk-bench")?
                .with_file_name("watchkeeper"),
        };
        return rules::run(&args, &wk_binary).await;
    }
    let kinds: Vec<Kind> = match args.only.as_deref() {
        Some("watchkeeper") => vec![Kind::Watchkeeper],
        Some("alertmanager") => vec![Kind::Alertmanager],
        _ => vec![Kind::Alertmanager, Kind::Watchkeeper],
    };
    let wk_binary = watchkeeper_binary(&args)?;
    if kinds.contains(&Kind::Alertmanager) && !args.alertmanager.exists() {
        bail!(
            "{} not found: install it (`apt-get install prometheus-alertmanager`), pass \
             --alertmanager PATH, or run with --only watchkeeper",
            args.alertmanager.display()
        );
    }
    if args.scenario == "silences" {
        return silences::run(&args, &kinds, &wk_binary).await;
    }
    let ticks = process::clock_ticks();
    let mut report = Report::new(&checkpoints, args.batch, args.concurrency);
    report.watchkeeper_binary = wk_binary.display().to_string();
    for kind in kinds {
        if !args.json {
            eprintln!(
                "wk-bench: running {kind:?} (load average {})",
                process::load_average()
            );
        }
        let result = run_target(kind, &args, &wk_binary, &checkpoints, ticks)
            .await
            .with_context(|| format!("{kind:?}"))?;
        report.targets.push(result);
    }
    report.load_after = process::load_average();
    report.compute_ratios();
    if let Some(path) = &args.save {
        let text = serde_json::to_string_pretty(&report).context("serializing the report")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("serializing the report")?
        );
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// `--watchkeeper`, or `watchkeeper` next to this binary, which must exist.
fn watchkeeper_binary(args: &Args) -> Result<PathBuf> {
    let path = match &args.watchkeeper {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .context("locating wk-bench")?
            .with_file_name("watchkeeper"),
    };
    if args.only.as_deref() != Some("alertmanager") && !path.exists() {
        bail!(
            "{} not found: build it first with `cargo build --release -p watchkeeper -p wk-bench` \
             (or pass --watchkeeper PATH)",
            path.display()
        );
    }
    Ok(path)
}

/// Starts one target and makes it ready for the measurements.
async fn start(kind: Kind, args: &Args, wk_binary: &Path) -> Result<Target> {
    let port = process::free_port()?;
    let probe = load::client()?;
    match kind {
        Kind::Watchkeeper => {
            let dir = TempDir::new("watchkeeper")?;
            let mut cli = vec![
                "server".to_owned(),
                "--homepath".to_owned(),
                dir.path().display().to_string(),
                format!("cfg:server.http_port={port}"),
                "cfg:server.http_addr=127.0.0.1".to_owned(),
            ];
            cli.extend(args.wk_args.iter().cloned());
            let mut server = Server::spawn(wk_binary, &cli, port, dir)?;
            server
                .wait_ready(&probe, "/api/health", Duration::from_secs(60))
                .await?;
            let token = create_token(&probe, &server.base).await?;
            let api = format!("{}/api/alertmanager/grafana/api/v2", server.base);
            Ok(Target {
                alerts_url: format!("{api}/alerts"),
                status_url: format!("{api}/status"),
                server,
                auth: Auth::Bearer(token),
            })
        }
        Kind::Alertmanager => {
            let dir = TempDir::new("alertmanager")?;
            let config = dir.path().join("alertmanager.yml");
            // One route to a receiver without integrations; group_by like Watchkeeper's
            // default configuration (which groups by grafana_folder, absent here, and
            // alertname).
            std::fs::write(
                &config,
                "route:\n  receiver: blackhole\n  group_by: ['alertname']\n\
                 receivers:\n  - name: blackhole\n",
            )
            .with_context(|| format!("writing {}", config.display()))?;
            let cli = vec![
                format!("--config.file={}", config.display()),
                format!("--storage.path={}", dir.path().join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--cluster.listen-address=".to_owned(),
                "--log.level=warn".to_owned(),
            ];
            let mut server = Server::spawn(&args.alertmanager, &cli, port, dir)?;
            server
                .wait_ready(&probe, "/-/ready", Duration::from_secs(60))
                .await?;
            let api = format!("{}/api/v2", server.base);
            Ok(Target {
                alerts_url: format!("{api}/alerts"),
                status_url: format!("{api}/status"),
                server,
                auth: Auth::None,
            })
        }
    }
}

/// Creates an Admin API token with basic authentication as `admin:admin`.
async fn create_token(client: &reqwest::Client, base: &str) -> Result<String> {
    let resp = client
        .post(format!("{base}/api/auth/keys"))
        .basic_auth("admin", Some("admin"))
        .json(&json!({"name": "wk-bench", "role": "Admin"}))
        .send()
        .await
        .context("POST /api/auth/keys")?;
    let status = resp.status();
    let body: Value = resp.json().await.context("reading the token answer")?;
    if !status.is_success() {
        bail!("POST /api/auth/keys answered {status}: {body}");
    }
    body.get("key")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("no `key` in the POST /api/auth/keys answer")
}

/// The version the server reports in `GET /api/v2/status`.
async fn version(target: &Target) -> String {
    let Ok(client) = load::client() else {
        return "?".into();
    };
    let answer = target
        .auth
        .apply(client.get(&target.status_url))
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

/// Runs every measurement against one target.
async fn run_target(
    kind: Kind,
    args: &Args,
    wk_binary: &Path,
    checkpoints: &[usize],
    ticks: f64,
) -> Result<TargetResult> {
    let target = start(kind, args, wk_binary).await?;
    let pid = target.server.pid();
    let pid_s = pid.to_string();
    let settle_limit = Duration::from_secs(30);

    // Warm-up: creates Watchkeeper's per-organization Alertmanager on first use.
    load::list(&target.alerts_url, &target.auth, 1).await?;
    process::wait_idle(pid, ticks, settle_limit).await?;
    let baseline_rss = process::status_bytes(pid, "VmRSS")?;

    let mut phases = Vec::new();
    let mut done = 0;
    for &upto in checkpoints {
        let bodies = load::batches(done..upto, args.batch)?;
        let perf = args
            .perf(pid, &format!("{}-ingest-{upto}", kind.name()))
            .await?;
        let load_before = process::load_average();
        let cpu0 = process::cpu_seconds(&pid_s, ticks)?;
        let self0 = process::cpu_seconds("self", ticks)?;
        let sent = load::ingest(
            &target.alerts_url,
            &target.auth,
            bodies,
            upto - done,
            args.concurrency,
        )
        .await
        .map_err(|e| e.context(format!("log tail:\n{}", target.server.log_tail())))?;
        let self1 = process::cpu_seconds("self", ticks)?;
        let settle = process::wait_idle(pid, ticks, settle_limit).await?;
        let cpu1 = process::cpu_seconds(&pid_s, ticks)?;
        let rss = process::status_bytes(pid, "VmRSS")?;
        stop_perf(perf)?;
        phases.push(Phase {
            from: done,
            to: upto,
            seconds: sent.wall.as_secs_f64(),
            alerts_per_second: sent.alerts as f64 / sent.wall.as_secs_f64(),
            median_request_ms: sent.median_request.as_secs_f64() * 1e3,
            server_cpu_seconds: cpu1 - cpu0,
            client_cpu_seconds: self1 - self0,
            settle_seconds: settle.as_secs_f64(),
            load_average_before: load_before,
            checkpoint: Checkpoint {
                active_alerts: upto,
                rss_bytes: rss,
                bytes_per_alert: (rss as f64 - baseline_rss as f64) / upto as f64,
            },
        });
        done = upto;
    }

    let perf = args.perf(pid, &format!("{}-get", kind.name())).await?;
    let cpu0 = process::cpu_seconds(&pid_s, ticks)?;
    let listed = load::list(&target.alerts_url, &target.auth, args.gets).await?;
    let get_cpu = process::cpu_seconds(&pid_s, ticks)? - cpu0;
    stop_perf(perf)?;
    process::wait_idle(pid, ticks, settle_limit).await?;
    let rss_after_get = process::status_bytes(pid, "VmRSS")?;
    if listed.alerts != done {
        bail!(
            "GET /api/v2/alerts returned {} alerts, expected {done}",
            listed.alerts
        );
    }

    let mut updates = Vec::new();
    let n = args.updates.min(done);
    if n > 0 {
        let mut methods = vec![("token", target.auth.clone())];
        if kind == Kind::Watchkeeper {
            methods[0].0 = "bearer token";
            methods.push(("basic", Auth::Basic("admin".into(), "admin".into())));
        } else {
            methods[0].0 = "none";
        }
        for (name, auth) in methods {
            let bodies = load::batches(0..n, args.batch)?;
            let tag = name.replace(' ', "-");
            let perf = args
                .perf(pid, &format!("{}-repost-{tag}", kind.name()))
                .await?;
            let cpu0 = process::cpu_seconds(&pid_s, ticks)?;
            let sent = load::ingest(&target.alerts_url, &auth, bodies, n, args.concurrency).await?;
            process::wait_idle(pid, ticks, settle_limit).await?;
            let cpu1 = process::cpu_seconds(&pid_s, ticks)?;
            stop_perf(perf)?;
            updates.push(Update {
                auth: name.to_owned(),
                alerts: n,
                requests: sent.requests,
                alerts_per_second: n as f64 / sent.wall.as_secs_f64(),
                median_request_ms: sent.median_request.as_secs_f64() * 1e3,
                server_cpu_ms_per_request: (cpu1 - cpu0) * 1e3 / sent.requests as f64,
            });
        }
    }

    Ok(TargetResult {
        name: kind.name().to_owned(),
        version: version(&target).await,
        auth: match &target.auth {
            Auth::None => "none".into(),
            Auth::Bearer(_) => "bearer API token".into(),
            Auth::Basic(..) => "basic".into(),
        },
        baseline_rss_bytes: baseline_rss,
        peak_rss_bytes: process::status_bytes(pid, "VmHWM").unwrap_or(0),
        phases,
        get_alerts_ms_median: listed.median.as_secs_f64() * 1e3,
        get_alerts_ms_samples: listed
            .samples
            .iter()
            .map(|d| d.as_secs_f64() * 1e3)
            .collect(),
        get_alerts_body_bytes: listed.body_bytes,
        get_alerts_server_cpu_seconds: get_cpu,
        get_alerts_requests: args.gets.max(1) + 1,
        rss_after_get_bytes: rss_after_get,
        updates,
    })
}
