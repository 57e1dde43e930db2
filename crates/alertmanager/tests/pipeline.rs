//! Notification pipeline tests, on tokio's paused clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use wk_alertmanager::alert::{Alert, zero_time};
use wk_alertmanager::inhibit::{InhibitRule, Inhibitor};
use wk_alertmanager::labels::LabelSet;
use wk_alertmanager::matchers::{Mode, parse_matchers};
use wk_alertmanager::nflog::{NotificationLog, Options, ReceiverKey};
use wk_alertmanager::notify::{
    BoxFuture, GroupContext, Integration, Notifier, NotifyError, Pipeline, PipelineDeps,
    PipelineOptions, SuppressReason,
};
use wk_alertmanager::silences::{Silence, Silences, SilencesOptions};
use wk_alertmanager::timeinterval::NamedTimeInterval;
use wk_cluster::{BoxFuture as PeerFuture, Channel, NilPeer, Peer, State};

type Calls = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// Records calls; fails the first `fail` of them.
struct Recorder {
    calls: Calls,
    fail: AtomicU32,
    retryable: bool,
    send_resolved: bool,
}

impl Recorder {
    fn new(send_resolved: bool, fail: u32, retryable: bool) -> Arc<Self> {
        Arc::new(Self {
            calls: Calls::default(),
            fail: AtomicU32::new(fail),
            retryable,
            send_resolved,
        })
    }
    fn calls(&self) -> Vec<(String, Vec<String>)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Integration for Recorder {
    fn name(&self) -> &str {
        "webhook"
    }
    fn index(&self) -> u32 {
        0
    }
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
    fn notify<'a>(
        &'a self,
        _ctx: &'a GroupContext,
        reason: &'a str,
        alerts: &'a [Alert],
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        let names = alerts.iter().map(|a| a.name().to_owned()).collect();
        if let Ok(mut c) = self.calls.lock() {
            c.push((reason.to_owned(), names));
        }
        let failing = self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let retry = self.retryable;
        Box::pin(async move {
            if failing {
                Err(NotifyError::Integration {
                    integration: "webhook".into(),
                    index: 0,
                    retry,
                    message: "boom".into(),
                    reason: wk_alertmanager::notify::FailureReason::ServerError,
                })
            } else {
                Ok(())
            }
        })
    }
}

#[derive(Default)]
struct Broadcasts(Mutex<Vec<Vec<u8>>>);
impl Channel for Broadcasts {
    fn broadcast(&self, bytes: Vec<u8>) {
        if let Ok(mut b) = self.0.lock() {
            b.push(bytes);
        }
    }
}

struct PositionPeer(u32);
impl Peer for PositionPeer {
    fn position(&self) -> u32 {
        self.0
    }
    fn wait_ready(&self) -> PeerFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
    fn add_state(&self, _key: &str, _state: Arc<dyn State>) -> Arc<dyn Channel> {
        Arc::new(Broadcasts::default())
    }
    fn ready(&self) -> bool {
        true
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
}

fn alert(name: &str, resolved: bool) -> Alert {
    Alert {
        labels: [("alertname", name)].into_iter().collect(),
        annotations: LabelSet::new(),
        starts_at: t0() - TimeDelta::minutes(5),
        ends_at: if resolved {
            t0() - TimeDelta::minutes(1)
        } else {
            zero_time()
        },
        generator_url: String::new(),
        updated_at: t0(),
        timeout: false,
    }
}

fn ctx(now: DateTime<Utc>) -> GroupContext {
    GroupContext {
        group_key: "{}:{}".into(),
        group_labels: LabelSet::new(),
        receiver: "team".into(),
        route_id: "{}".into(),
        group_interval: Duration::from_secs(300),
        repeat_interval: Duration::from_secs(3600),
        mute_time_intervals: vec![],
        active_time_intervals: vec![],
        now,
    }
}

struct Fixture {
    pipeline: Pipeline,
    nflog: Arc<NotificationLog>,
    silences: Arc<Silences>,
    inhibitor: Arc<Inhibitor>,
    broadcasts: Arc<Broadcasts>,
}

fn fixture(rec: &Arc<Recorder>, peer: Arc<dyn Peer>) -> Fixture {
    let nflog = Arc::new(NotificationLog::new(Options::default()));
    let silences = Arc::new(Silences::new(SilencesOptions::default()));
    let rule = InhibitRule {
        source_matchers: parse_matchers("alertname=Source", Mode::Classic).unwrap_or_default(),
        target_matchers: parse_matchers("alertname=Target", Mode::Classic).unwrap_or_default(),
        ..InhibitRule::default()
    };
    let inhibitor = Arc::new(Inhibitor::new(vec![rule]));
    let broadcasts = Arc::new(Broadcasts::default());
    let yaml = "name: always\ntime_intervals:\n- weekdays: ['sunday:saturday']\n";
    let always: NamedTimeInterval = serde_norway::from_str(yaml).expect("valid interval");
    let integration: Arc<dyn Integration> = rec.clone();
    let pipeline = Pipeline::new(
        HashMap::from([("team".to_owned(), vec![integration])]),
        PipelineDeps {
            peer,
            inhibitor: inhibitor.clone(),
            silences: silences.clone(),
            time_intervals: HashMap::from([("always".to_owned(), always)]),
            nflog: nflog.clone(),
            broadcast: broadcasts.clone(),
        },
        PipelineOptions::default(),
    );
    Fixture {
        pipeline,
        nflog,
        silences,
        inhibitor,
        broadcasts,
    }
}

fn key() -> ReceiverKey {
    ReceiverKey::new("team", "webhook", 0)
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(start_paused = true)]
async fn first_dedup_repeat() {
    let rec = Recorder::new(false, 0, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    let alerts = vec![alert("A", false)];
    f.pipeline.notify(&ctx(t0()), alerts.clone()).await.ok();
    assert_eq!(
        rec.calls(),
        vec![("first notification".into(), names(&["A"]))]
    );
    assert!(f.nflog.query(&key(), "{}:{}").is_some());
    assert_eq!(f.broadcasts.0.lock().map(|b| b.len()).unwrap_or(0), 1);

    let later = t0() + TimeDelta::minutes(5);
    assert!(f.pipeline.notify(&ctx(later), alerts.clone()).await.is_ok());
    assert_eq!(rec.calls().len(), 1, "deduplicated");

    let repeat = t0() + TimeDelta::minutes(61);
    assert!(f.pipeline.notify(&ctx(repeat), alerts).await.is_ok());
    assert_eq!(rec.calls()[1].0, "repeat interval elapsed");
}

#[tokio::test(start_paused = true)]
async fn resolved_with_send_resolved() {
    let rec = Recorder::new(true, 0, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    let c = ctx(t0());
    assert!(
        f.pipeline
            .notify(&c, vec![alert("A", false), alert("B", false)])
            .await
            .is_ok()
    );
    let both = vec![alert("A", false), alert("B", true)];
    assert!(f.pipeline.notify(&c, both).await.is_ok());
    assert_eq!(
        rec.calls()[1],
        ("some alerts resolved".into(), names(&["A", "B"]))
    );
    let all = vec![alert("A", true), alert("B", true)];
    assert!(f.pipeline.notify(&c, all).await.is_ok());
    assert_eq!(rec.calls()[2].0, "all alerts resolved");
}

#[tokio::test(start_paused = true)]
async fn resolved_without_send_resolved() {
    let rec = Recorder::new(false, 0, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    let c = ctx(t0());
    assert!(
        f.pipeline
            .notify(&c, vec![alert("A", false), alert("B", false)])
            .await
            .is_ok()
    );
    // B resolved: the firing set shrinks, no notification.
    assert!(
        f.pipeline
            .notify(&c, vec![alert("A", false), alert("B", true)])
            .await
            .is_ok()
    );
    assert_eq!(rec.calls().len(), 1);
    // All resolved: logged without sending, which clears the firing set.
    assert!(
        f.pipeline
            .notify(&c, vec![alert("A", true), alert("B", true)])
            .await
            .is_ok()
    );
    assert_eq!(rec.calls().len(), 1);
    let entry = f.nflog.query(&key(), "{}:{}");
    assert!(entry.is_some_and(|e| e.firing_alerts.is_empty() && e.resolved_alerts.len() == 2));
}

#[tokio::test(start_paused = true)]
async fn silenced_and_inhibited_are_removed() {
    let rec = Recorder::new(false, 0, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    let silence = Silence {
        matcher_sets: vec![parse_matchers("alertname=Quiet", Mode::Classic).unwrap_or_default()],
        starts_at: Some(t0() - TimeDelta::hours(1)),
        ends_at: Some(t0() + TimeDelta::hours(1)),
        created_by: "t".into(),
        comment: "t".into(),
        ..Silence::default()
    };
    assert!(f.silences.set(silence, t0() - TimeDelta::hours(1)).is_ok());
    f.inhibitor.observe(&alert("Source", false));
    let batch = vec![
        alert("Quiet", false),
        alert("Target", false),
        alert("Loud", false),
    ];
    assert!(f.pipeline.notify(&ctx(t0()), batch).await.is_ok());
    assert_eq!(
        rec.calls(),
        vec![("first notification".into(), names(&["Loud"]))]
    );
    let stats = f.pipeline.stats();
    assert_eq!(stats.get(SuppressReason::Silence), 1);
    assert_eq!(stats.get(SuppressReason::Inhibition), 1);

    // Everything muted: nothing sent, nflog untouched.
    let rec2 = Recorder::new(false, 0, true);
    let f2 = fixture(&rec2, Arc::new(NilPeer));
    assert!(
        f2.silences
            .set(
                Silence {
                    matcher_sets: vec![
                        parse_matchers("alertname=~.+", Mode::Classic).unwrap_or_default()
                    ],
                    starts_at: Some(t0() - TimeDelta::hours(1)),
                    ends_at: Some(t0() + TimeDelta::hours(1)),
                    created_by: "t".into(),
                    comment: "t".into(),
                    ..Silence::default()
                },
                t0() - TimeDelta::hours(1)
            )
            .is_ok()
    );
    assert!(
        f2.pipeline
            .notify(&ctx(t0()), vec![alert("A", false)])
            .await
            .is_ok()
    );
    assert!(rec2.calls().is_empty());
    assert!(f2.nflog.is_empty());
}

#[tokio::test(start_paused = true)]
async fn time_intervals_drop_the_batch() {
    let rec = Recorder::new(false, 0, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    let mut c = ctx(t0());
    c.mute_time_intervals = vec!["always".into()];
    assert!(
        f.pipeline
            .notify(&c, vec![alert("A", false), alert("B", false)])
            .await
            .is_ok()
    );
    c.mute_time_intervals.clear();
    c.active_time_intervals = vec!["missing".into()];
    assert!(f.pipeline.notify(&c, vec![alert("A", false)]).await.is_ok());
    assert!(rec.calls().is_empty());
    assert!(f.nflog.is_empty());
    let stats = f.pipeline.stats();
    assert_eq!(stats.get(SuppressReason::MuteTimeInterval), 2);
    assert_eq!(stats.get(SuppressReason::ActiveTimeInterval), 1);
    c.active_time_intervals = vec!["always".into()];
    assert!(f.pipeline.notify(&c, vec![alert("A", false)]).await.is_ok());
    assert_eq!(rec.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn position_one_waits_and_dedups_against_position_zero() {
    let rec = Recorder::new(false, 0, true);
    let f = fixture(&rec, Arc::new(PositionPeer(1)));
    // Position 0's entry, gossiped while we wait.
    let other = NotificationLog::new(Options::default());
    let alerts = vec![alert("A", false)];
    let hash = alerts[0].labels.alert_hash();
    let bytes = other
        .log(&key(), "{}:{}", &[hash], &[], None, t0())
        .ok()
        .flatten();
    let start = tokio::time::Instant::now();
    let c = ctx(t0());
    let flush = f.pipeline.notify(&c, alerts);
    let gossip = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(b) = &bytes {
            assert!(f.nflog.merge(b, t0()).is_ok());
        }
    };
    let (res, ()) = tokio::join!(flush, gossip);
    assert!(res.is_ok());
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    assert!(rec.calls().is_empty());
}

/// Grafana's HA guard: an entry another peer logged after this flush began (while we waited for
/// our position) stops the send even when its alerts differ from ours, and we log nothing.
#[tokio::test(start_paused = true)]
async fn entry_logged_after_the_flush_began_skips_the_send() {
    let alerts = vec![alert("A", false), alert("B", false)];
    let hash_a = alerts[0].labels.alert_hash();
    for (logged_at, sends) in [
        (t0() + TimeDelta::seconds(1), false),
        (t0() - TimeDelta::seconds(1), true),
    ] {
        let rec = Recorder::new(false, 0, true);
        let f = fixture(&rec, Arc::new(PositionPeer(1)));
        // Position 0 notified only A (it had not received B), at `logged_at`.
        let other = NotificationLog::new(Options::default());
        let bytes = other
            .log(&key(), "{}:{}", &[hash_a], &[], None, logged_at)
            .ok()
            .flatten();
        let c = ctx(t0());
        let flush = f.pipeline.notify(&c, alerts.clone());
        let gossip = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Some(b) = &bytes {
                assert!(f.nflog.merge(b, t0()).is_ok());
            }
        };
        let (res, ()) = tokio::join!(flush, gossip);
        assert!(res.is_ok());
        let entry = f.nflog.query(&key(), "{}:{}").expect("entry");
        if sends {
            assert_eq!(
                rec.calls(),
                vec![("new alerts added".into(), names(&["A", "B"]))]
            );
            assert_eq!(entry.firing_alerts.len(), 2);
        } else {
            assert!(rec.calls().is_empty(), "another peer already notified");
            assert_eq!(entry.firing_alerts, vec![hash_a], "nflog not written");
            assert!(f.broadcasts.0.lock().map(|b| b.is_empty()).unwrap_or(false));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn retries_until_success() {
    let rec = Recorder::new(false, 3, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    assert!(
        f.pipeline
            .notify(&ctx(t0()), vec![alert("A", false)])
            .await
            .is_ok()
    );
    assert_eq!(rec.calls().len(), 4);
    assert!(f.nflog.query(&key(), "{}:{}").is_some());
}

#[tokio::test(start_paused = true)]
async fn gives_up_at_the_deadline() {
    let rec = Recorder::new(false, u32::MAX, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    let start = tokio::time::Instant::now();
    let res = f.pipeline.notify(&ctx(t0()), vec![alert("A", false)]).await;
    assert!(
        matches!(res, Err(NotifyError::Multiple(ref e)) if matches!(e[..], [NotifyError::DeadlineExceeded { .. }]))
    );
    assert_eq!(start.elapsed(), Duration::from_secs(300));
    assert!(rec.calls().len() > 5);
    assert!(f.nflog.is_empty(), "nflog not written on failure");
}

#[tokio::test(start_paused = true)]
async fn non_retryable_stops_at_once() {
    let rec = Recorder::new(false, 1, false);
    let f = fixture(&rec, Arc::new(NilPeer));
    let start = tokio::time::Instant::now();
    let res = f.pipeline.notify(&ctx(t0()), vec![alert("A", false)]).await;
    assert!(res.is_err());
    assert_eq!(rec.calls().len(), 1);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(f.nflog.is_empty());
}

#[tokio::test(start_paused = true)]
async fn unknown_receiver_and_empty_batch() {
    let rec = Recorder::new(false, 0, true);
    let f = fixture(&rec, Arc::new(NilPeer));
    assert!(f.pipeline.notify(&ctx(t0()), vec![]).await.is_ok());
    let mut c = ctx(t0());
    c.receiver = "nobody".into();
    let res = f.pipeline.notify(&c, vec![alert("A", false)]).await;
    assert!(matches!(res, Err(NotifyError::UnknownReceiver(_))));
    assert!(rec.calls().is_empty());
}
