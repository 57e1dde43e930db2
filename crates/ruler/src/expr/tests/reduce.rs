//! Reduce: every reducer in each mode (strict, dropNN, replaceNN) with nulls, NaN, Inf and
//! empty series; numbers passing through; errors.

use serde_json::json;

use super::{assert_f, assert_same, num, range, results, run, series};
use crate::data::Value;
use crate::expr::{ExprError, Expression, ReduceMode, Reducer, evaluate};

const N: Option<f64> = None;
const NAN: Option<f64> = Some(f64::NAN);

/// Reduces `values` as one series with the given reducer and settings, via the model.
fn reduce(values: &[Option<f64>], reducer: &str, settings: serde_json::Value) -> Option<f64> {
    let points: Vec<(i64, Option<f64>)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 * 1000, *v))
        .collect();
    let input = results(vec![(
        "A",
        Value::Series(vec![series(&[("host", "a")], &points)]),
    )]);
    let model =
        json!({"type": "reduce", "expression": "A", "reducer": reducer, "settings": settings});
    match run(model, &input, range(0, 1)) {
        Value::Numbers(ns) => {
            assert_eq!(ns.len(), 1);
            assert_eq!(ns[0].labels, super::labels(&[("host", "a")]));
            ns[0].value
        }
        other => panic!("expected numbers, got {other:?}"),
    }
}

#[test]
fn reducers_in_every_mode() {
    let strict = json!({});
    let drop = json!({"mode": "dropNN"});
    let replace = json!({"mode": "replaceNN", "replaceWithValue": 0});
    let clean = [Some(1.0), Some(2.0), Some(3.0), Some(4.0)];
    let dirty = [Some(1.0), NAN, N, Some(f64::INFINITY), Some(3.0)];
    let trailing_null = [Some(1.0), Some(2.0), N];
    let empty: [Option<f64>; 0] = [];
    #[rustfmt::skip]
    type Case<'a> = (&'a str, &'a [Option<f64>], &'a serde_json::Value, Option<f64>);
    let cases: Vec<Case> = vec![
        ("last", &clean, &strict, Some(4.0)),
        ("mean", &clean, &strict, Some(2.5)),
        ("min", &clean, &strict, Some(1.0)),
        ("max", &clean, &strict, Some(4.0)),
        ("sum", &clean, &strict, Some(10.0)),
        ("count", &clean, &strict, Some(4.0)),
        ("median", &clean, &strict, Some(2.5)),
        (
            "median",
            &[Some(9.0), Some(1.0), Some(5.0)],
            &strict,
            Some(5.0),
        ),
        // Strict: any null or NaN makes NaN (last and count excepted).
        ("mean", &dirty, &strict, NAN),
        ("sum", &dirty, &strict, NAN),
        ("min", &dirty, &strict, NAN),
        ("max", &dirty, &strict, NAN),
        ("median", &dirty, &strict, NAN),
        ("count", &dirty, &strict, Some(5.0)),
        ("last", &dirty, &strict, Some(3.0)),
        ("last", &trailing_null, &strict, N),
        (
            "max",
            &[Some(1.0), Some(f64::INFINITY)],
            &strict,
            Some(f64::INFINITY),
        ),
        // Empty series.
        ("count", &empty, &strict, Some(0.0)),
        ("sum", &empty, &strict, Some(0.0)),
        ("mean", &empty, &strict, NAN),
        ("last", &empty, &strict, NAN),
        ("min", &empty, &strict, NAN),
        ("median", &empty, &strict, NAN),
        // dropNN: non-numbers removed first; a NaN result is null.
        ("mean", &dirty, &drop, Some(2.0)),
        ("sum", &dirty, &drop, Some(4.0)),
        ("min", &dirty, &drop, Some(1.0)),
        ("max", &dirty, &drop, Some(3.0)),
        ("median", &dirty, &drop, Some(2.0)),
        ("count", &dirty, &drop, Some(2.0)),
        ("last", &trailing_null, &drop, Some(2.0)),
        ("mean", &[N, NAN], &drop, N),
        ("last", &empty, &drop, N),
        ("count", &empty, &drop, Some(0.0)),
        // replaceNN: non-numbers replaced; a NaN result is the replacement too.
        ("mean", &dirty, &replace, Some(0.8)),
        ("sum", &dirty, &replace, Some(4.0)),
        ("min", &dirty, &replace, Some(0.0)),
        ("max", &dirty, &replace, Some(3.0)),
        ("count", &dirty, &replace, Some(5.0)),
        ("last", &trailing_null, &replace, Some(0.0)),
        ("mean", &empty, &replace, Some(0.0)),
    ];
    for (reducer, values, settings, want) in cases {
        let got = reduce(values, reducer, settings.clone());
        assert_f(
            got,
            want,
            &format!("{reducer} of {values:?} with {settings}"),
        );
    }
}

#[test]
fn replace_value_is_used_for_empty_results() {
    let got = reduce(
        &[],
        "min",
        json!({"mode": "replaceNN", "replaceWithValue": -1.5}),
    );
    assert_f(got, Some(-1.5), "min of empty with replaceNN -1.5");
}

#[test]
fn numbers_pass_through_mapped_by_the_mode() {
    let numbers = Value::Numbers(vec![
        num(&[("h", "a")], Some(1.0)),
        num(&[("h", "b")], None),
        num(&[("h", "c")], Some(f64::NAN)),
    ]);
    let input = results(vec![("A", numbers.clone())]);
    let model = |settings| json!({"type": "reduce", "expression": "A", "reducer": "mean", "settings": settings});
    assert_same(&run(model(json!({})), &input, range(0, 1)), &numbers);
    assert_same(
        &run(model(json!({"mode": "dropNN"})), &input, range(0, 1)),
        &Value::Numbers(vec![num(&[("h", "a")], Some(1.0))]),
    );
    assert_same(
        &run(
            model(json!({"mode": "replaceNN", "replaceWithValue": 7})),
            &input,
            range(0, 1),
        ),
        &Value::Numbers(vec![
            num(&[("h", "a")], Some(1.0)),
            num(&[("h", "b")], Some(7.0)),
            num(&[("h", "c")], Some(7.0)),
        ]),
    );
}

#[test]
fn no_data_and_many_series() {
    let model = json!({"type": "reduce", "expression": "$A", "reducer": "Max"});
    let input = results(vec![("A", Value::NoData)]);
    assert_same(&run(model.clone(), &input, range(0, 1)), &Value::NoData);

    let input = results(vec![(
        "A",
        Value::Series(vec![
            series(&[("host", "a")], &[(1, Some(1.0)), (2, Some(5.0))]),
            series(&[("host", "b")], &[(1, Some(7.0)), (2, Some(2.0))]),
        ]),
    )]);
    assert_same(
        &run(model, &input, range(0, 1)),
        &Value::Numbers(vec![
            num(&[("host", "a")], Some(5.0)),
            num(&[("host", "b")], Some(7.0)),
        ]),
    );
}

#[test]
fn parsed_fields() {
    let e = super::parse(
        "B",
        json!({"type": "reduce", "expression": "A", "reducer": "last",
               "settings": {"mode": "replaceNN", "replaceWithValue": 3}}),
    );
    let Expression::Reduce(r) = &e else {
        panic!("expected reduce, got {e:?}")
    };
    assert_eq!(r.input, "A");
    assert_eq!(r.reducer, Reducer::Last);
    assert_eq!(r.mode, ReduceMode::ReplaceNonNumbers(3.0));
    assert_eq!(e.refs(), ["A"]);
    // An empty mode is strict, as in Grafana.
    let e = super::parse(
        "B",
        json!({"type": "reduce", "expression": "A", "reducer": "sum", "settings": {"mode": ""}}),
    );
    let Expression::Reduce(r) = &e else {
        panic!("expected reduce, got {e:?}")
    };
    assert_eq!(r.mode, ReduceMode::Strict);
}

#[test]
fn errors() {
    let cases = vec![
        (
            json!({"type": "reduce", "expression": "A", "reducer": "avg"}),
            ExprError::UnknownReducer {
                ref_id: "B".into(),
                field: "reducer".into(),
                reducer: "avg".into(),
                expected: "last, mean, min, max, sum, count, median".into(),
            },
        ),
        (
            json!({"type": "reduce", "expression": "A"}),
            ExprError::MissingField {
                ref_id: "B".into(),
                field: "reducer".into(),
            },
        ),
        (
            json!({"type": "reduce", "reducer": "sum"}),
            ExprError::MissingField {
                ref_id: "B".into(),
                field: "expression".into(),
            },
        ),
        (
            json!({"type": "reduce", "expression": "A", "reducer": "sum", "settings": {"mode": "dropNaN"}}),
            ExprError::InvalidField {
                ref_id: "B".into(),
                field: "settings.mode".into(),
                reason: "unknown mode \"dropNaN\" (expected one of: dropNN, replaceNN)".into(),
            },
        ),
        (
            json!({"type": "reduce", "expression": "A", "reducer": "sum", "settings": {"mode": "replaceNN"}}),
            ExprError::MissingField {
                ref_id: "B".into(),
                field: "settings.replaceWithValue".into(),
            },
        ),
        (
            json!({"type": "reduce", "expression": "A", "reducer": "sum",
                   "settings": {"mode": "replaceNN", "replaceWithValue": "0"}}),
            ExprError::InvalidField {
                ref_id: "B".into(),
                field: "settings.replaceWithValue".into(),
                reason: "expected a number, got a string".into(),
            },
        ),
        (
            json!({"type": "reduce", "expression": 5, "reducer": "sum"}),
            ExprError::InvalidField {
                ref_id: "B".into(),
                field: "expression".into(),
                reason: "expected a string, got a number".into(),
            },
        ),
    ];
    for (model, want) in cases {
        assert_eq!(Expression::parse("B", &model), Err(want), "{model}");
    }
    let err = Expression::parse(
        "B",
        &json!({"type": "reduce", "expression": "A", "reducer": "avg"}),
    )
    .expect_err("unknown reducer");
    assert!(err.to_string().contains("`reducer`"), "{err}");
}

#[test]
fn missing_input_at_evaluation() {
    let e = super::parse(
        "B",
        json!({"type": "reduce", "expression": "A", "reducer": "sum"}),
    );
    assert_eq!(
        evaluate(&e, &results(vec![]), range(0, 1)),
        Err(ExprError::MissingRef {
            ref_id: "B".into(),
            missing: "A".into()
        })
    );
}
