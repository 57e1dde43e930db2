//! Where alerts go, black-box: with an external Alertmanager (Debian's `prometheus-alertmanager`
//! 0.25) registered as an Alertmanager data source that handles Grafana-managed alerts, the
//! choice `external` sends a firing rule's alert there only and `all` to both it and the
//! embedded one; a Mimir data source gets `/alertmanager` in the path and basic auth; the
//! admin config API round-trips and checks roles; and rule preview evaluates without saving.

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use common::ha::eventually;
use common::prometheus::{KillOnDrop, alertmanager_config};
use common::rules::{call, create_folder, csv_rule, fast_ticks, post_group};
use common::webhook::{Collector, has_alert};
use common::{Server, Start, TempDir, free_port};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_CONFIG: &str = "/api/v1/ngalert/admin_config";
const EMBEDDED_ALERTS: &str = "/api/alertmanager/grafana/api/v2/alerts";

fn alertmanager_binary() -> Option<&'static str> {
    let found = Command::new("prometheus-alertmanager")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("prometheus-alertmanager");
    }
    if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("prometheus-alertmanager is not installed but WATCHKEEPER_TEST_REQUIRE_SERVICES=1");
    }
    eprintln!("skipping: prometheus-alertmanager is not installed");
    None
}

/// A server with 1-second ticks that re-reads where alerts go every second.
async fn start_server() -> Server {
    let mut args = fast_ticks();
    args.push("cfg:unified_alerting.admin_config_poll_interval=1s".to_owned());
    Server::start(&Start {
        args,
        ..Start::default()
    })
    .await
}

/// A standalone `prometheus-alertmanager` notifying `hook`.
struct GoAlertmanager {
    port: u16,
    _process: KillOnDrop,
    _dir: TempDir,
}

impl GoAlertmanager {
    async fn start(bin: &str, hook: &Collector) -> GoAlertmanager {
        let dir = TempDir::new("ext-am");
        let config = alertmanager_config(dir.path(), &hook.url);
        let port = free_port();
        let process = KillOnDrop(
            Command::new(bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.path={}", dir.path().display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start prometheus-alertmanager"),
        );
        let am = GoAlertmanager {
            port,
            _process: process,
            _dir: dir,
        };
        let http = reqwest::Client::new();
        eventually(20, "prometheus-alertmanager answers", || async {
            let r = http.get(am.url("/api/v2/status")).send().await.ok()?;
            r.status().is_success().then_some(())
        })
        .await;
        am
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The alert names it holds.
    async fn alert_names(&self, http: &reqwest::Client) -> Vec<String> {
        let Ok(r) = http.get(self.url("/api/v2/alerts")).send().await else {
            return Vec::new();
        };
        let v: Value = r.json().await.unwrap_or(Value::Null);
        names(&v)
    }
}

/// The `alertname` labels of an Alertmanager API v2 alert list.
fn names(alerts: &Value) -> Vec<String> {
    alerts
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["labels"]["alertname"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The alert names the embedded Alertmanager of organization 1 holds.
async fn embedded_names(http: &reqwest::Client, server: &Server) -> Vec<String> {
    let (status, body) = call(http, server, Method::GET, EMBEDDED_ALERTS, None).await;
    assert_eq!(status, 200, "{body}");
    names(&body)
}

/// Registers an Alertmanager data source that handles Grafana-managed alerts.
async fn add_alertmanager(http: &reqwest::Client, server: &Server, body: Value) {
    let (status, answer) = call(http, server, Method::POST, "/api/datasources", Some(&body)).await;
    assert_eq!(status, 200, "{answer}");
}

async fn choose(http: &reqwest::Client, server: &Server, choice: &str) {
    let (status, body) = call(
        http,
        server,
        Method::POST,
        ADMIN_CONFIG,
        Some(&json!({"alertmanagersChoice": choice})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], "admin configuration updated");
}

/// A firing rule named `title` in a new folder.
async fn firing_rule(http: &reqwest::Client, server: &Server, title: &str) {
    let folder = create_folder(http, server, "Routing").await;
    post_group(
        http,
        server,
        &folder,
        "g",
        vec![csv_rule(title, "1,9", "0s")],
    )
    .await;
}

/// Starts a server and an external Alertmanager registered with `choice`; `None` without the
/// binary.
async fn with_external(choice: &str) -> Option<(Server, GoAlertmanager, Collector)> {
    let bin = alertmanager_binary()?;
    let hook = Collector::start().await;
    let am = GoAlertmanager::start(bin, &hook).await;
    let server = start_server().await;
    let http = reqwest::Client::new();
    add_alertmanager(
        &http,
        &server,
        json!({"name": "External AM", "type": "alertmanager", "access": "proxy",
               "url": format!("http://127.0.0.1:{}", am.port),
               "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": true}}),
    )
    .await;
    choose(&http, &server, choice).await;
    Some((server, am, hook))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_choice_sends_to_the_external_alertmanager_only() {
    let Some((server, am, hook)) = with_external("external").await else {
        return;
    };
    let http = reqwest::Client::new();
    firing_rule(&http, &server, "ToExternal").await;

    eventually(30, "the external alertmanager holds the alert", || async {
        am.alert_names(&http)
            .await
            .contains(&"ToExternal".to_owned())
            .then_some(())
    })
    .await;
    hook.wait_for(
        Duration::from_secs(30),
        || format!("log:\n{}", server.log()),
        |got| {
            got.iter()
                .any(|(_, b)| has_alert(b, "ToExternal"))
                .then_some(())
        },
    )
    .await;
    // Alerts go to both kinds in the same send: had the embedded one been chosen, it would
    // hold the alert by now. A few more evaluations change nothing.
    assert_eq!(embedded_names(&http, &server).await, Vec::<String>::new());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(embedded_names(&http, &server).await, Vec::<String>::new());

    let (status, body) = call(
        &http,
        &server,
        Method::GET,
        "/api/v1/ngalert/alertmanagers",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"status": "success", "data": {
            "activeAlertManagers": [{"url": am.url("/api/v2/alerts")}],
            "droppedAlertManagers": []}})
    );
    let (_, status_body) = call(&http, &server, Method::GET, "/api/v1/ngalert", None).await;
    assert_eq!(
        status_body,
        json!({"alertmanagersChoice": "external", "numExternalAlertmanagers": 1})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_choice_sends_to_both() {
    let Some((server, am, _hook)) = with_external("all").await else {
        return;
    };
    let http = reqwest::Client::new();
    firing_rule(&http, &server, "ToBoth").await;
    eventually(30, "both alertmanagers hold the alert", || async {
        let external = am.alert_names(&http).await.contains(&"ToBoth".to_owned());
        let embedded = embedded_names(&http, &server)
            .await
            .contains(&"ToBoth".to_owned());
        (external && embedded).then_some(())
    })
    .await;

    // `internal`: the external Alertmanager is no longer listed (within the poll interval).
    choose(&http, &server, "internal").await;
    eventually(10, "no external alertmanager listed", || async {
        let (_, body) = call(
            &http,
            &server,
            Method::GET,
            "/api/v1/ngalert/alertmanagers",
            None,
        )
        .await;
        (body["data"]["activeAlertManagers"] == json!([])).then_some(())
    })
    .await;
}

/// What a fake Mimir Alertmanager received: `Authorization` and body of each POST.
type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

async fn fake_mimir() -> (String, Received) {
    let got: Received = Arc::default();
    let shared = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/prefix/alertmanager/api/v2/alerts",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let shared = Arc::clone(&shared);
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = serde_json::from_str(&body).unwrap_or(Value::Null);
                shared.lock().expect("lock").push((auth, body));
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/prefix"), got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mimir_alertmanager_gets_its_path_and_basic_auth() {
    let (url, got) = fake_mimir().await;
    let server = start_server().await;
    let http = reqwest::Client::new();
    add_alertmanager(
        &http,
        &server,
        json!({"name": "Mimir", "type": "alertmanager", "url": url,
               "basicAuth": true, "basicAuthUser": "tenant",
               "secureJsonData": {"basicAuthPassword": "s3cret"},
               "jsonData": {"implementation": "mimir", "handleGrafanaManagedAlerts": true}}),
    )
    .await;
    choose(&http, &server, "external").await;
    firing_rule(&http, &server, "ToMimir").await;

    let (auth, body) = eventually(30, "the fake Mimir gets the alert", || async {
        got.lock().expect("lock").first().cloned()
    })
    .await;
    // base64("tenant:s3cret")
    assert_eq!(auth.as_deref(), Some("Basic dGVuYW50OnMzY3JldA=="));
    let alert = &body[0];
    assert_eq!(alert["labels"]["alertname"], "ToMimir", "{body}");
    assert_eq!(alert["labels"]["grafana_folder"], "Routing");
    assert_eq!(alert["annotations"]["summary"], "value is high");
    for field in ["startsAt", "endsAt"] {
        let t = alert[field].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok(),
            "{field}: {body}"
        );
    }
    let (_, listed) = call(
        &http,
        &server,
        Method::GET,
        "/api/v1/ngalert/alertmanagers",
        None,
    )
    .await;
    assert_eq!(
        listed["data"]["activeAlertManagers"],
        json!([{"url": format!("{url}/alertmanager/api/v2/alerts")}])
    );
    assert_eq!(embedded_names(&http, &server).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_config_round_trip_and_roles() {
    let server = start_server().await;
    let http = reqwest::Client::new();
    let get = || async { call(&http, &server, Method::GET, ADMIN_CONFIG, None).await };
    assert_eq!(get().await, (200, json!({"alertmanagersChoice": "all"})));

    choose(&http, &server, "internal").await;
    assert_eq!(
        get().await,
        (200, json!({"alertmanagersChoice": "internal"}))
    );

    let (status, body) = call(
        &http,
        &server,
        Method::POST,
        ADMIN_CONFIG,
        Some(&json!({"alertmanagersChoice": "everywhere"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("alertmanagersChoice: "), "{body}");
    // `external` needs an Alertmanager data source that handles Grafana's alerts.
    let (status, body) = call(
        &http,
        &server,
        Method::POST,
        ADMIN_CONFIG,
        Some(&json!({"alertmanagersChoice": "external"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("At least one Alertmanager")),
        "{body}"
    );
    assert_eq!(get().await.1["alertmanagersChoice"], "internal");

    let (status, body) = call(&http, &server, Method::DELETE, ADMIN_CONFIG, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(get().await, (200, json!({"alertmanagersChoice": "all"})));

    // A Viewer reads the status but not the admin configuration.
    let (status, _) = call(
        &http,
        &server,
        Method::POST,
        "/api/admin/users",
        Some(&json!({"login": "val", "password": "val-pw", "email": "val@example.com"})),
    )
    .await;
    assert_eq!(status, 200);
    let as_viewer = |method: Method, path: &'static str| {
        let req = http
            .request(method, server.url(path))
            .basic_auth("val", Some("val-pw"));
        async move { req.send().await.expect("request").status().as_u16() }
    };
    assert_eq!(as_viewer(Method::GET, ADMIN_CONFIG).await, 403);
    assert_eq!(as_viewer(Method::POST, ADMIN_CONFIG).await, 403);
    assert_eq!(as_viewer(Method::DELETE, ADMIN_CONFIG).await, 403);
    assert_eq!(
        as_viewer(Method::GET, "/api/v1/ngalert/alertmanagers").await,
        403
    );
    assert_eq!(as_viewer(Method::GET, "/api/v1/ngalert").await, 200);
    assert_eq!(
        as_viewer(Method::POST, "/api/v1/rule/test/grafana").await,
        403
    );
}

/// The `grafana_condition` of the test rule on `csv` (condition C: last value above 5).
fn condition(csv: &str, condition: &str) -> Value {
    let rule = csv_rule("Preview", csv, "0s");
    json!({"grafana_condition": {
        "condition": condition,
        "data": rule["grafana_alert"]["data"],
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_preview_evaluates_without_saving() {
    let server = start_server().await;
    let http = reqwest::Client::new();
    let preview = |body: Value| {
        let http = http.clone();
        let url = "/api/v1/rule/test/grafana";
        let server = &server;
        async move { call(&http, server, Method::POST, url, Some(&body)).await }
    };

    let (status, body) = preview(condition("1,9", "C")).await;
    assert_eq!(status, 200, "{body}");
    let instances = body["instances"].as_array().cloned().unwrap_or_default();
    assert_eq!(instances.len(), 1, "{body}");
    assert_eq!(instances[0]["state"], "Alerting", "{body}");
    assert_eq!(
        instances[0]["values"],
        json!({"B": 9.0, "C": 1.0}),
        "{body}"
    );
    assert!(instances[0]["labels"].is_object(), "{body}");
    assert!(instances[0].get("error").is_none(), "{body}");
    let (status, body) = preview(condition("9,1", "C")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["instances"][0]["state"], "Normal", "{body}");
    assert_eq!(body["instances"][0]["values"]["B"], 1.0, "{body}");

    let mut at = condition("1,9", "C");
    at["grafana_condition"]["now"] = json!("2024-05-01T10:00:00Z");
    let (status, body) = preview(at).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["instances"][0]["state"], "Alerting", "{body}");

    let (status, body) = preview(condition("1,9", "Z")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("grafana_condition.condition: ")),
        "{body}"
    );
    let mut bad_source = condition("1,9", "C");
    bad_source["grafana_condition"]["data"][0]["datasourceUid"] = json!("nope");
    let (status, body) = preview(bad_source).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("grafana_condition.data[0].datasourceUid: ")),
        "{body}"
    );
    let (status, body) = preview(json!({"expr": "up"})).await;
    assert_eq!(status, 400, "{body}");

    // Nothing was saved.
    let (_, rules) = call(
        &http,
        &server,
        Method::GET,
        "/api/ruler/grafana/api/v1/rules",
        None,
    )
    .await;
    assert_eq!(rules, json!({}));
}
