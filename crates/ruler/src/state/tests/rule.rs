//! All instances of one rule: creation, stale series, NoData/Error fan-out, pause and delete,
//! restore.

use super::super::{
    Evaluation, ExecErrState, Instance, NoDataState, RuleSettings, RuleState, SendSettings, State,
    StateReason, StoredInstance, datasource_no_data_labels, no_data_labels,
};
use super::{MIN, SEC, T0, alerting, error, labels, no_data, normal, settings};
use crate::data::Labels;

fn rule_labels() -> Labels {
    labels(&[("alertname", "HighCPU"), ("team", "ops")])
}

fn series(name: &str) -> Labels {
    labels(&[
        ("alertname", "HighCPU"),
        ("instance", name),
        ("team", "ops"),
    ])
}

fn rule(s: RuleSettings) -> RuleState {
    RuleState::new(s, rule_labels())
}

#[test]
fn new_label_sets_create_instances_in_result_order() {
    let mut r = rule(settings(MIN, 0, 0));
    let t = r.process(vec![(series("b"), alerting()), (series("a"), normal())], T0);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].labels, series("b"));
    assert_eq!(
        (t[0].previous_state, t[0].state),
        (State::Normal, State::Alerting)
    );
    assert_eq!(t[1].labels, series("a"));
    assert!(!t[1].changed);
    assert_eq!(r.len(), 2);
    assert_eq!(r.get(&series("b")).map(|i| i.state), Some(State::Alerting));
}

#[test]
fn vanished_series_resolves_after_exactly_two_intervals() {
    let mut r = rule(settings(MIN, 0, 0));
    r.process(
        vec![(series("a"), alerting()), (series("b"), alerting())],
        T0,
    );

    // One interval missing: still Alerting, EndsAt extended, nothing changes.
    let t = r.process(vec![(series("a"), alerting())], T0 + MIN);
    let b = t.iter().find(|t| t.labels == series("b"));
    let b = b.expect("absent instance still reported");
    assert_eq!(
        (b.state, b.reason, b.changed),
        (State::Alerting, None, false)
    );
    let inst = r.get(&series("b")).expect("kept");
    assert_eq!(inst.ends_at, T0 + MIN + 4 * MIN);
    assert_eq!(inst.last_evaluated_at, T0);

    // Just short of two intervals: not stale yet.
    let t = r.process(vec![(series("a"), alerting())], T0 + 2 * MIN - 1);
    let b = t
        .iter()
        .find(|t| t.labels == series("b"))
        .expect("reported");
    assert_eq!(b.state, State::Alerting);

    // Two intervals: resolved with MissingSeries.
    let at = T0 + 2 * MIN;
    let t = r.process(vec![(series("a"), alerting())], at);
    let b = t
        .iter()
        .find(|t| t.labels == series("b"))
        .expect("reported");
    assert_eq!(
        (b.previous_state, b.state, b.reason, b.resolved, b.changed),
        (
            State::Alerting,
            State::Normal,
            Some(StateReason::MissingSeries),
            true,
            true
        )
    );
    let inst = r
        .get(&series("b"))
        .expect("kept while its resolution needs sending");
    assert_eq!(inst.resolved_at, Some(at));
    assert_eq!(inst.ends_at, at);
    assert_eq!(inst.last_evaluated_at, at);
    assert!(inst.is_stale());

    // Once stale, it is not resolved again.
    let t = r.process(vec![(series("a"), alerting())], at + MIN);
    assert!(t.iter().all(|t| t.labels != series("b")));
}

#[test]
fn missing_series_evals_to_resolve_is_honoured() {
    let s = RuleSettings {
        missing_series_evals_to_resolve: Some(3),
        ..settings(MIN, 0, 0)
    };
    let mut r = rule(s);
    r.process(
        vec![(series("a"), alerting()), (series("b"), alerting())],
        T0,
    );
    r.process(vec![(series("a"), alerting())], T0 + 2 * MIN);
    assert_eq!(r.get(&series("b")).map(|i| i.state), Some(State::Alerting));
    r.process(vec![(series("a"), alerting())], T0 + 3 * MIN);
    assert_eq!(r.get(&series("b")).map(|i| i.state), Some(State::Normal));
}

#[test]
fn vanished_no_data_and_error_instances_resolve_after_one_interval() {
    for (state, reason) in [
        (State::NoData, None),
        (State::Error, None),
        (State::Pending, Some(StateReason::NoData)),
        (State::Pending, Some(StateReason::Error)),
    ] {
        let mut r = rule(settings(MIN, 0, 0));
        let mut i = Instance::new(series("b"), T0);
        i.state = state;
        i.reason = reason;
        r.insert(i);
        let t = r.process(vec![(series("a"), normal())], T0 + MIN);
        let b = t
            .iter()
            .find(|t| t.labels == series("b"))
            .expect("reported");
        assert_eq!(
            (b.state, b.reason),
            (State::Normal, Some(StateReason::MissingSeries)),
            "{state:?} {reason:?}"
        );
    }
}

#[test]
fn vanished_pending_instance_waits_two_intervals() {
    let mut r = rule(settings(MIN, 5 * MIN, 0));
    r.process(
        vec![(series("a"), alerting()), (series("b"), alerting())],
        T0,
    );
    assert_eq!(r.get(&series("b")).map(|i| i.state), Some(State::Pending));
    r.process(vec![(series("a"), alerting())], T0 + MIN);
    assert_eq!(r.get(&series("b")).map(|i| i.state), Some(State::Pending));
    let t = r.process(vec![(series("a"), alerting())], T0 + 2 * MIN);
    let b = t
        .iter()
        .find(|t| t.labels == series("b"))
        .expect("reported");
    assert_eq!((b.state, b.resolved), (State::Normal, false));
    assert!(
        r.get(&series("b")).is_none(),
        "nothing to send: dropped at once"
    );
}

#[test]
fn stale_instance_is_dropped_once_resolution_no_longer_needs_sending() {
    let mut r = rule(settings(MIN, 0, 0));
    r.process(
        vec![(series("a"), alerting()), (series("b"), alerting())],
        T0,
    );
    r.alerts_to_send(T0);
    let resolved_at = T0 + 2 * MIN;
    let mut at = T0 + MIN;
    while at <= resolved_at + 15 * MIN {
        r.process(vec![(series("a"), alerting())], at);
        r.alerts_to_send(at);
        assert!(
            r.get(&series("b")).is_some(),
            "kept at {}",
            at - resolved_at
        );
        at += MIN;
    }
    // 16 minutes after resolution: past the 15-minute retention.
    r.process(vec![(series("a"), alerting())], at);
    assert!(r.get(&series("b")).is_none());
    assert!(r.get(&series("a")).is_some());
}

#[test]
fn stale_instance_is_kept_until_its_resolution_was_sent_once() {
    let mut r = rule(settings(MIN, 0, 0));
    r.process(
        vec![(series("a"), alerting()), (series("b"), alerting())],
        T0,
    );
    r.process(vec![(series("a"), alerting())], T0 + 2 * MIN);
    // Never sent; well past retention.
    let late = T0 + 30 * MIN;
    r.process(vec![(series("a"), alerting())], late);
    assert!(r.get(&series("b")).is_some());
    let sent = r.alerts_to_send(late);
    assert!(sent.iter().any(|a| a.labels == series("b")));
    r.process(vec![(series("a"), alerting())], late + MIN);
    assert!(r.get(&series("b")).is_none());
}

#[test]
fn stale_series_that_returns_continues_its_instance() {
    let mut r = rule(settings(MIN, 0, 0));
    r.process(vec![(series("a"), alerting())], T0);
    r.process(vec![(series("z"), normal())], T0 + 2 * MIN);
    assert!(r.get(&series("a")).is_some_and(|i| i.is_stale()));
    let t = r.process(vec![(series("a"), alerting())], T0 + 3 * MIN);
    assert_eq!(
        (
            t[0].previous_state,
            t[0].previous_reason,
            t[0].state,
            t[0].reason
        ),
        (
            State::Normal,
            Some(StateReason::MissingSeries),
            State::Alerting,
            None
        )
    );
    let a = r.get(&series("a")).expect("present");
    assert_eq!(a.starts_at, T0 + 3 * MIN);
    assert_eq!(a.resolved_at, None);
}

#[test]
fn empty_result_gives_one_no_data_instance_with_rule_labels() {
    let mut r = rule(settings(MIN, 0, 0));
    r.set_rule_annotations(labels(&[("summary", "no data")]));
    r.process(vec![(series("a"), alerting())], T0);
    let t = r.process(vec![], T0 + MIN);
    let nd = t
        .iter()
        .find(|t| t.labels == rule_labels())
        .expect("NoData instance");
    assert_eq!((nd.state, nd.reason), (State::NoData, None));
    let inst = r.get(&rule_labels()).expect("held");
    assert_eq!(inst.annotations, labels(&[("summary", "no data")]));
    // The series instance is absent, not NoData.
    assert_eq!(r.get(&series("a")).map(|i| i.state), Some(State::Alerting));
    r.process(vec![], T0 + 2 * MIN);
    assert_eq!(
        r.get(&series("a")).map(|i| (i.state, i.reason)),
        Some((State::Normal, Some(StateReason::MissingSeries)))
    );
}

#[test]
fn no_data_alerting_applies_to_every_existing_instance() {
    let s = RuleSettings {
        no_data_state: NoDataState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut r = rule(s);
    let annotated = normal().with_annotations(labels(&[("summary", "a")]));
    r.process(
        vec![(series("a"), annotated), (series("b"), alerting())],
        T0,
    );
    let t = r.process(vec![], T0 + MIN);
    assert_eq!(t.len(), 2);
    assert_eq!(
        r.get(&series("a")).map(|i| i.annotations.clone()),
        Some(labels(&[("summary", "a")])),
        "annotations survive a NoData applied to all"
    );
    assert!(r.get(&rule_labels()).is_none(), "no extra instance");
    let a = r.get(&series("a")).expect("a");
    assert_eq!(
        (a.state, a.reason),
        (State::Alerting, Some(StateReason::NoData))
    );
    let b = r.get(&series("b")).expect("b");
    assert_eq!(
        (b.state, b.reason, b.starts_at),
        (State::Alerting, Some(StateReason::NoData), T0)
    );
}

#[test]
fn no_data_result_with_labels_applies_to_existing_instances() {
    let s = RuleSettings {
        no_data_state: NoDataState::KeepLast,
        ..settings(MIN, 0, 0)
    };
    let mut r = rule(s);
    r.process(vec![(series("a"), alerting())], T0);
    let nd = datasource_no_data_labels(&rule_labels(), "prom", &["A", "B"]);
    r.process(vec![(nd.clone(), no_data())], T0 + MIN);
    assert!(r.get(&nd).is_none());
    let a = r.get(&series("a")).expect("a");
    assert_eq!(
        (a.state, a.reason),
        (State::Alerting, Some(StateReason::NoDataKeepLast))
    );
    assert_eq!(
        a.last_evaluated_at,
        T0 + MIN,
        "evaluated, so not going stale"
    );
}

#[test]
fn no_data_without_instances_creates_one() {
    let s = RuleSettings {
        no_data_state: NoDataState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut r = rule(s);
    let t = r.process(vec![], T0);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].labels, rule_labels());
    assert_eq!(
        (t[0].state, t[0].reason),
        (State::Alerting, Some(StateReason::NoData))
    );
}

#[test]
fn all_errors_apply_to_every_instance_unless_mode_is_error() {
    let s = RuleSettings {
        exec_err_state: ExecErrState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut r = rule(s);
    r.process(vec![(series("a"), normal()), (series("b"), normal())], T0);
    r.process(
        vec![
            (rule_labels(), error("timeout")),
            (rule_labels(), error("timeout")),
        ],
        T0 + MIN,
    );
    assert!(r.get(&rule_labels()).is_none());
    for name in ["a", "b"] {
        let i = r.get(&series(name)).expect("instance");
        assert_eq!(
            (i.state, i.reason),
            (State::Alerting, Some(StateReason::Error))
        );
        assert_eq!(i.error.as_deref(), Some("timeout"));
    }

    // Mode Error: the error gets an instance of its own; the others go missing.
    let mut r = rule(settings(MIN, 0, 0));
    r.process(vec![(series("a"), alerting())], T0);
    r.process(vec![(rule_labels(), error("timeout"))], T0 + MIN);
    assert_eq!(r.get(&rule_labels()).map(|i| i.state), Some(State::Error));
    assert_eq!(r.get(&series("a")).map(|i| i.state), Some(State::Alerting));
}

#[test]
fn mixed_results_are_handled_per_label_set() {
    let s = RuleSettings {
        no_data_state: NoDataState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut r = rule(s);
    r.process(vec![(series("a"), normal())], T0);
    r.process(
        vec![(series("a"), normal()), (series("b"), no_data())],
        T0 + MIN,
    );
    assert_eq!(r.get(&series("a")).map(|i| i.state), Some(State::Normal));
    assert_eq!(
        r.get(&series("b")).map(|i| (i.state, i.reason)),
        Some((State::Alerting, Some(StateReason::NoData)))
    );
}

#[test]
fn no_data_label_sets() {
    assert_eq!(no_data_labels(&rule_labels()), rule_labels());
    let mut rl = rule_labels();
    rl.insert("ref_id".into(), "rule-wins".into());
    assert_eq!(
        datasource_no_data_labels(&rl, "prom-uid", &["A", "C"]),
        labels(&[
            ("alertname", "HighCPU"),
            ("datasource_uid", "prom-uid"),
            ("ref_id", "rule-wins"),
            ("team", "ops"),
        ])
    );
    assert_eq!(
        datasource_no_data_labels(&Labels::new(), "u", &["A", "C"]).get("ref_id"),
        Some(&"A,C".to_string())
    );
}

#[test]
fn pause_resolves_everything_with_reason_paused() {
    let mut r = rule(settings(MIN, 5 * MIN, 0));
    r.set_generator_url(Some("http://g/alerting/grafana/uid/view".into()));
    r.insert(Instance {
        state: State::Alerting,
        starts_at: T0 - 10 * MIN,
        ..Instance::new(series("a"), T0 - MIN)
    });
    r.insert(Instance {
        state: State::Pending,
        ..Instance::new(series("p"), T0 - MIN)
    });
    r.insert(Instance::new(series("n"), T0 - 3 * MIN));
    r.insert(Instance {
        state: State::NoData,
        ..Instance::new(series("nd"), T0 - MIN)
    });
    let at = T0 + 5 * SEC;
    let reset = r.pause(at);
    assert!(r.is_empty());
    assert_eq!(reset.transitions.len(), 4);
    for t in &reset.transitions {
        assert_eq!(
            (t.state, t.reason),
            (State::Normal, Some(StateReason::Paused))
        );
        assert_eq!(
            t.resolved,
            matches!(t.previous_state, State::Alerting | State::NoData),
            "{:?}",
            t.previous_state
        );
    }
    let n = reset
        .transitions
        .iter()
        .find(|t| t.labels == series("n"))
        .expect("n");
    assert!(n.changed, "Normal -> Normal (Paused) changes the reason");

    assert_eq!(reset.expired.len(), 2);
    let a = reset
        .expired
        .iter()
        .find(|a| a.labels == series("a"))
        .expect("a expired");
    assert_eq!((a.starts_at, a.ends_at), (at, at));
    assert_eq!(
        a.annotations
            .get("grafana_state_reason")
            .map(String::as_str),
        Some("Paused")
    );
    assert_eq!(
        a.generator_url.as_deref(),
        Some("http://g/alerting/grafana/uid/view")
    );
    let nd = reset
        .expired
        .iter()
        .find(|a| a.labels.get("alertname").map(String::as_str) == Some("DatasourceNoData"))
        .expect("NoData expired under its own name");
    assert_eq!(
        nd.labels.get("rulename").map(String::as_str),
        Some("HighCPU")
    );
    assert_eq!(nd.ends_at, at);
}

#[test]
fn delete_and_update_use_their_reasons() {
    for (reason, expected) in [
        (None, StateReason::RuleDeleted),
        (Some(StateReason::Updated), StateReason::Updated),
    ] {
        let mut r = rule(settings(MIN, 0, 0));
        r.process(vec![(series("a"), alerting())], T0);
        let reset = match reason {
            None => r.delete(T0 + MIN),
            Some(reason) => r.reset(T0 + MIN, reason),
        };
        assert!(r.is_empty());
        assert_eq!(reset.transitions[0].reason, Some(expected));
        assert_eq!(reset.expired.len(), 1);
    }
}

#[test]
fn normal_instance_keeps_starts_at_on_reset() {
    let mut r = rule(settings(MIN, 0, 0));
    r.process(vec![(series("a"), normal())], T0);
    let reset = r.pause(T0 + MIN);
    assert!(reset.expired.is_empty());
    assert_eq!(reset.transitions[0].state, State::Normal);
    assert!(!reset.transitions[0].resolved);
}

#[test]
fn restored_alerting_instance_stays_alerting_with_same_starts_at() {
    let s = settings(MIN, 5 * MIN, 0);
    let mut before = rule(s.clone());
    before.insert(Instance {
        state: State::Alerting,
        starts_at: T0 - 30 * MIN,
        ends_at: T0 + 3 * MIN,
        fired_at: Some(T0 - 30 * MIN),
        last_sent_at: Some(T0 - MIN),
        ..Instance::new(series("a"), T0 - MIN)
    });
    // Through the stored form, as across a restart (and through JSON).
    let stored = before.to_stored();
    let json = serde_json::to_string(&stored).expect("serialise");
    let stored: Vec<StoredInstance> = serde_json::from_str(&json).expect("deserialise");
    let mut after = RuleState::restore(s, rule_labels(), stored);

    let t = after.process(vec![(series("a"), alerting())], T0);
    assert_eq!(
        (t[0].previous_state, t[0].state, t[0].changed),
        (State::Alerting, State::Alerting, false)
    );
    let a = after.get(&series("a")).expect("restored");
    assert_eq!(a.starts_at, T0 - 30 * MIN);
    assert_eq!(a.fired_at, Some(T0 - 30 * MIN));
    assert_eq!(a.ends_at, T0 + 4 * MIN);
    // Last sent a minute ago: it is due again.
    assert_eq!(after.alerts_to_send(T0).len(), 1);
}

#[test]
fn restored_pending_instance_keeps_its_for_progress() {
    let s = settings(MIN, 5 * MIN, 0);
    let stored = Instance {
        state: State::Pending,
        starts_at: T0 - 4 * MIN,
        ..Instance::new(series("a"), T0 - MIN)
    }
    .to_stored();
    let mut r = RuleState::restore(s, rule_labels(), [stored]);
    r.process(vec![(series("a"), alerting())], T0);
    assert_eq!(r.get(&series("a")).map(|i| i.state), Some(State::Pending));
    r.process(vec![(series("a"), alerting())], T0 + MIN);
    assert_eq!(r.get(&series("a")).map(|i| i.state), Some(State::Alerting));
}

#[test]
fn stored_instance_round_trips() {
    let mut i = Instance::new(series("a"), T0);
    i.state = State::Normal;
    i.reason = Some(StateReason::NoDataKeepLast);
    i.resolved_at = Some(T0);
    i.resolved_from = Some(State::NoData);
    i.last_sent_at = Some(T0);
    i.values = super::values(&[("A", Some(1.0)), ("B", None)]);
    i.error = Some("e".into());
    i.annotations = labels(&[("summary", "s")]);
    let back = Instance::restore(i.to_stored());
    assert_eq!(back, i);
    let json = serde_json::to_value(i.to_stored()).expect("json");
    assert_eq!(json["state"], "Normal");
    assert_eq!(json["reason"], "NoData, KeepLast");
}

#[test]
fn settings_accessors() {
    let mut r = rule(settings(MIN, 0, 0));
    assert_eq!(r.settings().interval, MIN);
    r.set_settings(settings(2 * MIN, 0, 0));
    assert_eq!(r.settings().interval, 2 * MIN);
    assert_eq!(r.rule_labels(), &rule_labels());
    r.set_rule_labels(labels(&[("alertname", "X")]));
    assert_eq!(r.rule_labels(), &labels(&[("alertname", "X")]));
    assert_eq!(r.send_settings(), SendSettings::default());
    let custom = SendSettings {
        resend_delay: MIN,
        resolved_retention: 5 * MIN,
    };
    r.set_send_settings(custom);
    assert_eq!(r.send_settings(), custom);
    let _: Evaluation = alerting();
}

#[test]
fn no_data_for_all_leaves_stale_instances_alone() {
    let s = RuleSettings {
        no_data_state: NoDataState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut r = rule(s);
    r.process(
        vec![(series("a"), alerting()), (series("b"), alerting())],
        T0,
    );
    r.process(vec![(series("a"), alerting())], T0 + 2 * MIN);
    assert!(r.get(&series("b")).is_some_and(|i| i.is_stale()));
    let t = r.process(vec![], T0 + 3 * MIN);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].labels, series("a"));
    let b = r.get(&series("b")).expect("still held for sending");
    assert_eq!(
        (b.state, b.reason),
        (State::Normal, Some(StateReason::MissingSeries))
    );
}
