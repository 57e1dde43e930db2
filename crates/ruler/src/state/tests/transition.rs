//! One instance's transitions beyond the table: EndsAt, sequences through `for` and
//! `keep_firing_for`, errors, values, resolution bookkeeping, formatting.

use super::super::{
    ExecErrState, Instance, NoDataState, RuleSettings, State, StateReason, next_ends_at, transition,
};
use super::{
    MIN, SEC, T0, alerting, error, instance_in, labels, no_data, normal, settings, values,
};

#[test]
fn ends_at_is_four_times_the_larger_of_interval_and_resend_delay() {
    assert_eq!(next_ends_at(10 * SEC, T0), T0 + 120 * SEC);
    assert_eq!(next_ends_at(30 * SEC, T0), T0 + 120 * SEC);
    assert_eq!(next_ends_at(45 * SEC, T0), T0 + 180 * SEC);
    assert_eq!(next_ends_at(MIN, T0), T0 + 4 * MIN);
    assert_eq!(next_ends_at(5 * MIN, T0), T0 + 20 * MIN);
}

#[test]
fn ends_at_follows_the_interval_through_transitions() {
    for (interval, expected) in [(10 * SEC, 120 * SEC), (2 * MIN, 8 * MIN)] {
        let s = settings(interval, 0, 0);
        let mut i = Instance::new(labels(&[]), T0);
        transition(&mut i, &alerting(), T0, &s);
        assert_eq!(i.ends_at, T0 + expected);
        transition(&mut i, &alerting(), T0 + interval, &s);
        assert_eq!(i.ends_at, T0 + interval + expected);
        // Normal: EndsAt is the resolution time.
        transition(&mut i, &normal(), T0 + 2 * interval, &s);
        assert_eq!(i.ends_at, T0 + 2 * interval);
        assert_eq!(i.starts_at, T0 + 2 * interval);
    }
}

#[test]
fn pending_becomes_alerting_after_for() {
    let s = settings(MIN, 2 * MIN, 0);
    let mut i = Instance::new(labels(&[]), T0);
    let t = transition(&mut i, &alerting(), T0, &s);
    assert_eq!(
        (t.previous_state, t.state, t.changed),
        (State::Normal, State::Pending, true)
    );
    assert_eq!(i.pending_since(), Some(T0));

    let t = transition(&mut i, &alerting(), T0 + MIN, &s);
    assert_eq!((t.state, t.changed), (State::Pending, false));
    assert_eq!(i.pending_since(), Some(T0));

    let t = transition(&mut i, &alerting(), T0 + 2 * MIN, &s);
    assert_eq!(
        (t.previous_state, t.state),
        (State::Pending, State::Alerting)
    );
    assert_eq!(i.starts_at, T0 + 2 * MIN);
    assert_eq!(i.fired_at, Some(T0 + 2 * MIN));
    assert_eq!(i.pending_since(), None);

    // Staying Alerting keeps starts_at and fired_at.
    transition(&mut i, &alerting(), T0 + 3 * MIN, &s);
    assert_eq!(i.starts_at, T0 + 2 * MIN);
    assert_eq!(i.fired_at, Some(T0 + 2 * MIN));
}

#[test]
fn pending_interrupted_by_normal_starts_over() {
    let s = settings(MIN, 2 * MIN, 0);
    let mut i = Instance::new(labels(&[]), T0);
    transition(&mut i, &alerting(), T0, &s);
    transition(&mut i, &normal(), T0 + MIN, &s);
    assert_eq!(i.state, State::Normal);
    assert_eq!(i.resolved_at, None, "Pending -> Normal resolves nothing");
    transition(&mut i, &alerting(), T0 + 2 * MIN, &s);
    assert_eq!(i.state, State::Pending);
    transition(&mut i, &alerting(), T0 + 3 * MIN, &s);
    assert_eq!(i.state, State::Pending, "the for wait restarted at T0+2m");
    transition(&mut i, &alerting(), T0 + 4 * MIN, &s);
    assert_eq!(i.state, State::Alerting);
}

#[test]
fn keep_firing_for_recovers_then_resolves() {
    let s = settings(MIN, 0, 2 * MIN);
    let mut i = Instance::new(labels(&[]), T0);
    transition(&mut i, &alerting(), T0, &s);
    let t = transition(&mut i, &normal(), T0 + MIN, &s);
    assert_eq!((t.state, t.resolved), (State::Recovering, false));
    assert_eq!(i.starts_at, T0 + MIN);
    assert_eq!(i.ends_at, T0 + 5 * MIN);

    let t = transition(&mut i, &normal(), T0 + 2 * MIN, &s);
    assert_eq!(t.state, State::Recovering);
    assert_eq!(
        i.ends_at,
        T0 + 6 * MIN,
        "EndsAt keeps moving while Recovering"
    );

    let t = transition(&mut i, &normal(), T0 + 3 * MIN, &s);
    assert_eq!(
        (t.previous_state, t.state, t.resolved),
        (State::Recovering, State::Normal, true)
    );
    assert_eq!(i.resolved_at, Some(T0 + 3 * MIN));
    assert_eq!(i.resolved_from, Some(State::Recovering));
}

#[test]
fn recovering_back_to_alerting_skips_pending() {
    let s = settings(MIN, 5 * MIN, 2 * MIN);
    let mut i = instance_in(State::Alerting, T0 - 10 * MIN, T0, T0 - MIN);
    transition(&mut i, &normal(), T0, &s);
    assert_eq!(i.state, State::Recovering);
    transition(&mut i, &alerting(), T0 + MIN, &s);
    assert_eq!(i.state, State::Alerting);
    assert_eq!(i.starts_at, T0 + MIN);
}

#[test]
fn error_message_is_kept_per_mode() {
    let cases = [
        (ExecErrState::Alerting, 0, State::Alerting, true),
        (ExecErrState::Alerting, MIN, State::Pending, true),
        (ExecErrState::Error, 0, State::Error, true),
        (ExecErrState::Error, MIN, State::Pending, true),
        (ExecErrState::Ok, 0, State::Normal, false),
        (ExecErrState::KeepLast, 0, State::Normal, false),
    ];
    for (mode, for_duration, state, has_error) in cases {
        let s = RuleSettings {
            exec_err_state: mode,
            ..settings(MIN, for_duration, 0)
        };
        let mut i = Instance::new(labels(&[]), T0);
        transition(&mut i, &error("query failed"), T0, &s);
        assert_eq!(i.state, state, "{mode:?} for={for_duration}");
        assert_eq!(
            i.error.as_deref(),
            has_error.then_some("query failed"),
            "{mode:?} for={for_duration}"
        );
        // Any later Normal outcome clears it.
        transition(&mut i, &normal(), T0 + MIN, &s);
        assert_eq!(i.error, None, "{mode:?} cleared");
    }
}

#[test]
fn error_updates_message_while_in_error() {
    let s = settings(MIN, 0, 0);
    let mut i = Instance::new(labels(&[]), T0);
    transition(&mut i, &error("first"), T0, &s);
    transition(&mut i, &error("second"), T0 + MIN, &s);
    assert_eq!(i.state, State::Error);
    assert_eq!(i.starts_at, T0);
    assert_eq!(i.error.as_deref(), Some("second"));
}

#[test]
fn alerting_outcome_clears_error_of_alerting_instance() {
    let s = RuleSettings {
        exec_err_state: ExecErrState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut i = Instance::new(labels(&[]), T0);
    transition(&mut i, &error("x"), T0, &s);
    assert_eq!((i.state, i.error.is_some()), (State::Alerting, true));
    let t = transition(&mut i, &alerting(), T0 + MIN, &s);
    assert_eq!(i.error, None);
    assert_eq!(i.starts_at, T0, "still the same firing");
    assert_eq!(
        (t.previous_reason, t.reason, t.changed),
        (Some(StateReason::Error), None, true)
    );
}

#[test]
fn values_are_replaced_and_placeholdered_on_no_data() {
    let s = RuleSettings {
        no_data_state: NoDataState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut i = Instance::new(labels(&[]), T0);
    let e = alerting().with_values(values(&[("A", Some(3.5)), ("B", None)]));
    transition(&mut i, &e, T0, &s);
    assert_eq!(i.values, values(&[("A", Some(3.5)), ("B", None)]));

    transition(&mut i, &no_data(), T0 + MIN, &s);
    assert_eq!(i.values, values(&[("A", Some(-1.0)), ("B", Some(-1.0))]));

    transition(&mut i, &error("x"), T0 + 2 * MIN, &s);
    assert_eq!(i.values, values(&[("A", Some(-1.0)), ("B", Some(-1.0))]));

    transition(
        &mut i,
        &normal().with_values(values(&[("C", Some(0.0))])),
        T0 + 3 * MIN,
        &s,
    );
    assert_eq!(i.values, values(&[("C", Some(0.0))]));
}

#[test]
fn annotations_and_outcome_are_recorded() {
    let s = settings(MIN, 0, 0);
    let mut i = Instance::new(labels(&[]), T0);
    let e = alerting().with_annotations(labels(&[("summary", "high")]));
    transition(&mut i, &e, T0, &s);
    assert_eq!(i.annotations, labels(&[("summary", "high")]));
    assert_eq!(i.last_outcome, Some(super::super::Outcome::Alerting));
}

#[test]
fn resolved_at_is_kept_for_normal_and_pending_and_cleared_when_firing() {
    let s = settings(MIN, 2 * MIN, 0);
    let mut i = instance_in(State::Alerting, T0 - 5 * MIN, T0, T0 - MIN);
    transition(&mut i, &normal(), T0, &s);
    assert_eq!(i.resolved_at, Some(T0));
    transition(&mut i, &normal(), T0 + MIN, &s);
    assert_eq!(i.resolved_at, Some(T0), "Normal -> Normal keeps it");
    transition(&mut i, &alerting(), T0 + 2 * MIN, &s);
    assert_eq!(i.state, State::Pending);
    assert_eq!(i.resolved_at, Some(T0), "Normal -> Pending keeps it");
    transition(&mut i, &alerting(), T0 + 4 * MIN, &s);
    assert_eq!(i.state, State::Alerting);
    assert_eq!(i.resolved_at, None, "firing again clears it");
    assert_eq!(i.resolved_from, None);
}

#[test]
fn resolution_records_the_state_resolved_from() {
    for from in [
        State::Alerting,
        State::NoData,
        State::Error,
        State::Recovering,
    ] {
        let s = settings(MIN, 0, 0);
        let mut i = instance_in(from, T0 - 5 * MIN, T0, T0 - MIN);
        let t = transition(&mut i, &normal(), T0, &s);
        assert!(t.resolved, "{from:?}");
        assert_eq!(i.resolved_from, Some(from));
    }
}

#[test]
fn no_data_mode_no_data_reaches_no_data_after_for() {
    let s = settings(MIN, 2 * MIN, 0);
    let mut i = Instance::new(labels(&[]), T0);
    let t = transition(&mut i, &no_data(), T0, &s);
    assert_eq!(
        (t.state, t.reason),
        (State::Pending, Some(StateReason::NoData))
    );
    transition(&mut i, &no_data(), T0 + MIN, &s);
    assert_eq!(i.state, State::Pending);
    let t = transition(&mut i, &no_data(), T0 + 2 * MIN, &s);
    assert_eq!((t.state, t.reason), (State::NoData, None));
    assert_eq!(i.starts_at, T0 + 2 * MIN);
}

#[test]
fn keep_last_pending_still_honours_for() {
    let s = RuleSettings {
        no_data_state: NoDataState::KeepLast,
        ..settings(MIN, 2 * MIN, 0)
    };
    let mut i = Instance::new(labels(&[]), T0);
    transition(&mut i, &alerting(), T0, &s);
    transition(&mut i, &no_data(), T0 + MIN, &s);
    assert_eq!(
        (i.state, i.reason),
        (State::Pending, Some(StateReason::NoDataKeepLast))
    );
    transition(&mut i, &no_data(), T0 + 2 * MIN, &s);
    assert_eq!(
        (i.state, i.reason),
        (State::Alerting, Some(StateReason::NoDataKeepLast))
    );
    assert_eq!(i.starts_at, T0 + 2 * MIN);
}

#[test]
fn formatted_states_match_grafana() {
    let s = RuleSettings {
        no_data_state: NoDataState::Alerting,
        ..settings(MIN, 0, 0)
    };
    let mut i = Instance::new(labels(&[]), T0);
    let t = transition(&mut i, &no_data(), T0, &s);
    assert_eq!(t.formatted(), "Alerting (NoData)");
    assert_eq!(t.previous_formatted(), "Normal");
}

#[test]
fn no_data_while_pending_on_an_error_clears_the_error() {
    let s = settings(MIN, 5 * MIN, 0);
    let mut i = Instance::new(labels(&[]), T0);
    transition(&mut i, &error("x"), T0, &s);
    assert_eq!((i.state, i.error.as_deref()), (State::Pending, Some("x")));
    transition(&mut i, &no_data(), T0 + MIN, &s);
    assert_eq!(
        (i.state, i.reason),
        (State::Pending, Some(StateReason::NoData))
    );
    assert_eq!(i.error, None);
    assert_eq!(i.starts_at, T0, "still the same wait");
    assert_eq!(i.ends_at, T0 + 5 * MIN);
}

#[test]
fn untouched_states_keep_their_times_and_error() {
    // Normal stays Normal without any change; Pending not yet due stays as it is.
    let s = settings(MIN, 5 * MIN, 0);
    let mut n = instance_in(State::Normal, T0 - MIN, T0 - MIN, T0 - MIN);
    n.error = Some("old".into());
    transition(&mut n, &normal(), T0, &s);
    assert_eq!(
        (n.starts_at, n.ends_at, n.error.as_deref()),
        (T0 - MIN, T0 - MIN, Some("old"))
    );

    let mut p = instance_in(State::Pending, T0 - MIN, T0 + 3 * MIN, T0 - MIN);
    p.error = Some("old".into());
    transition(&mut p, &alerting(), T0, &s);
    assert_eq!(
        (p.starts_at, p.ends_at, p.error.as_deref()),
        (T0 - MIN, T0 + 3 * MIN, Some("old"))
    );
}
