//! Two instances connected in-process by a loopback pair of peers (`support::loopback_pair`):
//! silences and notification log entries made on one take effect on the other, received
//! updates are relayed once when they changed state (never when unchanged or oversized), full
//! states merge, and the pipeline of the second position dedups against the first's entry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use prometheus_client::registry::Registry;
use wk_alertmanager::alert::PostedAlert;
use wk_alertmanager::dispatch::Clock;
use wk_alertmanager::gossip::{NflogState, SilencesState, StateKeys};
use wk_alertmanager::instance::{Alertmanager, DEFAULT_CONFIG, InstanceOptions};
use wk_alertmanager::matchers::{Mode, parse_matchers};
use wk_alertmanager::metrics::{Metrics, OrgMetrics};
use wk_alertmanager::nflog::{NotificationLog, Options, ReceiverKey};
use wk_alertmanager::silences::{Silence, Silences, SilencesOptions};
use wk_cluster::{Channel, OVERSIZED_BYTES, Peer, State};

mod support;

use support::{Bodies, Loopback, hook_config, loopback_pair, serve};

/// A metrics registry and one organization's handle on it.
fn metrics() -> (Registry, OrgMetrics) {
    let mut registry = Registry::default();
    let metrics = Arc::new(Metrics::new());
    metrics.register(&mut registry);
    let org = metrics.org("1");
    (registry, org)
}

/// The value of the sample `series` (name and labels exactly as exposed).
fn value(registry: &Registry, series: &str) -> Option<f64> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encode");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split(' ').next()?.parse().ok())
}

fn propagated(registry: &Registry, what: &str) -> Option<f64> {
    value(
        registry,
        &format!("alertmanager_{what}_gossip_messages_propagated_total{{org=\"1\"}}"),
    )
}

fn opts(peer: &Arc<Loopback>, clock: Clock, metrics: &OrgMetrics) -> InstanceOptions {
    let mut o = InstanceOptions::new("http://wk.example/", Arc::clone(peer) as Arc<dyn Peer>);
    o.clock = clock;
    o.metrics = metrics.clone();
    o
}

fn posted(name: &str) -> PostedAlert {
    PostedAlert {
        labels: BTreeMap::from([("alertname".to_owned(), name.to_owned())]),
        ..PostedAlert::default()
    }
}

fn silence_for(name: &str, am: &Alertmanager, comment: &str) -> Silence {
    let now = am.now();
    Silence {
        matcher_sets: vec![
            parse_matchers(&format!("alertname=\"{name}\""), Mode::Utf8).expect("matchers"),
        ],
        starts_at: Some(now),
        ends_at: Some(now + TimeDelta::hours(1)),
        created_by: "tester".into(),
        comment: comment.into(),
        ..Silence::default()
    }
}

fn state_of(am: &Alertmanager) -> (String, Vec<String>) {
    let listed = am.alerts(|_, _| true);
    let (_, st) = listed.first().expect("one alert");
    (st.state.to_owned(), st.silenced_by.clone())
}

#[tokio::test(start_paused = true)]
async fn silences_propagate_and_relay_once() {
    let (pa, pb) = loopback_pair();
    let clock = Clock::starting_at(Utc::now());
    let (ra, ma) = metrics();
    let (rb, mb) = metrics();
    let a = Alertmanager::from_yaml(DEFAULT_CONFIG, opts(&pa, clock, &ma)).expect("a");
    let b = Alertmanager::from_yaml(DEFAULT_CONFIG, opts(&pb, clock, &mb)).expect("b");
    assert!(pa.state("nfl").is_some() && pa.state("sil").is_some());
    b.put_alerts(vec![posted("Muted")], b.now());
    assert_eq!(state_of(&b).0, "active");

    // Created on A: broadcast once by A, merged and relayed once by B, unchanged back on A.
    let id = a
        .silences()
        .set(silence_for("Muted", &a, "test"), a.now())
        .expect("silence")
        .id;
    assert_eq!(state_of(&b), ("suppressed".to_owned(), vec![id.clone()]));
    let sent = pa.sent("sil");
    assert_eq!(sent.len(), 1);
    assert_eq!(pb.sent("sil"), sent, "B relays the received bytes");
    assert_eq!(propagated(&rb, "silences"), Some(1.0));
    assert_eq!(propagated(&ra, "silences"), Some(0.0));

    // The same bytes again change nothing: no relay.
    pb.state("sil")
        .expect("sil")
        .merge(&sent[0])
        .expect("merge");
    assert_eq!(pb.sent("sil").len(), 1);
    assert_eq!(propagated(&rb, "silences"), Some(1.0));

    // Expired on A: B's alert is active again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    a.silences().expire(&id, a.now()).expect("expire");
    // It ends at the instant of expiry, so it is expired from just after.
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(state_of(&b), ("active".to_owned(), vec![]));
    assert_eq!(pa.sent("sil").len(), 2);
    assert_eq!(pb.sent("sil").len(), 2);
    assert_eq!(propagated(&rb, "silences"), Some(2.0));
    assert_eq!(a.snapshot_silences(), b.snapshot_silences());
    a.stop().await;
    b.stop().await;
}

#[tokio::test(start_paused = true)]
async fn oversized_silence_is_merged_but_not_relayed() {
    let (pa, pb) = loopback_pair();
    let clock = Clock::starting_at(Utc::now());
    let (_ra, ma) = metrics();
    let (rb, mb) = metrics();
    let a = Alertmanager::from_yaml(DEFAULT_CONFIG, opts(&pa, clock, &ma)).expect("a");
    let b = Alertmanager::from_yaml(DEFAULT_CONFIG, opts(&pb, clock, &mb)).expect("b");
    b.put_alerts(vec![posted("Muted")], b.now());
    let comment = "x".repeat(OVERSIZED_BYTES);
    let id = a
        .silences()
        .set(silence_for("Muted", &a, &comment), a.now())
        .expect("silence")
        .id;
    assert!(pa.sent("sil")[0].len() > OVERSIZED_BYTES);
    assert_eq!(state_of(&b), ("suppressed".to_owned(), vec![id]));
    assert!(
        pb.sent("sil").is_empty(),
        "oversized updates are not relayed"
    );
    assert_eq!(propagated(&rb, "silences"), Some(0.0));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(start_paused = true)]
async fn full_state_merges_after_a_partition() {
    let (pa, pb) = loopback_pair();
    let clock = Clock::starting_at(Utc::now());
    let (_ra, ma) = metrics();
    let (_rb, mb) = metrics();
    let a = Alertmanager::from_yaml(DEFAULT_CONFIG, opts(&pa, clock, &ma)).expect("a");
    let b = Alertmanager::from_yaml(DEFAULT_CONFIG, opts(&pb, clock, &mb)).expect("b");
    b.put_alerts(vec![posted("Muted")], b.now());
    pa.set_connected(false);
    let id = a
        .silences()
        .set(silence_for("Muted", &a, "while apart"), a.now())
        .expect("silence")
        .id;
    assert_eq!(state_of(&b).0, "active", "the update was lost");
    pa.set_connected(true);
    pa.push_full_state();
    assert_eq!(state_of(&b), ("suppressed".to_owned(), vec![id]));
    assert_eq!(a.snapshot_silences(), b.snapshot_silences());
    a.stop().await;
    b.stop().await;
}

#[tokio::test(start_paused = true)]
async fn grafana_keys_are_registered() {
    let (pa, _pb) = loopback_pair();
    let (_r, m) = metrics();
    let mut o = opts(&pa, Clock::starting_at(Utc::now()), &m);
    o.state_keys = StateKeys::grafana(3);
    let a = Alertmanager::from_yaml(DEFAULT_CONFIG, o).expect("a");
    assert!(pa.state("notificationlog:3").is_some());
    assert!(pa.state("silences:3").is_some());
    assert!(pa.state("nfl").is_none() && pa.state("sil").is_none());
    a.silences()
        .set(silence_for("X", &a, "c"), a.now())
        .expect("silence");
    assert_eq!(pa.sent("silences:3").len(), 1);
    a.stop().await;
}

/// Runs one alert through A (position 0) and B (position 1); returns what each webhook got.
async fn notify_both(connected: bool) -> (Bodies, Bodies, Arc<Loopback>, Arc<Loopback>) {
    let (pa, pb) = loopback_pair();
    pa.set_connected(connected);
    pb.set_connected(connected);
    let clock = Clock::starting_at(Utc::now());
    let (_ra, ma) = metrics();
    let (_rb, mb) = metrics();
    let (bodies_a, addr_a) = serve().await;
    let (bodies_b, addr_b) = serve().await;
    let a = Alertmanager::from_yaml(&hook_config(addr_a), opts(&pa, clock, &ma)).expect("a");
    let b = Alertmanager::from_yaml(&hook_config(addr_b), opts(&pb, clock, &mb)).expect("b");
    a.put_alerts(vec![posted("Both")], a.now());
    b.put_alerts(vec![posted("Both")], b.now());
    // group_wait 5s, then B waits 15s for its position; well past both.
    for _ in 0..400 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.stop().await;
    b.stop().await;
    (bodies_a, bodies_b, pa, pb)
}

#[tokio::test(start_paused = true)]
async fn second_position_dedups_against_the_gossiped_entry() {
    let (bodies_a, bodies_b, pa, pb) = notify_both(true).await;
    assert_eq!(bodies_a.lock().expect("lock").len(), 1);
    assert_eq!(
        bodies_b.lock().expect("lock").len(),
        0,
        "B saw A's nflog entry"
    );
    assert_eq!(pa.sent("nfl").len(), 1);
    assert_eq!(pb.sent("nfl"), pa.sent("nfl"), "B relayed A's entry once");
}

#[tokio::test(start_paused = true)]
async fn without_gossip_both_positions_send() {
    let (bodies_a, bodies_b, _pa, _pb) = notify_both(false).await;
    assert_eq!(bodies_a.lock().expect("lock").len(), 1);
    assert_eq!(bodies_b.lock().expect("lock").len(), 1);
}

/// Records broadcasts.
#[derive(Default)]
struct Recorded(Mutex<Vec<Vec<u8>>>);

impl Channel for Recorded {
    fn broadcast(&self, bytes: Vec<u8>) {
        self.0.lock().expect("lock").push(bytes);
    }
}

impl Recorded {
    fn count(&self) -> usize {
        self.0.lock().expect("lock").len()
    }
}

#[tokio::test(start_paused = true)]
async fn nflog_state_relays_changed_small_updates_only() {
    let clock = Clock::starting_at(Utc::now());
    let (registry, m) = metrics();
    let nflog = Arc::new(NotificationLog::new(Options::default()));
    let state = NflogState::new(Arc::clone(&nflog), clock, m);
    let channel = Arc::new(Recorded::default());
    // Merging before the channel is set relays nothing and does not fail.
    let peer = NotificationLog::new(Options::default());
    let key = |i: u32| ReceiverKey::new("r", "webhook", i);
    let one = peer
        .log(&key(0), "{}:{}", &[1], &[], None, clock.now())
        .expect("log")
        .expect("bytes");
    state.merge(&one).expect("merge");
    assert_eq!(nflog.len(), 1);
    state.set_channel(channel.clone());

    let two = peer
        .log(&key(1), "{}:{}", &[2], &[], None, clock.now())
        .expect("log")
        .expect("bytes");
    state.merge(&two).expect("merge");
    assert_eq!(channel.count(), 1);
    assert_eq!(channel.0.lock().expect("lock")[0], two);
    state.merge(&two).expect("merge");
    assert_eq!(channel.count(), 1, "unchanged: not relayed");
    assert_eq!(propagated(&registry, "nflog"), Some(1.0));

    // A full state with new entries, oversized: merged, not relayed.
    for i in 2..40 {
        peer.log(&key(i), "{}:{}", &[u64::from(i)], &[], None, clock.now())
            .expect("log");
    }
    let full = peer.full_state();
    assert!(full.len() > OVERSIZED_BYTES);
    state.merge(&full).expect("merge");
    assert_eq!(nflog.len(), 40);
    assert_eq!(channel.count(), 1);
    assert_eq!(state.marshal(), peer.full_state());
    assert!(state.merge(&[0x05, 0x01]).is_err());
}

#[tokio::test(start_paused = true)]
async fn local_silence_changes_broadcast_once_the_channel_is_set() {
    let clock = Clock::starting_at(Utc::now());
    let (_registry, m) = metrics();
    let silences = Arc::new(Silences::new(SilencesOptions::default()));
    let state = SilencesState::new(Arc::clone(&silences), clock, m);
    let channel = Arc::new(Recorded::default());
    let sil = |c: &str| Silence {
        matcher_sets: vec![parse_matchers("a=b", Mode::Utf8).expect("matchers")],
        ends_at: Some(clock.now() + TimeDelta::hours(1)),
        created_by: "t".into(),
        comment: c.into(),
        ..Silence::default()
    };
    silences.set(sil("before"), clock.now()).expect("set");
    assert_eq!(channel.count(), 0);
    silences.set_broadcast(channel.clone());
    state.set_channel(channel.clone());
    let out = silences.set(sil("after"), clock.now()).expect("set");
    assert_eq!(channel.0.lock().expect("lock").clone(), vec![out.broadcast]);
    let expired = silences.expire(&out.id, clock.now()).expect("expire");
    assert_eq!(channel.count(), 2);
    assert_eq!(channel.0.lock().expect("lock")[1], expired);
    // Expiring again changes nothing and sends nothing.
    let later = clock.now() + TimeDelta::seconds(1);
    assert!(silences.expire(&out.id, later).expect("expire").is_empty());
    assert_eq!(channel.count(), 2);
    assert_eq!(state.marshal(), silences.snapshot());
}
