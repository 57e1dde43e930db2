//! Inhibition tests (after upstream `inhibit/inhibit_test.go`).

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::alert::zero_time;
use crate::matchers::{Mode, parse_matchers};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn m(s: &str) -> Matchers {
    parse_matchers(s, Mode::Fallback).unwrap_or_else(|e| panic!("bad matchers {s}: {e:?}"))
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs.iter().copied().collect()
}

fn alert(pairs: &[(&str, &str)], ends: i64) -> Alert {
    Alert {
        labels: ls(pairs),
        annotations: LabelSet::new(),
        starts_at: t(-100),
        ends_at: t(ends),
        generator_url: String::new(),
        updated_at: t(-100),
        timeout: false,
    }
}

fn rule(source: &str, target: &str, equal: &[&str]) -> InhibitRule {
    InhibitRule {
        source_matchers: m(source),
        target_matchers: m(target),
        equal: equal.iter().map(|s| s.to_string()).collect(),
        name: None,
    }
}

#[test]
fn equal_labels_must_match() {
    let ih = Inhibitor::new(vec![rule(r#"{s="1"}"#, r#"{t="1"}"#, &["e"])]);
    let src = alert(&[("s", "1"), ("e", "1")], 100);
    ih.observe(&src);
    let now = t(0);
    assert_eq!(
        ih.mutes(&ls(&[("t", "1"), ("e", "1")]), now),
        Some(src.fingerprint())
    );
    assert_eq!(ih.mutes(&ls(&[("t", "1"), ("e", "2")]), now), None);
    assert_eq!(ih.mutes(&ls(&[("t", "1")]), now), None);
    assert_eq!(ih.mutes(&ls(&[("t", "2"), ("e", "1")]), now), None);
}

#[test]
fn label_missing_on_both_sides_is_equal() {
    let ih = Inhibitor::new(vec![rule(r#"{s="1"}"#, r#"{t="1"}"#, &["e", "f"])]);
    let src = alert(&[("s", "1"), ("e", "1")], 100);
    ih.observe(&src);
    assert_eq!(
        ih.mutes(&ls(&[("t", "1"), ("e", "1")]), t(0)),
        Some(src.fingerprint())
    );
    assert_eq!(
        ih.mutes(&ls(&[("t", "1"), ("e", "1"), ("f", "x")]), t(0)),
        None
    );
}

#[test]
fn non_source_alerts_are_not_cached() {
    let ih = Inhibitor::new(vec![rule(r#"{s="1"}"#, r#"{t="1"}"#, &[])]);
    ih.observe(&alert(&[("s", "2")], 100));
    assert_eq!(ih.cache_sizes(), [0]);
    assert_eq!(ih.mutes(&ls(&[("t", "1")]), t(0)), None);
}

#[test]
fn resolved_source_does_not_inhibit() {
    let ih = Inhibitor::new(vec![rule(r#"{s="1"}"#, r#"{t="1"}"#, &[])]);
    let src = alert(&[("s", "1")], 10);
    ih.observe(&src);
    assert_eq!(ih.mutes(&ls(&[("t", "1")]), t(5)), Some(src.fingerprint()));
    assert_eq!(ih.mutes(&ls(&[("t", "1")]), t(10)), None);
    // A firing source with no end time inhibits.
    let mut firing = alert(&[("s", "1"), ("x", "y")], 0);
    firing.ends_at = zero_time();
    let ih = Inhibitor::new(vec![rule(r#"{s="1"}"#, r#"{t="1"}"#, &[])]);
    ih.observe(&firing);
    assert_eq!(
        ih.mutes(&ls(&[("t", "1")]), t(1_000_000)),
        Some(firing.fingerprint())
    );
}

/// Upstream's two-sided cases: an alert matching both sides cannot inhibit one that also
/// matches both sides, but a source matching only the source side can.
#[test]
fn no_self_inhibition() {
    let r = rule(
        r#"{alertname="InhibitingAlert"}"#,
        r#"{job="j"}"#,
        &["cluster"],
    );
    let ih = Inhibitor::new(vec![r]);
    let both = alert(
        &[
            ("alertname", "InhibitingAlert"),
            ("job", "j"),
            ("cluster", "c"),
        ],
        100,
    );
    ih.observe(&both);
    assert_eq!(ih.mutes(&both.labels, t(0)), None);
    let other_both = ls(&[
        ("alertname", "InhibitingAlert"),
        ("job", "j"),
        ("cluster", "c"),
        ("x", "1"),
    ]);
    assert_eq!(ih.mutes(&other_both, t(0)), None);
    // A target-only alert is inhibited by the two-sided source.
    let target_only = ls(&[("alertname", "Other"), ("job", "j"), ("cluster", "c")]);
    assert_eq!(ih.mutes(&target_only, t(0)), Some(both.fingerprint()));
    // A source-only alert for the same equal labels replaces it in the index if it lasts longer.
    let source_only = alert(&[("alertname", "InhibitingAlert"), ("cluster", "c")], 200);
    ih.observe(&source_only);
    assert_eq!(
        ih.mutes(&both.labels, t(0)),
        Some(source_only.fingerprint())
    );
}

#[test]
fn later_ends_at_wins() {
    let ih = Inhibitor::new(vec![rule(r#"{s="1"}"#, r#"{t="1"}"#, &["e"])]);
    let long = alert(&[("s", "1"), ("e", "1"), ("n", "long")], 100);
    let short = alert(&[("s", "1"), ("e", "1"), ("n", "short")], 50);
    ih.observe(&long);
    ih.observe(&short);
    let target = ls(&[("t", "1"), ("e", "1")]);
    assert_eq!(ih.mutes(&target, t(60)), Some(long.fingerprint()));
    let longer = alert(&[("s", "1"), ("e", "1"), ("n", "longer")], 150);
    ih.observe(&longer);
    assert_eq!(ih.mutes(&target, t(120)), Some(longer.fingerprint()));
    assert_eq!(ih.mutes(&target, t(150)), None);
}

#[test]
fn gc_removes_resolved_and_repoints_index() {
    let ih = Inhibitor::new(vec![rule(r#"{s="1"}"#, r#"{t="1"}"#, &["e"])]);
    let a = alert(&[("s", "1"), ("e", "1"), ("n", "a")], 100);
    let b = alert(&[("s", "1"), ("e", "1"), ("n", "b")], 50);
    ih.observe(&b);
    ih.observe(&a);
    assert_eq!(ih.cache_sizes(), [2]);
    assert_eq!(ih.gc(t(60)), 1);
    assert_eq!(ih.cache_sizes(), [1]);
    let target = ls(&[("t", "1"), ("e", "1")]);
    assert_eq!(ih.mutes(&target, t(60)), Some(a.fingerprint()));
    // Resolving the indexed source and collecting it leaves the other one indexed.
    // (Upstream would drop the index entry and forget `d` until it is observed again.)
    let c = alert(&[("s", "1"), ("e", "1"), ("n", "c")], 500);
    ih.observe(&c);
    let d = alert(&[("s", "1"), ("e", "1"), ("n", "d")], 400);
    ih.observe(&d);
    assert_eq!(ih.mutes(&target, t(60)), Some(c.fingerprint()));
    ih.observe(&alert(&[("s", "1"), ("e", "1"), ("n", "c")], 70));
    assert_eq!(ih.gc(t(110)), 2);
    assert_eq!(ih.mutes(&target, t(110)), Some(d.fingerprint()));
    assert_eq!(ih.gc(t(400)), 1);
    assert_eq!(ih.cache_sizes(), [0]);
    assert_eq!(ih.mutes(&target, t(110)), None);
}

#[test]
fn first_rule_wins() {
    let ih = Inhibitor::new(vec![
        rule(r#"{s="1"}"#, r#"{t="1"}"#, &[]),
        rule(r#"{s="2"}"#, r#"{t="1"}"#, &[]),
    ]);
    let s2 = alert(&[("s", "2")], 100);
    ih.observe(&s2);
    assert_eq!(ih.mutes(&ls(&[("t", "1")]), t(0)), Some(s2.fingerprint()));
    let s1 = alert(&[("s", "1")], 100);
    ih.observe(&s1);
    assert_eq!(ih.mutes(&ls(&[("t", "1")]), t(0)), Some(s1.fingerprint()));
}

#[test]
fn subscribes_to_alert_store() {
    let store = AlertStore::new(0);
    let before = alert(&[("s", "1"), ("e", "1")], 100);
    assert!(store.put(before.clone(), t(0)).is_ok());
    let ih = Arc::new(Inhibitor::new(vec![rule(
        r#"{s="1"}"#,
        r#"{t="1"}"#,
        &["e"],
    )]));
    let id = ih.subscribe(&store);
    assert_eq!(
        ih.mutes(&ls(&[("t", "1"), ("e", "1")]), t(0)),
        Some(before.fingerprint())
    );
    let after = alert(&[("s", "1"), ("e", "2")], 100);
    assert!(store.put(after.clone(), t(0)).is_ok());
    assert_eq!(
        ih.mutes(&ls(&[("t", "1"), ("e", "2")]), t(0)),
        Some(after.fingerprint())
    );
    assert!(store.unsubscribe(id));
}

#[test]
fn inhibitor_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Inhibitor>();
}
