//! Parsing whole query models as Grafana stores them in a rule's `data[].model`, and the
//! errors common to every expression type.

use serde_json::json;

use crate::expr::{
    ExprError, Expression, LogicalOperator, ReduceMode, Reducer, ThresholdKind, Upsampler,
    is_expression_datasource,
};

#[test]
fn grafana_models_parse() {
    let datasource = json!({"type": "__expr__", "uid": "__expr__"});
    let models = vec![
        (
            "B",
            json!({"refId": "B", "datasource": datasource, "type": "reduce", "expression": "A",
                   "reducer": "last", "settings": {"mode": "dropNN"},
                   "hide": false, "intervalMs": 1000, "maxDataPoints": 43200}),
            "reduce",
            vec!["A"],
        ),
        (
            "C",
            json!({"refId": "C", "datasource": datasource, "type": "math",
                   "expression": "$B > 5 && ${A} < 100"}),
            "math",
            vec!["B", "A"],
        ),
        (
            "D",
            json!({"refId": "D", "datasource": datasource, "type": "resample", "expression": "A",
                   "window": "10s", "downsampler": "mean", "upsampler": "fillna"}),
            "resample",
            vec!["A"],
        ),
        (
            "E",
            json!({"refId": "E", "datasource": datasource, "type": "threshold", "expression": "B",
                   "conditions": [{"evaluator": {"type": "gt", "params": [0]},
                                   "unloadEvaluator": {"type": "lt", "params": [-1]}}]}),
            "threshold",
            vec!["B"],
        ),
        (
            "F",
            json!({"refId": "F", "datasource": datasource, "type": "classic_conditions",
                   "conditions": [{
                       "evaluator": {"params": [3], "type": "gt"},
                       "operator": {"type": "and"},
                       "query": {"params": ["A"]},
                       "reducer": {"params": [], "type": "avg"},
                       "type": "query"}]}),
            "classic_conditions",
            vec!["A"],
        ),
    ];
    for (ref_id, model, kind, refs) in models {
        let e = Expression::parse(ref_id, &model).unwrap_or_else(|e| panic!("{ref_id}: {e}"));
        assert_eq!(e.ref_id(), ref_id);
        assert_eq!(e.kind(), kind);
        assert_eq!(e.refs(), refs, "{ref_id}");
        match &e {
            Expression::Reduce(r) => {
                assert_eq!(
                    (r.reducer, r.mode),
                    (Reducer::Last, ReduceMode::DropNonNumbers)
                );
            }
            Expression::Resample(r) => {
                assert_eq!(
                    (r.window, r.downsampler, r.upsampler),
                    (10_000, Reducer::Mean, Upsampler::FillNa)
                );
            }
            Expression::Threshold(t) => {
                assert_eq!(t.evaluator.kind, ThresholdKind::Gt);
                assert_eq!(
                    t.unload_evaluator.map(|u| (u.kind, u.a)),
                    Some((ThresholdKind::Lt, -1.0))
                );
            }
            Expression::ClassicConditions(c) => {
                assert_eq!(c.conditions.len(), 1);
                assert_eq!(c.conditions[0].operator, LogicalOperator::And);
            }
            Expression::Math(m) => assert_eq!(m.expression, "$B > 5 && ${A} < 100"),
        }
    }
}

#[test]
fn common_model_errors() {
    let cases = vec![
        (json!("math"), ExprError::NotAnObject { ref_id: "X".into() }),
        (
            json!({"expression": "$A"}),
            ExprError::MissingField {
                ref_id: "X".into(),
                field: "type".into(),
            },
        ),
        (
            json!({"type": "sql", "expression": "SELECT 1"}),
            ExprError::UnknownType {
                ref_id: "X".into(),
                kind: "sql".into(),
            },
        ),
        (
            json!({"type": 3}),
            ExprError::InvalidField {
                ref_id: "X".into(),
                field: "type".into(),
                reason: "expected a string, got a number".into(),
            },
        ),
        (
            json!({"type": "math"}),
            ExprError::MissingField {
                ref_id: "X".into(),
                field: "expression".into(),
            },
        ),
        (
            json!({"type": "math", "expression": null}),
            ExprError::MissingField {
                ref_id: "X".into(),
                field: "expression".into(),
            },
        ),
        (
            json!({"type": "reduce", "expression": "$", "reducer": "last"}),
            ExprError::InvalidField {
                ref_id: "X".into(),
                field: "expression".into(),
                reason: "expected the refId of a query or expression, got an empty string".into(),
            },
        ),
        (
            json!({"type": "reduce", "expression": "A", "reducer": "last", "settings": "dropNN"}),
            ExprError::InvalidField {
                ref_id: "X".into(),
                field: "settings".into(),
                reason: "expected an object, got a string".into(),
            },
        ),
    ];
    for (model, want) in cases {
        assert_eq!(Expression::parse("X", &model), Err(want), "{model}");
    }
    let text = Expression::parse("X", &json!({"type": "sql"}))
        .expect_err("unknown type")
        .to_string();
    assert!(
        text.contains("expression X") && text.contains("\"sql\""),
        "{text}"
    );
}

#[test]
fn input_refs_accept_dollar_and_braces() {
    for input in ["A", "$A", "${A}", " A "] {
        let e = Expression::parse(
            "B",
            &json!({"type": "reduce", "expression": input, "reducer": "sum"}),
        )
        .unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(e.refs(), ["A"], "{input:?}");
    }
}

#[test]
fn expression_datasource_uids() {
    assert!(is_expression_datasource("__expr__"));
    assert!(is_expression_datasource("-100"));
    assert!(!is_expression_datasource("prometheus"));
    assert!(!is_expression_datasource(""));
}
