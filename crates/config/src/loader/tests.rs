use super::*;
use crate::test_support::TempDir;
use crate::{DatabaseType, StateHistoryBackend};

/// Options with an empty environment and `dir` as home path.
fn options(dir: &TempDir) -> LoadOptions {
    LoadOptions {
        config_file: None,
        homepath: dir.path().to_path_buf(),
        args: Vec::new(),
        env: Vec::new(),
    }
}

/// Options that load `text` as the `--config` file.
fn with_file(dir: &TempDir, text: &str) -> LoadOptions {
    LoadOptions {
        config_file: Some(dir.write("custom.ini", text)),
        ..options(dir)
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

fn ok(opts: &LoadOptions) -> Loaded {
    load(opts).unwrap_or_else(|err| panic!("unexpected problems:\n{err}"))
}

fn problems(opts: &LoadOptions) -> Vec<Problem> {
    match load(opts) {
        Ok(_) => panic!("expected problems"),
        Err(err) => err.problems,
    }
}

fn source_of(loaded: &Loaded, section: &str, key: &str) -> Option<Source> {
    loaded.raw.get(section, key).map(|v| v.source.clone())
}

fn machine_hostname() -> String {
    hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn defaults_alone_load_cleanly() {
    let dir = TempDir::new("defaults");
    let loaded = ok(&options(&dir));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let s = &loaded.settings;
    assert_eq!(s.server.http_port, 3000);
    assert_eq!(s.server.root_url, "http://localhost:3000/");
    assert_eq!(s.database.kind, DatabaseType::Sqlite3);
    assert_eq!(
        s.database.path,
        dir.path().join("data").join("watchkeeper.db")
    );
    assert_eq!(s.paths.logs, dir.path().join("data/log"));
    assert_eq!(s.instance_name, machine_hostname());
    let line = DEFAULTS_INI
        .lines()
        .position(|l| l.starts_with("http_port"))
        .map(|i| i + 1);
    assert_eq!(
        source_of(&loaded, "server", "http_port"),
        line.map(|line| Source::Defaults { line })
    );
}

#[test]
fn every_layer_overrides_the_one_before() {
    let dir = TempDir::new("layers");
    let text = "[server]\ndomain = from-file\nhttp_port = 4000\n[log]\nlevel = debug\n";
    let opts = LoadOptions {
        args: args(&[
            "cfg:default.server.domain=from-default-arg",
            "cfg:default.server.http_addr=10.0.0.1",
            "cfg:log.level=error",
            "--not-a-cfg-arg",
        ]),
        env: env(&[
            ("WATCHKEEPER_SERVER_HTTP_PORT", "5000"),
            ("WATCHKEEPER_LOG_LEVEL", "warn"),
        ]),
        ..with_file(&dir, text)
    };
    let loaded = ok(&opts);
    let s = &loaded.settings;
    assert_eq!(s.server.http_addr, "10.0.0.1");
    assert_eq!(s.server.domain, "from-file");
    assert_eq!(s.server.http_port, 5000);
    assert_eq!(s.log.level, crate::LogLevel::Error);
    let file = |line| Source::File {
        path: dir.path().join("custom.ini"),
        line,
    };
    let cases = [
        (
            "server",
            "http_addr",
            Source::arg("cfg:default.server.http_addr=10.0.0.1"),
        ),
        ("server", "domain", file(2)),
        (
            "server",
            "http_port",
            Source::Env {
                var: "WATCHKEEPER_SERVER_HTTP_PORT".into(),
            },
        ),
        ("log", "level", Source::arg("cfg:log.level=error")),
    ];
    for (section, key, want) in cases {
        assert_eq!(
            source_of(&loaded, section, key),
            Some(want),
            "[{section}] {key}"
        );
    }
}

#[test]
fn only_non_empty_file_values_overlay() {
    let dir = TempDir::new("overlay");
    let loaded = ok(&with_file(&dir, "[server]\ndomain =\nhttp_port = 3100\n"));
    assert_eq!(loaded.settings.server.domain, "localhost");
    assert!(matches!(
        source_of(&loaded, "server", "domain"),
        Some(Source::Defaults { .. })
    ));
    assert_eq!(loaded.settings.server.http_port, 3100);
}

#[test]
fn custom_ini_in_the_home_path_is_used_without_config() {
    let dir = TempDir::new("custom");
    dir.write(CUSTOM_INI, "[server]\nhttp_port = 3300\n");
    assert_eq!(ok(&options(&dir)).settings.server.http_port, 3300);
    let explicit = with_file(&dir, "[server]\nhttp_port = 3400\n");
    assert_eq!(ok(&explicit).settings.server.http_port, 3400);
}

#[test]
fn missing_config_file_is_an_error() {
    let dir = TempDir::new("missing");
    let path = dir.path().join("nope.ini");
    let opts = LoadOptions {
        config_file: Some(path.clone()),
        ..options(&dir)
    };
    let found = problems(&opts);
    assert_eq!(found.len(), 1);
    let message = found[0].to_string();
    assert!(
        message.starts_with("cannot read configuration file"),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn syntax_errors_name_file_and_line() {
    let dir = TempDir::new("syntax");
    let opts = with_file(&dir, "[server]\nhttp_port 3000\npassword = \"\"\"open\n");
    let path = dir.path().join("custom.ini").display().to_string();
    let shown: Vec<String> = problems(&opts).iter().map(|p| p.to_string()).collect();
    assert_eq!(
        shown,
        [
            format!("{path}:2: key-value delimiter not found: http_port 3000"),
            format!("{path}:3: missing closing \"\"\" for the value that starts here"),
        ]
    );
}

#[test]
fn environment_names_follow_grafana() {
    let cases = [
        ("server", "http_port", "WATCHKEEPER_SERVER_HTTP_PORT"),
        (
            "unified_alerting.state_history",
            "backend",
            "WATCHKEEPER_UNIFIED_ALERTING_STATE_HISTORY_BACKEND",
        ),
        (
            "DEFAULT",
            "instance_name",
            "WATCHKEEPER_DEFAULT_INSTANCE_NAME",
        ),
        (
            "auth.generic-oauth",
            "client.id",
            "WATCHKEEPER_AUTH_GENERIC_OAUTH_CLIENT_ID",
        ),
    ];
    for (section, key, want) in cases {
        assert_eq!(env_key(section, key), want);
    }
}

#[test]
fn environment_overrides_nested_sections_and_ignores_empty_values() {
    let dir = TempDir::new("env");
    let opts = LoadOptions {
        env: env(&[
            ("WATCHKEEPER_UNIFIED_ALERTING_STATE_HISTORY_BACKEND", "loki"),
            (
                "WATCHKEEPER_UNIFIED_ALERTING_STATE_HISTORY_LOKI_REMOTE_URL",
                "http://loki:3100",
            ),
            (
                "WATCHKEEPER_UNIFIED_ALERTING_STATE_HISTORY_EXTERNAL_LABELS_TEAM",
                "sre",
            ),
            ("WATCHKEEPER_DEFAULT_INSTANCE_NAME", "node-a"),
            ("WATCHKEEPER_SERVER_DOMAIN", ""),
        ]),
        ..with_file(
            &dir,
            "[unified_alerting.state_history.external_labels]\nteam = ops\n",
        )
    };
    let loaded = ok(&opts);
    let history = &loaded.settings.state_history;
    assert_eq!(history.backend, StateHistoryBackend::Loki);
    assert_eq!(
        history.external_labels.get("team").map(String::as_str),
        Some("sre")
    );
    assert_eq!(loaded.settings.instance_name, "node-a");
    assert_eq!(loaded.settings.server.domain, "localhost");
}

#[test]
fn values_are_expanded_after_all_layers() {
    let dir = TempDir::new("expand");
    let secret = dir.write("db-password", "  p@ss#word\n");
    let text = format!(
        "[unified_alerting]\nha_advertise_address = \"${{POD_IP}}:9094\"\n\
         [database]\npassword = $__file{{{}}}\n",
        secret.display()
    );
    let opts = LoadOptions {
        env: env(&[
            ("POD_IP", "10.1.2.3"),
            ("MY_DOMAIN", "alerts.example.com"),
            ("WATCHKEEPER_SERVER_DOMAIN", "${MY_DOMAIN}"),
        ]),
        ..with_file(&dir, &text)
    };
    let loaded = ok(&opts);
    let s = &loaded.settings;
    assert_eq!(s.unified_alerting.ha_advertise_address, "10.1.2.3:9094");
    assert_eq!(s.database.password, "p@ss#word");
    assert_eq!(s.server.domain, "alerts.example.com");
    assert_eq!(s.server.root_url, "http://alerts.example.com:3000/");
    assert_eq!(
        source_of(&loaded, "server", "domain"),
        Some(Source::Env {
            var: "WATCHKEEPER_SERVER_DOMAIN".into()
        })
    );
    assert_eq!(s.instance_name, machine_hostname());
}

#[test]
fn expansion_failures_name_key_source_and_path() {
    let dir = TempDir::new("expand-fail");
    let missing = dir.path().join("no-such-secret");
    let text = format!(
        "[security]\nadmin_password = $__file{{{}}}\n[server]\ndomain = $__vault{{kv/domain}}\n",
        missing.display()
    );
    let opts = with_file(&dir, &text);
    let found = problems(&opts);
    assert_eq!(found.len(), 2, "{found:?}");
    let path = dir.path().join("custom.ini");
    let by_key = |key: &str| found.iter().find(|p| p.key == key).expect(key);
    let file = by_key("admin_password");
    assert_eq!(
        file.source,
        Some(Source::File {
            path: path.clone(),
            line: 2
        })
    );
    assert_eq!(file.section, "security");
    assert_eq!(file.value, "*****");
    assert!(
        file.message.contains(&missing.display().to_string()),
        "{file}"
    );
    let vault = by_key("domain");
    assert_eq!(vault.source, Some(Source::File { path, line: 4 }));
    assert!(
        vault.message.starts_with("unknown expander $__vault:"),
        "{vault}"
    );
}

#[test]
fn three_mistakes_give_exactly_three_problems() {
    let dir = TempDir::new("check");
    let text = "\
[server]
http_port = abc
[database]
type = oracle

[unified_alerting]
ha_peer_timeout = 15 seconds
";
    let found = problems(&with_file(&dir, text));
    let path = dir.path().join("custom.ini");
    let got: Vec<(Option<Source>, &str, &str)> = found
        .iter()
        .map(|p| (p.source.clone(), p.section.as_str(), p.key.as_str()))
        .collect();
    let at = |line| {
        Some(Source::File {
            path: path.clone(),
            line,
        })
    };
    assert_eq!(
        got,
        [
            (at(2), "server", "http_port"),
            (at(4), "database", "type"),
            (at(7), "unified_alerting", "ha_peer_timeout"),
        ]
    );
    assert_eq!(
        found[0].to_string(),
        format!(
            "{}:2: [server] http_port = \"abc\": expected a port number between 1 and 65535",
            path.display()
        )
    );
}

#[test]
fn unknown_keys_and_sections_are_warnings() {
    let dir = TempDir::new("unknown");
    let text = "[server]\nhtp_port = 3000\n[nonsense]\na = 1\nb = 2\n[alerting]\nenabled = true\n";
    let opts = LoadOptions {
        args: args(&[
            "cfg:server.made_up=1",
            "cfg:unified_alerting.ha_peers=a:9094",
        ]),
        ..with_file(&dir, text)
    };
    let loaded = ok(&opts);
    let got: Vec<(&str, &str)> = loaded
        .warnings
        .iter()
        .map(|w| (w.section.as_str(), w.key.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("nonsense", ""),
            ("alerting", ""),
            ("server", "htp_port"),
            ("server", "made_up")
        ]
    );
    let path = dir.path().join("custom.ini").display().to_string();
    assert_eq!(
        loaded.warnings[2].to_string(),
        format!(
            "{path}:2: [server] htp_port = \"3000\": unknown key; Watchkeeper ignores it \
             (did you mean \"http_port\"?)"
        )
    );
    assert_eq!(
        loaded.warnings[3].source,
        Some(Source::arg("cfg:server.made_up=1"))
    );
    assert_eq!(loaded.settings.unified_alerting.ha_peers, ["a:9094"]);
}

#[test]
fn command_line_arguments() {
    let dir = TempDir::new("args");
    let opts = LoadOptions {
        args: args(&[
            "cfg:app_mode=development",
            "cfg:default.DEFAULT.instance_name=from-default",
            "cfg:server.root_url=https://x.example/?a=b",
            "cfg:unified_alerting.state_history.backend=annotations",
        ]),
        ..options(&dir)
    };
    let loaded = ok(&opts);
    assert_eq!(loaded.settings.app_mode, "development");
    assert_eq!(loaded.settings.instance_name, "from-default");
    assert_eq!(loaded.settings.server.root_url, "https://x.example/?a=b/");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    for bad in ["cfg:server.http_port", "cfg:=1", "cfg:server.=1"] {
        let opts = LoadOptions {
            args: args(&[bad]),
            ..options(&dir)
        };
        let found = problems(&opts);
        assert_eq!(found.len(), 1, "{bad}");
        assert!(
            found[0]
                .message
                .starts_with("invalid command-line argument"),
            "{bad}"
        );
    }
}

#[test]
fn secrets_never_appear_in_output() {
    let dir = TempDir::new("secrets");
    let text = "[security]\nadmin_password = hunter2\nsecret_key = hunter3\n\
                [database]\nurl = postgres://wk:hunter4@db/wk\n\
                [unified_alerting]\nha_redis_password = hunter5\n";
    let opts = LoadOptions {
        args: args(&["cfg:unified_alerting.ha_redis_sentinel_password=hunter6"]),
        env: env(&[(
            "WATCHKEEPER_UNIFIED_ALERTING_STATE_HISTORY_LOKI_BASIC_AUTH_PASSWORD",
            "hunter7",
        )]),
        ..with_file(&dir, text)
    };
    let loaded = ok(&opts);
    assert_eq!(loaded.settings.database.password, "hunter4");
    let shown = format!("{loaded:?} {opts:?}");
    for secret in [
        "hunter2", "hunter3", "hunter4", "hunter5", "hunter6", "hunter7",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked");
    }

    let bad = with_file(
        &dir,
        "[database]\nurl = redis://wk:hunter8@db/0\npassword = $__nope{hunter9}\n",
    );
    let shown = ConfigErrors {
        problems: problems(&bad),
    }
    .to_string();
    assert!(shown.contains("unsupported database url scheme"), "{shown}");
    assert!(!shown.contains("hunter8"), "{shown}");
    assert!(!shown.contains("hunter9"), "{shown}");
}
