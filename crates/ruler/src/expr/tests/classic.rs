//! Classic conditions: reducers, evaluators, and/or combination left to right, no data, the
//! single unlabelled result with its matches, and model errors.

use serde_json::{Value as Json, json};

use super::{assert_f, assert_same, labels, num, range, results, run, series};
use crate::data::{Results, Value};
use crate::expr::{ClassicOutcome, ClassicReducer, EvalMatch, ExprError, Expression};

fn condition(input: &str, reducer: &str, kind: &str, params: &[f64], operator: &str) -> Json {
    json!({
        "evaluator": {"type": kind, "params": params},
        "operator": {"type": operator},
        "query": {"params": [input]},
        "reducer": {"params": [], "type": reducer}
    })
}

fn model(conditions: Vec<Json>) -> Json {
    json!({"type": "classic_conditions", "conditions": conditions})
}

fn outcome(conditions: Vec<Json>, input: &Results) -> ClassicOutcome {
    let e = super::parse("C", model(conditions));
    let Expression::ClassicConditions(c) = &e else {
        panic!("expected classic conditions, got {e:?}")
    };
    c.evaluate_detailed(input).expect("evaluates")
}

fn single(value: Option<f64>) -> Value {
    Value::Numbers(vec![num(&[], value)])
}

/// A: two hosts, averages 3 and 7. B: max 2.
fn sample() -> Results {
    results(vec![
        (
            "A",
            Value::Series(vec![
                series(&[("host", "a")], &[(1, Some(2.0)), (2, Some(4.0))]),
                series(&[("host", "b")], &[(1, Some(6.0)), (2, Some(8.0))]),
            ]),
        ),
        (
            "B",
            Value::Series(vec![series(&[], &[(1, Some(1.0)), (2, Some(2.0))])]),
        ),
    ])
}

#[test]
fn fires_as_a_whole_and_notes_the_matching_series() {
    let got = outcome(vec![condition("A", "avg", "gt", &[5.0], "and")], &sample());
    assert_eq!(
        got,
        ClassicOutcome {
            firing: true,
            no_data: false,
            matches: vec![EvalMatch {
                input: "A".into(),
                labels: labels(&[("host", "b")]),
                value: Some(7.0),
            }],
        }
    );
    // The expression value is one number without labels.
    let v = run(
        model(vec![condition("A", "avg", "gt", &[5.0], "and")]),
        &sample(),
        range(0, 1),
    );
    assert_same(&v, &single(Some(1.0)));
    let v = run(
        model(vec![condition("A", "avg", "gt", &[50.0], "and")]),
        &sample(),
        range(0, 1),
    );
    assert_same(&v, &single(Some(0.0)));
}

#[test]
fn conditions_combine_left_to_right_with_and_or() {
    let a_true = || condition("A", "avg", "gt", &[5.0], "and");
    let b_false = |op: &str| condition("B", "max", "lt", &[0.0], op);
    let b_true = |op: &str| condition("B", "max", "gt", &[1.0], op);
    let cases: Vec<(Vec<Json>, Option<f64>)> = vec![
        (vec![a_true(), b_false("and")], Some(0.0)),
        (vec![a_true(), b_false("or")], Some(1.0)),
        (vec![a_true(), b_true("and")], Some(1.0)),
        // The first condition's operator is ignored.
        (vec![b_false("or"), a_true()], Some(0.0)),
        // false OR true AND true = (false OR true) AND true = true.
        (
            vec![
                b_false("and"),
                condition("A", "avg", "gt", &[5.0], "or"),
                b_true("and"),
            ],
            Some(1.0),
        ),
        // true OR false AND false = (true OR false) AND false = false: no precedence.
        (vec![a_true(), b_false("or"), b_false("and")], Some(0.0)),
    ];
    for (i, (conditions, want)) in cases.into_iter().enumerate() {
        let v = run(model(conditions), &sample(), range(0, 1));
        let Value::Numbers(ns) = &v else {
            panic!("case {i}: expected numbers, got {v:?}")
        };
        assert_eq!(ns.len(), 1, "case {i}");
        assert!(ns[0].labels.is_empty(), "case {i}");
        assert_f(ns[0].value, want, &format!("case {i}"));
    }
}

#[test]
fn no_data() {
    let input = results(vec![
        ("N", Value::NoData),
        ("E", Value::Series(vec![])),
        (
            "Z",
            Value::Series(vec![series(&[("h", "z")], &[(1, None), (2, None)])]),
        ),
        ("A", sample().remove("A").unwrap_or(Value::NoData)),
    ]);
    let cases = vec![
        (vec![condition("N", "avg", "gt", &[1.0], "and")], None),
        (vec![condition("E", "avg", "gt", &[1.0], "and")], None),
        (vec![condition("Z", "avg", "gt", &[1.0], "and")], None),
        // no_value fires on null, no data, and nothing at all.
        (
            vec![condition("Z", "avg", "no_value", &[], "and")],
            Some(1.0),
        ),
        (
            vec![condition("N", "last", "no_value", &[], "and")],
            Some(1.0),
        ),
        (
            vec![condition("E", "last", "no_value", &[], "and")],
            Some(1.0),
        ),
        // No data AND data: not no data, and not firing.
        (
            vec![
                condition("Z", "avg", "gt", &[1.0], "and"),
                condition("A", "avg", "gt", &[100.0], "and"),
            ],
            Some(0.0),
        ),
        // No data OR data: no data wins over firing.
        (
            vec![
                condition("Z", "avg", "gt", &[1.0], "and"),
                condition("A", "avg", "gt", &[5.0], "or"),
            ],
            None,
        ),
    ];
    for (i, (conditions, want)) in cases.into_iter().enumerate() {
        let v = run(model(conditions), &input, range(0, 1));
        let Value::Numbers(ns) = &v else {
            panic!("case {i}: expected numbers, got {v:?}")
        };
        assert_f(ns[0].value, want, &format!("case {i}"));
    }
}

#[test]
fn numbers_are_used_as_they_are() {
    let input = results(vec![(
        "A",
        Value::Numbers(vec![
            num(&[("h", "a")], Some(3.0)),
            num(&[("h", "b")], Some(30.0)),
        ]),
    )]);
    let got = outcome(vec![condition("A", "sum", "gt", &[10.0], "and")], &input);
    assert!(got.firing);
    assert_eq!(got.matches.len(), 1);
    assert_eq!(got.matches[0].labels, labels(&[("h", "b")]));
}

#[test]
fn reducers() {
    let n = None;
    #[rustfmt::skip]
    type Case<'a> = (&'a str, &'a [Option<f64>], Option<f64>);
    let cases: &[Case] = &[
        ("avg", &[Some(1.0), n, Some(3.0), Some(f64::NAN)], Some(2.0)),
        ("sum", &[Some(1.0), n, Some(3.0)], Some(4.0)),
        ("min", &[Some(4.0), n, Some(-3.0)], Some(-3.0)),
        ("max", &[Some(4.0), n, Some(-3.0)], Some(4.0)),
        ("count", &[Some(1.0), n, n], Some(3.0)),
        ("count_non_null", &[Some(1.0), n, Some(f64::NAN)], Some(1.0)),
        ("count_non_null", &[n, n], None),
        ("last", &[Some(1.0), Some(2.0), n], Some(2.0)),
        ("median", &[Some(5.0), Some(1.0), n, Some(3.0)], Some(3.0)),
        (
            "median",
            &[Some(4.0), Some(1.0), Some(3.0), Some(2.0)],
            Some(2.5),
        ),
        ("diff", &[Some(10.0), Some(4.0), Some(7.0)], Some(-3.0)),
        ("diff_abs", &[Some(10.0), Some(4.0), Some(7.0)], Some(3.0)),
        ("percent_diff", &[Some(-10.0), Some(-5.0)], Some(50.0)),
        ("percent_diff_abs", &[Some(10.0), Some(5.0)], Some(50.0)),
        ("diff", &[Some(10.0), n], Some(0.0)),
        ("diff", &[n, Some(3.0), Some(5.0)], Some(2.0)),
        ("avg", &[n, n], None),
        ("max", &[], None),
        ("count", &[], None),
    ];
    for (name, values, want) in cases {
        let r = ClassicReducer::from_name(name).expect("known reducer");
        assert_f(r.reduce(values), *want, &format!("{name} of {values:?}"));
    }
}

#[test]
fn range_evaluators_accept_bounds_in_either_order() {
    let input = results(vec![("A", Value::Numbers(vec![num(&[], Some(5.0))]))]);
    let cases: &[(&str, [f64; 2], bool)] = &[
        ("within_range", [10.0, 0.0], true),
        ("within_range", [0.0, 10.0], true),
        ("outside_range", [10.0, 0.0], false),
        ("outside_range", [6.0, 10.0], true),
        ("within_range_included", [5.0, 1.0], true),
        ("outside_range_included", [5.0, 10.0], true),
    ];
    for (kind, params, want) in cases {
        let got = outcome(vec![condition("A", "last", kind, params, "and")], &input);
        assert_eq!(got.firing, *want, "{kind} {params:?}");
    }
}

#[test]
fn refs_and_parse_errors() {
    let e = super::parse(
        "C",
        model(vec![
            condition("B", "avg", "gt", &[1.0], ""),
            condition("A", "avg", "gt", &[1.0], "or"),
            condition("B", "max", "gt", &[1.0], "and"),
        ]),
    );
    assert_eq!(e.refs(), ["B", "A"]);

    let mut bad_query = condition("A", "avg", "gt", &[1.0], "and");
    bad_query["query"] = json!({"params": []});
    let cases: Vec<(Vec<Json>, ExprError)> = vec![
        (
            vec![condition("A", "mean", "gt", &[1.0], "and")],
            ExprError::UnknownReducer {
                ref_id: "C".into(),
                field: "conditions[0].reducer.type".into(),
                reducer: "mean".into(),
                expected: ClassicReducer::NAMES.join(", "),
            },
        ),
        (
            vec![
                condition("A", "avg", "gt", &[1.0], "and"),
                condition("A", "avg", "gt", &[1.0], "xor"),
            ],
            ExprError::InvalidField {
                ref_id: "C".into(),
                field: "conditions[1].operator.type".into(),
                reason: "expected \"and\" or \"or\", got \"xor\"".into(),
            },
        ),
        (
            vec![bad_query],
            ExprError::InvalidField {
                ref_id: "C".into(),
                field: "conditions[0].query.params".into(),
                reason: "expected the query's refId as the first parameter".into(),
            },
        ),
        (
            vec![condition(
                "A",
                "avg",
                "within_range",
                &[1.0, 2.0, 3.0],
                "and",
            )],
            ExprError::InvalidField {
                ref_id: "C".into(),
                field: "conditions[0].evaluator.params".into(),
                reason: "evaluator \"within_range\" needs 2 parameters, got 3".into(),
            },
        ),
        (
            vec![condition("A", "avg", "gt", &[], "and")],
            ExprError::InvalidField {
                ref_id: "C".into(),
                field: "conditions[0].evaluator.params".into(),
                reason: "evaluator \"gt\" is missing its threshold parameter".into(),
            },
        ),
        (
            vec![],
            ExprError::InvalidField {
                ref_id: "C".into(),
                field: "conditions".into(),
                reason: "at least one condition is needed".into(),
            },
        ),
    ];
    for (conditions, want) in cases {
        assert_eq!(Expression::parse("C", &model(conditions)), Err(want));
    }
}

#[test]
fn missing_input_at_evaluation() {
    let e = super::parse("C", model(vec![condition("Q", "avg", "gt", &[1.0], "and")]));
    assert_eq!(
        crate::expr::evaluate(&e, &sample(), range(0, 1)),
        Err(ExprError::MissingRef {
            ref_id: "C".into(),
            missing: "Q".into()
        })
    );
}
