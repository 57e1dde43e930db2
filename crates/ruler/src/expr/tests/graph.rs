//! Ordering and pipelines: topological order, unknown references, duplicates, cycles, and a
//! whole rule evaluated end to end.

use std::collections::BTreeSet;

use serde_json::json;

use super::{assert_same, labels, num, parse, range, results, series};
use crate::data::{Labels, Value};
use crate::expr::{ExprError, Expression, Pipeline, evaluate_all, order, order_nodes};

fn math(ref_id: &str, text: &str) -> Expression {
    parse(ref_id, json!({"type": "math", "expression": text}))
}

fn reduce(ref_id: &str, input: &str) -> Expression {
    parse(
        ref_id,
        json!({"type": "reduce", "expression": input, "reducer": "last"}),
    )
}

fn threshold(ref_id: &str, input: &str) -> Expression {
    parse(
        ref_id,
        json!({"type": "threshold", "expression": input, "conditions": [{
            "evaluator": {"type": "gt", "params": [10]},
            "unloadEvaluator": {"type": "lt", "params": [5]}
        }]}),
    )
}

#[test]
fn orders_dependencies_first() {
    let exprs = vec![
        threshold("E", "D"),
        reduce("D", "C"),
        math("C", "$A + $B"),
        math("F", "$A * 2"),
    ];
    let got = order(&["A", "B"], &exprs).expect("orders");
    assert_eq!(got, ["A", "B", "C", "D", "E", "F"]);
    let pos = |r: &str| got.iter().position(|g| g == r).unwrap_or(usize::MAX);
    for e in &exprs {
        for dep in e.refs() {
            assert!(pos(&dep) < pos(e.ref_id()), "{dep} before {}", e.ref_id());
        }
    }
}

#[test]
fn unknown_and_duplicate_refs() {
    assert_eq!(
        order(&["A"], &[math("C", "$A + $Z")]),
        Err(ExprError::UnknownRef {
            ref_id: "C".into(),
            missing: "Z".into()
        })
    );
    assert_eq!(
        order(&["A"], &[math("A", "1")]),
        Err(ExprError::DuplicateRef { ref_id: "A".into() })
    );
    assert_eq!(
        order(&[], &[math("B", "1"), reduce("B", "B")]),
        Err(ExprError::DuplicateRef { ref_id: "B".into() })
    );
}

#[test]
fn cycles_name_their_refids() {
    let err = order(&["A"], &[math("C", "$A + $D"), reduce("D", "C")]).expect_err("cycle");
    assert_eq!(
        err,
        ExprError::Cycle {
            ref_ids: vec!["C".into(), "D".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        "dependency cycle between refIds: C -> D -> C"
    );

    // A self reference.
    assert_eq!(
        order(&[], &[math("C", "$C + 1")]),
        Err(ExprError::Cycle {
            ref_ids: vec!["C".into()]
        })
    );

    // Nodes that merely depend on a cycle are not named.
    let err = order(
        &["A"],
        &[
            math("X", "$Y"),
            math("Y", "$Z + $A"),
            math("Z", "$W"),
            math("W", "$Y"),
        ],
    )
    .expect_err("cycle");
    assert_eq!(
        err,
        ExprError::Cycle {
            ref_ids: vec!["Y".into(), "Z".into(), "W".into()]
        }
    );
}

#[test]
fn order_nodes_keeps_input_order_for_independent_nodes() {
    let nodes = vec![
        ("Q2", vec![]),
        ("E", vec!["Q1", "Q2"]),
        ("Q1", vec![]),
        ("D", vec!["Q2"]),
    ];
    assert_eq!(order_nodes(&nodes).expect("orders"), ["Q2", "Q1", "E", "D"]);
}

#[test]
fn pipeline_evaluates_a_whole_rule() {
    // A: CPU series per host; B: last value; C: B in percent; D: threshold with recovery.
    let queries = results(vec![(
        "A",
        Value::Series(vec![
            series(&[("host", "web01")], &[(0, Some(0.02)), (1000, Some(0.09))]),
            series(&[("host", "web02")], &[(0, Some(0.30)), (1000, Some(0.20))]),
            series(&[("host", "web03")], &[(0, Some(0.01)), (1000, Some(0.03))]),
        ]),
    )]);
    let exprs = vec![threshold("D", "C"), math("C", "$B * 100"), reduce("B", "A")];
    let pipeline = Pipeline::new(&["A"], exprs.clone()).expect("valid graph");
    let steps: Vec<&str> = pipeline.steps().iter().map(Expression::ref_id).collect();
    assert_eq!(steps, ["B", "C", "D"]);

    let firing: BTreeSet<Labels> = [labels(&[("host", "web01")])].into_iter().collect();
    let out = pipeline
        .evaluate_with_firing(queries.clone(), range(0, 1000), &firing)
        .expect("evaluates");
    assert_eq!(out.len(), 4);
    assert_same(
        &out["D"],
        &Value::Numbers(vec![
            // 9%: below the firing threshold, but firing and not yet below 5%.
            num(&[("host", "web01")], Some(1.0)),
            num(&[("host", "web02")], Some(1.0)),
            num(&[("host", "web03")], Some(0.0)),
        ]),
    );
    // The same through the one-call helper, with nothing firing.
    let out = evaluate_all(exprs, queries, range(0, 1000), &BTreeSet::new()).expect("evaluates");
    assert_same(
        &out["D"],
        &Value::Numbers(vec![
            num(&[("host", "web01")], Some(0.0)),
            num(&[("host", "web02")], Some(1.0)),
            num(&[("host", "web03")], Some(0.0)),
        ]),
    );
}

#[test]
fn pipeline_propagates_no_data_and_errors() {
    let exprs = vec![reduce("B", "A"), math("C", "$B > 1")];
    let pipeline = Pipeline::new(&["A"], exprs).expect("valid graph");
    let out = pipeline
        .evaluate(results(vec![("A", Value::NoData)]), range(0, 1))
        .expect("evaluates");
    assert_same(&out["C"], &Value::NoData);
    // A query result that was not fetched is reported by the expression reading it.
    assert_eq!(
        pipeline.evaluate(results(vec![]), range(0, 1)),
        Err(ExprError::MissingRef {
            ref_id: "B".into(),
            missing: "A".into()
        })
    );
    // Graph errors surface when building the pipeline.
    assert!(matches!(
        Pipeline::new(&[], vec![math("C", "$C")]),
        Err(ExprError::Cycle { .. })
    ));
}
