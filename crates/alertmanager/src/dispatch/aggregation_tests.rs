//! Aggregation group and dispatcher tests (after upstream `dispatch/dispatch_test.go`), on a
//! paused tokio clock: every tick time is exact.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::time::{Instant, sleep};

use super::*;
use crate::alert::{Alert, zero_time};
use crate::alerts::AlertStore;
use crate::labels::LabelSet;
use crate::matchers::{Matchers, Mode, parse_matchers};
use crate::notify::{BoxFuture, GroupContext, Notifier, NotifyError};

/// Records the instant it was dropped (a cancelled notification).
struct DropMark(Arc<Mutex<Option<Instant>>>);

impl Drop for DropMark {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }
}

#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(GroupContext, Vec<Alert>, Instant)>>,
    fail: AtomicBool,
    hang: AtomicBool,
    dropped: Arc<Mutex<Option<Instant>>>,
}

impl Recorder {
    fn calls(&self) -> Vec<(GroupContext, Vec<Alert>, Instant)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Notifier for Recorder {
    fn notify<'a>(
        &'a self,
        ctx: &'a GroupContext,
        alerts: Vec<Alert>,
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        let now = Instant::now();
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((ctx.clone(), alerts, now));
        let hang = self.hang.load(Ordering::SeqCst);
        let fail = self.fail.load(Ordering::SeqCst);
        let mark = DropMark(self.dropped.clone());
        Box::pin(async move {
            let _mark = mark;
            if hang {
                std::future::pending::<()>().await;
            }
            if fail {
                return Err(NotifyError::UnknownReceiver("x".into()));
            }
            Ok(())
        })
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(zero_time)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn m(s: &str) -> Matchers {
    parse_matchers(s, Mode::Fallback).unwrap_or_else(|e| panic!("bad matchers {s}: {e:?}"))
}

fn root(gw: u64, gi: u64) -> RouteConfig {
    RouteConfig {
        receiver: Some("default".into()),
        group_wait: Some(secs(gw)),
        group_interval: Some(secs(gi)),
        ..RouteConfig::default()
    }
}

fn alert(pairs: &[(&str, &str)], starts: DateTime<Utc>, ends: DateTime<Utc>) -> Alert {
    Alert {
        labels: pairs.iter().copied().collect(),
        annotations: LabelSet::new(),
        starts_at: starts,
        ends_at: ends,
        generator_url: String::new(),
        updated_at: starts,
        timeout: false,
    }
}

fn at(base: DateTime<Utc>, s: i64) -> DateTime<Utc> {
    base + chrono::Duration::seconds(s)
}

struct Fixture {
    store: AlertStore,
    rec: Arc<Recorder>,
    disp: Dispatcher,
    start: Instant,
}

fn fixture(cfg: &RouteConfig, opts: DispatcherOptions) -> Fixture {
    let rec = Arc::new(Recorder::default());
    let opts = DispatcherOptions {
        clock: Clock::starting_at(t0()),
        ..opts
    };
    let disp = Dispatcher::new(Arc::new(Route::new_tree(cfg)), rec.clone(), opts);
    Fixture {
        store: AlertStore::default(),
        rec,
        disp,
        start: Instant::now(),
    }
}

impl Fixture {
    fn put(&self, a: Alert) {
        let now = self.disp.now();
        if let Err(e) = self.store.put(a, now) {
            panic!("put: {e}");
        }
    }

    /// Seconds since the fixture started at which each notification was made.
    fn tick_secs(&self) -> Vec<u64> {
        let calls = self.rec.calls();
        calls.iter().map(|c| (c.2 - self.start).as_secs()).collect()
    }
}

#[tokio::test(start_paused = true)]
async fn group_wait_then_group_interval_cadence() {
    let f = fixture(&root(30, 300), DispatcherOptions::default());
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), at(t0(), 3600)));
    sleep(secs(631)).await;
    assert_eq!(f.tick_secs(), vec![30, 330, 630]);
    let calls = f.rec.calls();
    assert_eq!(calls[0].0.now, at(t0(), 30));
    assert_eq!(calls[0].0.group_key, "{}:{}");
    assert_eq!(calls[0].0.receiver, "default");
    assert_eq!(calls[0].0.route_id, "{}");
    assert_eq!(calls[0].0.group_interval, secs(300));
    // Firing alerts are sent with a zeroed ends_at.
    assert_eq!(calls[0].1[0].ends_at, zero_time());
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn old_alert_flushes_immediately() {
    let f = fixture(&root(30, 300), DispatcherOptions::default());
    f.put(alert(&[("a", "1")], at(t0(), -3600), zero_time()));
    f.disp.run(&f.store);
    sleep(Duration::from_millis(10)).await;
    assert_eq!(f.tick_secs(), vec![0]);
    sleep(secs(300)).await;
    assert_eq!(f.tick_secs(), vec![0, 300]);
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn late_alerts_do_not_reset_the_timer() {
    let f = fixture(&root(30, 300), DispatcherOptions::default());
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), zero_time()));
    sleep(secs(20)).await;
    f.put(alert(&[("a", "2")], at(t0(), 20), zero_time()));
    sleep(secs(11)).await;
    assert_eq!(f.tick_secs(), vec![30]);
    assert_eq!(f.rec.calls()[0].1.len(), 2);
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn resolved_alerts_removed_only_after_success() {
    let f = fixture(&root(30, 300), DispatcherOptions::default());
    f.disp.run(&f.store);
    f.rec.fail.store(true, Ordering::SeqCst);
    let ends = at(t0(), 10);
    f.put(alert(&[("a", "1")], t0(), ends));
    f.put(alert(&[("a", "2")], t0(), zero_time()));
    sleep(secs(31)).await;
    let calls = f.rec.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1[0].ends_at, ends, "resolved keeps ends_at");
    assert_eq!(calls[0].1[1].ends_at, zero_time());
    assert_eq!(f.disp.groups()[0].alerts.len(), 2, "kept after a failure");
    f.rec.fail.store(false, Ordering::SeqCst);
    sleep(secs(300)).await;
    assert_eq!(f.tick_secs(), vec![30, 330]);
    assert_eq!(f.rec.calls()[1].1.len(), 2, "re-sent after the failure");
    let groups = f.disp.groups();
    assert_eq!(groups[0].alerts.len(), 1, "resolved one deleted");
    assert_eq!(groups[0].alerts[0].labels.get("a"), Some("2"));
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn empty_group_destroyed_and_recreated() {
    let f = fixture(&root(30, 300), DispatcherOptions::default());
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), at(t0(), 10)));
    sleep(secs(31)).await;
    assert_eq!(f.tick_secs(), vec![30]);
    assert!(f.disp.groups().is_empty());
    sleep(secs(600)).await;
    assert_eq!(f.tick_secs(), vec![30], "destroyed group does not tick");
    // A new alert for the same group labels creates a fresh group with group_wait.
    f.put(alert(&[("a", "1")], at(t0(), 631), zero_time()));
    sleep(secs(31)).await;
    assert_eq!(f.tick_secs(), vec![30, 661]);
    assert_eq!(f.disp.groups().len(), 1);
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn continue_routes_make_two_groups() {
    let mut cfg = root(30, 300);
    let mut first = RouteConfig {
        receiver: Some("r1".into()),
        matchers: m(r#"{a="1"}"#),
        ..RouteConfig::default()
    };
    first.continue_ = true;
    let second = RouteConfig {
        receiver: Some("r2".into()),
        matchers: m(r#"{a=~".+"}"#),
        ..RouteConfig::default()
    };
    cfg.routes = vec![first, second];
    let f = fixture(&cfg, DispatcherOptions::default());
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), zero_time()));
    sleep(secs(31)).await;
    let mut receivers: Vec<String> = f.rec.calls().into_iter().map(|c| c.0.receiver).collect();
    receivers.sort();
    assert_eq!(receivers, vec!["r1", "r2"]);
    let groups = f.disp.groups();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].route_id, r#"{}/{a="1"}/0"#);
    assert_eq!(groups[1].route_id, r#"{}/{a=~".+"}/1"#);
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn group_by_splits_groups() {
    let mut cfg = root(30, 300);
    cfg.group_by = Some(GroupBy::Labels(vec!["b".into()]));
    let f = fixture(&cfg, DispatcherOptions::default());
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1"), ("b", "x")], t0(), zero_time()));
    f.put(alert(&[("a", "2"), ("b", "x")], t0(), zero_time()));
    f.put(alert(&[("a", "3"), ("b", "y")], t0(), zero_time()));
    sleep(secs(31)).await;
    let groups = f.disp.groups();
    let keys: Vec<&str> = groups.iter().map(|g| g.group_key.as_str()).collect();
    assert_eq!(keys, vec![r#"{}:{b="x"}"#, r#"{}:{b="y"}"#]);
    assert_eq!(groups[0].alerts.len(), 2);
    assert_eq!(groups[1].alerts.len(), 1);
    assert_eq!(f.rec.calls().len(), 2);
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn hanging_notifier_is_cut_off() {
    let opts = DispatcherOptions {
        peer_timeout: secs(15),
        position: Arc::new(|| 2),
        ..DispatcherOptions::default()
    };
    // group_interval 2s < 10s: deadline = 10s + 2 × 15s.
    let f = fixture(&root(30, 2), opts);
    f.rec.hang.store(true, Ordering::SeqCst);
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), zero_time()));
    sleep(secs(71)).await;
    let dropped = *f.rec.dropped.lock().unwrap_or_else(|e| e.into_inner());
    let first = f.rec.calls()[0].2;
    assert_eq!(dropped.map(|d| d - first), Some(secs(40)));
    assert_eq!(
        f.tick_secs(),
        vec![30, 70],
        "next tick right after the overdue flush"
    );
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn max_groups_limits_new_groups() {
    let mut cfg = root(30, 300);
    cfg.group_by = Some(GroupBy::Labels(vec!["b".into()]));
    let opts = DispatcherOptions {
        max_groups: 1,
        ..DispatcherOptions::default()
    };
    let f = fixture(&cfg, opts);
    f.disp.run(&f.store);
    f.put(alert(&[("b", "x")], t0(), zero_time()));
    f.put(alert(&[("b", "y")], t0(), zero_time()));
    sleep(secs(1)).await;
    assert_eq!(f.disp.groups().len(), 1);
    assert_eq!(f.disp.limit_reached_total(), 1);
    f.disp.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stop_ends_everything() {
    let f = fixture(&root(30, 300), DispatcherOptions::default());
    f.rec.hang.store(true, Ordering::SeqCst);
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), zero_time()));
    sleep(secs(31)).await;
    assert_eq!(f.tick_secs(), vec![30]);
    // stop() cancels the hanging flush and returns.
    f.disp.stop().await;
    assert!(
        f.rec
            .dropped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    );
    assert!(f.disp.groups().is_empty());
    f.put(alert(&[("a", "2")], t0(), zero_time()));
    sleep(secs(3600)).await;
    assert_eq!(f.tick_secs(), vec![30]);
}

/// `start_at` (`--dispatch.start-delay`): the group exists but does not flush before the
/// start; its expired timer fires at the start, and `group_interval` counts from there.
#[tokio::test(start_paused = true)]
async fn start_delay_holds_the_first_flush() {
    let opts = DispatcherOptions {
        start_at: Some(Instant::now() + secs(60)),
        ..DispatcherOptions::default()
    };
    let f = fixture(&root(30, 300), opts);
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), zero_time()));
    sleep(secs(59)).await;
    assert!(f.rec.calls().is_empty(), "flushed before the start");
    assert_eq!(f.disp.groups().len(), 1, "the group exists while waiting");
    sleep(secs(302)).await;
    assert_eq!(f.tick_secs(), vec![60, 360]);
    f.disp.stop().await;
}

/// A start already past delays nothing.
#[tokio::test(start_paused = true)]
async fn start_in_the_past_runs_at_once() {
    let start = Instant::now();
    sleep(secs(10)).await;
    let opts = DispatcherOptions {
        start_at: Some(start),
        ..DispatcherOptions::default()
    };
    let f = fixture(&root(30, 300), opts);
    f.disp.run(&f.store);
    f.put(alert(&[("a", "1")], t0(), zero_time()));
    sleep(secs(31)).await;
    assert_eq!(f.tick_secs(), vec![30]);
    f.disp.stop().await;
}
