//! Threshold: every evaluator type, series per point, nulls, the recovery (unload) threshold
//! for firing label sets, and model errors.

use std::collections::BTreeSet;

use serde_json::json;

use super::{assert_same, labels, num, range, results, run, series};
use crate::data::{Labels, Value};
use crate::expr::{ExprError, Expression, evaluate, evaluate_with_firing};

fn model(kind: &str, params: &[f64]) -> serde_json::Value {
    json!({"type": "threshold", "expression": "A",
           "conditions": [{"evaluator": {"type": kind, "params": params}}]})
}

#[test]
fn evaluator_types() {
    #[rustfmt::skip]
    let cases: &[(&str, &[f64], f64, f64)] = &[
        ("gt", &[5.0], 6.0, 1.0),
        ("gt", &[5.0], 5.0, 0.0),
        ("lt", &[5.0], 4.0, 1.0),
        ("lt", &[5.0], 5.0, 0.0),
        ("eq", &[5.0], 5.0, 1.0),
        ("eq", &[5.0], 4.0, 0.0),
        ("ne", &[5.0], 4.0, 1.0),
        ("ne", &[5.0], 5.0, 0.0),
        ("gte", &[5.0], 5.0, 1.0),
        ("gte", &[5.0], 4.9, 0.0),
        ("lte", &[5.0], 5.0, 1.0),
        ("lte", &[5.0], 5.1, 0.0),
        ("within_range", &[1.0, 10.0], 5.0, 1.0),
        ("within_range", &[1.0, 10.0], 10.0, 0.0),
        ("within_range", &[1.0, 10.0], 11.0, 0.0),
        ("outside_range", &[1.0, 10.0], 11.0, 1.0),
        ("outside_range", &[1.0, 10.0], 0.0, 1.0),
        ("outside_range", &[1.0, 10.0], 1.0, 0.0),
        ("within_range_included", &[1.0, 10.0], 10.0, 1.0),
        ("within_range_included", &[1.0, 10.0], 1.0, 1.0),
        ("within_range_included", &[1.0, 10.0], 0.5, 0.0),
        ("outside_range_included", &[1.0, 10.0], 10.0, 1.0),
        ("outside_range_included", &[1.0, 10.0], 1.0, 1.0),
        ("outside_range_included", &[1.0, 10.0], 5.0, 0.0),
        ("gt", &[5.0], f64::NAN, 0.0),
    ];
    for (kind, params, x, want) in cases {
        let input = results(vec![(
            "A",
            Value::Numbers(vec![num(&[("h", "a")], Some(*x))]),
        )]);
        let got = run(model(kind, params), &input, range(0, 1));
        assert_same(&got, &Value::Numbers(vec![num(&[("h", "a")], Some(*want))]));
    }
}

#[test]
fn numbers_series_scalars_nulls_and_no_data() {
    let input = results(vec![
        (
            "A",
            Value::Series(vec![series(
                &[("host", "a")],
                &[(1, Some(3.0)), (2, Some(7.0)), (3, None)],
            )]),
        ),
        ("S", Value::Scalar(Some(9.0))),
        ("N", Value::NoData),
        ("M", Value::Numbers(vec![num(&[("h", "x")], None)])),
    ]);
    assert_same(
        &run(model("gt", &[5.0]), &input, range(0, 1)),
        &Value::Series(vec![series(
            &[("host", "a")],
            &[(1, Some(0.0)), (2, Some(1.0)), (3, None)],
        )]),
    );
    let on = |input_ref: &str| {
        json!({"type": "threshold", "expression": input_ref,
               "conditions": [{"evaluator": {"type": "gt", "params": [5]}}]})
    };
    assert_same(
        &run(on("S"), &input, range(0, 1)),
        &Value::Scalar(Some(1.0)),
    );
    assert_same(&run(on("N"), &input, range(0, 1)), &Value::NoData);
    assert_same(
        &run(on("M"), &input, range(0, 1)),
        &Value::Numbers(vec![num(&[("h", "x")], None)]),
    );
}

#[test]
fn recovery_threshold_applies_to_firing_label_sets() {
    // Fires above 10, recovers below 8.
    let e = super::parse(
        "T",
        json!({"type": "threshold", "expression": "A", "conditions": [{
            "evaluator": {"type": "gt", "params": [10]},
            "unloadEvaluator": {"type": "lt", "params": [8]}
        }]}),
    );
    let input = results(vec![(
        "A",
        Value::Numbers(vec![
            num(&[("host", "a")], Some(9.0)),
            num(&[("host", "b")], Some(9.0)),
            num(&[("host", "c")], Some(7.0)),
            num(&[("host", "d")], Some(11.0)),
            num(&[("host", "e")], None),
        ]),
    )]);
    let firing: BTreeSet<Labels> = [
        labels(&[("host", "a")]),
        labels(&[("host", "c")]),
        labels(&[("host", "e")]),
    ]
    .into_iter()
    .collect();
    let got = evaluate_with_firing(&e, &input, range(0, 1), &firing).expect("evaluates");
    assert_same(
        &got,
        &Value::Numbers(vec![
            // Firing, 9 is not below 8: still firing.
            num(&[("host", "a")], Some(1.0)),
            // Not firing, 9 is not above 10.
            num(&[("host", "b")], Some(0.0)),
            // Firing, 7 is below 8: recovered.
            num(&[("host", "c")], Some(0.0)),
            // Not firing, 11 is above 10: fires.
            num(&[("host", "d")], Some(1.0)),
            num(&[("host", "e")], None),
        ]),
    );
    // Without firing label sets only the firing threshold counts.
    let got = evaluate(&e, &input, range(0, 1)).expect("evaluates");
    assert_same(
        &got,
        &Value::Numbers(vec![
            num(&[("host", "a")], Some(0.0)),
            num(&[("host", "b")], Some(0.0)),
            num(&[("host", "c")], Some(0.0)),
            num(&[("host", "d")], Some(1.0)),
            num(&[("host", "e")], None),
        ]),
    );
    // A firing series keeps firing point by point until it recovers.
    let input = results(vec![(
        "A",
        Value::Series(vec![series(
            &[("host", "a")],
            &[(1, Some(12.0)), (2, Some(9.0)), (3, Some(7.5))],
        )]),
    )]);
    let got = evaluate_with_firing(&e, &input, range(0, 1), &firing).expect("evaluates");
    assert_same(
        &got,
        &Value::Series(vec![series(
            &[("host", "a")],
            &[(1, Some(1.0)), (2, Some(1.0)), (3, Some(0.0))],
        )]),
    );
}

#[test]
fn firing_sets_are_ignored_without_a_recovery_threshold() {
    let e = super::parse("T", model("gt", &[10.0]));
    let input = results(vec![(
        "A",
        Value::Numbers(vec![num(&[("host", "a")], Some(9.0))]),
    )]);
    let firing: BTreeSet<Labels> = [labels(&[("host", "a")])].into_iter().collect();
    let got = evaluate_with_firing(&e, &input, range(0, 1), &firing).expect("evaluates");
    assert_same(
        &got,
        &Value::Numbers(vec![num(&[("host", "a")], Some(0.0))]),
    );
}

#[test]
fn parse_errors() {
    let cases = vec![
        (
            json!({"type": "threshold", "expression": "A", "conditions": []}),
            "conditions",
            "exactly one condition, got 0",
        ),
        (
            json!({"type": "threshold", "expression": "A", "conditions": [
                {"evaluator": {"type": "gt", "params": [1]}},
                {"evaluator": {"type": "lt", "params": [1]}}]}),
            "conditions",
            "exactly one condition, got 2",
        ),
        (
            json!({"type": "threshold", "expression": "A", "conditions": [
                {"evaluator": {"type": "above", "params": [1]}}]}),
            "conditions[0].evaluator.type",
            "unknown evaluator type \"above\"",
        ),
        (
            json!({"type": "threshold", "expression": "A", "conditions": [
                {"evaluator": {"type": "within_range", "params": [1]}}]}),
            "conditions[0].evaluator.params",
            "needs 2 parameter(s), got 1",
        ),
        (
            json!({"type": "threshold", "expression": "A", "conditions": [
                {"evaluator": {"type": "gt", "params": ["1"]}}]}),
            "conditions[0].evaluator.params[0]",
            "expected a number, got a string",
        ),
        (
            json!({"type": "threshold", "expression": "A", "conditions": [
                {"evaluator": {"type": "gt", "params": [1]},
                 "unloadEvaluator": {"type": "lt"}}]}),
            "conditions[0].unloadEvaluator.params",
            "missing",
        ),
        (
            json!({"type": "threshold", "expression": "A", "conditions": [{}]}),
            "conditions[0].evaluator",
            "missing",
        ),
        (
            json!({"type": "threshold", "expression": "A", "conditions": ["gt"]}),
            "conditions[0]",
            "expected an object, got a string",
        ),
    ];
    for (m, field, message) in cases {
        let err = Expression::parse("T", &m).expect_err("invalid model");
        let (got_field, text) = match &err {
            ExprError::InvalidField { field, .. } | ExprError::MissingField { field, .. } => {
                (field.clone(), err.to_string())
            }
            other => panic!("{m}: unexpected error {other:?}"),
        };
        assert_eq!(got_field, field, "{m}");
        assert!(
            text.contains(message),
            "{m}: {text:?} should contain {message:?}"
        );
        assert!(text.contains("expression T"), "{text}");
    }
}
