//! Tests of the notification log: logging, queries, merge rules, GC, snapshots, and a snapshot
//! captured from a real Alertmanager 0.25.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use wk_alertmanager::nflog::{
    DEFAULT_RETENTION, NflogError, NotificationLog, Options, ReceiverKey, expiry_for,
    from_timestamp, state_key, to_timestamp,
};
use wk_alertmanager::proto::nflog::{Entry, MeshEntry, Receiver};
use wk_alertmanager::proto::{Message, decode_delimited, encode_delimited};

const GK: &str = "{}:{alertname=\"HighLoad\"}";
const HOUR: Duration = Duration::from_secs(3600);

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("valid time")
}

fn recv() -> ReceiverKey {
    ReceiverKey::new("hook", "webhook", 0)
}

fn nflog() -> NotificationLog {
    NotificationLog::new(Options::default())
}

fn record(group_key: &str, ts: DateTime<Utc>, expires: DateTime<Utc>, firing: &[u64]) -> MeshEntry {
    MeshEntry {
        entry: Some(Entry {
            group_key: group_key.as_bytes().to_vec(),
            receiver: Some(recv().to_proto()),
            timestamp: Some(to_timestamp(ts)),
            firing_alerts: firing.to_vec(),
            ..Entry::default()
        }),
        expires_at: Some(to_timestamp(expires)),
    }
}

fn expires_of(log: &NotificationLog) -> DateTime<Utc> {
    let records: Vec<MeshEntry> = decode_delimited(&log.snapshot()).expect("decodes");
    from_timestamp(records[0].expires_at.as_ref().expect("set")).expect("in range")
}

#[test]
fn state_key_matches_upstream() {
    assert_eq!(
        state_key(GK, &recv()),
        "{}:{alertname=\"HighLoad\"}:hook/webhook/0"
    );
    assert_eq!(ReceiverKey::new("a", "email", 3).to_string(), "a/email/3");
}

#[test]
fn log_then_query() {
    let log = nflog();
    assert!(log.query(&recv(), GK).is_none());
    let bytes = log
        .log(&recv(), GK, &[1, 2], &[3], None, t(0))
        .unwrap()
        .expect("written");
    let entry = log.query(&recv(), GK).expect("logged");
    assert_eq!(entry.firing_alerts, vec![1, 2]);
    assert_eq!(entry.resolved_alerts, vec![3]);
    assert_eq!(entry.timestamp, Some(to_timestamp(t(0))));
    assert_eq!(entry.group_key, GK.as_bytes());
    assert!(
        log.query(&ReceiverKey::new("hook", "webhook", 1), GK)
            .is_none()
    );
    // The broadcast bytes are exactly the single record of the state.
    assert_eq!(bytes, log.snapshot());
    let decoded: Vec<MeshEntry> = decode_delimited(&bytes).unwrap();
    assert_eq!(decoded.len(), 1);
    assert!(decoded[0].expires_at.is_some());
}

#[test]
fn log_ignores_write_older_than_stored_entry() {
    let log = nflog();
    log.log(&recv(), GK, &[1], &[], None, t(100)).unwrap();
    assert_eq!(log.log(&recv(), GK, &[2], &[], None, t(50)).unwrap(), None);
    assert_eq!(log.query(&recv(), GK).unwrap().firing_alerts, vec![1]);
    // Equal or later timestamps are written.
    assert!(
        log.log(&recv(), GK, &[3], &[], None, t(100))
            .unwrap()
            .is_some()
    );
    assert_eq!(log.query(&recv(), GK).unwrap().firing_alerts, vec![3]);
}

#[test]
fn expiry_rules() {
    let log = NotificationLog::new(Options {
        retention: 10 * HOUR,
    });
    log.log(&recv(), GK, &[1], &[], None, t(0)).unwrap();
    assert_eq!(expires_of(&log), t(36_000));
    log.log(&recv(), GK, &[1], &[], Some(2 * HOUR), t(1))
        .unwrap();
    assert_eq!(expires_of(&log), t(1 + 7200));
    log.log(&recv(), GK, &[1], &[], Some(Duration::ZERO), t(2))
        .unwrap();
    assert_eq!(expires_of(&log), t(2 + 36_000));
    log.log(&recv(), GK, &[1], &[], Some(10 * HOUR), t(3))
        .unwrap();
    assert_eq!(expires_of(&log), t(3 + 36_000));
    log.log(&recv(), GK, &[1], &[], Some(20 * HOUR), t(4))
        .unwrap();
    assert_eq!(expires_of(&log), t(4 + 36_000));
}

#[test]
fn expiry_for_upstream_and_grafana() {
    assert_eq!(Options::default().retention, DEFAULT_RETENTION);
    assert_eq!(DEFAULT_RETENTION, 120 * HOUR);
    let five_min = Duration::from_secs(300);
    assert_eq!(expiry_for(HOUR, five_min, false), 2 * HOUR);
    assert_eq!(expiry_for(HOUR, five_min, true), 2 * HOUR);
    assert_eq!(expiry_for(five_min, HOUR, false), 2 * five_min);
    assert_eq!(expiry_for(five_min, HOUR, true), 2 * HOUR);
    assert_eq!(expiry_for(Duration::MAX, HOUR, true), Duration::MAX);
}

#[test]
fn log_reports_time_overflow() {
    let log = NotificationLog::new(Options {
        retention: Duration::MAX,
    });
    let err = log.log(&recv(), GK, &[], &[], None, t(0)).unwrap_err();
    assert!(matches!(err, NflogError::TimeOverflow));
}

#[test]
fn merge_accepts_only_strictly_newer() {
    let log = nflog();
    let far = t(100_000);
    let first = encode_delimited(&[record(GK, t(10), far, &[1])]);
    let out = log.merge(&first, t(0)).unwrap();
    assert_eq!(out.changed.len(), 1);
    assert_eq!(out.rejected, 0);
    // Equal timestamp: not accepted, not relayed.
    let equal = encode_delimited(&[record(GK, t(10), far, &[2])]);
    assert!(log.merge(&equal, t(0)).unwrap().changed.is_empty());
    assert_eq!(log.query(&recv(), GK).unwrap().firing_alerts, vec![1]);
    // Older: ignored.
    let older = encode_delimited(&[record(GK, t(9), far, &[3])]);
    assert!(log.merge(&older, t(0)).unwrap().changed.is_empty());
    // One nanosecond newer: accepted and relayed.
    let newer_ts = t(10) + TimeDelta::nanoseconds(1);
    let newer = record(GK, newer_ts, far, &[4]);
    let out = log
        .merge(&encode_delimited(std::slice::from_ref(&newer)), t(0))
        .unwrap();
    assert_eq!(out.changed, vec![newer]);
    assert_eq!(log.query(&recv(), GK).unwrap().firing_alerts, vec![4]);
}

#[test]
fn merge_drops_expired_and_rejects_invalid() {
    let log = nflog();
    let no_receiver = MeshEntry {
        entry: Some(Entry {
            group_key: b"x".to_vec(),
            ..Entry::default()
        }),
        expires_at: Some(to_timestamp(t(1000))),
    };
    let no_entry = MeshEntry {
        entry: None,
        expires_at: Some(to_timestamp(t(1000))),
    };
    let expired = record("expired", t(0), t(99), &[1]);
    let boundary = record("boundary", t(0), t(100), &[1]);
    let good = record("good", t(0), t(1000), &[1]);
    let bytes = encode_delimited(&[
        no_receiver,
        expired,
        no_entry,
        boundary.clone(),
        good.clone(),
    ]);
    let out = log.merge(&bytes, t(100)).unwrap();
    assert_eq!(out.rejected, 2);
    assert_eq!(out.expired, 1);
    assert_eq!(out.changed, vec![boundary, good]);
    assert_eq!(log.len(), 2);
}

#[test]
fn merge_of_garbage_is_an_error_and_changes_nothing() {
    let log = nflog();
    let mut bytes = encode_delimited(&[record(GK, t(0), t(1000), &[1])]);
    bytes.extend_from_slice(&[0x05, 0x0a]);
    assert!(matches!(
        log.merge(&bytes, t(0)),
        Err(NflogError::Decode(_))
    ));
    assert!(log.is_empty());
    for garbage in [&[0xff_u8; 11][..], &[0x80], &[0x02, 0xff, 0xff], &[0x01]] {
        assert!(log.merge(garbage, t(0)).is_err());
        assert!(log.load_snapshot(garbage, t(0)).is_err());
    }
    assert!(log.merge(&[], t(0)).unwrap().changed.is_empty());
}

#[test]
fn gc_boundaries() {
    let log = nflog();
    let missing = MeshEntry {
        expires_at: None,
        ..record("missing", t(0), t(0), &[])
    };
    let bytes = encode_delimited(&[
        record("before", t(0), t(99), &[]),
        record("equal", t(0), t(100), &[]),
        record("after", t(0), t(101), &[]),
    ]);
    log.merge(&bytes, t(0)).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log.gc(t(98)), 0);
    assert_eq!(log.gc(t(100)), 2);
    assert_eq!(log.len(), 1);
    assert_eq!(log.gc(t(101)), 1);
    assert!(log.is_empty());
    // A record without expires_at is dropped as expired by merge, so GC never sees one here.
    assert_eq!(
        log.merge(&encode_delimited(&[missing]), t(0))
            .unwrap()
            .expired,
        1
    );
}

#[test]
fn snapshot_round_trip_is_byte_stable_and_sorted() {
    let log = nflog();
    for (i, gk) in ["b", "a", "c"].iter().enumerate() {
        let r = ReceiverKey::new("r", "webhook", u32::try_from(i).unwrap());
        log.log(
            &r,
            gk,
            &[7, 8],
            &[9],
            Some(HOUR),
            t(i64::try_from(i).unwrap()),
        )
        .unwrap();
    }
    let snap = log.snapshot();
    assert_eq!(snap, log.full_state());
    let keys: Vec<Vec<u8>> = decode_delimited::<MeshEntry>(&snap)
        .unwrap()
        .into_iter()
        .map(|e| e.entry.unwrap().group_key)
        .collect();
    assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    let copy = nflog();
    let out = copy.load_snapshot(&snap, t(0)).unwrap();
    assert_eq!(out.loaded, 3);
    assert_eq!(copy.snapshot(), snap);
    // Loading again changes nothing.
    assert_eq!(copy.load_snapshot(&snap, t(0)).unwrap().stale, 3);
    assert_eq!(copy.snapshot(), snap);
}

#[test]
fn load_snapshot_skips_expired_and_invalid() {
    let log = nflog();
    let invalid = MeshEntry {
        entry: None,
        expires_at: Some(to_timestamp(t(1000))),
    };
    let bytes = encode_delimited(&[
        record("old", t(0), t(5), &[]),
        invalid,
        record("ok", t(0), t(1000), &[]),
    ]);
    let out = log.load_snapshot(&bytes, t(10)).unwrap();
    assert_eq!(
        (out.loaded, out.expired, out.invalid, out.stale),
        (1, 1, 1, 0)
    );
}

#[test]
fn loads_alertmanager_snapshot() {
    let bytes = include_bytes!("data/proto/nflog.snapshot");
    let log = nflog();
    let ts = DateTime::from_timestamp(1_795_304_377, 852_637_083).unwrap();
    let out = log.load_snapshot(bytes, ts).unwrap();
    assert_eq!(out.loaded, 1);
    let entry = log.query(&recv(), GK).expect("captured entry");
    assert_eq!(
        state_key(GK, &recv()),
        "{}:{alertname=\"HighLoad\"}:hook/webhook/0"
    );
    assert_eq!(
        entry.receiver,
        Some(Receiver {
            group_name: "hook".into(),
            integration: "webhook".into(),
            idx: 0
        })
    );
    assert_eq!(entry.timestamp.as_ref().and_then(from_timestamp), Some(ts));
    assert_eq!(
        entry.firing_alerts,
        vec![15_676_220_541_903_488_154, 15_806_669_305_278_344_908]
    );
    assert!(entry.resolved_alerts.is_empty());
    // Re-encoding gives Alertmanager's exact bytes.
    assert_eq!(log.snapshot(), bytes.to_vec());
    // It expires two hours later (2 × a 1h repeat interval).
    assert_eq!(
        log.gc(ts + TimeDelta::hours(2) - TimeDelta::nanoseconds(1)),
        0
    );
    assert_eq!(log.gc(ts + TimeDelta::hours(2)), 1);
    // Once expired it is not loaded at all.
    assert_eq!(
        nflog()
            .load_snapshot(bytes, ts + TimeDelta::hours(3))
            .unwrap()
            .expired,
        1
    );
}

#[test]
fn peers_exchanging_full_states_converge() {
    let a = nflog();
    let b = nflog();
    let shared = ReceiverKey::new("team", "email", 0);
    a.log(&recv(), "g1", &[1], &[], None, t(10)).unwrap();
    a.log(&shared, "g2", &[1], &[], None, t(20)).unwrap();
    b.log(&shared, "g2", &[2], &[], None, t(30)).unwrap();
    b.log(&recv(), "g3", &[3], &[], None, t(5)).unwrap();
    let from_a = a.full_state();
    let from_b = b.full_state();
    a.merge(&from_b, t(40)).unwrap();
    let out = b.merge(&from_a, t(40)).unwrap();
    assert_eq!(out.changed.len(), 1, "only g1 is new to b; b's g2 is newer");
    assert_eq!(a.snapshot(), b.snapshot());
    assert_eq!(a.len(), 3);
    assert_eq!(a.query(&shared, "g2").unwrap().firing_alerts, vec![2]);
    // Broadcasting a single log entry reaches the same state too.
    let delta = a
        .log(&recv(), "g3", &[4], &[], None, t(50))
        .unwrap()
        .unwrap();
    assert_eq!(b.merge(&delta, t(50)).unwrap().changed.len(), 1);
    assert_eq!(a.snapshot(), b.snapshot());
}

#[test]
fn group_keys_need_not_be_utf8() {
    let log = nflog();
    let mut r = record("x", t(0), t(1000), &[1]);
    if let Some(e) = r.entry.as_mut() {
        e.group_key = vec![0xff, 0xfe];
    }
    let out = log
        .merge(&r.encode_length_delimited_to_vec(), t(0))
        .unwrap();
    assert_eq!(out.changed.len(), 1);
    assert_eq!(log.snapshot(), r.encode_length_delimited_to_vec());
}

#[test]
fn log_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<NotificationLog>();
}

#[test]
fn timestamp_helpers_round_trip_and_reject_bad_nanos() {
    let now = t(0) + TimeDelta::nanoseconds(123);
    assert_eq!(from_timestamp(&to_timestamp(now)), Some(now));
    let bad = wk_alertmanager::proto::Timestamp {
        seconds: 0,
        nanos: -1,
    };
    assert_eq!(from_timestamp(&bad), None);
    let bad = wk_alertmanager::proto::Timestamp {
        seconds: i64::MAX,
        nanos: 0,
    };
    assert_eq!(from_timestamp(&bad), None);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let log = nflog();
    let valid = encode_delimited(&[record(GK, t(0), t(1000), &[1, 2])]);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..2000 {
        let mut bytes = valid.clone();
        for _ in 0..(round % 5 + 1) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = u64::try_from(bytes.len()).unwrap();
            let pos = usize::try_from(seed % len).unwrap();
            bytes[pos] = seed.to_le_bytes()[3];
        }
        let _ = log.merge(&bytes, t(0));
        let _ = log.load_snapshot(&bytes, t(0));
        log.gc(t(i64::from(round)));
    }
    let extreme = MeshEntry {
        entry: Some(Entry {
            receiver: Some(recv().to_proto()),
            timestamp: Some(wk_alertmanager::proto::Timestamp {
                seconds: i64::MIN,
                nanos: i32::MIN,
            }),
            ..Entry::default()
        }),
        expires_at: Some(wk_alertmanager::proto::Timestamp {
            seconds: i64::MAX,
            nanos: i32::MAX,
        }),
    };
    assert_eq!(
        log.merge(&encode_delimited(&[extreme]), t(0))
            .unwrap()
            .rejected,
        0
    );
    let _ = log.snapshot();
}
