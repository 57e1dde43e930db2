//! The Alertmanager API v2 through `amtool` (Debian prometheus-alertmanager 0.25) and plain
//! HTTP: alerts, silences, status, and silences surviving a restart (kvstore persistence).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Server, Start, TempDir};
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
    let out = Command::new("amtool")
        .arg(format!(
            "--alertmanager.url=http://127.0.0.1:{}/api/alertmanager/grafana",
            server.port
        ))
        .arg(format!("--http.config.file={}", http_config.display()))
        .args(args)
        .output()
        .expect("run amtool");
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
