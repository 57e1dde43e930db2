//! Server-side expressions (`__expr__`): Grafana's expression engine for alert rules.
//!
//! A rule's `data[]` entries whose data source is `__expr__` hold an expression model
//! ([`Expression::parse`]): math, reduce, resample, threshold or classic conditions. Each
//! reads the results of queries or other expressions by refId ([`Expression::refs`]);
//! [`order`] / [`Pipeline`] put them in dependency order, and [`evaluate`] computes one
//! expression from the results before it.

mod classic;
mod error;
mod graph;
pub mod math;
mod model;
mod reduce;
mod resample;
mod threshold;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::data::{Labels, Results, TimeRange, Value};

pub use classic::{
    ClassicCondition, ClassicConditions, ClassicEvaluator, ClassicOutcome, ClassicReducer,
    EvalMatch, LogicalOperator,
};
pub use error::ExprError;
pub use graph::{Pipeline, evaluate_all, order, order_nodes};
pub use math::{MathError, MathErrorKind, MathExpression};
pub use reduce::{Reduce, ReduceMode, Reducer};
pub use resample::{MAX_POINTS as RESAMPLE_MAX_POINTS, Resample, Upsampler, parse_duration};
pub use threshold::{Threshold, ThresholdEvaluator, ThresholdKind};

/// The data source UID of server-side expressions.
pub const DATASOURCE_UID: &str = "__expr__";

/// The legacy numeric UID Grafana also accepts for expressions.
pub const LEGACY_DATASOURCE_UID: &str = "-100";

/// Whether a rule query's data source UID denotes server-side expressions.
pub fn is_expression_datasource(uid: &str) -> bool {
    uid == DATASOURCE_UID || uid == LEGACY_DATASOURCE_UID
}

/// A parsed server-side expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    /// `type: math`
    Math(MathExpression),
    /// `type: reduce`
    Reduce(Reduce),
    /// `type: resample`
    Resample(Resample),
    /// `type: threshold`
    Threshold(Threshold),
    /// `type: classic_conditions`
    ClassicConditions(ClassicConditions),
}

impl Expression {
    /// Parses the query model of the expression `ref_id` (the `model` of a rule's `data[]`
    /// entry; fields other than the expression's own, such as `datasource`, are ignored).
    pub fn parse(ref_id: &str, model: &Json) -> Result<Self, ExprError> {
        let map = model.as_object().ok_or_else(|| ExprError::NotAnObject {
            ref_id: ref_id.to_string(),
        })?;
        let obj = model::Obj {
            ref_id,
            path: "",
            map,
        };
        let kind = obj.req_str("type")?;
        Ok(match kind {
            "math" => {
                let text = obj.req_str("expression")?;
                Self::Math(MathExpression::new(ref_id, text)?)
            }
            "reduce" => Self::Reduce(Reduce::parse(&obj)?),
            "resample" => Self::Resample(Resample::parse(&obj)?),
            "threshold" => Self::Threshold(Threshold::parse(&obj)?),
            "classic_conditions" => Self::ClassicConditions(ClassicConditions::parse(&obj)?),
            other => {
                return Err(ExprError::UnknownType {
                    ref_id: ref_id.to_string(),
                    kind: other.to_string(),
                });
            }
        })
    }

    /// This expression's refId.
    pub fn ref_id(&self) -> &str {
        match self {
            Self::Math(e) => &e.ref_id,
            Self::Reduce(e) => &e.ref_id,
            Self::Resample(e) => &e.ref_id,
            Self::Threshold(e) => &e.ref_id,
            Self::ClassicConditions(e) => &e.ref_id,
        }
    }

    /// Grafana's name of the expression type (`math`, `reduce`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Math(_) => "math",
            Self::Reduce(_) => "reduce",
            Self::Resample(_) => "resample",
            Self::Threshold(_) => "threshold",
            Self::ClassicConditions(_) => "classic_conditions",
        }
    }

    /// The refIds the expression reads, first appearance first, without repeats.
    pub fn refs(&self) -> Vec<String> {
        match self {
            Self::Math(e) => e.vars().to_vec(),
            Self::Reduce(e) => vec![e.input.clone()],
            Self::Resample(e) => vec![e.input.clone()],
            Self::Threshold(e) => vec![e.input.clone()],
            Self::ClassicConditions(e) => e.refs(),
        }
    }
}

/// Evaluates `expr` over the results of the queries and expressions before it; `range` is the
/// rule's query time range (used by resample).
pub fn evaluate(
    expr: &Expression,
    results: &Results,
    range: TimeRange,
) -> Result<Value, ExprError> {
    evaluate_with_firing(expr, results, range, &BTreeSet::new())
}

/// Like [`evaluate`], with the label sets currently firing: a threshold with a recovery
/// condition (`unloadEvaluator`) applies it to those label sets instead of its evaluator.
pub fn evaluate_with_firing(
    expr: &Expression,
    results: &Results,
    range: TimeRange,
    firing: &BTreeSet<Labels>,
) -> Result<Value, ExprError> {
    match expr {
        Expression::Math(e) => e.evaluate(results),
        Expression::Reduce(e) => e.evaluate(results),
        Expression::Resample(e) => e.evaluate(results, range),
        Expression::Threshold(e) => e.evaluate(results, firing),
        Expression::ClassicConditions(e) => e.evaluate(results),
    }
}
