//! The results of a run: what each target measured, the ratios against the targets,
//! and their rendering as a text table (the JSON form is the `Serialize` derive).

use std::fmt::Write;

use serde::Serialize;

use crate::load::{ANNOTATIONS, LABELS};

/// Memory after ingesting up to a checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    /// Active alerts stored.
    pub active_alerts: usize,
    /// `VmRSS` once the server was idle again.
    pub rss_bytes: u64,
    /// `(VmRSS − baseline) / active_alerts`.
    pub bytes_per_alert: f64,
}

/// One ingest phase, from one checkpoint to the next.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// Alerts stored before the phase.
    pub from: usize,
    /// Alerts stored after it.
    pub to: usize,
    /// Wall-clock seconds from the first request to the last response.
    pub seconds: f64,
    /// `(to − from) / seconds`.
    pub alerts_per_second: f64,
    /// Median `POST` latency.
    pub median_request_ms: f64,
    /// Server `utime + stime` over the phase, including the settling afterwards.
    pub server_cpu_seconds: f64,
    /// The load generator's own CPU time during the requests.
    pub client_cpu_seconds: f64,
    /// How long the server kept working after the last response.
    pub settle_seconds: f64,
    /// `/proc/loadavg` before the phase.
    pub load_average_before: String,
    /// Memory at the end of the phase.
    pub checkpoint: Checkpoint,
}

/// Re-posting stored alerts with one authentication method.
#[derive(Debug, Clone, Serialize)]
pub struct Update {
    /// `none`, `bearer token` or `basic`.
    pub auth: String,
    /// Alerts re-posted.
    pub alerts: usize,
    /// Requests sent.
    pub requests: usize,
    /// Wall-clock rate.
    pub alerts_per_second: f64,
    /// Median `POST` latency.
    pub median_request_ms: f64,
    /// Server CPU per request.
    pub server_cpu_ms_per_request: f64,
}

/// Everything measured on one target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    /// `watchkeeper` or `alertmanager`.
    pub name: String,
    /// `versionInfo.version` of `GET /api/v2/status`.
    pub version: String,
    /// Authentication used for the main measurements.
    pub auth: String,
    /// `VmRSS` before ingesting (after one warm-up `GET`).
    pub baseline_rss_bytes: u64,
    /// `VmHWM` at the end of the run.
    pub peak_rss_bytes: u64,
    /// The ingest phases.
    pub phases: Vec<Phase>,
    /// Median time of `GET /api/v2/alerts` at the last checkpoint, body read in full.
    pub get_alerts_ms_median: f64,
    /// Every timed `GET /api/v2/alerts`.
    pub get_alerts_ms_samples: Vec<f64>,
    /// Size of the `GET /api/v2/alerts` answer.
    pub get_alerts_body_bytes: usize,
    /// Server CPU seconds over all `GET /api/v2/alerts` requests (warm-up included).
    pub get_alerts_server_cpu_seconds: f64,
    /// Number of `GET /api/v2/alerts` requests, warm-up included.
    pub get_alerts_requests: usize,
    /// `VmRSS` once idle after the `GET`s (what the allocator kept).
    pub rss_after_get_bytes: u64,
    /// Re-posting alerts per authentication method.
    pub updates: Vec<Update>,
}

impl TargetResult {
    /// Alerts per second over all phases.
    pub fn ingest_rate(&self) -> f64 {
        let alerts: usize = self.phases.iter().map(|p| p.to - p.from).sum();
        let secs: f64 = self.phases.iter().map(|p| p.seconds).sum();
        alerts as f64 / secs
    }

    /// Server CPU seconds over all phases.
    pub fn ingest_cpu(&self) -> f64 {
        self.phases.iter().map(|p| p.server_cpu_seconds).sum()
    }

    /// Load generator CPU seconds over all phases.
    pub fn client_cpu(&self) -> f64 {
        self.phases.iter().map(|p| p.client_cpu_seconds).sum()
    }

    /// Alerts ingested in total.
    pub fn total(&self) -> usize {
        self.phases.last().map_or(0, |p| p.to)
    }

    /// Bytes per active alert at the last checkpoint.
    pub fn bytes_per_alert(&self) -> f64 {
        self.phases
            .last()
            .map_or(f64::NAN, |p| p.checkpoint.bytes_per_alert)
    }
}

/// A target ratio of the issue, evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// What is compared.
    pub metric: String,
    /// Watchkeeper ÷ Alertmanager.
    pub ratio: f64,
    /// The bound.
    pub target: String,
    /// Whether the bound holds.
    pub met: bool,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
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
    /// Label names of every alert.
    pub labels: Vec<String>,
    /// Annotation names of every alert.
    pub annotations: Vec<String>,
    /// Memory checkpoints (active alerts).
    pub checkpoints: Vec<usize>,
    /// Alerts per request.
    pub batch: usize,
    /// Concurrent connections.
    pub concurrency: usize,
    /// The Watchkeeper binary run.
    pub watchkeeper_binary: String,
    /// Per target.
    pub targets: Vec<TargetResult>,
    /// The targets, when both targets ran.
    pub ratios: Vec<Ratio>,
}

/// `model name` of `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into())
}

impl Report {
    /// An empty report for a run with these parameters.
    pub fn new(checkpoints: &[usize], batch: usize, concurrency: usize) -> Self {
        Self {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model: cpu_model(),
            load_before: crate::process::load_average(),
            load_after: String::new(),
            labels: LABELS.iter().map(|s| (*s).to_owned()).collect(),
            annotations: ANNOTATIONS.iter().map(|s| (*s).to_owned()).collect(),
            checkpoints: checkpoints.to_vec(),
            batch,
            concurrency,
            watchkeeper_binary: String::new(),
            targets: Vec::new(),
            ratios: Vec::new(),
        }
    }

    fn target(&self, name: &str) -> Option<&TargetResult> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// Computes [`Report::ratios`] when both targets ran.
    pub fn compute_ratios(&mut self) {
        let (Some(wk), Some(am)) = (self.target("watchkeeper"), self.target("alertmanager")) else {
            return;
        };
        let ingest = wk.ingest_rate() / am.ingest_rate();
        let memory = wk.bytes_per_alert() / am.bytes_per_alert();
        let get = wk.get_alerts_ms_median / am.get_alerts_ms_median;
        let n = wk.total();
        self.ratios = vec![
            Ratio {
                metric: "ingest rate (alerts/s)".into(),
                ratio: ingest,
                target: "≥ 5".into(),
                met: ingest >= 5.0,
            },
            Ratio {
                metric: format!("memory per active alert at {}", short(n)),
                ratio: memory,
                target: "≤ 0.333".into(),
                met: memory <= 1.0 / 3.0,
            },
            Ratio {
                metric: format!("GET /alerts time at {}", short(n)),
                ratio: get,
                target: "≤ 0.2".into(),
                met: get <= 0.2,
            },
        ];
    }

    /// The report as a text table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nwk-bench {}: {} CPUs ({}), load average {} before, {} after",
            self.date, self.cpus, self.cpu_model, self.load_before, self.load_after
        );
        let _ = writeln!(
            out,
            "alerts: labels {}; annotations {}; generatorURL; endsAt in 7 days",
            self.labels.join(", "),
            self.annotations.join(", ")
        );
        let _ = writeln!(
            out,
            "load: POST /api/v2/alerts, {} alerts per request, {} keep-alive HTTP/1.1 connections\n",
            self.batch, self.concurrency
        );
        let cols: Vec<&TargetResult> = self.targets.iter().collect();
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        rows.push((
            "".into(),
            cols.iter()
                .map(|t| format!("{} {}", t.name, t.version))
                .collect(),
        ));
        rows.push(("auth".into(), cols.iter().map(|t| t.auth.clone()).collect()));
        let phases = cols.first().map_or(0, |t| t.phases.len());
        for i in 0..phases {
            let label = cols
                .first()
                .and_then(|t| t.phases.get(i))
                .map(|p| format!("{}→{}", short(p.from), short(p.to)))
                .unwrap_or_default();
            let get = |f: &dyn Fn(&Phase) -> String| -> Vec<String> {
                cols.iter()
                    .map(|t| t.phases.get(i).map(f).unwrap_or_default())
                    .collect()
            };
            rows.push((
                format!("ingest {label}: alerts/s"),
                get(&|p| num(p.alerts_per_second)),
            ));
            rows.push((
                format!("ingest {label}: median POST ms"),
                get(&|p| format!("{:.1}", p.median_request_ms)),
            ));
            rows.push((
                format!("ingest {label}: server CPU s"),
                get(&|p| format!("{:.2}", p.server_cpu_seconds)),
            ));
        }
        rows.push((
            "ingest total: alerts/s".into(),
            cols.iter().map(|t| num(t.ingest_rate())).collect(),
        ));
        rows.push((
            "ingest total: server CPU µs/alert".into(),
            cols.iter()
                .map(|t| format!("{:.1}", t.ingest_cpu() * 1e6 / t.total() as f64))
                .collect(),
        ));
        rows.push((
            "ingest total: client CPU s".into(),
            cols.iter()
                .map(|t| format!("{:.2}", t.client_cpu()))
                .collect(),
        ));
        rows.push((
            "RSS baseline MiB".into(),
            cols.iter().map(|t| mib(t.baseline_rss_bytes)).collect(),
        ));
        for i in 0..phases {
            let n = cols
                .first()
                .and_then(|t| t.phases.get(i))
                .map_or(0, |p| p.to);
            rows.push((
                format!("RSS at {} MiB", short(n)),
                cols.iter()
                    .map(|t| {
                        t.phases
                            .get(i)
                            .map(|p| mib(p.checkpoint.rss_bytes))
                            .unwrap_or_default()
                    })
                    .collect(),
            ));
            rows.push((
                format!("bytes per active alert at {}", short(n)),
                cols.iter()
                    .map(|t| {
                        t.phases
                            .get(i)
                            .map(|p| format!("{:.0}", p.checkpoint.bytes_per_alert))
                            .unwrap_or_default()
                    })
                    .collect(),
            ));
        }
        rows.push((
            "peak RSS MiB".into(),
            cols.iter().map(|t| mib(t.peak_rss_bytes)).collect(),
        ));
        let n = cols.first().map_or(0, |t| t.total());
        rows.push((
            format!("GET /alerts at {} median ms", short(n)),
            cols.iter()
                .map(|t| format!("{:.0}", t.get_alerts_ms_median))
                .collect(),
        ));
        rows.push((
            "GET /alerts samples ms".into(),
            cols.iter()
                .map(|t| {
                    t.get_alerts_ms_samples
                        .iter()
                        .map(|s| format!("{s:.0}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect(),
        ));
        rows.push((
            "GET /alerts body MiB".into(),
            cols.iter()
                .map(|t| mib(t.get_alerts_body_bytes as u64))
                .collect(),
        ));
        rows.push((
            "GET /alerts server CPU s/request".into(),
            cols.iter()
                .map(|t| {
                    format!(
                        "{:.2}",
                        t.get_alerts_server_cpu_seconds / t.get_alerts_requests as f64
                    )
                })
                .collect(),
        ));
        rows.push((
            "RSS after the GETs MiB".into(),
            cols.iter().map(|t| mib(t.rss_after_get_bytes)).collect(),
        ));
        let methods = cols.iter().map(|t| t.updates.len()).max().unwrap_or(0);
        for i in 0..methods {
            let cell = |f: &dyn Fn(&Update) -> String| -> Vec<String> {
                cols.iter()
                    .map(|t| t.updates.get(i).map(f).unwrap_or_default())
                    .collect()
            };
            rows.push((
                format!("re-post #{}: auth", i + 1),
                cell(&|u| format!("{} ({} alerts)", u.auth, short(u.alerts))),
            ));
            rows.push((
                format!("re-post #{}: alerts/s", i + 1),
                cell(&|u| num(u.alerts_per_second)),
            ));
            rows.push((
                format!("re-post #{}: median POST ms", i + 1),
                cell(&|u| format!("{:.1}", u.median_request_ms)),
            ));
            rows.push((
                format!("re-post #{}: server CPU ms/request", i + 1),
                cell(&|u| format!("{:.2}", u.server_cpu_ms_per_request)),
            ));
        }
        out.push_str(&render_rows(&rows));
        if !self.ratios.is_empty() {
            let _ = writeln!(out, "\nwatchkeeper ÷ alertmanager:");
            for r in &self.ratios {
                let _ = writeln!(
                    out,
                    "  {:<40} {:>8.3}  target {:<8} {}",
                    r.metric,
                    r.ratio,
                    r.target,
                    if r.met { "met" } else { "MISSED" }
                );
            }
        }
        out
    }
}

/// Rows of a table (a label, then one cell per target) as text: labels left-aligned, cells
/// right-aligned in columns as wide as their widest cell.
pub fn render_rows(rows: &[(String, Vec<String>)]) -> String {
    let mut out = String::new();
    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let cols = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.1.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (label, cells) in rows {
        let _ = write!(out, "{label:<w0$}");
        for (c, cell) in cells.iter().enumerate() {
            let w = widths.get(c).copied().unwrap_or(0);
            let _ = write!(out, "  {cell:>w$}");
        }
        out.push('\n');
    }
    out
}

/// `10k`, `100k`, `1.5M`.
fn short(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(100_000) {
        format!("{}M", n as f64 / 1e6)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// A rate with thousands separators.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as MiB with one decimal.
fn mib(b: u64) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}
