//! Classic conditions: Grafana's legacy dashboard-alert semantics. Each condition reduces each
//! series of its query (numbers are used as they are), tests every reduced value with its
//! evaluator and is true when any value meets it; conditions combine left to right with their
//! `and`/`or` operator, without precedence. The result is a single number without labels:
//! 1 (firing), 0, or null when there is no data. The values that met a condition are kept as
//! matches ([`ClassicConditions::evaluate_detailed`]).

use crate::data::{Labels, Number, Results, Value};

use super::ExprError;
use super::model::{Obj, json_type};
use super::threshold::ThresholdKind;

/// A classic reducer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassicReducer {
    /// `avg`: mean of the non-null values.
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `sum`
    Sum,
    /// `count`: number of points, nulls included.
    Count,
    /// `last`: last non-null value.
    Last,
    /// `median`
    Median,
    /// `diff`: newest minus oldest non-null value.
    Diff,
    /// `diff_abs`: |newest − oldest|.
    DiffAbs,
    /// `percent_diff`: (newest − oldest) / |oldest| × 100.
    PercentDiff,
    /// `percent_diff_abs`: |(newest − oldest) / oldest × 100|.
    PercentDiffAbs,
    /// `count_non_null`: number of non-null points.
    CountNonNull,
}

impl ClassicReducer {
    /// The names `reducer.type` accepts.
    pub const NAMES: &'static [&'static str] = &[
        "avg",
        "min",
        "max",
        "sum",
        "count",
        "last",
        "median",
        "diff",
        "diff_abs",
        "percent_diff",
        "percent_diff_abs",
        "count_non_null",
    ];

    /// The reducer named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "avg" => Self::Avg,
            "min" => Self::Min,
            "max" => Self::Max,
            "sum" => Self::Sum,
            "count" => Self::Count,
            "last" => Self::Last,
            "median" => Self::Median,
            "diff" => Self::Diff,
            "diff_abs" => Self::DiffAbs,
            "percent_diff" => Self::PercentDiff,
            "percent_diff_abs" => Self::PercentDiffAbs,
            "count_non_null" => Self::CountNonNull,
            _ => return None,
        })
    }

    /// Reduces a series' values; null and NaN points are skipped; null when nothing is left
    /// (an empty series is always null).
    pub fn reduce(self, values: &[Option<f64>]) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        let valid: Vec<f64> = values
            .iter()
            .filter_map(|v| v.filter(|f| !f.is_nan()))
            .collect();
        if self == Self::Count {
            return Some(values.len() as f64);
        }
        if self == Self::CountNonNull {
            return (!valid.is_empty()).then_some(valid.len() as f64);
        }
        let (first, last) = (valid.first().copied()?, valid.last().copied()?);
        Some(match self {
            Self::Avg => valid.iter().sum::<f64>() / valid.len() as f64,
            Self::Sum => valid.iter().sum(),
            Self::Min => valid.iter().copied().fold(f64::INFINITY, f64::min),
            Self::Max => valid.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Self::Last => last,
            Self::Median => {
                let mut xs = valid.clone();
                xs.sort_by(f64::total_cmp);
                let mid = xs.len() / 2;
                if xs.len() % 2 == 1 {
                    xs.get(mid).copied()?
                } else {
                    (xs.get(mid.checked_sub(1)?).copied()? + xs.get(mid).copied()?) / 2.0
                }
            }
            // Grafana needs the newest valid point not to be the very first point.
            Self::Diff | Self::DiffAbs | Self::PercentDiff | Self::PercentDiffAbs => {
                let newest_index = values.iter().rposition(|v| v.is_some_and(|f| !f.is_nan()));
                if newest_index.unwrap_or(0) < 1 {
                    0.0
                } else {
                    let (newest, oldest) = (last, first);
                    match self {
                        Self::Diff => newest - oldest,
                        Self::DiffAbs => (newest - oldest).abs(),
                        Self::PercentDiff => (newest - oldest) / oldest.abs() * 100.0,
                        _ => ((newest - oldest) / oldest * 100.0).abs(),
                    }
                }
            }
            Self::Count | Self::CountNonNull => valid.len() as f64,
        })
    }
}

/// A classic condition's evaluator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClassicEvaluator {
    /// `no_value`: met by null (no data).
    NoValue,
    /// `gt`, `lt`, `eq`, `ne`, `gte`, `lte` against one value.
    Threshold {
        /// The comparison.
        kind: ThresholdKind,
        /// The value compared with.
        value: f64,
    },
    /// A range; the bounds may be given in either order.
    Range {
        /// `within_range`, `outside_range` or their `_included` forms.
        kind: ThresholdKind,
        /// The first parameter.
        lower: f64,
        /// The second parameter.
        upper: f64,
    },
}

impl ClassicEvaluator {
    /// Whether `value` meets the evaluator (null only meets `no_value`).
    pub fn is_met(&self, value: Option<f64>) -> bool {
        match (self, value) {
            (Self::NoValue, v) => v.is_none(),
            (_, None) => false,
            (Self::Threshold { kind, value: a }, Some(x)) => match kind {
                ThresholdKind::Gt => x > *a,
                ThresholdKind::Lt => x < *a,
                ThresholdKind::Eq => x == *a,
                ThresholdKind::Ne => x != *a,
                ThresholdKind::Gte => x >= *a,
                ThresholdKind::Lte => x <= *a,
                _ => false,
            },
            (Self::Range { kind, lower, upper }, Some(x)) => {
                let (l, u) = (*lower, *upper);
                match kind {
                    ThresholdKind::WithinRange => (l < x && u > x) || (u < x && l > x),
                    ThresholdKind::OutsideRange => (u < x && l < x) || (u > x && l > x),
                    ThresholdKind::WithinRangeIncluded => (l <= x && u >= x) || (u <= x && l >= x),
                    ThresholdKind::OutsideRangeIncluded => (u <= x && l <= x) || (u >= x && l >= x),
                    _ => false,
                }
            }
        }
    }

    fn parse(obj: &Obj<'_>) -> Result<Self, ExprError> {
        let name = obj.req_str("type")?;
        if name == "no_value" {
            return Ok(Self::NoValue);
        }
        let kind = ThresholdKind::from_name(name).ok_or_else(|| {
            obj.invalid(
                "type",
                format!(
                    "unknown evaluator type {name:?} (expected one of: {}, no_value)",
                    ThresholdKind::NAMES.join(", ")
                ),
            )
        })?;
        let params = obj.req_f64s("params")?;
        if kind.params() == 2 {
            let [lower, upper] = params.as_slice() else {
                return Err(obj.invalid(
                    "params",
                    format!(
                        "evaluator {name:?} needs 2 parameters, got {}",
                        params.len()
                    ),
                ));
            };
            Ok(Self::Range {
                kind,
                lower: *lower,
                upper: *upper,
            })
        } else {
            let value = params.first().copied().ok_or_else(|| {
                obj.invalid(
                    "params",
                    format!("evaluator {name:?} is missing its threshold parameter"),
                )
            })?;
            Ok(Self::Threshold { kind, value })
        }
    }
}

/// How a condition combines with the outcome of the conditions before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalOperator {
    /// `and`
    And,
    /// `or`
    Or,
}

/// One classic condition: `reducer(query) evaluator`, joined to the previous ones by `operator`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicCondition {
    /// The refId of the query it reads.
    pub input: String,
    /// The reducer applied to each series.
    pub reducer: ClassicReducer,
    /// The test applied to each reduced value.
    pub evaluator: ClassicEvaluator,
    /// How it combines with the previous conditions (ignored on the first).
    pub operator: LogicalOperator,
}

/// A value that met a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalMatch {
    /// The refId of the condition's query.
    pub input: String,
    /// The labels of the series or number.
    pub labels: Labels,
    /// The reduced value (null for a `no_value` match).
    pub value: Option<f64>,
}

/// The detailed outcome of classic conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicOutcome {
    /// Whether the conditions fire.
    pub firing: bool,
    /// Whether the outcome is "no data" (takes precedence over firing).
    pub no_data: bool,
    /// The values that met a condition, condition by condition.
    pub matches: Vec<EvalMatch>,
}

impl ClassicOutcome {
    /// The outcome as Grafana's single number: null for no data, else 1 or 0.
    pub fn value(&self) -> Option<f64> {
        if self.no_data {
            None
        } else if self.firing {
            Some(1.0)
        } else {
            Some(0.0)
        }
    }
}

/// A parsed classic conditions expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicConditions {
    /// This expression's refId.
    pub ref_id: String,
    /// The conditions, in order.
    pub conditions: Vec<ClassicCondition>,
}

impl ClassicConditions {
    /// Reads a classic conditions model (`conditions`).
    pub(crate) fn parse(obj: &Obj<'_>) -> Result<Self, ExprError> {
        let raw = obj.req_array("conditions")?;
        if raw.is_empty() {
            return Err(obj.invalid("conditions", "at least one condition is needed"));
        }
        let mut conditions = Vec::with_capacity(raw.len());
        for (i, c) in raw.iter().enumerate() {
            let path = format!("conditions[{i}]");
            let map = c.as_object().ok_or_else(|| {
                obj.invalid(&path, format!("expected an object, got {}", json_type(c)))
            })?;
            let cond = Obj {
                ref_id: obj.ref_id,
                path: &path,
                map,
            };
            let operator_path = format!("{path}.operator");
            let operator = match cond.opt_obj("operator", &operator_path)? {
                Some(op) => op.opt_str("type")?,
                None => None,
            };
            let operator = match operator {
                Some("and") => LogicalOperator::And,
                Some("or") => LogicalOperator::Or,
                _ if i == 0 => LogicalOperator::And,
                Some(other) => {
                    return Err(cond.invalid(
                        "operator.type",
                        format!("expected \"and\" or \"or\", got {other:?}"),
                    ));
                }
                None => return Err(cond.missing("operator.type")),
            };
            let query_path = format!("{path}.query");
            let query = cond.req_obj("query", &query_path)?;
            let params = query.req_array("params")?;
            let input = params
                .first()
                .and_then(|p| p.as_str())
                .map(|s| s.trim().trim_start_matches('$'))
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    query.invalid(
                        "params",
                        "expected the query's refId as the first parameter",
                    )
                })?;
            let reducer_path = format!("{path}.reducer");
            let reducer_obj = cond.req_obj("reducer", &reducer_path)?;
            let reducer_name = reducer_obj.req_str("type")?;
            let reducer = ClassicReducer::from_name(reducer_name).ok_or_else(|| {
                ExprError::UnknownReducer {
                    ref_id: obj.ref_id.to_string(),
                    field: format!("{reducer_path}.type"),
                    reducer: reducer_name.to_string(),
                    expected: ClassicReducer::NAMES.join(", "),
                }
            })?;
            let evaluator_path = format!("{path}.evaluator");
            let evaluator = ClassicEvaluator::parse(&cond.req_obj("evaluator", &evaluator_path)?)?;
            conditions.push(ClassicCondition {
                input: input.to_string(),
                reducer,
                evaluator,
                operator,
            });
        }
        Ok(Self {
            ref_id: obj.ref_id.to_string(),
            conditions,
        })
    }

    /// The refIds the conditions read, first appearance first, without repeats.
    pub fn refs(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.conditions {
            if !out.contains(&c.input) {
                out.push(c.input.clone());
            }
        }
        out
    }

    /// Evaluates the conditions, keeping the matches.
    pub fn evaluate_detailed(&self, results: &Results) -> Result<ClassicOutcome, ExprError> {
        let mut firing = false;
        let mut no_data = false;
        let mut matches = Vec::new();
        for (i, cond) in self.conditions.iter().enumerate() {
            let input = results
                .get(&cond.input)
                .ok_or_else(|| ExprError::MissingRef {
                    ref_id: self.ref_id.clone(),
                    missing: cond.input.clone(),
                })?;
            let (cond_firing, cond_no_data) = self.evaluate_condition(cond, input, &mut matches);
            if i == 0 {
                firing = cond_firing;
                no_data = cond_no_data;
            } else {
                match cond.operator {
                    LogicalOperator::And => {
                        firing = firing && cond_firing;
                        no_data = no_data && cond_no_data;
                    }
                    LogicalOperator::Or => {
                        firing = firing || cond_firing;
                        no_data = no_data || cond_no_data;
                    }
                }
            }
        }
        Ok(ClassicOutcome {
            firing,
            no_data,
            matches,
        })
    }

    /// Evaluates the conditions into one number without labels: 1, 0, or null for no data.
    pub fn evaluate(&self, results: &Results) -> Result<Value, ExprError> {
        let outcome = self.evaluate_detailed(results)?;
        Ok(Value::Numbers(vec![Number {
            labels: Labels::new(),
            value: outcome.value(),
        }]))
    }

    /// Returns (firing, no data) for one condition and appends its matches.
    fn evaluate_condition(
        &self,
        cond: &ClassicCondition,
        input: &Value,
        matches: &mut Vec<EvalMatch>,
    ) -> (bool, bool) {
        let reduced: Vec<(Labels, Option<f64>)> = match input {
            Value::NoData => vec![(Labels::new(), None)],
            Value::Scalar(v) => vec![(Labels::new(), *v)],
            Value::Numbers(ns) => ns.iter().map(|n| (n.labels.clone(), n.value)).collect(),
            Value::Series(ss) => ss
                .iter()
                .map(|s| {
                    let values: Vec<Option<f64>> = s.points.iter().map(|p| p.1).collect();
                    (s.labels.clone(), cond.reducer.reduce(&values))
                })
                .collect(),
        };
        if reduced.is_empty() && cond.evaluator == ClassicEvaluator::NoValue {
            matches.push(EvalMatch {
                input: cond.input.clone(),
                labels: Labels::new(),
                value: None,
            });
            return (true, false);
        }
        let mut firing = false;
        let mut no_data_count = 0;
        for (labels, value) in &reduced {
            if cond.evaluator.is_met(*value) {
                firing = true;
                matches.push(EvalMatch {
                    input: cond.input.clone(),
                    labels: labels.clone(),
                    value: *value,
                });
            } else if value.is_none() {
                no_data_count += 1;
            }
        }
        (firing, no_data_count == reduced.len())
    }
}
