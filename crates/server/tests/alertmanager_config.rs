//! The Alertmanager configuration API across two servers on one PostgreSQL database: a config
//! posted to A is shown without secrets, picked up by B through polling, and B notifies the
//! configured webhook; an invalid config is rejected and changes nothing.

mod common;

use std::time::{Duration, Instant};

use common::webhook::{Collector, has_alert};
use common::{AM_CONFIG_PATH, Server, Start, post_am_config};
use serde_json::{Value, json};
use wk_store::Backend;
use wk_store::testing::{TestDatabase, test_database};

/// `cfg:` arguments pointing a server at a test database.
fn db_args(db: &TestDatabase) -> Vec<String> {
    vec![
        "cfg:database.type=postgres".to_owned(),
        format!("cfg:database.url={}", db.options.url),
    ]
}

async fn get_config(http: &reqwest::Client, s: &Server) -> Value {
    let r = http
        .get(s.url(AM_CONFIG_PATH))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("get config");
    assert_eq!(r.status(), 200, "log:\n{}", s.log());
    r.json().await.expect("config json")
}

fn first_contact(cfg: &Value) -> &Value {
    &cfg["alertmanager_config"]["receivers"][0]["grafana_managed_receiver_configs"][0]
}

#[tokio::test]
async fn config_is_saved_shared_and_applied() {
    let Some(db) = test_database(Backend::Postgres).await else {
        return;
    };
    let hook = Collector::start().await;
    let hook_url = hook.url.clone();
    let mut args = db_args(&db);
    args.push("cfg:unified_alerting.alertmanager_config_poll_interval=1s".to_owned());
    let start = Start {
        args,
        ..Start::default()
    };
    let a = Server::spawn(&start);
    let b = Server::spawn(&start);
    a.wait_healthy(Duration::from_secs(90)).await;
    b.wait_healthy(Duration::from_secs(90)).await;
    let http = reqwest::Client::new();

    // B creates its instance with the default configuration before A saves a new one.
    let before = get_config(&http, &b).await;
    assert_eq!(
        before["alertmanager_config"]["route"]["receiver"], "default",
        "{before}"
    );

    let config = json!({
        "template_files": {},
        "alertmanager_config": {
            "route": {"receiver": "collector", "group_by": ["alertname"], "group_wait": "1s"},
            "receivers": [{
                "name": "collector",
                "grafana_managed_receiver_configs": [{
                    "uid": "c1", "name": "collector", "type": "webhook",
                    "settings": {"url": hook_url, "username": "collector", "password": "s3cret"}
                }]
            }]
        }
    });
    let r = post_am_config(&http, &a, &config).await;
    assert_eq!(r.status(), 202, "log:\n{}", a.log());
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["message"], "configuration created");

    // A shows it without the password.
    let shown = get_config(&http, &a).await;
    let contact = first_contact(&shown);
    assert_eq!(contact["secureFields"]["password"], true, "{shown}");
    assert!(contact["settings"].get("password").is_none(), "{shown}");
    assert_eq!(contact["settings"]["username"], "collector", "{shown}");
    assert!(!shown.to_string().contains("s3cret"), "{shown}");

    // B picks it up by polling.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let cfg = get_config(&http, &b).await;
        if cfg["alertmanager_config"]["receivers"][0]["name"] == "collector" {
            assert_eq!(first_contact(&cfg)["secureFields"]["password"], true);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B never picked up the configuration: {cfg}; log:\n{}",
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // An alert posted to B reaches the collector with basic auth.
    let r = http
        .post(b.url("/api/alertmanager/grafana/api/v2/alerts"))
        .basic_auth("admin", Some("admin"))
        .json(&json!([{"labels": {"alertname": "ConfigShared", "team": "x"}}]))
        .send()
        .await
        .expect("post alert");
    assert_eq!(r.status(), 200, "log:\n{}", b.log());
    let auth = notified(&hook, "ConfigShared", &b).await;
    assert_eq!(auth.as_deref(), Some("Basic Y29sbGVjdG9yOnMzY3JldA=="));

    // An invalid configuration is rejected and changes nothing.
    let bad = json!({
        "alertmanager_config": {
            "route": {"receiver": "nobody"},
            "receivers": [{"name": "collector", "grafana_managed_receiver_configs": []}]
        }
    });
    let r = post_am_config(&http, &a, &bad).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("nobody")),
        "{body}"
    );
    let after = get_config(&http, &a).await;
    assert_eq!(after, shown);
}

/// Waits until the collector has a notification for `alertname` and returns its
/// `Authorization` header.
async fn notified(hook: &Collector, alertname: &str, s: &Server) -> Option<String> {
    hook.wait_for(
        Duration::from_secs(30),
        || format!("log:\n{}", s.log()),
        |got| {
            got.iter()
                .find(|(_, body)| body["version"] == "4" && has_alert(body, alertname))
                .map(|(auth, _)| auth.clone())
        },
    )
    .await
}

/// Secure settings are encrypted in the database, kept when the configuration is posted again
/// without them (same contact point uid, as Grafana's UI does after a GET), and used; DELETE
/// restores the default; a broken version written to the database by someone else is logged and
/// leaves the running configuration alone.
#[tokio::test]
async fn secrets_are_encrypted_kept_by_uid_and_default_restored() {
    let Some(db) = test_database(Backend::Postgres).await else {
        return;
    };
    let store = wk_store::Store::connect(&db.options)
        .await
        .expect("connect");
    let hook = Collector::start().await;
    let hook_url = hook.url.clone();
    let mut args = db_args(&db);
    args.push("cfg:unified_alerting.alertmanager_config_poll_interval=1s".to_owned());
    let s = Server::spawn(&Start {
        args,
        ..Start::default()
    });
    s.wait_healthy(Duration::from_secs(90)).await;
    let http = reqwest::Client::new();

    let config = |secure: Value| {
        json!({
            "template_files": {},
            "alertmanager_config": {
                "route": {"receiver": "collector", "group_by": ["alertname"], "group_wait": "1s"},
                "receivers": [{"name": "collector", "grafana_managed_receiver_configs": [{
                    "uid": "c1", "name": "collector", "type": "webhook",
                    "settings": {"url": hook_url, "username": "collector"},
                    "secureSettings": secure
                }]}]
            }
        })
    };
    let r = post_am_config(&http, &s, &config(json!({"password": "s3cret"}))).await;
    assert_eq!(r.status(), 202, "log:\n{}", s.log());
    let stored = store
        .latest_alert_configuration(1)
        .await
        .expect("read")
        .expect("stored")
        .alertmanager_configuration;
    assert!(!stored.contains("s3cret"), "{stored}");
    assert!(stored.contains("\"password\":\"wk1."), "{stored}");

    // Posted again without the secret: it is kept and used.
    let r = post_am_config(&http, &s, &config(json!({}))).await;
    assert_eq!(r.status(), 202, "log:\n{}", s.log());
    let shown = get_config(&http, &s).await;
    assert_eq!(
        first_contact(&shown)["secureFields"]["password"],
        true,
        "{shown}"
    );
    let r = http
        .post(s.url("/api/alertmanager/grafana/api/v2/alerts"))
        .basic_auth("admin", Some("admin"))
        .json(&json!([{"labels": {"alertname": "SecretKept"}}]))
        .send()
        .await
        .expect("post alert");
    assert_eq!(r.status(), 200);
    assert_eq!(
        notified(&hook, "SecretKept", &s).await.as_deref(),
        Some("Basic Y29sbGVjdG9yOnMzY3JldA==")
    );

    // A broken version saved behind the server's back is not applied.
    store
        .save_alert_configuration(1, "{not json", "broken", false, 0)
        .await
        .expect("save broken");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s
        .log()
        .contains("stored alertmanager configuration is invalid")
    {
        assert!(Instant::now() < deadline, "no warning; log:\n{}", s.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get_config(&http, &s).await, shown);

    // DELETE restores the default as a new version.
    let r = http
        .delete(s.url(AM_CONFIG_PATH))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 200, "log:\n{}", s.log());
    let after = get_config(&http, &s).await;
    assert_eq!(
        after["alertmanager_config"]["route"]["receiver"], "default",
        "{after}"
    );
    let latest = store
        .latest_alert_configuration(1)
        .await
        .expect("read")
        .expect("stored");
    assert!(latest.is_default, "{latest:?}");
}
