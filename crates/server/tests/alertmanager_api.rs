//! The Alertmanager API v2 through `amtool` (Debian prometheus-alertmanager 0.25) and plain
//! HTTP: alerts, silences, status, and silences surviving a restart (kvstore persistence).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Server, Start, TempDir, post_am_config};
use serde_json::Value;

const BASE: &str = "/api/alertmanager/grafana/api/v2";

fn amtool_available() -> bool {
    let ok = Command::new("amtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "amtool is required (WATCHKEEPER_TEST_REQUIRE_SERVICES=1) but not installed"
        );
        eprintln!("skipping: amtool is not installed");
    }
    ok
}

/// Runs amtool against `server` and returns its stdout; panics on failure.
fn amtool(server: &Server, http_config: &Path, args: &[&str]) -> String {
    let out = amtool_output(server, http_config, args);
    assert!(
        out.status.success(),
        "amtool {args:?} failed: {}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[tokio::test]
async fn amtool_alerts_silences_and_restart() {
    if !amtool_available() {
        return;
    }
    let cfg_dir = TempDir::new("amtool");
    let http_config = cfg_dir.path().join("http.yml");
    std::fs::write(
        &http_config,
        "basic_auth:\n  username: admin\n  password: admin\n",
    )
    .expect("write http config");

    let mut server = Server::start(&Start::default()).await;
    amtool(
        &server,
        &http_config,
        &["alert", "add", "alertname=Test", "severity=page"],
    );
    let alerts = json(&amtool(
        &server,
        &http_config,
        &["alert", "query", "-o", "json"],
    ));
    assert_eq!(alerts[0]["labels"]["alertname"], "Test", "{alerts}");
    assert_eq!(alerts[0]["status"]["state"], "active");
    assert_eq!(alerts[0]["receivers"][0]["name"], "default");

    let id = amtool(
        &server,
        &http_config,
        &[
            "silence",
            "add",
            "alertname=Test",
            "-c",
            "test",
            "-a",
            "tester",
        ],
    )
    .trim()
    .to_owned();
    assert_eq!(id.len(), 36, "silence id {id:?}");
    let silences = json(&amtool(
        &server,
        &http_config,
        &["silence", "query", "-o", "json"],
    ));
    assert_eq!(silences[0]["id"], id.as_str(), "{silences}");
    assert_eq!(silences[0]["createdBy"], "tester");
    assert_eq!(silences[0]["status"]["state"], "active");

    // Silenced alerts are hidden by default and shown, suppressed, with --silenced.
    let alerts = json(&amtool(
        &server,
        &http_config,
        &["alert", "query", "-o", "json"],
    ));
    assert_eq!(alerts, Value::Array(vec![]));
    let alerts = json(&amtool(
        &server,
        &http_config,
        &["alert", "query", "--silenced", "-o", "json"],
    ));
    assert_eq!(alerts[0]["status"]["state"], "suppressed");
    assert_eq!(alerts[0]["status"]["silencedBy"][0], id.as_str());

    amtool(&server, &http_config, &["silence", "expire", &id]);
    let expired = json(&amtool(
        &server,
        &http_config,
        &["silence", "query", "--expired", "-o", "json"],
    ));
    assert_eq!(expired[0]["status"]["state"], "expired", "{expired}");

    // Restart on the same homepath: the silence comes back from the database.
    assert!(
        server.terminate(Duration::from_secs(30)).success(),
        "{}",
        server.log()
    );
    let home = server.take_home();
    let server = Server::spawn_in(&Start::default(), home);
    server.wait_healthy(Duration::from_secs(60)).await;
    let expired = json(&amtool(
        &server,
        &http_config,
        &["silence", "query", "--expired", "-o", "json"],
    ));
    assert_eq!(expired[0]["id"], id.as_str(), "{expired}");
    assert_eq!(expired[0]["status"]["state"], "expired");
}

#[tokio::test]
async fn http_shapes_status_codes_and_roles() {
    let server = Server::start(&Start::default()).await;
    let http = reqwest::Client::new();
    let url = |p: &str| server.url(&format!("{BASE}{p}"));

    // Unauthenticated → 401.
    let r = http.get(url("/alerts")).send().await.expect("get");
    assert_eq!(r.status(), 401);

    let r = http
        .post(url("/alerts"))
        .basic_auth("admin", Some("admin"))
        .json(&serde_json::json!([
            {"labels": {"alertname": "A"}},
            {"labels": {}},
            {"labels": {"alertname": "B"}, "startsAt": "2030-01-02T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z"}
        ]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let text = r.text().await.expect("text");
    assert!(text.contains("at least one label pair required"), "{text}");
    assert!(
        text.contains("start time must be before end time"),
        "{text}"
    );

    let get = |p: String| http.get(url(&p)).basic_auth("admin", Some("admin")).send();
    let alerts: Value = get("/alerts".into())
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(alerts.as_array().map(Vec::len), Some(1), "{alerts}");
    assert_eq!(alerts[0]["fingerprint"].as_str().map(str::len), Some(16));
    assert_eq!(alerts[0]["status"]["inhibitedBy"], Value::Array(vec![]));
    let none: Value = get("/alerts?receiver=nope&filter=alertname%3D%22A%22".into())
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(none, Value::Array(vec![]));
    let r = get("/alerts?filter=%7B%7B".into()).await.expect("get");
    assert_eq!(r.status(), 400);

    let groups: Value = get("/alerts/groups".into())
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(groups[0]["receiver"]["name"], "default", "{groups}");
    assert_eq!(groups[0]["labels"]["alertname"], "A");

    let status: Value = get("/status".into())
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(status["cluster"]["status"], "disabled");
    assert!(
        status["config"]["original"]
            .as_str()
            .is_some_and(|c| c.contains("default"))
    );
    let receivers: Value = get("/receivers".into())
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(receivers, serde_json::json!([{"name": "default"}]));

    let r = get("/silence/00000000-0000-0000-0000-000000000000".into())
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    let r = http
        .delete(url("/silence/00000000-0000-0000-0000-000000000000"))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 404);
    let r = http
        .post(url("/silences"))
        .basic_auth("admin", Some("admin"))
        .json(&serde_json::json!({
            "id": "00000000-0000-0000-0000-000000000000",
            "matchers": [{"name": "a", "value": "b", "isRegex": false}],
            "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2030-01-02T00:00:00Z",
            "createdBy": "me", "comment": "c"
        }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);
    let r = http
        .post(url("/silences"))
        .basic_auth("admin", Some("admin"))
        .json(&serde_json::json!({
            "matchers": [],
            "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2030-01-02T00:00:00Z",
            "createdBy": "me", "comment": "c"
        }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let r = http
        .post(url("/silences"))
        .basic_auth("admin", Some("admin"))
        .json(&serde_json::json!({
            "matchers": [{"name": "alertname", "value": "A", "isRegex": false}],
            "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2030-01-02T00:00:00Z",
            "createdBy": "me", "comment": "c"
        }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().await.expect("json")["silenceID"]
        .as_str()
        .expect("id")
        .to_owned();
    let s: Value = get(format!("/silence/{id}"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(s["status"]["state"], "pending");
    assert_eq!(s["matchers"][0]["isEqual"], true);
}

/// Runs amtool without checking its exit status (for the failures we compare to upstream's).
fn amtool_output(server: &Server, http_config: &Path, args: &[&str]) -> std::process::Output {
    Command::new("amtool")
        .arg("--no-version-check")
        .arg(format!(
            "--alertmanager.url=http://127.0.0.1:{}/api/alertmanager/grafana",
            server.port
        ))
        .arg(format!("--http.config.file={}", http_config.display()))
        .args(args)
        .output()
        .expect("run amtool")
}

fn http_config(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.path().join("http.yml");
    std::fs::write(&path, "basic_auth:\n  username: admin\n  password: admin\n")
        .expect("write http config");
    path
}

/// The first matcher value of each silence, sorted.
fn matcher_values(silences: &Value) -> Vec<String> {
    let mut out: Vec<String> = silences
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["matchers"][0]["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// `amtool cluster show`, `silence update` and `silence import`, including the failures upstream's
/// `test/cli` checks (invalid JSON, an invalid silence, a partly invalid file); amtool 0.25's
/// messages and exit codes were compared with a real `prometheus-alertmanager` 0.25.
#[tokio::test]
async fn amtool_cluster_show_silence_update_and_import() {
    if !amtool_available() {
        return;
    }
    let dir = TempDir::new("amtool-import");
    let http_config = http_config(&dir);
    let server = Server::start(&Start::default()).await;

    // Single node: the cluster status is "disabled", printed as amtool prints it.
    let shown = amtool(&server, &http_config, &["cluster", "show"]);
    assert!(
        shown.starts_with("Cluster Status:  disabled\nNode Name:"),
        "{shown:?}"
    );
    let shown = json(&amtool(
        &server,
        &http_config,
        &["cluster", "show", "-o", "json"],
    ));
    assert_eq!(
        shown,
        serde_json::json!({"peers": [], "status": "disabled"})
    );

    // Update: a longer end and a new comment keep the id (updated in place).
    let id = amtool(
        &server,
        &http_config,
        &[
            "silence",
            "add",
            "alertname=Upd",
            "-c",
            "before",
            "-a",
            "me",
            "-d",
            "1h",
        ],
    )
    .trim()
    .to_owned();
    amtool(
        &server,
        &http_config,
        &["silence", "update", &id, "--duration=2h", "--comment=after"],
    );
    let silences = json(&amtool(
        &server,
        &http_config,
        &["silence", "query", "-o", "json"],
    ));
    assert_eq!(silences.as_array().map(Vec::len), Some(1), "{silences}");
    assert_eq!(silences[0]["id"], id.as_str());
    assert_eq!(silences[0]["comment"], "after");
    assert_eq!(silences[0]["createdBy"], "me");

    // Export, expire, import: the silence comes back active under a new id.
    let export = amtool(&server, &http_config, &["silence", "query", "-o", "json"]);
    let export_file = dir.path().join("export.json");
    std::fs::write(&export_file, &export).expect("write export");
    amtool(&server, &http_config, &["silence", "expire", &id]);
    let active = json(&amtool(
        &server,
        &http_config,
        &["silence", "query", "-o", "json"],
    ));
    assert_eq!(active, Value::Array(vec![]));
    let imported = amtool(
        &server,
        &http_config,
        &["silence", "import", &export_file.display().to_string()],
    );
    let new_id = imported.trim();
    assert_eq!(new_id.len(), 36, "{imported:?}");
    assert_ne!(new_id, id);
    let active = json(&amtool(
        &server,
        &http_config,
        &["silence", "query", "-o", "json"],
    ));
    assert_eq!(active[0]["id"], new_id, "{active}");
    assert_eq!(active[0]["comment"], "after");
    assert_eq!(active[0]["status"]["state"], "active");

    // An export from another Alertmanager (an id unknown here): amtool gets 404 "not found"
    // and posts it again without the id.
    let foreign = export.replace(&id, "5f0ad1e3-1b1c-4f43-9d9e-4c1e1a9f0000");
    let foreign = foreign.replace("Upd", "Foreign");
    let foreign_file = dir.path().join("foreign.json");
    std::fs::write(&foreign_file, foreign).expect("write foreign");
    let out = amtool_output(
        &server,
        &http_config,
        &["silence", "import", &foreign_file.display().to_string()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Invalid JSON.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"[{"broken": "json""#).expect("write");
    let out = amtool_output(
        &server,
        &http_config,
        &["silence", "import", &bad.display().to_string()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("couldn't unmarshal"), "{stderr}");

    // An invalid silence (zero times): 400 with upstream's message; amtool 0.25 reports it (and,
    // like against upstream 0.25, still exits 0 when every silence failed).
    let invalid = dir.path().join("invalid.json");
    std::fs::write(
        &invalid,
        r#"[{"matchers":[{"name":"alertname","value":"test","isRegex":false}],
            "startsAt":"0001-01-01T00:00:00.000Z","endsAt":"0001-01-01T00:00:00.000Z",
            "createdBy":"test","comment":"zero"}]"#,
    )
    .expect("write");
    let out = amtool_output(
        &server,
        &http_config,
        &["silence", "import", &invalid.display().to_string()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "[400] postSilencesBadRequest  Failed to create silence: start time must be before end time"
        ),
        "{stderr}"
    );

    // Partly invalid: the three valid silences are created, the import fails.
    let now = chrono::Utc::now();
    let later = now + chrono::TimeDelta::hours(4);
    let mixed: Vec<Value> = (1..=5)
        .map(|i| {
            let (s, e) = if i % 2 == 1 {
                (now, later)
            } else {
                (later, now)
            };
            serde_json::json!({
                "matchers": [{"name": "alertname", "value": format!("test{i}"), "isRegex": false}],
                "startsAt": s.to_rfc3339(), "endsAt": e.to_rfc3339(),
                "createdBy": "test", "comment": format!("silence {i}")
            })
        })
        .collect();
    let mixed_file = dir.path().join("mixed.json");
    std::fs::write(&mixed_file, Value::Array(mixed).to_string()).expect("write");
    let out = amtool_output(
        &server,
        &http_config,
        &["silence", "import", &mixed_file.display().to_string()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("couldn't import"), "{stderr}");

    let active = json(&amtool(
        &server,
        &http_config,
        &["silence", "query", "-o", "json"],
    ));
    assert_eq!(
        matcher_values(&active),
        ["Foreign", "Upd", "test1", "test3", "test5"],
        "{active}"
    );
}

/// Headers, the removed v1 API, the OpenAPI document, the `muted` and silence state filters,
/// and the Alertmanager metrics on `/metrics`.
#[tokio::test]
async fn v2_headers_v1_gone_openapi_filters_and_metrics() {
    let server = Server::start(&Start::default()).await;
    let http = reqwest::Client::new();
    let url = |p: &str| server.url(&format!("{BASE}{p}"));
    let no_store = |r: &reqwest::Response| {
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };

    // Cache-Control: no-store on successes and errors alike.
    let r = http.get(url("/status")).send().await.expect("get");
    assert_eq!(r.status(), 401);
    assert_eq!(no_store(&r).as_deref(), Some("no-store"));
    let get = |p: &str| http.get(url(p)).basic_auth("admin", Some("admin")).send();
    let r = get("/status").await.expect("get");
    assert_eq!(r.status(), 200);
    assert_eq!(no_store(&r).as_deref(), Some("no-store"));
    let r = get("/alerts?active=maybe").await.expect("get");
    assert_eq!(r.status(), 400);
    assert_eq!(no_store(&r).as_deref(), Some("no-store"));
    let r = get("/nothing-here").await.expect("get");
    assert_eq!(r.status(), 404);
    assert_eq!(no_store(&r).as_deref(), Some("no-store"));
    let r = http
        .get(server.url("/api/user"))
        .basic_auth("admin", Some("admin"))
        .send()
        .await;
    assert_eq!(
        no_store(&r.expect("get")),
        None,
        "only the v2 API is marked"
    );

    // API v1: 410 with upstream's body, for every former route.
    for (method, path) in [
        ("GET", "status"),
        ("GET", "receivers"),
        ("GET", "alerts"),
        ("POST", "alerts"),
        ("GET", "alerts/groups"),
        ("GET", "silences"),
        ("POST", "silences"),
        ("GET", "silence/abc"),
        ("DELETE", "silence/abc"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = http
            .request(
                m,
                server.url(&format!("/api/alertmanager/grafana/api/v1/{path}")),
            )
            .send()
            .await
            .expect("v1");
        assert_eq!(r.status(), 410, "{method} {path}");
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        assert_eq!(
            r.text().await.expect("body"),
            "{\"status\":\"deprecated\",\"error\":\"The Alertmanager v1 API was deprecated in version 0.16.0 and is removed as of version 0.27.0 - please use the equivalent route in the v2 API\"}\n"
        );
    }

    // The OpenAPI document, without credentials.
    let r = http
        .get(url("/openapi.yaml"))
        .send()
        .await
        .expect("openapi");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("text");
    assert!(text.contains("swagger: '2.0'") && text.contains("/alerts/groups:"));

    // Handler errors are JSON strings, as upstream's (go-swagger clients decode them).
    let r = http
        .post(url("/silences"))
        .basic_auth("admin", Some("admin"))
        .json(&serde_json::json!({
            "matchers": [{"name": "a", "value": "b", "isRegex": false}],
            "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2020-01-02T00:00:00Z",
            "createdBy": "me", "comment": "c"
        }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        "Failed to create silence: end time can't be in the past"
    );

    // A configuration whose route for team=night is muted by an interval that always applies.
    let config = serde_json::json!({
        "template_files": {},
        "alertmanager_config": {
            "time_intervals": [{"name": "always", "time_intervals": [{"weekdays": ["sunday:saturday"]}]}],
            "route": {
                "receiver": "default", "group_by": ["alertname"],
                "routes": [{"receiver": "default", "matchers": ["team=night"], "mute_time_intervals": ["always"]}]
            },
            "receivers": [{"name": "default", "grafana_managed_receiver_configs": []}]
        }
    });
    let r = post_am_config(&http, &server, &config).await;
    assert_eq!(r.status(), 202, "{}", server.log());
    let r = http
        .post(url("/alerts"))
        .basic_auth("admin", Some("admin"))
        .json(&serde_json::json!([
            {"labels": {"alertname": "Night", "team": "night"}},
            {"labels": {"alertname": "Day", "team": "day"}},
        ]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let groups = loop {
        let groups: Value = get("/alerts/groups")
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if groups.as_array().map(Vec::len) == Some(2) {
            break groups;
        }
        assert!(std::time::Instant::now() < deadline, "{groups}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let night = groups
        .as_array()
        .and_then(|g| g.iter().find(|g| g["labels"]["alertname"] == "Night"))
        .expect("night group");
    assert_eq!(night["routeLabels"], serde_json::json!({}));
    assert_eq!(
        night["alerts"][0]["status"]["mutedBy"],
        serde_json::json!(["always"])
    );
    assert_eq!(night["alerts"][0]["status"]["state"], "suppressed");
    let unmuted: Value = get("/alerts/groups?muted=false")
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(unmuted.as_array().map(Vec::len), Some(1), "{unmuted}");
    assert_eq!(unmuted[0]["labels"]["alertname"], "Day");
    assert_eq!(
        unmuted[0]["alerts"][0]["status"]["mutedBy"],
        serde_json::json!([])
    );
    assert_eq!(unmuted[0]["alerts"][0]["status"]["state"], "active");
    // /alerts does not report time-interval muting (as upstream).
    let alerts: Value = get("/alerts")
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(
        alerts
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["status"]["state"] == "active"))
    );

    // Silence state filters: one active, one pending, one expired.
    let now = chrono::Utc::now();
    let mut ids = Vec::new();
    for (name, start) in [
        ("act", now),
        ("pend", now + chrono::TimeDelta::hours(1)),
        ("exp", now),
    ] {
        let r = http
            .post(url("/silences"))
            .basic_auth("admin", Some("admin"))
            .json(&serde_json::json!({
                "matchers": [{"name": "alertname", "value": name, "isRegex": false}],
                "startsAt": start.to_rfc3339(),
                "endsAt": (start + chrono::TimeDelta::hours(2)).to_rfc3339(),
                "createdBy": "me", "comment": name
            }))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 200);
        ids.push(r.json::<Value>().await.expect("json")["silenceID"].clone());
    }
    let exp = ids[2].as_str().expect("id");
    let r = http
        .delete(url(&format!("/silence/{exp}")))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 200);
    let comments = |v: Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["comment"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (query, want) in [
        ("", vec!["act", "pend", "exp"]),
        ("?active=false", vec!["pend", "exp"]),
        ("?pending=false&expired=false", vec!["act"]),
        ("?active=false&pending=false&expired=false", vec![]),
    ] {
        let got: Value = get(&format!("/silences{query}"))
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(comments(got), want, "{query}");
    }
    let r = get("/silences?expired=nope").await.expect("get");
    assert_eq!(r.status(), 400);

    // Metrics of organization 1's Alertmanager, under upstream's names with an org label.
    let text = http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for line in [
        // Muting by time intervals is not an alert state (as upstream).
        "alertmanager_alerts{org=\"1\",state=\"active\"} 2",
        "alertmanager_alerts{org=\"1\",state=\"suppressed\"} 0",
        "alertmanager_alerts_received_total{org=\"1\",status=\"firing\"} 2",
        "alertmanager_alerts_invalid_total{org=\"1\"} 0",
        "alertmanager_silences{org=\"1\",state=\"active\"} 1",
        "alertmanager_silences{org=\"1\",state=\"pending\"} 1",
        "alertmanager_silences{org=\"1\",state=\"expired\"} 1",
        "alertmanager_dispatcher_aggregation_groups{org=\"1\"} 2",
        "alertmanager_notifications_total{org=\"1\",integration=\"webhook\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(
        text.contains("alertmanager_silences_snapshot_size_bytes{org=\"1\"}"),
        "{text}"
    );
}
