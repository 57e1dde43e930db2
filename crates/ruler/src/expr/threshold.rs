//! The threshold expression: compares each number (or each series point) with an evaluator
//! and gives 1 or 0 (null stays null). With a recovery threshold (`unloadEvaluator`, Grafana's
//! hysteresis), items whose label set is currently firing use it instead: they stay 1 until the
//! recovery condition holds.

use std::collections::BTreeSet;

use crate::data::{Labels, Number, Results, Series, Value};

use super::ExprError;
use super::model::{Obj, input_ref};

/// A threshold comparison type (Grafana's `ThresholdType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKind {
    /// `gt`: x > a
    Gt,
    /// `lt`: x < a
    Lt,
    /// `eq`: x == a
    Eq,
    /// `ne`: x != a
    Ne,
    /// `gte`: x >= a
    Gte,
    /// `lte`: x <= a
    Lte,
    /// `within_range`: a < x < b
    WithinRange,
    /// `outside_range`: x < a or x > b
    OutsideRange,
    /// `within_range_included`: a <= x <= b
    WithinRangeIncluded,
    /// `outside_range_included`: x <= a or x >= b
    OutsideRangeIncluded,
}

impl ThresholdKind {
    /// The names the evaluator `type` accepts.
    pub const NAMES: &'static [&'static str] = &[
        "gt",
        "lt",
        "eq",
        "ne",
        "gte",
        "lte",
        "within_range",
        "outside_range",
        "within_range_included",
        "outside_range_included",
    ];

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "gt" => Self::Gt,
            "lt" => Self::Lt,
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "gte" => Self::Gte,
            "lte" => Self::Lte,
            "within_range" => Self::WithinRange,
            "outside_range" => Self::OutsideRange,
            "within_range_included" => Self::WithinRangeIncluded,
            "outside_range_included" => Self::OutsideRangeIncluded,
            _ => return None,
        })
    }

    /// How many parameters the kind needs.
    pub fn params(self) -> usize {
        match self {
            Self::WithinRange
            | Self::OutsideRange
            | Self::WithinRangeIncluded
            | Self::OutsideRangeIncluded => 2,
            _ => 1,
        }
    }
}

/// A threshold evaluator: a kind and its one or two parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdEvaluator {
    /// The comparison.
    pub kind: ThresholdKind,
    /// The first parameter.
    pub a: f64,
    /// The second parameter (ranges only; otherwise equal to `a`).
    pub b: f64,
}

impl ThresholdEvaluator {
    /// Whether `x` meets the condition (NaN never does).
    pub fn is_met(&self, x: f64) -> bool {
        let (a, b) = (self.a, self.b);
        match self.kind {
            ThresholdKind::Gt => x > a,
            ThresholdKind::Lt => x < a,
            ThresholdKind::Eq => x == a,
            ThresholdKind::Ne => x != a,
            ThresholdKind::Gte => x >= a,
            ThresholdKind::Lte => x <= a,
            ThresholdKind::WithinRange => x > a && x < b,
            ThresholdKind::OutsideRange => x < a || x > b,
            ThresholdKind::WithinRangeIncluded => x >= a && x <= b,
            ThresholdKind::OutsideRangeIncluded => x <= a || x >= b,
        }
    }

    /// Reads an evaluator object (`type`, `params`).
    pub(crate) fn parse(obj: &Obj<'_>) -> Result<Self, ExprError> {
        let name = obj.req_str("type")?;
        let kind = ThresholdKind::from_name(name).ok_or_else(|| {
            obj.invalid(
                "type",
                format!(
                    "unknown evaluator type {name:?} (expected one of: {})",
                    ThresholdKind::NAMES.join(", ")
                ),
            )
        })?;
        let params = obj.req_f64s("params")?;
        let need = kind.params();
        if params.len() < need {
            return Err(obj.invalid(
                "params",
                format!(
                    "evaluator {name:?} needs {need} parameter(s), got {}",
                    params.len()
                ),
            ));
        }
        let a = params.first().copied().unwrap_or(f64::NAN);
        let b = if need == 2 {
            params.get(1).copied().unwrap_or(f64::NAN)
        } else {
            a
        };
        Ok(Self { kind, a, b })
    }
}

/// A parsed threshold expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// This expression's refId.
    pub ref_id: String,
    /// The refId it tests.
    pub input: String,
    /// The firing condition.
    pub evaluator: ThresholdEvaluator,
    /// The recovery condition for items currently firing, if any.
    pub unload_evaluator: Option<ThresholdEvaluator>,
}

impl Threshold {
    /// Reads a threshold model (`expression`, exactly one of `conditions`).
    pub(crate) fn parse(obj: &Obj<'_>) -> Result<Self, ExprError> {
        let input = input_ref(obj, "expression")?;
        let conditions = obj.req_array("conditions")?;
        let [condition] = conditions.as_slice() else {
            return Err(obj.invalid(
                "conditions",
                format!(
                    "a threshold needs exactly one condition, got {}",
                    conditions.len()
                ),
            ));
        };
        let map = condition.as_object().ok_or_else(|| {
            obj.invalid(
                "conditions[0]",
                format!(
                    "expected an object, got {}",
                    super::model::json_type(condition)
                ),
            )
        })?;
        let cond = Obj {
            ref_id: obj.ref_id,
            path: "conditions[0]",
            map,
        };
        let eval_obj = cond.req_obj("evaluator", "conditions[0].evaluator")?;
        let evaluator = ThresholdEvaluator::parse(&eval_obj)?;
        let unload_evaluator = cond
            .opt_obj("unloadEvaluator", "conditions[0].unloadEvaluator")?
            .map(|o| ThresholdEvaluator::parse(&o))
            .transpose()?;
        Ok(Self {
            ref_id: obj.ref_id.to_string(),
            input,
            evaluator,
            unload_evaluator,
        })
    }

    /// Evaluates one value for an item that is (`firing`) or is not currently firing.
    pub fn test(&self, value: Option<f64>, firing: bool) -> Option<f64> {
        let x = value?;
        let met = match (&self.unload_evaluator, firing) {
            // Still firing unless the recovery condition holds.
            (Some(unload), true) => !unload.is_met(x),
            _ => self.evaluator.is_met(x),
        };
        Some(if met { 1.0 } else { 0.0 })
    }

    /// Applies the threshold; `firing` holds the label sets currently firing (only used with a
    /// recovery threshold).
    pub fn evaluate(
        &self,
        results: &Results,
        firing: &BTreeSet<Labels>,
    ) -> Result<Value, ExprError> {
        let input = results
            .get(&self.input)
            .ok_or_else(|| ExprError::MissingRef {
                ref_id: self.ref_id.clone(),
                missing: self.input.clone(),
            })?;
        Ok(match input {
            Value::NoData => Value::NoData,
            Value::Scalar(v) => Value::Scalar(self.test(*v, firing.contains(&Labels::new()))),
            Value::Numbers(ns) => Value::Numbers(
                ns.iter()
                    .map(|n| Number {
                        labels: n.labels.clone(),
                        value: self.test(n.value, firing.contains(&n.labels)),
                    })
                    .collect(),
            ),
            Value::Series(ss) => Value::Series(
                ss.iter()
                    .map(|s| {
                        let is_firing = firing.contains(&s.labels);
                        Series {
                            labels: s.labels.clone(),
                            points: s
                                .points
                                .iter()
                                .map(|(t, v)| (*t, self.test(*v, is_firing)))
                                .collect(),
                        }
                    })
                    .collect(),
            ),
        })
    }
}
