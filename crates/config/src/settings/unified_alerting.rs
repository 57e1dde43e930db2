//! `[unified_alerting]`: evaluation, the embedded Alertmanager, and HA clustering (memberlist
//! or Redis). Key names, defaults and start-up errors follow Grafana's
//! `pkg/setting/setting_unified_alerting.go`.

use std::time::Duration;

use super::debug_redacted;
use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader, parse_bool, split_list};

const SECTION: &str = "unified_alerting";
/// Grafana's `SchedulerBaseInterval`: the scheduler ticks every 10 seconds.
const BASE_INTERVAL: Duration = Duration::from_secs(10);
/// Grafana's `DefaultRuleEvaluationInterval`: six base intervals.
const DEFAULT_RULE_EVALUATION_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_RANDOMIZATION_FACTOR: f64 = 0.1;
const DEFAULT_REDIS_MAX_CONNS: u32 = 5;
const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);
const TLS_VERSIONS: [&str; 4] = [
    "VersionTLS10",
    "VersionTLS11",
    "VersionTLS12",
    "VersionTLS13",
];

/// `ha_state_keys`: how replicated states are named in gossip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaStateKeys {
    /// Grafana's per-organization keys.
    Grafana,
    /// Prometheus Alertmanager's `nfl` and `sil` for organization 1.
    Alertmanager,
}

/// `[unified_alerting]`; every field is the key of the same name unless noted.
#[derive(Clone)]
pub struct UnifiedAlertingSettings {
    /// Unified alerting on (default true; empty means true).
    pub enabled: bool,
    /// Organization IDs for which alerting is off.
    pub disabled_orgs: Vec<i64>,
    /// Time limit for the initial Alertmanager and router sync at start (default 30s).
    pub initialization_timeout: Duration,
    /// How often the external-Alertmanager choice is re-read (default 60s).
    pub admin_config_poll_interval: Duration,
    /// How often Alertmanager configurations are re-read (default 60s).
    pub alertmanager_config_poll_interval: Duration,
    /// How long after the server starts aggregation groups wait before their first flush
    /// (default 0s; Alertmanager's `--dispatch.start-delay`).
    pub alertmanager_dispatch_start_delay: Duration,
    /// Watchkeeper's own: Alertmanager's `classic-mode` (label names in alerts, silences and
    /// API filters limited to `[a-zA-Z_][a-zA-Z0-9_]*`, filters parsed by the classic parser).
    pub alertmanager_classic_mode: bool,
    /// Maximum number of silences per organization (0 = unlimited).
    pub alertmanager_max_silences_count: u32,
    /// Maximum size of one silence in bytes (0 = unlimited).
    pub alertmanager_max_silence_size_bytes: u64,
    /// Maximum size of rendered template output in bytes (default 10 MiB).
    pub alertmanager_max_template_output_bytes: u64,
    /// Memberlist peers (`host:port`); non-empty enables memberlist HA unless Redis is set.
    pub ha_peers: Vec<String>,
    /// Memberlist bind address for TCP and UDP (default `0.0.0.0:9094`).
    pub ha_listen_address: String,
    /// Memberlist address advertised to peers (e.g. `${POD_IP}:9094`).
    pub ha_advertise_address: String,
    /// Delay per peer position before notifying (default 15s).
    pub ha_peer_timeout: Duration,
    /// Memberlist gossip interval (default 200ms).
    pub ha_gossip_interval: Duration,
    /// Full-state push/pull interval, also the Redis full-state period (default 60s).
    pub ha_push_pull_interval: Duration,
    /// How long failed peers are retried (default 6h).
    pub ha_reconnect_timeout: Duration,
    /// Memberlist cluster label; peers with another label are ignored.
    pub ha_label: String,
    /// Watchkeeper's own: the gossip keys of the notification log and silences (`grafana`:
    /// `notificationlog:<org>`/`silences:<org>`; `alertmanager`: `nfl`/`sil` for organization 1,
    /// so the node can join a Prometheus Alertmanager cluster).
    pub ha_state_keys: HaStateKeys,
    /// Redis addresses (several for Cluster/Sentinel); non-empty enables Redis HA.
    pub ha_redis_address: Vec<String>,
    /// Redis AUTH user name.
    pub ha_redis_username: String,
    /// Redis AUTH password (secret).
    pub ha_redis_password: String,
    /// Redis database number (default 0).
    pub ha_redis_db: u32,
    /// Prefix for Redis keys and channels; always ends in `:` when non-empty.
    pub ha_redis_prefix: String,
    /// This peer's name in Redis; empty means `peer-<uuid>`.
    pub ha_redis_peer_name: String,
    /// Redis connection pool size (default 5; 0 = client default; negative becomes 5).
    pub ha_redis_max_conns: u32,
    /// Use Redis Cluster.
    pub ha_redis_cluster_mode_enabled: bool,
    /// Use Redis Sentinel (needs `ha_redis_sentinel_master_name`).
    pub ha_redis_sentinel_mode_enabled: bool,
    /// Sentinel master name.
    pub ha_redis_sentinel_master_name: String,
    /// Sentinel AUTH user name.
    pub ha_redis_sentinel_username: String,
    /// Sentinel AUTH password (secret).
    pub ha_redis_sentinel_password: String,
    /// Connect to Redis over TLS.
    pub ha_redis_tls_enabled: bool,
    /// Client certificate (PEM) for Redis TLS.
    pub ha_redis_tls_cert_path: String,
    /// Client key (PEM) for Redis TLS.
    pub ha_redis_tls_key_path: String,
    /// CA bundle (PEM) for Redis TLS.
    pub ha_redis_tls_ca_path: String,
    /// Expected Redis server name.
    pub ha_redis_tls_server_name: String,
    /// Skip Redis certificate verification.
    pub ha_redis_tls_insecure_skip_verify: bool,
    /// Allowed cipher suites (Go names).
    pub ha_redis_tls_cipher_suites: Vec<String>,
    /// Minimum TLS version, e.g. `VersionTLS12`; empty means the library default.
    pub ha_redis_tls_min_version: String,
    /// Only the peer at position 0 evaluates rules; alerts are broadcast to the others.
    pub ha_single_node_evaluation: bool,
    /// Queue size of the alert-broadcast channel in single-node evaluation (default 200).
    pub ha_single_evaluation_alert_broadcast_queue_size: u32,
    /// Run the scheduler (default true); false makes this instance a pure notifier/API node.
    pub execute_alerts: bool,
    /// Time limit for one rule evaluation (default 30s).
    pub evaluation_timeout: Duration,
    /// Evaluation attempts before giving up (default 3, at least 1).
    pub max_attempts: u32,
    /// First delay between evaluation attempts (default 1s).
    pub initial_retry_delay: Duration,
    /// Largest delay between evaluation attempts (default 4s).
    pub max_retry_delay: Duration,
    /// Jitter of retry delays, 0 to 1 (default 0.1).
    pub randomization_factor: f64,
    /// Smallest rule interval: at least and a multiple of the base interval (default 10s).
    pub min_interval: Duration,
    /// The scheduler tick; only 10s is supported, other values are ignored with a warning.
    pub scheduler_tick_interval: Duration,
    /// Turn off the per-rule evaluation jitter.
    pub disable_jitter: bool,
    /// Parallel state writes per rule (default 1).
    pub max_state_save_concurrency: u32,
    /// Period of batched state saves (default 5m).
    pub state_periodic_save_interval: Duration,
    /// Rows per batched state save (default 1).
    pub state_periodic_save_batch_size: u32,
    /// Spread batched state saves over the period.
    pub state_periodic_save_jitter_enabled: bool,
    /// How long notification-log entries are kept (default 5d).
    pub notification_log_retention: Duration,
    /// How long resolved alerts keep being sent to the Alertmanager (default 15m).
    pub resolved_alert_retention: Duration,
    /// Rule versions kept per rule (0 = unlimited).
    pub rule_version_record_limit: u32,
    /// How long deleted rules are kept (default 30d).
    pub deleted_rule_retention: Duration,
    /// Not a key: the scheduler base interval (`scheduler_tick_interval`, 10s).
    pub base_interval: Duration,
    /// Not a key: interval of rules that do not set one, 60s or `min_interval` if larger.
    pub default_rule_evaluation_interval: Duration,
}

debug_redacted!(UnifiedAlertingSettings {
    enabled, disabled_orgs, initialization_timeout, admin_config_poll_interval,
    alertmanager_config_poll_interval, alertmanager_dispatch_start_delay, alertmanager_classic_mode,
    alertmanager_max_silences_count,
    alertmanager_max_silence_size_bytes, alertmanager_max_template_output_bytes, ha_peers,
    ha_listen_address, ha_advertise_address, ha_peer_timeout, ha_gossip_interval,
    ha_push_pull_interval, ha_reconnect_timeout, ha_label, ha_state_keys, ha_redis_address, ha_redis_username,
    ha_redis_db, ha_redis_prefix, ha_redis_peer_name, ha_redis_max_conns,
    ha_redis_cluster_mode_enabled, ha_redis_sentinel_mode_enabled, ha_redis_sentinel_master_name,
    ha_redis_sentinel_username, ha_redis_tls_enabled, ha_redis_tls_cert_path,
    ha_redis_tls_key_path, ha_redis_tls_ca_path, ha_redis_tls_server_name,
    ha_redis_tls_insecure_skip_verify, ha_redis_tls_cipher_suites, ha_redis_tls_min_version,
    ha_single_node_evaluation, ha_single_evaluation_alert_broadcast_queue_size, execute_alerts,
    evaluation_timeout, max_attempts, initial_retry_delay, max_retry_delay, randomization_factor,
    min_interval, scheduler_tick_interval, disable_jitter, max_state_save_concurrency,
    state_periodic_save_interval, state_periodic_save_batch_size,
    state_periodic_save_jitter_enabled, notification_log_retention, resolved_alert_retention,
    rule_version_record_limit, deleted_rule_retention, base_interval,
    default_rule_evaluation_interval,
} secret { ha_redis_password, ha_redis_sentinel_password } url {});

impl UnifiedAlertingSettings {
    pub(crate) fn read(raw: &RawConfig, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, SECTION, diag);
        let base_interval = read_scheduler_tick(&mut r);
        let min_interval = read_min_interval(&mut r, base_interval);
        let (initial_retry_delay, max_retry_delay) = read_retry_delays(&mut r);
        let s = UnifiedAlertingSettings {
            enabled: read_enabled(&mut r),
            disabled_orgs: read_disabled_orgs(&mut r),
            initialization_timeout: r.duration("initialization_timeout", 30 * SECOND),
            admin_config_poll_interval: r.duration("admin_config_poll_interval", MINUTE),
            alertmanager_config_poll_interval: r
                .duration("alertmanager_config_poll_interval", MINUTE),
            alertmanager_dispatch_start_delay: r
                .duration("alertmanager_dispatch_start_delay", Duration::ZERO),
            alertmanager_classic_mode: r.bool("alertmanager_classic_mode", false),
            alertmanager_max_silences_count: r.u32("alertmanager_max_silences_count", 0),
            alertmanager_max_silence_size_bytes: r.u64("alertmanager_max_silence_size_bytes", 0),
            alertmanager_max_template_output_bytes: r
                .u64("alertmanager_max_template_output_bytes", 10 << 20),
            ha_peers: r.list("ha_peers"),
            ha_listen_address: r.string("ha_listen_address", "0.0.0.0:9094"),
            ha_advertise_address: r.string("ha_advertise_address", ""),
            ha_peer_timeout: r.duration("ha_peer_timeout", 15 * SECOND),
            ha_gossip_interval: r.duration("ha_gossip_interval", Duration::from_millis(200)),
            ha_push_pull_interval: r.duration("ha_push_pull_interval", MINUTE),
            ha_reconnect_timeout: r.duration("ha_reconnect_timeout", 6 * 60 * MINUTE),
            ha_label: r.string("ha_label", ""),
            ha_state_keys: r.choice(
                "ha_state_keys",
                HaStateKeys::Grafana,
                &[
                    ("grafana", HaStateKeys::Grafana),
                    ("alertmanager", HaStateKeys::Alertmanager),
                ],
            ),
            ha_redis_address: r.list("ha_redis_address"),
            ha_redis_username: r.string("ha_redis_username", ""),
            ha_redis_password: r.string("ha_redis_password", ""),
            ha_redis_db: r.u32("ha_redis_db", 0),
            ha_redis_prefix: read_redis_prefix(&mut r),
            ha_redis_peer_name: r.string("ha_redis_peer_name", ""),
            ha_redis_max_conns: read_redis_max_conns(&mut r),
            ha_redis_cluster_mode_enabled: r.bool("ha_redis_cluster_mode_enabled", false),
            ha_redis_sentinel_mode_enabled: r.bool("ha_redis_sentinel_mode_enabled", false),
            ha_redis_sentinel_master_name: r.string("ha_redis_sentinel_master_name", ""),
            ha_redis_sentinel_username: r.string("ha_redis_sentinel_username", ""),
            ha_redis_sentinel_password: r.string("ha_redis_sentinel_password", ""),
            ha_redis_tls_enabled: r.bool("ha_redis_tls_enabled", false),
            ha_redis_tls_cert_path: r.string("ha_redis_tls_cert_path", ""),
            ha_redis_tls_key_path: r.string("ha_redis_tls_key_path", ""),
            ha_redis_tls_ca_path: r.string("ha_redis_tls_ca_path", ""),
            ha_redis_tls_server_name: r.string("ha_redis_tls_server_name", ""),
            ha_redis_tls_insecure_skip_verify: r.bool("ha_redis_tls_insecure_skip_verify", false),
            ha_redis_tls_cipher_suites: r.list("ha_redis_tls_cipher_suites"),
            ha_redis_tls_min_version: read_tls_min_version(&mut r),
            ha_single_node_evaluation: r.bool("ha_single_node_evaluation", false),
            ha_single_evaluation_alert_broadcast_queue_size: r
                .u32("ha_single_evaluation_alert_broadcast_queue_size", 200),
            execute_alerts: r.bool("execute_alerts", true),
            evaluation_timeout: r.duration("evaluation_timeout", 30 * SECOND),
            max_attempts: read_max_attempts(&mut r),
            initial_retry_delay,
            max_retry_delay,
            randomization_factor: read_randomization_factor(&mut r),
            min_interval,
            scheduler_tick_interval: base_interval,
            disable_jitter: r.bool("disable_jitter", false),
            max_state_save_concurrency: r.u32("max_state_save_concurrency", 1),
            state_periodic_save_interval: r.duration("state_periodic_save_interval", 5 * MINUTE),
            state_periodic_save_batch_size: r.u32("state_periodic_save_batch_size", 1),
            state_periodic_save_jitter_enabled: r.bool("state_periodic_save_jitter_enabled", false),
            notification_log_retention: r.duration("notification_log_retention", 5 * DAY),
            resolved_alert_retention: r.duration("resolved_alert_retention", 15 * MINUTE),
            rule_version_record_limit: r.u32("rule_version_record_limit", 0),
            deleted_rule_retention: r.duration("deleted_rule_retention", 30 * DAY),
            base_interval,
            default_rule_evaluation_interval: DEFAULT_RULE_EVALUATION_INTERVAL.max(min_interval),
        };
        check_redis_modes(&mut r, &s);
        s
    }
}

fn read_enabled(r: &mut SectionReader<'_>) -> bool {
    r.parse("enabled", true, |s| {
        parse_bool(s).ok_or_else(|| {
            format!(
                "failed to read unified alerting enabled setting: invalid value {s}, \
                 should be either true or false"
            )
        })
    })
    .unwrap_or(true)
}

fn read_disabled_orgs(r: &mut SectionReader<'_>) -> Vec<i64> {
    r.parse("disabled_orgs", Vec::new(), |s| {
        split_list(s)
            .iter()
            .map(|org| {
                org.parse::<i64>().map_err(|_| {
                    format!("expected a comma-separated list of organization IDs; {org:?} is not a number")
                })
            })
            .collect()
    })
    .unwrap_or_default()
}

fn read_redis_prefix(r: &mut SectionReader<'_>) -> String {
    let mut prefix = r.string("ha_redis_prefix", "");
    if !prefix.is_empty() && !prefix.ends_with(':') {
        prefix.push(':');
    }
    prefix
}

fn read_redis_max_conns(r: &mut SectionReader<'_>) -> u32 {
    let key = "ha_redis_max_conns";
    let conns = r.i64(key, i64::from(DEFAULT_REDIS_MAX_CONNS));
    if conns < 0 {
        r.warning(key, format!("negative; using {DEFAULT_REDIS_MAX_CONNS}"));
        return DEFAULT_REDIS_MAX_CONNS;
    }
    u32::try_from(conns).unwrap_or_else(|_| {
        r.problem(
            key,
            format!("expected a whole number between 0 and {}", u32::MAX),
        );
        DEFAULT_REDIS_MAX_CONNS
    })
}

fn read_tls_min_version(r: &mut SectionReader<'_>) -> String {
    let key = "ha_redis_tls_min_version";
    let version = r.string(key, "");
    if !version.is_empty() && !TLS_VERSIONS.contains(&version.as_str()) {
        r.problem(key, format!("expected one of: {}", TLS_VERSIONS.join(", ")));
    }
    version
}

fn read_max_attempts(r: &mut SectionReader<'_>) -> u32 {
    let attempts = r.u32("max_attempts", 3);
    if attempts == 0 {
        r.problem(
            "max_attempts",
            "value of setting 'max_attempts' must be at least 1",
        );
        return 3;
    }
    attempts
}

fn read_retry_delays(r: &mut SectionReader<'_>) -> (Duration, Duration) {
    let initial = r.try_duration("initial_retry_delay", SECOND);
    let max = r.try_duration("max_retry_delay", 4 * SECOND);
    if let (Some(initial), Some(max)) = (initial, max)
        && initial > max
    {
        r.problem(
            "initial_retry_delay",
            "value of setting 'initial_retry_delay' must not be greater than 'max_retry_delay'",
        );
    }
    (initial.unwrap_or(SECOND), max.unwrap_or(4 * SECOND))
}

fn read_randomization_factor(r: &mut SectionReader<'_>) -> f64 {
    let key = "randomization_factor";
    match r.f64(key, DEFAULT_RANDOMIZATION_FACTOR) {
        Some(factor) if (0.0..=1.0).contains(&factor) => factor,
        Some(_) => {
            r.warning(
                key,
                format!("must be between 0 and 1; using {DEFAULT_RANDOMIZATION_FACTOR}"),
            );
            DEFAULT_RANDOMIZATION_FACTOR
        }
        None => DEFAULT_RANDOMIZATION_FACTOR,
    }
}

fn read_min_interval(r: &mut SectionReader<'_>, base_interval: Duration) -> Duration {
    let key = "min_interval";
    let Some(min) = r.try_duration(key, base_interval) else {
        return base_interval;
    };
    let base = format_duration(base_interval);
    if min < base_interval {
        r.problem(
            key,
            format!(
                "value of setting 'min_interval' should be greater than the base interval ({base})"
            ),
        );
        return base_interval;
    }
    if !min.as_nanos().is_multiple_of(base_interval.as_nanos()) {
        r.problem(
            key,
            format!("value of setting 'min_interval' should be times of base interval ({base})"),
        );
        return base_interval;
    }
    min
}

/// `scheduler_tick_interval`: Grafana's hidden base interval of the scheduler (10s), which
/// tests shorten; it must be at least 100ms and a whole number of milliseconds.
fn read_scheduler_tick(r: &mut SectionReader<'_>) -> Duration {
    let key = "scheduler_tick_interval";
    let Some(tick) = r.try_duration(key, BASE_INTERVAL) else {
        return BASE_INTERVAL;
    };
    if tick < Duration::from_millis(100) || !tick.subsec_nanos().is_multiple_of(1_000_000) {
        r.problem(
            key,
            "must be at least 100ms and a whole number of milliseconds",
        );
        return BASE_INTERVAL;
    }
    tick
}

/// `10s`, `500ms`, `1m`: a duration as settings write it.
fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Grafana's start-up checks on the Redis modes.
fn check_redis_modes(r: &mut SectionReader<'_>, s: &UnifiedAlertingSettings) {
    let sentinel = "ha_redis_sentinel_mode_enabled";
    if s.ha_redis_cluster_mode_enabled && s.ha_redis_sentinel_mode_enabled {
        r.problem(
            sentinel,
            "'ha_redis_cluster_mode_enabled' and 'ha_redis_sentinel_mode_enabled' are mutually exclusive",
        );
    }
    if s.ha_redis_sentinel_mode_enabled && s.ha_redis_sentinel_master_name.is_empty() {
        r.problem(
            sentinel,
            "'ha_redis_sentinel_master_name' is required when 'ha_redis_sentinel_mode_enabled' is true",
        );
    }
}
