use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::labels::LabelSet;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn named(name: &str, instance: &str, starts: i64, ends: i64, updated: i64) -> Alert {
    Alert {
        labels: [("alertname", name), ("instance", instance)]
            .into_iter()
            .collect(),
        annotations: LabelSet::new(),
        starts_at: t(starts),
        ends_at: t(ends),
        generator_url: String::new(),
        updated_at: t(updated),
        timeout: false,
    }
}

fn a(starts: i64, ends: i64, updated: i64) -> Alert {
    named("A", "i", starts, ends, updated)
}

#[test]
fn store_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<AlertStore>();
}

#[test]
fn overlap_boundaries() {
    let old = a(10, 20, 0);
    // (new starts, new ends, overlaps?)
    let cases = [
        (12, 30, true),  // starts inside
        (0, 15, true),   // ends inside
        (12, 18, true),  // both inside
        (10, 30, false), // starts == old.starts (strict bound)
        (0, 20, false),  // ends == old.ends (strict bound)
        (0, 10, false),  // ends == old.starts
        (20, 30, false), // starts == old.ends
        (0, 30, false),  // contains the old interval
        (10, 20, false), // identical interval
        (30, 40, false), // after
        (0, 5, false),   // before
    ];
    for (s, e, want) in cases {
        assert_eq!(
            overlaps(&old, &a(s, e, 1)),
            want,
            "new [{s}, {e}] vs old [10, 20]"
        );
    }
}

#[test]
fn put_merges_on_overlap_and_replaces_otherwise() {
    let store = AlertStore::default();
    let now = t(0);
    let first = store.put(a(10, 20, 1), now).ok();
    assert_eq!(first, Some(Arc::new(a(10, 20, 1))));
    // Overlapping: start stays the earliest, the younger's later end wins.
    let merged = store.put(a(15, 30, 2), now).ok();
    assert_eq!(
        merged.as_ref().map(|m| (m.starts_at, m.ends_at)),
        Some((t(10), t(30)))
    );
    assert_eq!(store.get(a(0, 0, 0).fingerprint()), merged);
    // Not overlapping (a new occurrence): replaced, start is not carried over.
    let replaced = store.put(a(40, 50, 3), now).ok();
    assert_eq!(replaced, Some(Arc::new(a(40, 50, 3))));
    // Same start as stored and a later end (strict bounds): replaced too.
    let same_start = store.put(a(40, 60, 4), now).ok();
    assert_eq!(same_start, Some(Arc::new(a(40, 60, 4))));
    // An end strictly inside the stored interval merges: the stored later explicit end stays.
    let inside = store.put(a(40, 45, 5), now).ok();
    assert_eq!(
        inside.map(|m| (m.ends_at, m.updated_at)),
        Some((t(60), t(5)))
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn put_same_alert_twice_is_idempotent() {
    let store = AlertStore::default();
    let x = a(10, 20, 1);
    let once = store.put(x.clone(), t(0)).ok();
    let twice = store.put(x.clone(), t(0)).ok();
    assert_eq!(once, twice);
    assert_eq!(store.list(), vec![Arc::new(x)]);
    // Also for an alert that overlaps the stored one when re-put.
    let y = a(12, 18, 1);
    let store = AlertStore::default();
    let _ = store.put(a(10, 20, 0), t(0));
    let once = store.put(y.clone(), t(0)).ok();
    let twice = store.put(y, t(0)).ok();
    assert_eq!(once, twice);
}

#[test]
fn list_get_and_counts() {
    let store = AlertStore::default();
    for (i, ends) in [("1", 100), ("2", 50), ("3", 200)] {
        assert!(store.put(named("A", i, 0, ends, 0), t(0)).is_ok());
    }
    let listed = store.list();
    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .windows(2)
            .all(|w| w[0].fingerprint() < w[1].fingerprint())
    );
    let fp = named("A", "2", 0, 0, 0).fingerprint();
    assert_eq!(store.get(fp).map(|x| x.ends_at), Some(t(50)));
    assert_eq!(store.get(named("B", "2", 0, 0, 0).fingerprint()), None);
    assert_eq!(
        store.count_by_state(t(49)),
        AlertCounts {
            firing: 3,
            resolved: 0
        }
    );
    assert_eq!(
        store.count_by_state(t(100)),
        AlertCounts {
            firing: 1,
            resolved: 2
        }
    );
}

#[test]
fn gc_removes_resolved() {
    let store = AlertStore::default();
    for (i, ends) in [("1", 100), ("2", 50), ("3", 200)] {
        assert!(store.put(named("A", i, 0, ends, 0), t(0)).is_ok());
    }
    assert_eq!(store.gc(t(49)), Vec::new());
    assert_eq!(
        store.gc(t(50)),
        vec![named("A", "2", 0, 0, 0).fingerprint()],
        "ends_at == now"
    );
    let mut want = vec![
        named("A", "1", 0, 0, 0).fingerprint(),
        named("A", "3", 0, 0, 0).fingerprint(),
    ];
    want.sort();
    assert_eq!(store.gc(t(1_000)), want);
    assert!(store.is_empty());
}

#[test]
fn per_alertname_limit() {
    let store = AlertStore::new(2);
    let now = t(0);
    assert!(store.put(named("A", "1", 0, 100, 0), now).is_ok());
    assert!(store.put(named("A", "2", 0, 100, 0), now).is_ok());
    let err = store.put(named("A", "3", 0, 100, 0), now).err();
    assert_eq!(
        err,
        Some(AlertStoreError::PerAlertnameLimit {
            alertname: "A".into(),
            limit: 2
        })
    );
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("too many alerts with alertname \"A\": limit is 2")
    );
    assert_eq!(store.len(), 2);
    // Updates of stored alerts and other alertnames are accepted.
    assert!(store.put(named("A", "1", 50, 200, 1), now).is_ok());
    assert!(store.put(named("B", "1", 0, 100, 0), now).is_ok());
    // After GC frees a slot, a new alert fits again.
    // (a resolved update merges to the younger end because the stored one is still firing)
    let resolved = store.put(named("A", "2", 0, 10, 2), t(20)).ok();
    assert_eq!(resolved.map(|r| r.ends_at), Some(t(10)));
    assert_eq!(store.gc(t(20)).len(), 1);
    assert!(store.put(named("A", "3", 0, 100, 0), now).is_ok());
    // 0 means unlimited.
    let unlimited = AlertStore::new(0);
    for i in 0..50 {
        assert!(
            unlimited
                .put(named("A", &i.to_string(), 0, 100, 0), now)
                .is_ok()
        );
    }
}

#[test]
fn subscribers_see_snapshot_then_stored_alerts() {
    let store = Arc::new(AlertStore::default());
    let _ = store.put(a(10, 20, 1), t(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let (snapshot, id) = store.subscribe(move |alert| {
        if let Ok(mut v) = sink.lock() {
            v.push(alert.clone());
        }
    });
    assert_eq!(snapshot, vec![Arc::new(a(10, 20, 1))]);
    let merged = store.put(a(15, 30, 2), t(0)).ok();
    let got = seen.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(
        got.into_iter().next(),
        merged,
        "listeners get the merged alert"
    );
    assert!(store.unsubscribe(id));
    assert!(!store.unsubscribe(id));
    let _ = store.put(named("B", "x", 0, 10, 0), t(0));
    assert_eq!(seen.lock().map(|v| v.len()).unwrap_or(0), 1);
}

#[test]
fn listener_may_call_back_into_store() {
    let store = Arc::new(AlertStore::default());
    let weak = Arc::downgrade(&store);
    let counted = Arc::new(Mutex::new(0usize));
    let c = counted.clone();
    let _ = store.subscribe(move |_| {
        if let (Some(s), Ok(mut n)) = (weak.upgrade(), c.lock()) {
            *n = s.len();
        }
    });
    let _ = store.put(a(0, 10, 0), t(0));
    assert_eq!(counted.lock().map(|n| *n).unwrap_or(0), 1);
}

#[test]
fn store_listeners_and_listings_share_one_copy() {
    let store = AlertStore::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let (_, _id) = store.subscribe(move |alert| {
        if let Ok(mut v) = sink.lock() {
            v.push(Arc::clone(alert));
        }
    });
    let stored = store.put(a(10, 20, 1), t(0)).expect("stored");
    let got = store.get(stored.fingerprint()).expect("present");
    assert!(Arc::ptr_eq(&stored, &got), "get shares the stored alert");
    let listed = store.list();
    assert!(Arc::ptr_eq(&stored, &listed[0]), "list shares it too");
    let heard = seen.lock().map(|v| v.clone()).unwrap_or_default();
    assert!(
        heard.len() == 1 && Arc::ptr_eq(&stored, &heard[0]),
        "listeners get the stored alert itself"
    );
}

#[test]
fn list_is_sorted_by_fingerprint() {
    let store = AlertStore::default();
    for i in 0..50 {
        let _ = store.put(named("A", &i.to_string(), 0, 100, 0), t(0));
    }
    let fps: Vec<Fingerprint> = store.list().iter().map(|a| a.fingerprint()).collect();
    assert_eq!(fps.len(), 50);
    assert!(fps.windows(2).all(|w| w[0] < w[1]), "{fps:?}");
    let (snapshot, _) = store.subscribe(|_| {});
    let sub: Vec<Fingerprint> = snapshot.iter().map(|a| a.fingerprint()).collect();
    assert_eq!(sub, fps);
}
