use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;

pub(crate) fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn alert(labels: &[(&str, &str)], starts: i64, ends: i64, updated: i64, timeout: bool) -> Alert {
    Alert {
        labels: labels.iter().copied().collect(),
        annotations: LabelSet::new(),
        starts_at: t(starts),
        ends_at: t(ends),
        generator_url: String::new(),
        updated_at: t(updated),
        timeout,
    }
}

fn a(starts: i64, ends: i64, updated: i64, timeout: bool) -> Alert {
    alert(&[("alertname", "A")], starts, ends, updated, timeout)
}

#[test]
fn zero_time_is_go_zero() {
    assert_eq!(zero_time().to_rfc3339(), "0001-01-01T00:00:00+00:00");
    assert!(is_zero_time(zero_time()));
    assert!(!is_zero_time(t(0)));
}

#[test]
fn resolved_and_status() {
    let x = a(0, 10, 0, false);
    assert!(!x.resolved_at(t(9)));
    assert!(x.resolved_at(t(10)), "ends_at == now is resolved");
    assert!(x.resolved_at(t(11)));
    assert_eq!(x.status(t(9)), AlertStatus::Firing);
    assert_eq!(x.status(t(10)).as_str(), "resolved");
    let mut open = x.clone();
    open.ends_at = zero_time();
    assert!(!open.resolved_at(t(1_000)));
    assert_eq!(open.status(t(1_000)).as_str(), "firing");
}

#[test]
fn merge_table() {
    let now = t(100);
    // (name, older, younger, want starts, want ends)
    let cases: Vec<(&str, Alert, Alert, i64, i64)> = vec![
        (
            "earliest start from older",
            a(0, 200, 1, false),
            a(5, 300, 2, false),
            0,
            300,
        ),
        (
            "earliest start from younger",
            a(5, 200, 1, false),
            a(0, 300, 2, false),
            0,
            300,
        ),
        (
            "both resolved: later older end wins",
            a(0, 90, 1, false),
            a(0, 80, 2, false),
            0,
            90,
        ),
        (
            "both resolved: younger end later",
            a(0, 80, 1, false),
            a(0, 90, 2, false),
            0,
            90,
        ),
        (
            "younger resolved, older firing: younger end",
            a(0, 500, 1, false),
            a(0, 80, 2, false),
            0,
            80,
        ),
        (
            "younger resolved, older timeout resolved later",
            a(0, 95, 1, true),
            a(0, 80, 2, false),
            0,
            95,
        ),
        (
            "younger firing: later explicit older end wins",
            a(0, 500, 1, false),
            a(0, 300, 2, false),
            0,
            500,
        ),
        (
            "younger firing: later timeout older end ignored",
            a(0, 500, 1, true),
            a(0, 300, 2, false),
            0,
            300,
        ),
        (
            "younger firing: earlier older end ignored",
            a(0, 200, 1, false),
            a(0, 300, 2, true),
            0,
            300,
        ),
        (
            "younger firing, older resolved",
            a(0, 50, 1, false),
            a(0, 300, 2, false),
            0,
            300,
        ),
    ];
    for (name, older, younger, starts, ends) in cases {
        let pairs = [
            older.merge(&younger, now),
            younger.merge(&older, now),
            older.merge_owned(younger.clone(), now),
            younger.merge_owned(older.clone(), now),
        ];
        for got in pairs {
            assert_eq!(got.starts_at, t(starts), "{name}: starts_at");
            assert_eq!(got.ends_at, t(ends), "{name}: ends_at");
            assert_eq!(got.updated_at, younger.updated_at, "{name}: updated_at");
            assert_eq!(got.timeout, younger.timeout, "{name}: timeout from younger");
        }
    }
}

#[test]
fn merge_younger_wins_annotations_and_url() {
    let mut older = a(0, 500, 1, false);
    older.annotations.insert("summary", "old");
    older.generator_url = "http://old".into();
    let mut younger = a(10, 300, 2, true);
    younger.annotations.insert("summary", "new");
    younger.generator_url = "http://new".into();
    let got = older.merge(&younger, t(100));
    assert_eq!(got.annotations.get("summary"), Some("new"));
    assert_eq!(got.generator_url, "http://new");
    // The older, explicit end is kept, but the younger's timeout flag stays (upstream quirk).
    assert_eq!(got.ends_at, t(500));
    assert!(got.timeout);
}

#[test]
fn merge_tie_prefers_argument() {
    let mut x = a(0, 500, 1, false);
    x.generator_url = "self".into();
    let mut y = a(0, 500, 1, false);
    y.generator_url = "other".into();
    assert_eq!(x.merge(&y, t(0)).generator_url, "other");
    assert_eq!(y.merge(&x, t(0)).generator_url, "self");
    assert_eq!(x.merge_owned(y.clone(), t(0)), x.merge(&y, t(0)));
    assert_eq!(y.merge_owned(x.clone(), t(0)), y.merge(&x, t(0)));
}

#[test]
fn merge_is_deterministic() {
    let now = t(100);
    for (s1, e1, s2, e2) in [
        (0, 90, 5, 300),
        (3, 500, 1, 80),
        (0, 0, 0, 0),
        (7, 99, 7, 101),
    ] {
        for timeout in [false, true] {
            let x = a(s1, e1, 1, timeout);
            let y = a(s2, e2, 2, !timeout);
            let first = x.merge(&y, now);
            assert_eq!(first, x.merge(&y, now));
            assert_eq!(
                first,
                y.merge(&x, now),
                "order of arguments does not matter"
            );
            assert_eq!(x.merge(&x, now), x, "merging with itself is the identity");
        }
    }
}

#[test]
fn validate_errors() {
    let utf8 = NameValidation::Utf8;
    let ok = a(0, 10, 0, false);
    assert_eq!(ok.validate(utf8), Ok(()));
    let same = a(10, 10, 0, false);
    assert_eq!(same.validate(utf8), Ok(()), "endsAt == startsAt is fine");
    let mut open = ok.clone();
    open.ends_at = zero_time();
    assert_eq!(open.validate(utf8), Ok(()), "unset endsAt is fine");

    let mut no_start = ok.clone();
    no_start.starts_at = zero_time();
    let backwards = a(10, 9, 0, false);
    let no_labels = alert(&[], 0, 10, 0, false);
    let bad_name = alert(&[("a", "b"), ("0bad", "x")], 0, 10, 0, false);
    let mut bad_annotation = ok.clone();
    bad_annotation.annotations.insert("bad name", "x");
    let cases = [
        (
            &no_start,
            utf8,
            AlertError::StartsAtMissing,
            "startsAt",
            "start time missing",
        ),
        (
            &backwards,
            utf8,
            AlertError::EndsBeforeStart,
            "endsAt",
            "start time must be before end time",
        ),
        (
            &no_labels,
            utf8,
            AlertError::NoLabels,
            "labels",
            "at least one label pair required",
        ),
        (
            &bad_name,
            NameValidation::Classic,
            AlertError::InvalidLabelName("0bad".into()),
            "labels",
            "invalid label set: invalid name \"0bad\"",
        ),
        (
            &bad_annotation,
            NameValidation::Classic,
            AlertError::InvalidAnnotationName("bad name".into()),
            "annotations",
            "invalid annotations: invalid name \"bad name\"",
        ),
    ];
    for (alert, mode, want, field, msg) in cases {
        let err = alert.validate(mode).err();
        assert_eq!(err.as_ref(), Some(&want));
        assert_eq!(want.field(), field);
        assert_eq!(want.to_string(), msg);
    }
    assert_eq!(
        bad_name.validate(utf8),
        Ok(()),
        "UTF-8 mode accepts any non-empty name"
    );
    assert_eq!(bad_annotation.validate(utf8), Ok(()));
    let empty_name = alert(&[("a", "b"), ("", "x")], 0, 10, 0, false);
    assert_eq!(
        empty_name.validate(utf8),
        Err(AlertError::InvalidLabelName(String::new()))
    );
}

fn posted(labels: &[(&str, &str)]) -> PostedAlert {
    PostedAlert {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..PostedAlert::default()
    }
}

#[test]
fn ingest_defaults() {
    let now = t(1_000);
    let rt = TimeDelta::minutes(5);
    let utf8 = NameValidation::Utf8;
    // (starts, ends, want starts, want ends, want timeout)
    let cases = [
        (None, None, now, now + rt, true),
        (Some(t(10)), None, t(10), now + rt, true),
        (None, Some(t(2_000)), t(2_000), t(2_000), false),
        (Some(t(10)), Some(t(20)), t(10), t(20), false),
        (Some(zero_time()), Some(zero_time()), now, now + rt, true),
        (Some(zero_time()), Some(t(20)), t(20), t(20), false),
    ];
    for (starts, ends, want_starts, want_ends, want_timeout) in cases {
        let mut p = posted(&[("alertname", "A")]);
        p.starts_at = starts;
        p.ends_at = ends;
        let got = ingest(p, now, rt, utf8);
        let got = got.as_ref().ok();
        assert_eq!(
            got.map(|a| a.starts_at),
            Some(want_starts),
            "{starts:?} {ends:?}"
        );
        assert_eq!(
            got.map(|a| a.ends_at),
            Some(want_ends),
            "{starts:?} {ends:?}"
        );
        assert_eq!(
            got.map(|a| a.timeout),
            Some(want_timeout),
            "{starts:?} {ends:?}"
        );
        assert_eq!(got.map(|a| a.updated_at), Some(now));
    }
}

#[test]
fn ingest_cleans_labels_and_keeps_fields() {
    let mut p = posted(&[("alertname", "A"), ("empty", ""), ("job", "j")]);
    p.annotations = Some(
        [
            ("summary".to_string(), "s".to_string()),
            ("e".into(), String::new()),
        ]
        .into(),
    );
    p.generator_url = Some("http://gen".into());
    let got = ingest(p, t(0), TimeDelta::minutes(5), NameValidation::Utf8);
    let got = got.ok();
    let labels = got.as_ref().map(|a| a.labels.to_string());
    assert_eq!(labels.as_deref(), Some("{alertname=\"A\", job=\"j\"}"));
    let ann = got.as_ref().map(|a| a.annotations.len());
    assert_eq!(
        ann,
        Some(2),
        "annotations are kept as posted, like upstream"
    );
    assert_eq!(got.map(|a| a.generator_url), Some("http://gen".to_string()));
}

#[test]
fn ingest_validation_errors() {
    let now = t(1_000);
    let rt = TimeDelta::minutes(5);
    let only_empty = posted(&[("alertname", "")]);
    assert_eq!(
        ingest(only_empty, now, rt, NameValidation::Utf8),
        Err(AlertError::NoLabels)
    );
    let mut backwards = posted(&[("alertname", "A")]);
    backwards.starts_at = Some(t(10));
    backwards.ends_at = Some(t(5));
    let got = ingest(backwards, now, rt, NameValidation::Utf8);
    assert_eq!(got, Err(AlertError::EndsBeforeStart));
    let classic = posted(&[("a.b", "x")]);
    let got = ingest(classic.clone(), now, rt, NameValidation::Classic);
    assert_eq!(got, Err(AlertError::InvalidLabelName("a.b".into())));
    assert!(ingest(classic, now, rt, NameValidation::Utf8).is_ok());
    let mut bad_ann = posted(&[("a", "x")]);
    bad_ann.annotations = Some([("-".to_string(), "x".to_string())].into());
    let got = ingest(bad_ann, now, rt, NameValidation::Classic);
    assert_eq!(got, Err(AlertError::InvalidAnnotationName("-".into())));
}

#[test]
fn posted_alert_json_and_received_status() {
    let body = r#"{"labels":{"alertname":"A"},"endsAt":"0001-01-01T00:00:00Z",
        "startsAt":"2023-11-14T22:13:20Z","generatorURL":"http://x"}"#;
    let p: Result<PostedAlert, _> = serde_json::from_str(body);
    let p = p.ok().unwrap_or_default();
    assert_eq!(p.generator_url.as_deref(), Some("http://x"));
    assert_eq!(p.starts_at, Some(t(0)));
    let rt = TimeDelta::minutes(5);
    assert_eq!(
        p.received_status(t(0), rt),
        AlertStatus::Firing,
        "zero endsAt is unset"
    );
    let got = ingest(p, t(0), rt, NameValidation::Utf8).ok();
    assert_eq!(got.map(|a| a.timeout), Some(true));
    let mut resolved = posted(&[("a", "b")]);
    resolved.ends_at = Some(t(0));
    assert_eq!(resolved.received_status(t(0), rt), AlertStatus::Resolved);
}

#[test]
fn notification_ordering() {
    let mk = |labels: &[(&str, &str)]| alert(labels, 0, 10, 0, false);
    let mut alerts = vec![
        mk(&[("alertname", "Z")]),
        mk(&[("job", "b"), ("alertname", "A")]),
        mk(&[("instance", "i2"), ("alertname", "A")]),
        mk(&[("job", "a"), ("instance", "i2")]),
        mk(&[("job", "a")]),
        mk(&[("job", "a"), ("instance", "i1")]),
        mk(&[("instance", "i1"), ("alertname", "A")]),
        mk(&[("alertname", "A")]),
        mk(&[("alertname", "A"), ("x", "y")]),
    ];
    sort_alerts(&mut alerts);
    let got: Vec<String> = alerts.iter().map(|a| a.labels.to_string()).collect();
    assert_eq!(
        got,
        [
            "{instance=\"i1\", job=\"a\"}",
            "{instance=\"i2\", job=\"a\"}",
            "{job=\"a\"}",
            "{alertname=\"A\", job=\"b\"}",
            "{alertname=\"A\", instance=\"i1\"}",
            "{alertname=\"A\", instance=\"i2\"}",
            "{alertname=\"A\"}",
            "{alertname=\"Z\"}",
            "{alertname=\"A\", x=\"y\"}",
        ]
    );
}
