//! `process_*` metrics read from `/proc/self` on each scrape (Linux), named as client_golang does.

use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Collects CPU time, memory, file descriptors and start time of this process.
#[derive(Debug)]
pub struct ProcessCollector {
    start_time: f64,
}

impl Default for ProcessCollector {
    fn default() -> Self {
        let start_time = read_start_time().unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        });
        Self { start_time }
    }
}

/// Fields of `/proc/self/stat` we use.
struct Stat {
    utime_ticks: f64,
    stime_ticks: f64,
    starttime_ticks: f64,
    vsize: f64,
    rss_pages: f64,
}

fn parse_stat(text: &str) -> Option<Stat> {
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
    let get = |n: usize| f.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    Some(Stat {
        utime_ticks: get(14)?,
        stime_ticks: get(15)?,
        starttime_ticks: get(22)?,
        vsize: get(23)?,
        rss_pages: get(24)?,
    })
}

/// Clock ticks per second; 100 on every Linux platform we run on.
const TICKS_PER_SEC: f64 = 100.0;
/// Page size; 4 KiB on the platforms we run on.
const PAGE_SIZE: f64 = 4096.0;

fn read_start_time() -> Option<f64> {
    let stat = parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<f64>()
        .ok()?;
    Some(boot + stat.starttime_ticks / TICKS_PER_SEC)
}

fn open_fds() -> Option<i64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as i64)
}

fn max_fds() -> Option<f64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> std::fmt::Result {
    let g = ConstGauge::new(v);
    let m = enc.encode_descriptor(name, help, None, g.metric_type())?;
    g.encode(m)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Some(stat) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|t| parse_stat(&t))
        {
            let cpu = ConstCounter::new((stat.utime_ticks + stat.stime_ticks) / TICKS_PER_SEC);
            let m = enc.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                cpu.metric_type(),
            )?;
            cpu.encode(m)?;
            gauge(
                &mut enc,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                stat.rss_pages * PAGE_SIZE,
            )?;
            gauge(
                &mut enc,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                stat.vsize,
            )?;
        }
        if let Some(n) = open_fds() {
            gauge(
                &mut enc,
                "process_open_fds",
                "Number of open file descriptors.",
                n as f64,
            )?;
        }
        if let Some(n) = max_fds() {
            gauge(
                &mut enc,
                "process_max_fds",
                "Maximum number of open file descriptors.",
                n,
            )?;
        }
        gauge(
            &mut enc,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            self.start_time,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_name() {
        let line = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 12345 1000000 300 18446744073709551615";
        let s = parse_stat(line).expect("parse");
        assert_eq!(s.utime_ticks, 250.0);
        assert_eq!(s.stime_ticks, 50.0);
        assert_eq!(s.starttime_ticks, 12345.0);
        assert_eq!(s.vsize, 1_000_000.0);
        assert_eq!(s.rss_pages, 300.0);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn collects_from_proc() {
        let mut reg = prometheus_client::registry::Registry::default();
        reg.register_collector(Box::new(ProcessCollector::default()));
        let text = crate::metrics::render(&reg).expect("render");
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_start_time_seconds",
        ] {
            assert!(text.contains(name), "{name} missing in {text}");
        }
    }
}
