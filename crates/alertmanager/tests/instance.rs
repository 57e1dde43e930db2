//! The per-organization Alertmanager instance, on tokio's paused clock with a real local webhook.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::TimeDelta;
use wk_alertmanager::alert::PostedAlert;
use wk_alertmanager::config::grafana::PostableUserConfig;
use wk_alertmanager::instance::{Alertmanager, DEFAULT_CONFIG};
use wk_alertmanager::matchers::{Mode, parse_matchers};
use wk_alertmanager::silences::Silence;

mod support;

use support::{Bodies, hook_config as config, opts, serve};

fn posted(name: &str) -> PostedAlert {
    PostedAlert {
        labels: BTreeMap::from([
            ("alertname".to_owned(), name.to_owned()),
            ("severity".to_owned(), "page".to_owned()),
        ]),
        ..PostedAlert::default()
    }
}

fn silence_for(name: &str, am: &Alertmanager) -> Silence {
    let now = am.now();
    Silence {
        matcher_sets: vec![
            parse_matchers(&format!("alertname=\"{name}\""), Mode::Utf8).expect("matchers"),
        ],
        starts_at: Some(now),
        ends_at: Some(now + TimeDelta::hours(1)),
        created_by: "tester".into(),
        comment: "test".into(),
        ..Silence::default()
    }
}

/// Waits (advancing the paused clock in small steps) until `n` bodies arrived or `max` passed.
async fn wait_for(bodies: &Bodies, n: usize, max: Duration) {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while bodies.lock().expect("lock").len() < n && waited < max {
        tokio::time::sleep(step).await;
        waited += step;
    }
}

#[tokio::test(start_paused = true)]
async fn alerts_are_flushed_to_webhook_after_group_wait() {
    let (bodies, addr) = serve().await;
    let am = Alertmanager::from_yaml(&config(addr), opts()).expect("instance");
    let errors = am.put_alerts(vec![posted("Test"), PostedAlert::default()], am.now());
    assert_eq!(errors, vec!["at least one label pair required".to_owned()]);
    assert_eq!(am.alerts(|_, _| true).len(), 1);

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        bodies.lock().expect("lock").is_empty(),
        "sent before group_wait"
    );
    wait_for(&bodies, 1, Duration::from_secs(10)).await;
    let got = bodies.lock().expect("lock").clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["receiver"], "hook");
    assert_eq!(got[0]["alerts"][0]["labels"]["alertname"], "Test");
    assert_eq!(am.groups().len(), 1);
    assert_eq!(am.receivers()[0].name, "hook");
    assert!(am.config_yaml().contains("webhook_configs"));
    am.stop().await;
}

#[tokio::test(start_paused = true)]
async fn silence_suppresses_notifications() {
    let (bodies, addr) = serve().await;
    let am = Alertmanager::from_yaml(&config(addr), opts()).expect("instance");
    let id = am
        .silences()
        .set(silence_for("Muted", &am), am.now())
        .expect("silence")
        .id;
    am.put_alerts(vec![posted("Muted")], am.now());
    let listed = am.alerts(|_, _| true);
    assert_eq!(listed[0].1.state, "suppressed");
    assert_eq!(listed[0].1.silenced_by, vec![id]);

    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(bodies.lock().expect("lock").is_empty());
    am.stop().await;
}

#[tokio::test(start_paused = true)]
async fn snapshot_restore_round_trip() {
    let (bodies, addr) = serve().await;
    let am = Alertmanager::from_yaml(&config(addr), opts()).expect("instance");
    let id = am
        .silences()
        .set(silence_for("X", &am), am.now())
        .expect("silence")
        .id;
    am.put_alerts(vec![posted("Y")], am.now());
    wait_for(&bodies, 1, Duration::from_secs(10)).await;
    assert_eq!(bodies.lock().expect("lock").len(), 1);
    let sil = am.snapshot_silences();
    let nfl = am.snapshot_nflog();
    assert!(!nfl.is_empty());
    am.stop().await;

    let fresh = Alertmanager::from_yaml(DEFAULT_CONFIG, opts()).expect("instance");
    fresh.restore(&sil, &nfl).expect("restore");
    assert_eq!(fresh.silences().get(&id).expect("restored").comment, "test");
    assert_eq!(fresh.snapshot_nflog(), nfl);
    assert_eq!(fresh.snapshot_silences(), sil);
    fresh.stop().await;
}

#[tokio::test]
async fn email_receivers_are_rejected() {
    let text = "route:
  receiver: mail
receivers:
  - name: mail
    email_configs:
      - to: a@example.com
        from: b@example.com
        smarthost: localhost:25
";
    let err = Alertmanager::from_yaml(text, opts()).expect_err("email");
    assert!(
        err.to_string()
            .contains("email_configs are not supported yet"),
        "{err}"
    );
}

fn grafana_config(addr: SocketAddr) -> String {
    serde_json::json!({
        "template_files": {},
        "alertmanager_config": {
            "route": {"receiver": "cp", "group_by": ["alertname"], "group_wait": "1s"},
            "receivers": [{"name": "cp", "grafana_managed_receiver_configs": [{
                "uid": "u1", "name": "cp", "type": "webhook", "disableResolveMessage": false,
                "settings": {"url": format!("http://{addr}/hook"), "httpMethod": "POST",
                             "username": "user", "maxAlerts": "0"},
                "secureSettings": {"password": "pw"}
            }]}]
        }
    })
    .to_string()
}

#[tokio::test(start_paused = true)]
async fn apply_config_keeps_alerts_and_silences_and_uses_new_route() {
    let (bodies, addr) = serve().await;
    let am = Alertmanager::from_yaml(DEFAULT_CONFIG, opts()).expect("instance");
    am.put_alerts(vec![posted("Kept")], am.now());
    let silence_id = am
        .silences()
        .set(silence_for("Other", &am), am.now())
        .expect("silence")
        .id;
    let text = grafana_config(addr);
    let config = PostableUserConfig::from_json(&text)
        .expect("parse")
        .to_config()
        .expect("convert");
    let hook = &config.receivers[0].webhook_configs[0];
    let basic = hook.http_config.basic_auth.as_ref().expect("basic auth");
    assert_eq!(basic.username, "user");
    assert_eq!(basic.password.as_deref(), Some("pw"));
    am.apply_config(config, &text).await.expect("apply");

    assert_eq!(am.config_yaml(), text);
    assert_eq!(am.receivers()[0].name, "cp");
    assert_eq!(am.alerts(|_, _| true).len(), 1, "alerts kept");
    assert!(am.silences().get(&silence_id).is_some(), "silences kept");
    // The stored alert is regrouped under the new route and sent to the new contact point.
    wait_for(&bodies, 1, Duration::from_secs(10)).await;
    let got = bodies.lock().expect("lock").clone();
    assert_eq!(got[0]["receiver"], "cp");
    assert_eq!(got[0]["alerts"][0]["labels"]["alertname"], "Kept");
    am.stop().await;
}

#[test]
fn grafana_config_errors() {
    let err = |text: &str| {
        PostableUserConfig::from_json(text)
            .and_then(|c| c.to_config())
            .expect_err("rejected")
            .to_string()
    };
    let slack = serde_json::json!({"alertmanager_config": {
        "route": {"receiver": "r"},
        "receivers": [{"name": "r", "grafana_managed_receiver_configs": [
            {"type": "slack", "settings": {}}]}]}})
    .to_string();
    assert!(
        err(&slack).contains("contact point type slack is not supported yet"),
        "{}",
        err(&slack)
    );
    assert!(err("route:\n  receiver: default\n").contains("invalid configuration JSON"));
    let missing = serde_json::json!({"alertmanager_config": {
        "route": {"receiver": "nope"}, "receivers": [{"name": "r"}]}})
    .to_string();
    assert!(err(&missing).contains("nope"), "{}", err(&missing));
    let bearer = serde_json::json!({"alertmanager_config": {
        "route": {"receiver": "r"},
        "receivers": [{"name": "r", "grafana_managed_receiver_configs": [
            {"type": "webhook", "disableResolveMessage": true,
             "settings": {"url": "http://x/", "authorization_scheme": "Token", "maxAlerts": 3},
             "secureSettings": {"authorization_credentials": "c"}}]}]}})
    .to_string();
    let c = PostableUserConfig::from_json(&bearer)
        .expect("parse")
        .to_config()
        .expect("convert");
    let w = &c.receivers[0].webhook_configs[0];
    assert!(!w.send_resolved);
    assert_eq!(w.max_alerts, 3);
    let auth = w.http_config.authorization.as_ref().expect("authorization");
    assert_eq!(auth.kind.as_deref(), Some("Token"));
    assert_eq!(auth.credentials.as_deref(), Some("c"));
    let default =
        PostableUserConfig::from_json(wk_alertmanager::config::grafana::DEFAULT_GRAFANA_CONFIG)
            .expect("parse")
            .to_config()
            .expect("default converts");
    assert_eq!(default.receivers[0].name, "default");
}

/// Receivers in the JSON form may carry Alertmanager integrations as written in Alertmanager's
/// YAML; they are validated like YAML, and cannot be mixed with contact points.
#[test]
fn grafana_config_with_alertmanager_receivers() {
    let parse = |v: serde_json::Value| {
        PostableUserConfig::from_json(&v.to_string()).and_then(|c| c.to_config())
    };
    let c = parse(serde_json::json!({"alertmanager_config": {
        "global": {"resolve_timeout": "10s"},
        "route": {"receiver": "r"},
        "receivers": [{"name": "r", "webhook_configs": [
            {"url": "http://127.0.0.1:9/a", "send_resolved": false, "timeout": "500ms",
             "max_alerts": 2}]}]}}))
    .expect("converts");
    assert_eq!(c.global.resolve_timeout, Duration::from_secs(10));
    let w = &c.receivers[0].webhook_configs[0];
    assert!(!w.send_resolved);
    assert_eq!(w.max_alerts, 2);
    assert_eq!(w.timeout, Some(Duration::from_millis(500)));

    let bad_timeout = parse(serde_json::json!({"alertmanager_config": {
        "route": {"receiver": "r"},
        "receivers": [{"name": "r", "webhook_configs": [
            {"url": "http://127.0.0.1:9/a", "timeout": "soon"}]}]}}))
    .expect_err("bad duration")
    .to_string();
    assert!(
        bad_timeout.contains("webhook_configs[0].timeout"),
        "{bad_timeout}"
    );

    let unknown = parse(serde_json::json!({"alertmanager_config": {
        "route": {"receiver": "r"},
        "receivers": [{"name": "r", "webhook_config": []}]}}))
    .expect_err("unknown key")
    .to_string();
    assert!(unknown.contains("webhook_config"), "{unknown}");

    let mixed = parse(serde_json::json!({"alertmanager_config": {
        "route": {"receiver": "r"},
        "receivers": [{"name": "r",
            "webhook_configs": [{"url": "http://127.0.0.1:9/a"}],
            "grafana_managed_receiver_configs": [
                {"type": "webhook", "settings": {"url": "http://127.0.0.1:9/b"}}]}]}}))
    .expect_err("mixed")
    .to_string();
    assert!(mixed.contains("cannot mix"), "{mixed}");
}
