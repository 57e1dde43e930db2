//! Sending: `NeedsSending` timing and the alerts handed to the Alertmanager.

use super::super::send::{to_postable_alert, values_json};
use super::super::{
    DEFAULT_RESOLVED_RETENTION, ExecErrState, Instance, NoDataState, RESEND_DELAY, RuleSettings,
    RuleState, State, needs_sending,
};
use super::{
    MIN, SEC, T0, alerting, error, instance_in, labels, no_data, normal, settings, values,
};
use crate::data::{Labels, Millis};

fn series() -> Labels {
    labels(&[("alertname", "HighCPU"), ("instance", "a")])
}

/// Evaluates `outcome` at each instant and returns the instants at which it was sent.
fn sent_at(r: &mut RuleState, evals: &[(Millis, super::super::Evaluation)]) -> Vec<Millis> {
    let mut sent = Vec::new();
    for (at, e) in evals {
        r.process(vec![(series(), e.clone())], *at);
        if !r.alerts_to_send(*at).is_empty() {
            sent.push(*at);
        }
    }
    sent
}

#[test]
fn pending_is_never_sent() {
    let mut r = RuleState::new(settings(10 * SEC, 10 * MIN, 0), Labels::new());
    let evals: Vec<_> = (0..30).map(|n| (T0 + n * 10 * SEC, alerting())).collect();
    assert!(sent_at(&mut r, &evals).is_empty());
    assert_eq!(r.get(&series()).map(|i| i.state), Some(State::Pending));
    assert_eq!(r.get(&series()).and_then(|i| i.last_sent_at), None);
}

#[test]
fn firing_alert_is_sent_first_then_every_resend_delay() {
    let mut r = RuleState::new(settings(10 * SEC, 0, 0), Labels::new());
    let evals: Vec<_> = (0..7).map(|n| (T0 + n * 10 * SEC, alerting())).collect();
    assert_eq!(
        sent_at(&mut r, &evals),
        vec![T0, T0 + 30 * SEC, T0 + 60 * SEC]
    );
    assert_eq!(
        r.get(&series()).and_then(|i| i.last_sent_at),
        Some(T0 + 60 * SEC)
    );
}

#[test]
fn firing_alert_is_sent_every_interval_when_longer_than_resend_delay() {
    let mut r = RuleState::new(settings(MIN, 0, 0), Labels::new());
    let evals: Vec<_> = (0..3).map(|n| (T0 + n * MIN, alerting())).collect();
    assert_eq!(sent_at(&mut r, &evals), vec![T0, T0 + MIN, T0 + 2 * MIN]);
}

#[test]
fn resolved_alert_is_sent_at_once_then_resent_for_fifteen_minutes() {
    let mut r = RuleState::new(settings(10 * SEC, 0, 0), Labels::new());
    let mut evals = vec![(T0, alerting()), (T0 + 10 * SEC, alerting())];
    // Resolved at T0+20s, then Normal every 10 s for 17 minutes.
    let resolved_at = T0 + 20 * SEC;
    evals.extend((0..=102).map(|n| (resolved_at + n * 10 * SEC, normal())));
    let sent = sent_at(&mut r, &evals);
    let after: Vec<Millis> = sent
        .iter()
        .filter(|&&t| t >= resolved_at)
        .map(|t| t - resolved_at)
        .collect();
    let expected: Vec<Millis> = (0..=30).map(|n| n * 30 * SEC).collect();
    assert_eq!(
        after, expected,
        "every 30 s up to and including 15 min, then never"
    );
    let alert = to_postable_alert(r.get(&series()).expect("held"), None);
    assert_eq!(alert.ends_at, resolved_at);
}

#[test]
fn needs_sending_boundaries() {
    let retention = DEFAULT_RESOLVED_RETENTION;
    let mut i = instance_in(State::Alerting, T0, T0 + 4 * MIN, T0);
    assert!(needs_sending(&i, T0, RESEND_DELAY, retention), "never sent");
    i.last_sent_at = Some(T0);
    assert!(!needs_sending(&i, T0 + 29_999, RESEND_DELAY, retention));
    assert!(needs_sending(&i, T0 + 30_000, RESEND_DELAY, retention));

    // Resolved after the last send: always sent.
    let mut n = instance_in(State::Normal, T0, T0, T0);
    n.resolved_at = Some(T0);
    n.last_sent_at = Some(T0 - 1);
    assert!(needs_sending(&n, T0, RESEND_DELAY, retention));
    n.last_sent_at = Some(T0);
    assert!(!needs_sending(&n, T0 + 29_999, RESEND_DELAY, retention));
    assert!(needs_sending(&n, T0 + retention, RESEND_DELAY, retention));
    assert!(!needs_sending(
        &n,
        T0 + retention + 1,
        RESEND_DELAY,
        retention
    ));
    // Even past retention, a resolution never sent is sent.
    n.last_sent_at = None;
    assert!(needs_sending(
        &n,
        T0 + 2 * retention,
        RESEND_DELAY,
        retention
    ));

    // Normal that never fired.
    let fresh = Instance::new(series(), T0);
    assert!(!needs_sending(&fresh, T0, RESEND_DELAY, retention));

    // Pending, even with a resolution pending sending.
    let mut p = instance_in(State::Pending, T0, T0, T0);
    p.resolved_at = Some(T0);
    assert!(!needs_sending(&p, T0, RESEND_DELAY, retention));
}

#[test]
fn no_data_error_and_recovering_are_sent_as_firing() {
    for (state, alertname) in [
        (State::NoData, "DatasourceNoData"),
        (State::Error, "DatasourceError"),
        (State::Recovering, "HighCPU"),
    ] {
        let i = instance_in(state, T0, T0 + 4 * MIN, T0);
        let mut i = Instance {
            labels: series(),
            ..i
        };
        assert!(needs_sending(
            &i,
            T0,
            RESEND_DELAY,
            DEFAULT_RESOLVED_RETENTION
        ));
        i.last_sent_at = Some(T0);
        let a = to_postable_alert(&i, None);
        assert_eq!(
            a.labels.get("alertname").map(String::as_str),
            Some(alertname),
            "{state:?}"
        );
        assert_eq!(a.ends_at, T0 + 4 * MIN);
        assert_eq!(a.state, state);
        let rulename = (state != State::Recovering).then_some("HighCPU");
        assert_eq!(
            a.labels.get("rulename").map(String::as_str),
            rulename,
            "{state:?}"
        );
    }
}

#[test]
fn recovering_is_sent_with_future_ends_at() {
    let mut r = RuleState::new(settings(MIN, 0, 5 * MIN), Labels::new());
    r.process(vec![(series(), alerting())], T0);
    r.alerts_to_send(T0);
    r.process(vec![(series(), normal())], T0 + MIN);
    let sent = r.alerts_to_send(T0 + MIN);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].state, State::Recovering);
    assert_eq!(sent[0].ends_at, T0 + 5 * MIN);
    assert_eq!(sent[0].starts_at, T0 + MIN);
}

#[test]
fn resolved_no_data_alert_keeps_its_datasource_name() {
    let mut r = RuleState::new(settings(MIN, 0, 0), Labels::new());
    r.process(vec![(series(), no_data())], T0);
    let firing = r.alerts_to_send(T0);
    assert_eq!(
        firing[0].labels.get("alertname").map(String::as_str),
        Some("DatasourceNoData")
    );
    r.process(vec![(series(), normal())], T0 + MIN);
    let resolved = r.alerts_to_send(T0 + MIN);
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        resolved[0].labels, firing[0].labels,
        "the resolution ends the NoData alert"
    );
    assert_eq!(
        (resolved[0].state, resolved[0].ends_at),
        (State::Normal, T0 + MIN)
    );
    // And it stays so on re-sends within retention.
    r.process(vec![(series(), normal())], T0 + 2 * MIN);
    let again = r.alerts_to_send(T0 + 2 * MIN);
    assert_eq!(again[0].labels, firing[0].labels);
}

#[test]
fn annotations_carry_reason_error_and_values() {
    let s = RuleSettings {
        exec_err_state: ExecErrState::Alerting,
        no_data_state: NoDataState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut r = RuleState::new(s, Labels::new());
    r.set_generator_url(Some("http://grafana/alerting/grafana/abc/view".into()));
    let e = alerting()
        .with_values(values(&[("B", Some(0.5)), ("A", Some(1.0))]))
        .with_annotations(labels(&[("summary", "cpu high")]));
    r.process(vec![(series(), e)], T0);
    let a = &r.alerts_to_send(T0)[0];
    assert_eq!(
        a.annotations,
        labels(&[
            ("__values__", r#"{"A":1,"B":0.5}"#),
            ("summary", "cpu high")
        ])
    );
    assert_eq!(
        a.generator_url.as_deref(),
        Some("http://grafana/alerting/grafana/abc/view")
    );

    r.process(vec![(series(), error("db down"))], T0 + MIN);
    let a = &r.alerts_to_send(T0 + MIN)[0];
    assert_eq!(
        a.annotations.get("Error").map(String::as_str),
        Some("db down")
    );
    assert_eq!(
        a.annotations
            .get("grafana_state_reason")
            .map(String::as_str),
        Some("Error")
    );
    assert_eq!(
        a.annotations.get("__values__").map(String::as_str),
        Some(r#"{"A":-1,"B":-1}"#)
    );
    assert_eq!(
        a.labels.get("alertname").map(String::as_str),
        Some("HighCPU")
    );
}

#[test]
fn values_json_matches_go() {
    assert_eq!(values_json(&values(&[])), None);
    assert_eq!(
        values_json(&values(&[("A", None)])),
        None,
        "NaN cannot be encoded"
    );
    assert_eq!(values_json(&values(&[("A", Some(f64::INFINITY))])), None);
    assert_eq!(
        values_json(&values(&[
            ("A", Some(1e21)),
            ("B", Some(1e-7)),
            ("C", Some(123456789.0)),
            ("D", Some(-0.25)),
            ("E", Some(1e20)),
            ("F", Some(0.000001)),
            ("G", Some(0.0)),
        ])),
        Some(r#"{"A":1e+21,"B":1e-7,"C":123456789,"D":-0.25,"E":100000000000000000000,"F":0.000001,"G":0}"#.to_string())
    );
    assert_eq!(
        values_json(&values(&[("a<b>&\"c\"", Some(2.0))])),
        Some(r#"{"a\u003cb\u003e\u0026\"c\"":2}"#.to_string())
    );
}

#[test]
fn alerts_to_send_marks_only_sent_instances() {
    let mut r = RuleState::new(settings(MIN, 2 * MIN, 0), Labels::new());
    let firing = labels(&[("i", "1")]);
    let pending = labels(&[("i", "2")]);
    r.insert(Instance {
        state: State::Alerting,
        ..Instance::new(firing.clone(), T0)
    });
    r.process(
        vec![(firing.clone(), alerting()), (pending.clone(), alerting())],
        T0,
    );
    let sent = r.alerts_to_send(T0);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].labels, firing);
    assert_eq!(r.get(&firing).and_then(|i| i.last_sent_at), Some(T0));
    assert_eq!(r.get(&pending).and_then(|i| i.last_sent_at), None);
}
