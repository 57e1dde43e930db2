//! Tests of the silence store: validation, states, set/update/replace, limits, expire, merge,
//! GC, snapshots (including one captured from Alertmanager 0.25), mute cache and convergence.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use wk_alertmanager::labels::LabelSet;
use wk_alertmanager::matchers::{MatchType, Matcher, Matchers};
use wk_alertmanager::proto::silence as pb;
use wk_alertmanager::proto::{Message, decode_delimited, encode_delimited};
use wk_alertmanager::silences::{
    Silence, SilenceError, SilenceQuery, SilenceState, Silences, SilencesOptions, ValidationError,
    can_update, to_timestamp, validate_silence,
};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0)
        .single()
        .expect("valid time")
}

fn m(kind: MatchType, name: &str, value: &str) -> Matcher {
    Matcher::new(kind, name, value).expect("valid matcher")
}

fn set_of(ms: Vec<Matcher>) -> Matchers {
    Matchers::from(ms)
}

fn sil(start: i64, end: i64) -> Silence {
    Silence {
        matcher_sets: vec![set_of(vec![m(MatchType::Equal, "a", "b")])],
        starts_at: Some(t(start)),
        ends_at: Some(t(end)),
        created_by: "me".into(),
        comment: "c".into(),
        ..Silence::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}

fn store() -> Silences {
    Silences::new(SilencesOptions::default())
}

fn validate(s: &Silence) -> Result<(), ValidationError> {
    validate_silence(s, wk_alertmanager::labels::NameValidation::Classic)
}

#[test]
fn validation_rules() {
    assert_eq!(validate(&sil(0, 10)), Ok(()));
    let mut s = sil(0, 10);
    s.matcher_sets.clear();
    assert_eq!(validate(&s), Err(ValidationError::NoMatcherSets));
    s.matcher_sets = vec![Matchers::new()];
    assert_eq!(
        validate(&s),
        Err(ValidationError::EmptyMatcherSet { set: 0 })
    );
    s.matcher_sets = vec![set_of(vec![
        m(MatchType::Equal, "a", "b"),
        m(MatchType::Equal, "00", "b"),
    ])];
    let err = validate(&s).expect_err("bad name");
    assert!(matches!(
        err,
        ValidationError::InvalidLabelName {
            set: 0,
            index: 1,
            ..
        }
    ));
    assert_eq!(err.field(), "matchers");
    // UTF-8 names are fine in UTF-8 mode.
    assert_eq!(
        validate_silence(&s, wk_alertmanager::labels::NameValidation::Utf8),
        Ok(())
    );
    s.matcher_sets = vec![set_of(vec![
        m(MatchType::Equal, "a", ""),
        m(MatchType::Regexp, "b", ".*"),
    ])];
    let err = validate(&s).expect_err("matches empty");
    assert_eq!(err, ValidationError::AllMatchEmpty { set: 0 });
    assert!(
        err.to_string()
            .contains("at least one matcher must not match the empty string")
    );
    // Second set checked too; negative matchers never count as matching "".
    s.matcher_sets = vec![
        set_of(vec![m(MatchType::Equal, "a", "b")]),
        set_of(vec![m(MatchType::Regexp, "x", "y*")]),
    ];
    assert_eq!(validate(&s), Err(ValidationError::AllMatchEmpty { set: 1 }));
    s.matcher_sets = vec![set_of(vec![m(MatchType::NotEqual, "a", "web")])];
    assert_eq!(validate(&s), Ok(()));
    let mut s = sil(0, 10);
    s.starts_at = None;
    assert_eq!(validate(&s), Err(ValidationError::ZeroStart));
    assert_eq!(ValidationError::ZeroStart.field(), "startsAt");
    let mut s = sil(0, 10);
    s.ends_at = None;
    assert_eq!(validate(&s), Err(ValidationError::ZeroEnd));
    assert_eq!(validate(&sil(10, 9)), Err(ValidationError::EndBeforeStart));
    assert_eq!(
        ValidationError::EndBeforeStart.to_string(),
        "end time must not be before start time"
    );
    assert_eq!(validate(&sil(10, 10)), Ok(()));
}

#[test]
fn regex_compile_errors_are_typed() {
    let mut p = sil(0, 10).to_proto();
    p.matcher_sets[0].matchers[0] = pb::Matcher {
        r#type: 1,
        name: "a".into(),
        pattern: "(".into(),
    };
    let err = Silence::from_proto(&p).expect_err("bad regex");
    assert!(matches!(
        err,
        ValidationError::InvalidRegex {
            set: 0,
            index: 0,
            ..
        }
    ));
    p.matcher_sets[0].matchers[0].r#type = 9;
    assert!(matches!(
        Silence::from_proto(&p),
        Err(ValidationError::UnknownMatchType { kind: 9, .. })
    ));
}

#[test]
fn state_boundaries() {
    let s = sil(10, 20);
    assert_eq!(s.state(t(9)), SilenceState::Pending);
    assert_eq!(s.state(t(10)), SilenceState::Active);
    assert_eq!(s.state(t(20)), SilenceState::Active);
    assert_eq!(
        s.state(t(20) + TimeDelta::nanoseconds(1)),
        SilenceState::Expired
    );
    assert_eq!(SilenceState::Expired.as_str(), "expired");
}

#[test]
fn proto_compat_legacy_fields() {
    let mut p = sil(0, 10).to_proto();
    assert_eq!(p.matchers, p.matcher_sets[0].matchers);
    // Old peer: only `matchers` and `comments`.
    p.matcher_sets.clear();
    p.created_by.clear();
    p.comment.clear();
    p.comments = vec![pb::Comment {
        author: "old".into(),
        comment: "legacy".into(),
        timestamp: None,
    }];
    let s = Silence::from_proto(&p).expect("decodes");
    assert_eq!(s.matcher_sets.len(), 1);
    assert_eq!(
        (s.created_by.as_str(), s.comment.as_str()),
        ("old", "legacy")
    );
    let back = s.to_proto();
    assert!(back.comments.is_empty());
    assert_eq!(back.matchers, back.matcher_sets[0].matchers);
    // Missing timestamps are written as Go's zero time and read back as None.
    let z = Silence::from_proto(&Silence::default().to_proto()).expect("decodes");
    assert_eq!(z.starts_at, None);
    assert_eq!(to_timestamp(None).seconds, -62_135_596_800);
}

#[test]
fn set_create_fills_fields() {
    let s = store();
    let mut new = sil(-100, 100);
    new.starts_at = None;
    let out = s.set(new, t(0)).expect("set");
    assert_eq!(out.id.len(), 36);
    let got = s.get(&out.id).expect("stored");
    assert_eq!(got.starts_at, Some(t(0)));
    assert_eq!(got.updated_at, Some(t(0)));
    let msgs: Vec<pb::MeshSilence> = decode_delimited(&out.broadcast).expect("decodes");
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        msgs[0].expires_at,
        Some(to_timestamp(Some(t(100) + TimeDelta::hours(120))))
    );
    // A start in the past is clamped to now.
    let id = s.set(sil(-100, 100), t(0)).expect("set").id;
    assert_eq!(s.get(&id).and_then(|x| x.starts_at), Some(t(0)));
    // Unknown id.
    let mut unknown = sil(0, 10);
    unknown.id = "nope".into();
    assert!(matches!(
        s.set(unknown, t(0)),
        Err(SilenceError::NotFound(_))
    ));
    // Invalid.
    assert!(matches!(
        s.set(sil(10, 5), t(0)),
        Err(SilenceError::Validation(_))
    ));
}

#[test]
fn can_update_matrix() {
    let now = t(100);
    let active = sil(50, 200);
    let mut b = active.clone();
    b.ends_at = Some(t(300));
    assert!(can_update(&active, &b, now));
    b.ends_at = Some(t(99));
    assert!(!can_update(&active, &b, now), "active: end before now");
    b.ends_at = Some(t(100));
    assert!(can_update(&active, &b, now), "active: end == now");
    b.starts_at = Some(t(51));
    assert!(!can_update(&active, &b, now), "active: start changed");
    b.starts_at = Some(t(50) + TimeDelta::milliseconds(300));
    assert!(can_update(&active, &b, now), "second precision");
    let pending = sil(150, 200);
    let mut b = pending.clone();
    b.starts_at = Some(t(100));
    assert!(can_update(&pending, &b, now));
    b.starts_at = Some(t(99));
    assert!(!can_update(&pending, &b, now));
    let expired = sil(0, 50);
    assert!(!can_update(&expired, &expired.clone(), now));
    let mut other = active.clone();
    other.matcher_sets = vec![set_of(vec![m(MatchType::Equal, "a", "c")])];
    assert!(!can_update(&active, &other, now));
}

#[test]
fn set_update_in_place_and_replace() {
    let s = store();
    let id = s.set(sil(0, 100), t(0)).expect("create").id;
    // Extend an active silence: same id.
    let mut upd = s.get(&id).expect("stored");
    upd.ends_at = Some(t(200));
    upd.comment = "longer".into();
    let out = s.set(upd, t(10)).expect("update");
    assert_eq!(out.id, id);
    assert_eq!(s.get(&id).and_then(|x| x.updated_at), Some(t(10)));
    // Different matchers: new id, old one expired, both broadcast.
    let mut repl = s.get(&id).expect("stored");
    repl.matcher_sets = vec![set_of(vec![m(MatchType::Equal, "a", "z")])];
    let out = s.set(repl, t(20)).expect("replace");
    assert_ne!(out.id, id);
    let msgs: Vec<pb::MeshSilence> = decode_delimited(&out.broadcast).expect("decodes");
    assert_eq!(msgs.len(), 2);
    assert_eq!(
        msgs[0].silence.as_ref().map(|x| x.id.as_str()),
        Some(id.as_str())
    );
    let old = s.get(&id).expect("kept");
    assert_eq!(old.ends_at, Some(t(20)));
    assert_eq!(old.state(t(21)), SilenceState::Expired);
    // Updating an expired silence creates a new one and broadcasts only it.
    let mut again = old.clone();
    again.ends_at = Some(t(500));
    let out = s.set(again, t(30)).expect("recreate");
    assert_ne!(out.id, id);
    let msgs: Vec<pb::MeshSilence> = decode_delimited(&out.broadcast).expect("decodes");
    assert_eq!(msgs.len(), 1);
    // Pending silence moved later keeps its id.
    let pid = s.set(sil(1000, 2000), t(30)).expect("pending").id;
    let mut p = s.get(&pid).expect("stored");
    p.starts_at = Some(t(1500));
    assert_eq!(s.set(p, t(40)).expect("update").id, pid);
}

#[test]
fn limits() {
    let s = Silences::new(SilencesOptions {
        max_silences: 2,
        ..SilencesOptions::default()
    });
    let a = s.set(sil(0, 10), t(0)).expect("1").id;
    s.set(sil(0, 10), t(0)).expect("2");
    s.expire(&a, t(1)).expect("expire");
    // Expired silences still count.
    let err = s.set(sil(0, 10), t(2)).expect_err("limit");
    assert!(matches!(
        err,
        SilenceError::TooManySilences { count: 2, limit: 2 }
    ));
    // In-place updates are not limited.
    let mut upd = s
        .query(
            &SilenceQuery {
                states: vec![SilenceState::Active],
                ..Default::default()
            },
            t(2),
        )
        .pop()
        .expect("one active");
    upd.ends_at = Some(t(50));
    assert!(s.set(upd, t(2)).is_ok());

    let s = Silences::new(SilencesOptions {
        max_silence_size_bytes: 100,
        ..SilencesOptions::default()
    });
    assert!(s.set(sil(0, 10), t(0)).is_ok());
    let mut big = sil(0, 10);
    big.comment = "x".repeat(200);
    assert!(matches!(
        s.set(big, t(0)),
        Err(SilenceError::TooLarge { limit: 100, .. })
    ));
}

#[test]
fn expire_each_state() {
    let s = store();
    let active = s.set(sil(0, 100), t(0)).expect("a").id;
    let pending = s.set(sil(50, 100), t(0)).expect("p").id;
    let b = s.expire(&active, t(10)).expect("expire active");
    assert!(!b.is_empty());
    let a = s.get(&active).expect("kept");
    assert_eq!(
        (a.starts_at, a.ends_at, a.updated_at),
        (Some(t(0)), Some(t(10)), Some(t(10)))
    );
    s.expire(&pending, t(10)).expect("expire pending");
    let p = s.get(&pending).expect("kept");
    assert_eq!((p.starts_at, p.ends_at), (Some(t(10)), Some(t(10))));
    assert!(s.expire(&active, t(20)).expect("no-op").is_empty());
    assert!(matches!(
        s.expire("missing", t(20)),
        Err(SilenceError::NotFound(_))
    ));
    let c = s.count_by_state(t(20));
    assert_eq!((c.active, c.pending, c.expired), (0, 0, 2));
}

#[test]
fn query_by_id_and_state() {
    let s = store();
    let a = s.set(sil(0, 100), t(0)).expect("a").id;
    let p = s.set(sil(50, 100), t(0)).expect("p").id;
    let q = |ids: Vec<String>, states: Vec<SilenceState>| {
        s.query(&SilenceQuery { ids, states }, t(10))
            .into_iter()
            .map(|x| x.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(q(vec![a.clone()], vec![]), vec![a.clone()]);
    assert_eq!(q(vec![], vec![SilenceState::Pending]), vec![p.clone()]);
    assert_eq!(
        q(vec![a.clone()], vec![SilenceState::Pending]),
        Vec::<String>::new()
    );
    assert_eq!(q(vec![], vec![]).len(), 2);
    assert_eq!(s.query_since(0).len(), 2);
    assert_eq!(s.query_since(1), vec![p]);
}

#[test]
fn mutes_active_only_any_set_missing_label() {
    let s = store();
    let mut multi = sil(0, 100);
    multi.matcher_sets = vec![
        set_of(vec![m(MatchType::Equal, "a", "b")]),
        set_of(vec![
            m(MatchType::Equal, "x", "y"),
            m(MatchType::Equal, "missing", ""),
        ]),
    ];
    let id = s.set(multi, t(0)).expect("set").id;
    let pend = s.set(sil(50, 100), t(0)).expect("pending").id;
    assert_eq!(s.mutes(&labels(&[("x", "y")]), t(10)), vec![id.clone()]);
    assert_eq!(s.mutes(&labels(&[("a", "b")]), t(10)), vec![id.clone()]);
    assert!(s.mutes(&labels(&[("a", "c")]), t(10)).is_empty());
    // The pending silence was cached and becomes active later.
    let mut both = vec![id.clone(), pend];
    both.sort();
    assert_eq!(s.mutes(&labels(&[("a", "b")]), t(60)), both);
    s.expire(&id, t(70)).expect("expire");
    assert_eq!(s.mutes(&labels(&[("x", "y")]), t(71)), Vec::<String>::new());
}

#[test]
fn mute_cache_scans_only_new_silences_at_10k() {
    let s = store();
    for i in 0..10_000 {
        let mut x = sil(0, 1000);
        x.matcher_sets = vec![set_of(vec![m(MatchType::Equal, "n", &i.to_string())])];
        s.set(x, t(0)).expect("set");
    }
    let l = labels(&[("n", "42")]);
    let quiet = labels(&[("n", "none")]);
    assert_eq!(s.mutes(&l, t(1)).len(), 1);
    assert_eq!(s.mutes(&quiet, t(1)).len(), 0);
    let base = s.stats().scanned;
    assert_eq!(base, 20_000);
    // Nothing new: the muted alert re-checks only its cached id, the quiet one nothing.
    assert_eq!(s.mutes(&l, t(2)).len(), 1);
    assert!(s.mutes(&quiet, t(2)).is_empty());
    assert_eq!(s.stats().scanned, base + 1);
    // Three new silences: each alert scans only those (plus its cached ids).
    for v in ["42", "none", "other"] {
        let mut x = sil(0, 1000);
        x.matcher_sets = vec![set_of(vec![m(MatchType::Equal, "n", v)])];
        s.set(x, t(3)).expect("set");
    }
    assert_eq!(s.mutes(&l, t(4)).len(), 2);
    assert_eq!(s.mutes(&quiet, t(4)).len(), 1);
    assert_eq!(s.stats().scanned, base + 1 + 4 + 3);
    assert_eq!(s.stats().version, 10_003);
}

#[test]
fn merge_strictly_newer_wins() {
    let a = store();
    let b = store();
    let id = a.set(sil(0, 100), t(0)).expect("set").id;
    let snap = a.snapshot();
    let out = b.merge(&snap, t(1)).expect("merge");
    assert_eq!((out.changed.len(), out.rejected), (1, 0));
    // Same updated_at again: not newer.
    assert!(b.merge(&snap, t(1)).expect("merge").changed.is_empty());
    // Older version does not overwrite a newer one.
    let mut newer = a.get(&id).expect("stored");
    newer.ends_at = Some(t(200));
    let upd = a.set(newer, t(5)).expect("update");
    assert_eq!(
        b.merge(&upd.broadcast, t(6)).expect("merge").changed.len(),
        1
    );
    assert!(b.merge(&snap, t(6)).expect("merge").changed.is_empty());
    assert_eq!(b.get(&id).and_then(|x| x.ends_at), Some(t(200)));
    // Expired beyond retention: dropped.
    let old = Silences::new(SilencesOptions {
        retention: TimeDelta::seconds(1),
        ..Default::default()
    });
    old.set(sil(0, 10), t(0)).expect("set");
    assert!(
        b.merge(&old.snapshot(), t(12))
            .expect("merge")
            .changed
            .is_empty()
    );
    assert_eq!(
        b.merge(&old.snapshot(), t(11))
            .expect("merge")
            .changed
            .len(),
        1
    );
    // Bad regex: rejected and counted.
    let mut p = sil(0, 100).to_proto();
    p.id = "bad".into();
    p.matcher_sets[0].matchers[0] = pb::Matcher {
        r#type: 1,
        name: "a".into(),
        pattern: "(".into(),
    };
    let mesh = pb::MeshSilence {
        silence: Some(p),
        expires_at: Some(to_timestamp(Some(t(1000)))),
    };
    let out = b.merge(&encode_delimited(&[mesh]), t(0)).expect("merge");
    assert_eq!(out.rejected, 1);
    assert_eq!(b.stats().matcher_compile_errors_merge, 1);
    assert!(b.merge(&[0x05, 0x01], t(0)).is_err());
}

#[test]
fn gc_removes_expired_and_missing() {
    let s = Silences::new(SilencesOptions {
        retention: TimeDelta::seconds(10),
        ..Default::default()
    });
    s.set(sil(0, 10), t(0)).expect("set");
    s.set(sil(0, 30), t(0)).expect("set");
    let mut p = sil(0, 100).to_proto();
    p.id = "peer".into();
    p.updated_at = Some(to_timestamp(Some(t(0))));
    let mesh = pb::MeshSilence {
        silence: Some(p),
        expires_at: Some(to_timestamp(Some(t(500)))),
    };
    s.merge(&encode_delimited(&[mesh]), t(0)).expect("merge");
    assert_eq!(s.gc(t(19)), 0);
    assert_eq!(s.gc(t(20)), 1, "expires_at <= now");
    assert_eq!(s.stats().state_size, 2);
    assert_eq!(s.stats().version_index_size, 2);
    assert_eq!(s.gc(t(1000)), 2);
}

#[test]
fn snapshot_round_trip_is_deterministic() {
    let a = store();
    for i in 0..5 {
        let mut x = sil(0, 100 + i);
        x.annotations.insert("k".into(), i.to_string());
        a.set(x, t(0)).expect("set");
    }
    let snap = a.snapshot();
    assert_eq!(snap, a.snapshot());
    let b = store();
    let out = b.load_snapshot(&snap, t(1)).expect("load");
    assert_eq!((out.loaded, out.rejected, out.expired), (5, 0, 0));
    assert_eq!(b.snapshot(), snap);
    let q = SilenceQuery::default();
    assert_eq!(a.query(&q, t(1)), b.query(&q, t(1)));
    assert!(b.load_snapshot(&[0xff], t(1)).is_err());
    assert_eq!(
        b.stats().state_size,
        5,
        "failed load leaves state unchanged"
    );
}

#[test]
fn alertmanager_025_snapshot() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/proto/silences.snapshot"
    ))
    .expect("fixture");
    let msgs: Vec<pb::MeshSilence> = decode_delimited(&bytes).expect("decodes");
    let sils: Vec<Silence> = msgs
        .iter()
        .map(|m| Silence::from_proto(m.silence.as_ref().expect("silence")).expect("compiles"))
        .collect();
    assert_eq!(sils.len(), 2);
    assert_eq!(sils[0].id, "612decb3-f41b-4971-9ebf-6cf097f7b13d");
    assert_eq!(sils[0].created_by, "watchkeeper-test");
    assert_eq!(sils[0].comment, "capture ✓");
    assert_eq!(sils[0].matcher_sets.len(), 1);
    assert_eq!(
        sils[0].matcher_sets[0].to_string(),
        r#"{alertname=~"Disk.*",env!="prod"}"#
    );
    let jan1 = Utc
        .with_ymd_and_hms(2030, 1, 1, 12, 0, 0)
        .single()
        .expect("time");
    assert_eq!(sils[0].state(jan1), SilenceState::Active);
    assert_eq!(sils[1].state(jan1), SilenceState::Pending);

    let s = store();
    let out = s.load_snapshot(&bytes, jan1).expect("load");
    assert_eq!(out.loaded, 2);
    let hit = labels(&[("alertname", "DiskFull"), ("env", "staging")]);
    assert_eq!(s.mutes(&hit, jan1), vec![sils[0].id.clone()]);
    assert!(
        s.mutes(&labels(&[("alertname", "DiskFull"), ("env", "prod")]), jan1)
            .is_empty()
    );
    // The second silence (team!~"db|web", severity="page") is active on 2030-02-01.
    let feb1 = Utc
        .with_ymd_and_hms(2030, 2, 1, 1, 0, 0)
        .single()
        .expect("time");
    assert_eq!(
        s.mutes(&labels(&[("severity", "page"), ("team", "infra")]), feb1),
        vec![sils[1].id.clone()]
    );
    // Re-encoding gives an upstream-readable stream that decodes to the same silences.
    let again: Vec<pb::MeshSilence> = decode_delimited(&s.snapshot()).expect("decodes");
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|m| m.encoded_len() > 0));
}

#[test]
fn two_instances_converge() {
    let a = store();
    let b = store();
    let a1 = a.set(sil(0, 100), t(0)).expect("a1");
    let b1 = b.set(sil(0, 200), t(0)).expect("b1");
    b.merge(&a1.broadcast, t(1)).expect("merge");
    a.merge(&b1.broadcast, t(1)).expect("merge");
    // Concurrent edits: a expires b's silence, b extends its own later.
    a.expire(&b1.id, t(2)).expect("expire");
    let mut ext = b.get(&b1.id).expect("stored");
    ext.ends_at = Some(t(300));
    b.set(ext, t(3)).expect("extend");
    // Full-state exchange both ways.
    let (sa, sb) = (a.snapshot(), b.snapshot());
    a.merge(&sb, t(4)).expect("merge");
    b.merge(&sa, t(4)).expect("merge");
    assert_eq!(a.snapshot(), b.snapshot());
    assert_eq!(
        a.get(&b1.id).and_then(|x| x.ends_at),
        Some(t(300)),
        "latest update wins"
    );
}

#[test]
fn silences_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Silences>();
}

/// A silence a merge replaced is re-examined by mute checks at once, even one the cache had
/// dropped (it was expired) and a newer update from another peer made active again.
#[test]
fn merged_replacement_takes_effect_for_mutes() {
    let b = store();
    let l = labels(&[("a", "b")]);
    let mesh = |end: i64, updated: i64| {
        let mut s = sil(0, end);
        s.id = "peer".into();
        s.updated_at = Some(t(updated));
        encode_delimited(&[pb::MeshSilence {
            silence: Some(s.to_proto()),
            expires_at: Some(to_timestamp(Some(t(end) + TimeDelta::hours(120)))),
        }])
    };
    assert_eq!(
        b.merge(&mesh(100, 0), t(1)).expect("merge").changed.len(),
        1
    );
    assert_eq!(b.mutes(&l, t(1)), vec!["peer".to_owned()]);
    // Updated in place while cached: listed once.
    assert_eq!(
        b.merge(&mesh(150, 1), t(1)).expect("merge").changed.len(),
        1
    );
    assert_eq!(b.mutes(&l, t(1)), vec!["peer".to_owned()]);
    // Expired by a peer: the mute check drops it from the cache.
    assert_eq!(b.merge(&mesh(2, 2), t(3)).expect("merge").changed.len(), 1);
    assert!(b.mutes(&l, t(3)).is_empty());
    // A newer update from another peer made it active again.
    assert_eq!(
        b.merge(&mesh(200, 4), t(5)).expect("merge").changed.len(),
        1
    );
    assert_eq!(b.mutes(&l, t(5)), vec!["peer".to_owned()]);
    assert_eq!(b.stats().version_index_size, 1);
}
