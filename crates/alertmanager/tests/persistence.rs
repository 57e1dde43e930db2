//! Restarting an instance from its snapshots (alerts, notification log, silences), on tokio's
//! paused clock with a real local webhook: a pending resolved notification is sent, a firing
//! alert already notified is not notified again before `repeat_interval`, and an `ends_at` that
//! came from `resolve_timeout` stays overridable.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use wk_alertmanager::alert::PostedAlert;
use wk_alertmanager::instance::{Alertmanager, InstanceOptions};

mod support;

use support::{Bodies, opts, serve};

fn config(addr: SocketAddr) -> String {
    format!(
        "route:
  receiver: hook
  group_by: [alertname]
  group_wait: 5s
  group_interval: 1m
  repeat_interval: 10m
receivers:
  - name: hook
    webhook_configs:
      - url: http://{addr}/hook
"
    )
}

fn posted(name: &str, ends_at: Option<DateTime<Utc>>) -> PostedAlert {
    PostedAlert {
        labels: BTreeMap::from([("alertname".to_owned(), name.to_owned())]),
        ends_at,
        ..PostedAlert::default()
    }
}

fn statuses(bodies: &Bodies) -> Vec<String> {
    bodies
        .lock()
        .expect("lock")
        .iter()
        .map(|b| b["status"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// Advances the paused clock in small steps (so webhook I/O keeps up) until `n` bodies arrived
/// or `max` passed.
async fn advance(bodies: &Bodies, n: usize, max: Duration) {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while bodies.lock().expect("lock").len() < n && waited < max {
        tokio::time::sleep(step).await;
        waited += step;
    }
}

/// Snapshots, stops `am` and builds its successor from the snapshots.
async fn restart(am: Alertmanager, text: &str, opts: InstanceOptions) -> Alertmanager {
    let alerts = am.snapshot_alerts();
    am.stop().await;
    let silences = am.snapshot_silences();
    let nflog = am.snapshot_nflog();
    let next = Alertmanager::from_yaml(text, opts).expect("instance");
    next.restore(&silences, &nflog).expect("restore");
    let restored = next.restore_alerts(&alerts).expect("restore alerts");
    assert!(restored.skipped.is_empty(), "{:?}", restored.skipped);
    next
}

#[tokio::test(start_paused = true)]
async fn pending_resolved_notification_is_sent_after_restore() {
    let (bodies, addr) = serve().await;
    let text = config(addr);
    let o = opts();
    let am = Alertmanager::from_yaml(&text, o.clone()).expect("instance");
    am.put_alerts(vec![posted("Flappy", None)], am.now());
    advance(&bodies, 1, Duration::from_secs(10)).await;
    assert_eq!(statuses(&bodies), ["firing"]);

    am.put_alerts(vec![posted("Flappy", Some(am.now()))], am.now());
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The store's GC drops the resolved alert; only its aggregation group still holds it.
    am.maintenance(am.now());
    assert!(am.store().is_empty());
    assert_eq!(am.groups().len(), 1);

    let am = restart(am, &text, o).await;
    assert_eq!(am.store().len(), 1, "the held resolved alert was saved");
    advance(&bodies, 2, Duration::from_secs(10)).await;
    assert_eq!(statuses(&bodies), ["firing", "resolved"]);
    // Sent once: the group is gone after the successful flush.
    advance(&bodies, 3, Duration::from_secs(150)).await;
    assert_eq!(statuses(&bodies), ["firing", "resolved"]);
    am.stop().await;
}

#[tokio::test(start_paused = true)]
async fn firing_alert_is_not_renotified_before_repeat_interval() {
    let (bodies, addr) = serve().await;
    let text = config(addr);
    let o = opts();
    let am = Alertmanager::from_yaml(&text, o.clone()).expect("instance");
    let ends_at = am.now() + TimeDelta::hours(2);
    am.put_alerts(vec![posted("Steady", Some(ends_at))], am.now());
    advance(&bodies, 1, Duration::from_secs(10)).await;
    assert_eq!(statuses(&bodies), ["firing"]);
    let first_sent = am.now();

    let am = restart(am, &text, o).await;
    // The rebuilt group flushes at once and then every minute; the nflog dedups them all.
    advance(&bodies, 2, Duration::from_secs(8 * 60)).await;
    assert_eq!(
        statuses(&bodies),
        ["firing"],
        "re-notified before repeat_interval"
    );
    assert_eq!(
        am.groups().len(),
        1,
        "the group is rebuilt from the restored alert"
    );
    // Once repeat_interval has passed the next flush repeats it: dedup, not silence.
    advance(&bodies, 2, Duration::from_secs(4 * 60)).await;
    assert_eq!(statuses(&bodies), ["firing", "firing"]);
    assert!(am.now() - first_sent >= TimeDelta::minutes(10));
    am.stop().await;
}

#[tokio::test(start_paused = true)]
async fn resolve_timeout_end_stays_overridable_after_restore() {
    let (bodies, addr) = serve().await;
    let text = config(addr);
    let o = opts();
    let am = Alertmanager::from_yaml(&text, o.clone()).expect("instance");
    // No endsAt: ends_at = now + resolve_timeout (5m), marked as a timeout value.
    am.put_alerts(vec![posted("Timed", None)], am.now());
    let am = restart(am, &text, o).await;
    let restored = am.alerts(|_, _| true);
    assert_eq!(restored.len(), 1);
    assert!(restored[0].0.timeout);

    // A firing update with an earlier end wins over a timeout end (it would not over a sent
    // one), so the flag must have survived.
    let earlier = am.now() + TimeDelta::minutes(1);
    am.put_alerts(vec![posted("Timed", Some(earlier))], am.now());
    let merged = am.alerts(|_, _| true);
    assert_eq!(merged[0].0.ends_at, earlier);
    assert!(!merged[0].0.timeout);
    drop(bodies);
    am.stop().await;
}

/// A configuration reload keeps a resolved alert that only its aggregation group still holds
/// (the store's GC dropped it), so its pending resolved notification is still sent.
#[tokio::test(start_paused = true)]
async fn pending_resolved_notification_survives_a_reload() {
    let (bodies, addr) = serve().await;
    let text = config(addr);
    let am = Alertmanager::from_yaml(&text, opts()).expect("instance");
    am.put_alerts(vec![posted("Reloaded", None)], am.now());
    advance(&bodies, 1, Duration::from_secs(10)).await;
    assert_eq!(statuses(&bodies), ["firing"]);

    am.put_alerts(vec![posted("Reloaded", Some(am.now()))], am.now());
    tokio::time::sleep(Duration::from_secs(1)).await;
    am.maintenance(am.now());
    assert!(
        am.store().is_empty(),
        "only the group holds the resolved alert"
    );

    let config = wk_alertmanager::config::Config::from_yaml(&text).expect("config");
    am.apply_config(config, &text).await.expect("reload");
    advance(&bodies, 2, Duration::from_secs(10)).await;
    assert_eq!(statuses(&bodies), ["firing", "resolved"]);
    am.stop().await;
}
