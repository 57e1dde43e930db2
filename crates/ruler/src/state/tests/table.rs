//! The transition table: every state × every outcome (NoData and Error under each mode) ×
//! `for` and `keep_firing_for` zero and non-zero, with the elapsed time around the thresholds.
//! Expectations are written from the reference's rules, not derived from the implementation;
//! `table_covers_every_combination` checks that no combination is missing.

use super::super::{ExecErrState, NoDataState, RuleSettings, State, StateReason, transition};
use super::{MIN, T0, alerting, error, instance_in, no_data, normal};
use crate::data::Millis;

/// `for` and `keep_firing_for` when set.
const DUR: Millis = 2 * MIN;
/// Elapsed time below `DUR`.
const SHORT: Millis = MIN;
/// Elapsed time exactly `DUR`.
const EXACT: Millis = DUR;
/// Elapsed time above `DUR`.
const LONG: Millis = 3 * MIN;
/// Rule interval.
const INTERVAL: Millis = MIN;
/// `at + 4 * max(interval, 30s)`.
const NEXT: Millis = T0 + 4 * INTERVAL;

/// The evaluation input: outcome plus the mode that applies to it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum In {
    Normal,
    Alerting,
    NoData(NoDataState),
    Error(ExecErrState),
}

impl In {
    fn all() -> Vec<In> {
        let mut all = vec![In::Normal, In::Alerting];
        all.extend(NoDataState::ALL.into_iter().map(In::NoData));
        all.extend(ExecErrState::ALL.into_iter().map(In::Error));
        all
    }
}

/// A duration setting: zero, set to `DUR`, or either (the row holds for both).
#[derive(Debug, Clone, Copy, PartialEq)]
enum D {
    Zero,
    Set,
    Any,
}

impl D {
    fn matches(self, concrete: D) -> bool {
        self == D::Any || self == concrete
    }

    fn expand(self) -> Vec<Millis> {
        match self {
            D::Zero => vec![0],
            D::Set => vec![DUR],
            D::Any => vec![0, DUR],
        }
    }
}

/// An expected time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum T {
    /// Unchanged.
    Keep,
    /// The evaluation time.
    At,
    /// `NEXT`.
    Next,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    from: State,
    input: In,
    for_: D,
    kff: D,
    elapsed: Millis,
    to: State,
    reason: Option<StateReason>,
    starts: T,
    ends: T,
    resolved: bool,
}

#[allow(clippy::too_many_arguments)]
fn row(
    from: State,
    input: In,
    for_: D,
    kff: D,
    elapsed: Millis,
    to: State,
    reason: Option<StateReason>,
    starts: T,
    ends: T,
    resolved: bool,
) -> Row {
    Row {
        from,
        input,
        for_,
        kff,
        elapsed,
        to,
        reason,
        starts,
        ends,
        resolved,
    }
}

use D::{Any, Set, Zero};
use State::{Alerting as A, Error as E, NoData as ND, Normal as N, Pending as P, Recovering as R};
use T::{At, Keep, Next};

/// Rows of the Normal path (`resultNormal`), with the reason the input leaves.
fn normal_path(input: In, reason: Option<StateReason>) -> Vec<Row> {
    vec![
        row(N, input, Any, Any, SHORT, N, reason, Keep, Keep, false),
        row(P, input, Any, Any, SHORT, N, reason, At, At, false),
        row(A, input, Any, Zero, SHORT, N, reason, At, At, true),
        row(A, input, Any, Set, SHORT, R, reason, At, Next, false),
        row(ND, input, Any, Any, SHORT, N, reason, At, At, true),
        row(E, input, Any, Any, SHORT, N, reason, At, At, true),
        row(R, input, Any, Zero, SHORT, N, reason, At, At, true),
        row(R, input, Any, Set, SHORT, R, reason, Keep, Next, false),
        row(R, input, Any, Set, EXACT, N, reason, At, At, true),
        row(R, input, Any, Set, LONG, N, reason, At, At, true),
    ]
}

/// Rows of the Alerting path (`resultAlerting`).
fn alerting_path(input: In, reason: Option<StateReason>) -> Vec<Row> {
    vec![
        row(A, input, Any, Any, SHORT, A, reason, Keep, Next, false),
        row(P, input, Set, Any, SHORT, P, reason, Keep, Keep, false),
        row(P, input, Set, Any, EXACT, A, reason, At, Next, false),
        row(P, input, Set, Any, LONG, A, reason, At, Next, false),
        row(P, input, Zero, Any, SHORT, A, reason, At, Next, false),
        row(N, input, Set, Any, SHORT, P, reason, At, Next, false),
        row(N, input, Zero, Any, SHORT, A, reason, At, Next, false),
        row(ND, input, Set, Any, SHORT, P, reason, At, Next, false),
        row(ND, input, Zero, Any, SHORT, A, reason, At, Next, false),
        row(E, input, Set, Any, SHORT, P, reason, At, Next, false),
        row(E, input, Zero, Any, SHORT, A, reason, At, Next, false),
        // Recovering skips Pending.
        row(R, input, Any, Any, SHORT, A, reason, At, Next, false),
    ]
}

/// Rows of the way to a dedicated NoData/Error state (`target`), Pending with `pending_reason`
/// first when `for > 0`.
fn dedicated_path(input: In, target: State, pending_reason: StateReason) -> Vec<Row> {
    let pr = Some(pending_reason);
    let mut rows = vec![
        row(
            target, input, Any, Any, SHORT, target, None, Keep, Next, false,
        ),
        row(P, input, Set, Any, SHORT, P, pr, Keep, Next, false),
        row(P, input, Set, Any, EXACT, target, None, At, Next, false),
        row(P, input, Set, Any, LONG, target, None, At, Next, false),
        row(P, input, Zero, Any, SHORT, target, None, At, Next, false),
        // Recovering skips Pending.
        row(R, input, Any, Any, SHORT, target, None, At, Next, false),
    ];
    for from in [N, A, ND, E] {
        if from == target {
            continue;
        }
        rows.push(row(from, input, Set, Any, SHORT, P, pr, At, Next, false));
        rows.push(row(
            from, input, Zero, Any, SHORT, target, None, At, Next, false,
        ));
    }
    rows
}

/// Rows of KeepLast (`resultKeepLast`): Alerting, Pending and Normal kept, the rest Normal.
fn keep_last_path(input: In, reason: StateReason) -> Vec<Row> {
    let r = Some(reason);
    vec![
        row(A, input, Any, Any, SHORT, A, r, Keep, Next, false),
        row(P, input, Set, Any, SHORT, P, r, Keep, Keep, false),
        row(P, input, Set, Any, EXACT, A, r, At, Next, false),
        row(P, input, Set, Any, LONG, A, r, At, Next, false),
        row(P, input, Zero, Any, SHORT, A, r, At, Next, false),
        row(N, input, Any, Any, SHORT, N, r, Keep, Keep, false),
        row(ND, input, Any, Any, SHORT, N, r, At, At, true),
        row(E, input, Any, Any, SHORT, N, r, At, At, true),
        row(R, input, Any, Zero, SHORT, N, r, At, At, true),
        row(R, input, Any, Set, SHORT, R, r, Keep, Next, false),
        row(R, input, Any, Set, LONG, N, r, At, At, true),
    ]
}

fn table() -> Vec<Row> {
    let mut rows = Vec::new();
    rows.extend(normal_path(In::Normal, None));
    rows.extend(alerting_path(In::Alerting, None));

    let nd = Some(StateReason::NoData);
    rows.extend(alerting_path(In::NoData(NoDataState::Alerting), nd));
    rows.extend(dedicated_path(
        In::NoData(NoDataState::NoData),
        ND,
        StateReason::NoData,
    ));
    rows.extend(normal_path(In::NoData(NoDataState::Ok), nd));
    rows.extend(keep_last_path(
        In::NoData(NoDataState::KeepLast),
        StateReason::NoDataKeepLast,
    ));

    let er = Some(StateReason::Error);
    rows.extend(alerting_path(In::Error(ExecErrState::Alerting), er));
    rows.extend(dedicated_path(
        In::Error(ExecErrState::Error),
        E,
        StateReason::Error,
    ));
    rows.extend(normal_path(In::Error(ExecErrState::Ok), er));
    rows.extend(keep_last_path(
        In::Error(ExecErrState::KeepLast),
        StateReason::ErrorKeepLast,
    ));
    rows
}

fn expected_time(t: T, original: Millis) -> Millis {
    match t {
        T::Keep => original,
        T::At => T0,
        T::Next => NEXT,
    }
}

#[test]
fn every_row_of_the_transition_table() {
    let mut checked = 0;
    for r in table() {
        for for_duration in r.for_.expand() {
            for keep_firing_for in r.kff.expand() {
                let mut settings = RuleSettings {
                    interval: INTERVAL,
                    for_duration,
                    keep_firing_for,
                    ..RuleSettings::default()
                };
                let evaluation = match r.input {
                    In::Normal => normal(),
                    In::Alerting => alerting(),
                    In::NoData(mode) => {
                        settings.no_data_state = mode;
                        no_data()
                    }
                    In::Error(mode) => {
                        settings.exec_err_state = mode;
                        error("boom")
                    }
                };
                let starts_at = T0 - r.elapsed;
                // A distinct value, so that "unchanged" cannot pass by coincidence.
                let ends_at = starts_at + 7;
                let mut instance = instance_in(r.from, starts_at, ends_at, T0 - INTERVAL);
                let t = transition(&mut instance, &evaluation, T0, &settings);
                let ctx = format!("{r:?} for={for_duration} kff={keep_firing_for}");

                assert_eq!(instance.state, r.to, "state: {ctx}");
                assert_eq!(instance.reason, r.reason, "reason: {ctx}");
                assert_eq!(
                    instance.starts_at,
                    expected_time(r.starts, starts_at),
                    "starts_at: {ctx}"
                );
                assert_eq!(
                    instance.ends_at,
                    expected_time(r.ends, ends_at),
                    "ends_at: {ctx}"
                );
                assert_eq!(instance.last_evaluated_at, T0, "last_evaluated_at: {ctx}");
                assert_eq!(t.resolved, r.resolved, "resolved: {ctx}");
                assert_eq!(
                    instance.resolved_at,
                    r.resolved.then_some(T0),
                    "resolved_at: {ctx}"
                );
                assert_eq!(t.previous_state, r.from, "previous_state: {ctx}");
                assert_eq!(t.previous_reason, None, "previous_reason: {ctx}");
                assert_eq!(t.state, r.to, "transition state: {ctx}");
                assert_eq!(t.reason, r.reason, "transition reason: {ctx}");
                assert_eq!(
                    t.changed,
                    r.from != r.to || r.reason.is_some(),
                    "changed: {ctx}"
                );
                checked += 1;
            }
        }
    }
    // Guards against the table silently shrinking.
    assert!(checked >= 6 * 10 * 4, "only {checked} cases checked");
}

#[test]
fn table_covers_every_combination() {
    let rows = table();
    let mut missing = Vec::new();
    for from in State::ALL {
        for input in In::all() {
            for for_ in [Zero, Set] {
                for kff in [Zero, Set] {
                    let covered = rows.iter().any(|r| {
                        r.from == from
                            && r.input == input
                            && r.for_.matches(for_)
                            && r.kff.matches(kff)
                    });
                    if !covered {
                        missing.push(format!("{from:?} {input:?} for={for_:?} kff={kff:?}"));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "uncovered: {missing:#?}");
}

#[test]
fn table_rows_are_unambiguous() {
    // Two rows for the same case must agree, or one of them is wrong.
    let rows = table();
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            let overlap = a.from == b.from
                && a.input == b.input
                && a.elapsed == b.elapsed
                && (a.for_.matches(b.for_) || b.for_.matches(a.for_))
                && (a.kff.matches(b.kff) || b.kff.matches(a.kff));
            if overlap {
                assert!(
                    a.to == b.to
                        && a.reason == b.reason
                        && a.starts == b.starts
                        && a.ends == b.ends
                        && a.resolved == b.resolved,
                    "conflicting rows {a:?} and {b:?}"
                );
            }
        }
    }
}
