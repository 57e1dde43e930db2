//! Validation rules of every section, checked through the public loader.

use std::time::Duration;

use super::*;
use crate::duration::parse_duration;
use crate::ini::{self, DEFAULT_SECTION};
use crate::loader::{DEFAULTS_INI, LoadOptions, Loaded, load};
use crate::problem::{ConfigWarning, Problem};
use crate::reader::parse_go_int;
use crate::source::Source;
use crate::test_support::TempDir;

const S: Duration = Duration::from_secs(1);

fn run(text: &str) -> Result<Loaded, Vec<Problem>> {
    let dir = TempDir::new("settings");
    let opts = LoadOptions {
        config_file: Some(dir.write("custom.ini", text)),
        homepath: dir.path().to_path_buf(),
        args: Vec::new(),
        env: Vec::new(),
    };
    load(&opts).map_err(|err| err.problems)
}

fn settings(text: &str) -> Settings {
    match run(text) {
        Ok(loaded) => loaded.settings,
        Err(problems) => panic!("{text}\nunexpected problems: {problems:#?}"),
    }
}

fn warnings(text: &str) -> Vec<ConfigWarning> {
    match run(text) {
        Ok(loaded) => loaded.warnings,
        Err(problems) => panic!("{text}\nunexpected problems: {problems:#?}"),
    }
}

/// `(section, key, message)` of every problem `text` causes.
fn problems(text: &str) -> Vec<(String, String, String)> {
    match run(text) {
        Ok(_) => panic!("{text}\nexpected problems"),
        Err(problems) => problems
            .into_iter()
            .map(|p| (p.section, p.key, p.message))
            .collect(),
    }
}

fn one_problem(text: &str) -> (String, String, String) {
    let mut found = problems(text);
    assert_eq!(found.len(), 1, "{text}\n{found:#?}");
    found.remove(0)
}

fn keys_of(text: &str) -> Vec<(String, String, String)> {
    let (file, errors) = ini::parse(text);
    assert!(errors.is_empty(), "{errors:?}");
    file.sections
        .iter()
        .flat_map(|s| {
            s.entries
                .iter()
                .map(|e| (s.name.clone(), e.key.clone(), e.value.clone()))
        })
        .collect()
}

#[test]
fn defaults_file_lists_exactly_the_keys_that_are_read() {
    let in_file: std::collections::BTreeSet<(String, String)> = keys_of(DEFAULTS_INI)
        .into_iter()
        .filter(|(section, _, _)| !FREE_SECTIONS.contains(&section.as_str()))
        .map(|(section, key, _)| (section, key))
        .collect();
    assert_eq!(in_file, known_keys());
}

#[test]
fn every_default_key_has_a_comment_above_it() {
    let lines: Vec<&str> = DEFAULTS_INI.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';', '[']) {
            continue;
        }
        let comment = lines[..i]
            .iter()
            .rev()
            .map(|l| l.trim())
            .find(|l| !l.starts_with(';'));
        assert!(
            comment.is_some_and(|c| c.starts_with('#')),
            "line {}: {line:?} has no # comment above it",
            i + 1
        );
    }
}

#[test]
fn defaults_file_agrees_with_code_defaults() {
    let from_file = settings("");
    let mut diag = Diagnostics::default();
    let mut from_code = Settings::read(&RawConfig::default(), Path::new("."), &mut diag);
    assert!(diag.problems.is_empty(), "{:?}", diag.problems);
    let home = from_file
        .paths
        .data
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    from_code = Settings {
        instance_name: from_file.instance_name.clone(),
        ..from_code
    };
    let code = format!("{from_code:?}").replace("\"./", &format!("\"{}/", home.display()));
    assert_eq!(code, format!("{from_file:?}"));
}

#[test]
fn every_invalid_boolean_integer_and_duration_is_a_problem() {
    let mut checked = 0;
    for (section, key, default) in keys_of(DEFAULTS_INI) {
        let bad = if default == "true" || default == "false" {
            "notabool"
        } else if parse_go_int(&default).is_some() {
            "12abc"
        } else if parse_duration(&default).is_ok() {
            "5parsecs"
        } else {
            continue;
        };
        let text = format!("[{section}]\n{key} = {bad}\n");
        let text = if section == DEFAULT_SECTION {
            format!("{key} = {bad}\n")
        } else {
            text
        };
        let (got_section, got_key, _) = one_problem(&text);
        assert_eq!(
            (got_section.as_str(), got_key.as_str()),
            (section.as_str(), key.as_str())
        );
        checked += 1;
    }
    assert!(checked > 50, "only {checked} typed keys checked");
}

#[test]
fn server_rules() {
    let s =
        settings("[server]\ndomain = alerts.example.com\nhttp_port = 8080\nread_timeout = 1m\n");
    assert_eq!(s.server.root_url, "http://alerts.example.com:8080/");
    assert_eq!(s.server.read_timeout, 60 * S);
    assert_eq!(s.server.protocol, Protocol::Http);
    let s = settings("[server]\nroot_url = https://example.com/wk\n");
    assert_eq!(s.server.root_url, "https://example.com/wk/");

    for (value, message) in [
        ("0", "expected a port number between 1 and 65535"),
        ("70000", "expected a port number between 1 and 65535"),
    ] {
        let (_, key, got) = one_problem(&format!("[server]\nhttp_port = {value}\n"));
        assert_eq!((key.as_str(), got.as_str()), ("http_port", message));
    }
    let (_, _, message) = one_problem("[server]\nprotocol = h2\n");
    assert_eq!(
        message,
        "protocol h2 is not supported by Watchkeeper: expected http or https"
    );
    let (_, _, message) = one_problem("[server]\nprotocol = ftp\n");
    assert_eq!(message, "expected one of: http, https");
    let (_, _, message) = one_problem("[server]\nroot_url = not a url\n");
    assert!(message.starts_with("invalid root_url"), "{message}");
}

#[test]
fn serve_from_sub_path_takes_the_path_of_root_url() {
    let s = settings("[server]\nroot_url = https://example.com/wk/\n");
    assert!(!s.server.serve_from_sub_path);
    assert_eq!(s.server.sub_path(), "");
    let s = settings("[server]\nroot_url = https://example.com/a/wk\nserve_from_sub_path = true\n");
    assert_eq!(s.server.sub_path(), "/a/wk");
    let s = settings("[server]\nserve_from_sub_path = true\n");
    assert_eq!(s.server.sub_path(), "", "root_url without a path");
}

#[test]
fn https_needs_existing_certificate_files() {
    let found = problems("[server]\nprotocol = https\n");
    let messages: Vec<&str> = found.iter().map(|(_, _, m)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "cert_file cannot be empty when using HTTPS",
            "cert_key cannot be empty when using HTTPS"
        ]
    );
    let (_, key, message) =
        one_problem("[server]\nprotocol = https\ncert_file = /nonexistent/c.pem\ncert_key = /\n");
    assert_eq!(key, "cert_file");
    assert_eq!(
        message,
        "cannot find SSL cert_file at \"/nonexistent/c.pem\""
    );
    let dir = TempDir::new("certs");
    let cert = dir.write("c.pem", "x");
    let key = dir.write("k.pem", "x");
    let text = format!(
        "[server]\nprotocol = HTTPS\ncert_file = {}\ncert_key = {}\n",
        cert.display(),
        key.display()
    );
    let s = settings(&text);
    assert_eq!(s.server.protocol, Protocol::Https);
    assert_eq!(s.server.cert_key, Some(key));
}

#[test]
fn database_rules() {
    let s = settings("[paths]\ndata = /var/lib/wk\n[database]\nconn_max_lifetime = 1h\n");
    assert_eq!(s.database.path, Path::new("/var/lib/wk/watchkeeper.db"));
    assert_eq!(s.database.conn_max_lifetime, 3600 * S);
    assert!(s.database.wal);
    assert_eq!(s.database.busy_timeout, 5 * S);
    assert_eq!(s.database.connect_retry_max_backoff, 30 * S);

    let s = settings("[database]\ntype = sqlite3\nurl = postgres://wk:pw@db:5432/alerts\n");
    let db = &s.database;
    assert_eq!(db.kind, DatabaseType::Postgres);
    assert_eq!(
        (
            db.host.as_str(),
            db.name.as_str(),
            db.user.as_str(),
            db.password.as_str()
        ),
        ("db:5432", "alerts", "wk", "pw")
    );
    let s = settings("[database]\nurl = sqlite:/data/x.db\n");
    assert_eq!(s.database.path, Path::new("/data/x.db"));

    let (_, key, message) = one_problem("[database]\ntype = oracle\n");
    assert_eq!(
        (key.as_str(), message.as_str()),
        ("type", "expected one of: sqlite3, postgres, mysql")
    );
    let (_, key, message) = one_problem("[database]\nurl = mongodb://h/db\n");
    assert_eq!(key, "url");
    assert!(
        message.starts_with("unsupported database url scheme \"mongodb\""),
        "{message}"
    );
}

#[test]
fn security_and_auth_rules() {
    let s = settings(
        "[security]\ncookie_samesite = Strict\n[auth]\nlogin_maximum_lifetime_duration = 2w\n",
    );
    assert_eq!(s.security.cookie_samesite, SameSite::Strict);
    assert_eq!(s.security.brute_force_login_protection_window, 300 * S);
    assert_eq!(s.auth.login_maximum_lifetime_duration, 14 * 86_400 * S);
    assert_eq!(
        s.auth.login_maximum_inactive_lifetime_duration,
        7 * 86_400 * S
    );
    assert_eq!(s.auth.login_cookie_name, "watchkeeper_session");

    let (_, key, message) = one_problem("[security]\ncookie_samesite = loose\n");
    assert_eq!(key, "cookie_samesite");
    assert_eq!(message, "expected one of: lax, strict, none, disabled");

    let text = "[auth]\ntoken_rotation_interval_minutes = 1\n";
    assert_eq!(settings(text).auth.token_rotation_interval_minutes, 2);
    let found = warnings(text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "must be at least 2; using 2");
}

#[test]
fn log_rules() {
    let s = settings("[log]\nlevel = DEBUG\nformat = json\nfilters = cluster:debug store:warn\n");
    assert_eq!(
        (s.log.level, s.log.format),
        (LogLevel::Debug, LogFormat::Json)
    );
    let (_, key, message) = one_problem("[log]\nlevel = verbose\n");
    assert_eq!(key, "level");
    assert_eq!(
        message,
        "expected one of: trace, debug, info, warn, error, critical"
    );
    let (_, key, message) = one_problem("[log]\nfilters = cluster:loud\n");
    assert_eq!(key, "filters");
    assert!(
        message.starts_with("invalid filter \"cluster:loud\""),
        "{message}"
    );
}

#[test]
fn unified_alerting_defaults() {
    let ua = settings("").unified_alerting;
    assert!(ua.enabled && ua.execute_alerts && !ua.ha_single_node_evaluation);
    assert_eq!(ua.ha_listen_address, "0.0.0.0:9094");
    assert_eq!(ua.ha_peer_timeout, 15 * S);
    assert_eq!(ua.ha_gossip_interval, Duration::from_millis(200));
    assert_eq!(ua.ha_reconnect_timeout, 6 * 3600 * S);
    assert_eq!(ua.ha_redis_max_conns, 5);
    assert_eq!((ua.max_attempts, ua.randomization_factor), (3, 0.1));
    assert_eq!((ua.initial_retry_delay, ua.max_retry_delay), (S, 4 * S));
    assert_eq!((ua.min_interval, ua.base_interval), (10 * S, 10 * S));
    assert_eq!(ua.default_rule_evaluation_interval, 60 * S);
    assert_eq!(ua.notification_log_retention, 5 * 86_400 * S);
    assert_eq!(ua.alertmanager_max_template_output_bytes, 10 * 1024 * 1024);
    assert_eq!(ua.ha_single_evaluation_alert_broadcast_queue_size, 200);
    assert_eq!(ua.ha_state_keys, crate::HaStateKeys::Grafana);
}

#[test]
fn unified_alerting_values() {
    let ua = settings(
        "[unified_alerting]\nenabled = false\ndisabled_orgs = 2, 5\n\
         ha_peers = a:9094 , b:9094,\nha_redis_address = r1:6379,r2:6379\n\
         ha_redis_prefix = wk\nmin_interval = 2m\nha_redis_tls_cipher_suites = X, Y\n",
    )
    .unified_alerting;
    assert!(!ua.enabled);
    assert_eq!(ua.disabled_orgs, [2, 5]);
    assert_eq!(ua.ha_peers, ["a:9094", "b:9094"]);
    assert_eq!(ua.ha_redis_address, ["r1:6379", "r2:6379"]);
    assert_eq!(ua.ha_redis_prefix, "wk:");
    assert_eq!(ua.min_interval, 120 * S);
    assert_eq!(ua.default_rule_evaluation_interval, 120 * S);
    assert_eq!(ua.ha_redis_tls_cipher_suites, ["X", "Y"]);
    let ua = settings("[unified_alerting]\nha_redis_prefix = wk:\n").unified_alerting;
    assert_eq!(ua.ha_redis_prefix, "wk:");
    let ua = settings("[unified_alerting]\nha_state_keys = alertmanager\n").unified_alerting;
    assert_eq!(ua.ha_state_keys, crate::HaStateKeys::Alertmanager);
}

#[test]
fn a_shorter_scheduler_tick_is_the_base_interval() {
    let ua = settings("[unified_alerting]\nscheduler_tick_interval = 1s\n").unified_alerting;
    assert_eq!(
        (
            ua.base_interval,
            ua.min_interval,
            ua.scheduler_tick_interval
        ),
        (S, 10 * S, S)
    );
    let ua = settings("[unified_alerting]\nscheduler_tick_interval = 1s\nmin_interval = 1s\n")
        .unified_alerting;
    assert_eq!(ua.min_interval, S);
    assert_eq!(ua.default_rule_evaluation_interval, 60 * S);
}

#[test]
fn unified_alerting_startup_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "enabled = maybe",
            "enabled",
            "failed to read unified alerting enabled setting: invalid value maybe, should be either true or false",
        ),
        (
            "disabled_orgs = 1,x",
            "disabled_orgs",
            "expected a comma-separated list of organization IDs; \"x\" is not a number",
        ),
        (
            "min_interval = 5s",
            "min_interval",
            "value of setting 'min_interval' should be greater than the base interval (10s)",
        ),
        (
            "min_interval = 15s",
            "min_interval",
            "value of setting 'min_interval' should be times of base interval (10s)",
        ),
        (
            "scheduler_tick_interval = 50ms",
            "scheduler_tick_interval",
            "must be at least 100ms and a whole number of milliseconds",
        ),
        (
            "scheduler_tick_interval = 1s\nmin_interval = 1500ms",
            "min_interval",
            "value of setting 'min_interval' should be times of base interval (1s)",
        ),
        (
            "ha_state_keys = consul",
            "ha_state_keys",
            "expected one of: grafana, alertmanager",
        ),
        (
            "max_attempts = 0",
            "max_attempts",
            "value of setting 'max_attempts' must be at least 1",
        ),
        (
            "initial_retry_delay = 10s",
            "initial_retry_delay",
            "value of setting 'initial_retry_delay' must not be greater than 'max_retry_delay'",
        ),
        (
            "ha_redis_sentinel_mode_enabled = true",
            "ha_redis_sentinel_mode_enabled",
            "'ha_redis_sentinel_master_name' is required when 'ha_redis_sentinel_mode_enabled' is true",
        ),
        (
            "ha_redis_cluster_mode_enabled = true\nha_redis_sentinel_mode_enabled = true\nha_redis_sentinel_master_name = m",
            "ha_redis_sentinel_mode_enabled",
            "'ha_redis_cluster_mode_enabled' and 'ha_redis_sentinel_mode_enabled' are mutually exclusive",
        ),
        (
            "ha_redis_tls_min_version = TLS1.2",
            "ha_redis_tls_min_version",
            "expected one of: VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13",
        ),
        (
            "randomization_factor = lots",
            "randomization_factor",
            "expected a decimal number such as 0.1",
        ),
    ];
    for (lines, key, message) in cases {
        let got = one_problem(&format!("[unified_alerting]\n{lines}\n"));
        assert_eq!(
            got,
            (
                "unified_alerting".to_string(),
                key.to_string(),
                message.to_string()
            ),
            "{lines}"
        );
    }
}

#[test]
fn unified_alerting_corrections_are_warnings() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "ha_redis_max_conns = -3",
            "ha_redis_max_conns",
            "negative; using 5",
        ),
        (
            "randomization_factor = 1.5",
            "randomization_factor",
            "must be between 0 and 1; using 0.1",
        ),
    ];
    for (line, key, message) in cases {
        let text = format!("[unified_alerting]\n{line}\n");
        let found = warnings(&text);
        assert_eq!(found.len(), 1, "{line}");
        assert_eq!(
            (found[0].key.as_str(), found[0].message.as_str()),
            (*key, *message)
        );
        assert!(matches!(
            found[0].source,
            Some(Source::File { line: 2, .. })
        ));
        let ua = settings(&text).unified_alerting;
        assert_eq!((ua.ha_redis_max_conns, ua.randomization_factor), (5, 0.1));
    }
}

#[test]
fn state_history_rules() {
    let s = settings(
        "[unified_alerting.state_history]\nbackend = multiple\nprimary = loki\n\
         secondaries = annotations, prometheus\nloki_remote_read_url = http://r:3100\n\
         loki_remote_write_url = http://w:3100\n\
         [unified_alerting.state_history.external_labels]\nregion = eu\nteam = sre\n",
    );
    let h = &s.state_history;
    assert_eq!(h.backend, StateHistoryBackend::Multiple);
    assert_eq!(h.secondaries, ["annotations", "prometheus"]);
    assert_eq!(h.loki_max_query_length, 721 * 3600 * S);
    assert_eq!(
        (h.loki_max_query_size, h.prometheus_write_timeout),
        (65536, 10 * S)
    );
    assert_eq!(h.prometheus_metric_name, "GRAFANA_ALERTS");
    let labels: Vec<(&str, &str)> = h
        .external_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(labels, [("region", "eu"), ("team", "sre")]);

    let section = "[unified_alerting.state_history]\n";
    let cases: &[(&str, &str, &str)] = &[
        (
            "backend = elastic",
            "backend",
            "expected one of: annotations, loki, prometheus, multiple",
        ),
        (
            "backend = multiple",
            "backend",
            "backend \"multiple\" needs 'primary' set to one of: annotations, loki, prometheus",
        ),
        (
            "backend = multiple\nprimary = multiple",
            "primary",
            "expected one of: annotations, loki, prometheus",
        ),
        (
            "backend = multiple\nprimary = annotations\nsecondaries = annotations, kafka",
            "secondaries",
            "unknown backend \"kafka\": expected a comma-separated list of annotations, loki, prometheus",
        ),
        (
            "backend = loki\nloki_remote_read_url = http://r:3100",
            "backend",
            "the loki backend needs loki_remote_url, or both loki_remote_read_url and loki_remote_write_url",
        ),
    ];
    for (lines, key, message) in cases {
        let got = one_problem(&format!("{section}{lines}\n"));
        assert_eq!(
            (got.1.as_str(), got.2.as_str()),
            (*key, *message),
            "{lines}"
        );
    }
    let (_, key, _) = one_problem(&format!(
        "{section}backend = loki\nloki_remote_url = http://loki:99999\n"
    ));
    assert_eq!(key, "loki_remote_url");
    let disabled = format!("{section}enabled = false\nbackend = loki\n");
    assert!(!settings(&disabled).state_history.enabled);
}

#[test]
fn debug_output_redacts_secret_fields() {
    let s = settings(
        "[security]\nadmin_password = pw1\nsecret_key = pw2\n\
         [database]\npassword = pw3\n\
         [unified_alerting]\nha_redis_password = pw4\nha_redis_sentinel_password = pw5\n\
         [unified_alerting.state_history]\nloki_basic_auth_password = pw6\n\
         loki_remote_url = http://u:pw7@loki:3100\n",
    );
    let shown = format!("{s:?}");
    for secret in ["pw1", "pw2", "pw3", "pw4", "pw5", "pw6", "pw7"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("ha_redis_password: \"*****\""), "{shown}");
}
