//! The reduce expression: turns each time series into one number with the series' labels,
//! with Grafana's reducers (`last`, `mean`, `min`, `max`, `sum`, `count`, `median`) and modes
//! (strict, `dropNN`, `replaceNN`).

use crate::data::{Number, Results, Value};

use super::ExprError;
use super::model::{Obj, input_ref};

/// A reduction function over a series' values (Grafana's `ReducerID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    /// The last value (null stays null); NaN for an empty series.
    Last,
    /// The mean; NaN if any value is null or NaN, or the series is empty.
    Mean,
    /// The smallest value; NaN if any value is null or NaN, or the series is empty.
    Min,
    /// The largest value; NaN if any value is null or NaN, or the series is empty.
    Max,
    /// The total; 0 for an empty series, NaN if any value is null or NaN.
    Sum,
    /// The number of points (nulls included).
    Count,
    /// The median; NaN if any value is null or NaN, or the series is empty.
    Median,
}

impl Reducer {
    /// The names `reducer` accepts, as Grafana spells them.
    pub const NAMES: &'static [&'static str] =
        &["last", "mean", "min", "max", "sum", "count", "median"];

    /// The reducer named `name` (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "last" => Self::Last,
            "mean" => Self::Mean,
            "min" => Self::Min,
            "max" => Self::Max,
            "sum" => Self::Sum,
            "count" => Self::Count,
            "median" => Self::Median,
            _ => return None,
        })
    }

    /// Grafana's name of this reducer.
    pub fn name(self) -> &'static str {
        match self {
            Self::Last => "last",
            Self::Mean => "mean",
            Self::Min => "min",
            Self::Max => "max",
            Self::Sum => "sum",
            Self::Count => "count",
            Self::Median => "median",
        }
    }

    /// Applies the reducer in strict mode: values as they are (`None` is null).
    pub fn apply(self, values: &[Option<f64>]) -> Option<f64> {
        let nan_or_null = |v: &Option<f64>| v.is_none_or(f64::is_nan);
        match self {
            Self::Count => Some(values.len() as f64),
            Self::Last => match values.last() {
                None => Some(f64::NAN),
                Some(v) => *v,
            },
            Self::Sum => Some(strict_sum(values)),
            Self::Mean => Some(strict_sum(values) / values.len() as f64),
            Self::Min | Self::Max | Self::Median => {
                if values.is_empty() || values.iter().any(nan_or_null) {
                    return Some(f64::NAN);
                }
                let mut xs: Vec<f64> = values.iter().flatten().copied().collect();
                match self {
                    Self::Min => xs.iter().copied().reduce(f64::min),
                    Self::Max => xs.iter().copied().reduce(f64::max),
                    _ => {
                        xs.sort_by(f64::total_cmp);
                        let mid = xs.len() / 2;
                        if xs.len().is_multiple_of(2) {
                            match (xs.get(mid.wrapping_sub(1)), xs.get(mid)) {
                                (Some(a), Some(b)) => Some((a + b) / 2.0),
                                _ => Some(f64::NAN),
                            }
                        } else {
                            xs.get(mid).copied()
                        }
                    }
                }
            }
        }
    }
}

/// Sum of the values; NaN if any is null or NaN.
fn strict_sum(values: &[Option<f64>]) -> f64 {
    let mut sum = 0.0;
    for v in values {
        match v {
            Some(f) if !f.is_nan() => sum += f,
            _ => return f64::NAN,
        }
    }
    sum
}

/// Whether a value is a real number (not null, NaN or ±Inf).
pub(crate) fn is_number(v: Option<f64>) -> bool {
    v.is_some_and(f64::is_finite)
}

/// How reduce treats non-numeric values (null, NaN, ±Inf).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReduceMode {
    /// Values as they are: a null or NaN usually makes the result NaN.
    Strict,
    /// `dropNN`: drop non-numeric values first; a NaN result becomes null.
    DropNonNumbers,
    /// `replaceNN`: replace non-numeric values with this value; a NaN result becomes it too.
    ReplaceNonNumbers(f64),
}

impl ReduceMode {
    /// Reduces `values` with `reducer` in this mode.
    pub fn reduce(self, reducer: Reducer, values: &[Option<f64>]) -> Option<f64> {
        match self {
            Self::Strict => reducer.apply(values),
            Self::DropNonNumbers => {
                let kept: Vec<Option<f64>> =
                    values.iter().copied().filter(|v| is_number(*v)).collect();
                reducer.apply(&kept).filter(|f| !f.is_nan())
            }
            Self::ReplaceNonNumbers(with) => {
                let mapped: Vec<Option<f64>> = values
                    .iter()
                    .map(|v| if is_number(*v) { *v } else { Some(with) })
                    .collect();
                reducer
                    .apply(&mapped)
                    .map(|f| if f.is_nan() { with } else { f })
            }
        }
    }

    /// Maps one already-reduced value: `None` drops it (dropNN on a non-number).
    fn map_number(self, v: Option<f64>) -> Option<Option<f64>> {
        match self {
            Self::Strict => Some(v),
            Self::DropNonNumbers => is_number(v).then_some(v),
            Self::ReplaceNonNumbers(with) => Some(if is_number(v) { v } else { Some(with) }),
        }
    }
}

/// A parsed reduce expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduce {
    /// This expression's refId.
    pub ref_id: String,
    /// The refId it reduces.
    pub input: String,
    /// The reduction function.
    pub reducer: Reducer,
    /// The non-numeric value handling.
    pub mode: ReduceMode,
}

impl Reduce {
    /// Reads a reduce model (`expression`, `reducer`, optional `settings`).
    pub(crate) fn parse(obj: &Obj<'_>) -> Result<Self, ExprError> {
        let input = input_ref(obj, "expression")?;
        let name = obj.req_str("reducer")?;
        let reducer = Reducer::from_name(name).ok_or_else(|| ExprError::UnknownReducer {
            ref_id: obj.ref_id.to_string(),
            field: "reducer".into(),
            reducer: name.to_string(),
            expected: Reducer::NAMES.join(", "),
        })?;
        let mode = match obj.opt_obj("settings", "settings")? {
            None => ReduceMode::Strict,
            Some(settings) => match settings.opt_str("mode")? {
                None | Some("strict") => ReduceMode::Strict,
                Some("dropNN") => ReduceMode::DropNonNumbers,
                Some("replaceNN") => {
                    let v = settings.req("replaceWithValue")?;
                    let f = v.as_f64().ok_or_else(|| {
                        settings.invalid(
                            "replaceWithValue",
                            format!("expected a number, got {}", super::model::json_type(v)),
                        )
                    })?;
                    ReduceMode::ReplaceNonNumbers(f)
                }
                Some(other) => {
                    return Err(settings.invalid(
                        "mode",
                        format!("unknown mode {other:?} (expected one of: dropNN, replaceNN)"),
                    ));
                }
            },
        };
        Ok(Self {
            ref_id: obj.ref_id.to_string(),
            input,
            reducer,
            mode,
        })
    }

    /// Reduces the input: series become numbers, numbers pass through (mapped by the mode),
    /// a scalar becomes one unlabelled number, no data stays no data.
    pub fn evaluate(&self, results: &Results) -> Result<Value, ExprError> {
        let input = results
            .get(&self.input)
            .ok_or_else(|| ExprError::MissingRef {
                ref_id: self.ref_id.clone(),
                missing: self.input.clone(),
            })?;
        Ok(match input {
            Value::NoData => Value::NoData,
            Value::Series(series) => Value::Numbers(
                series
                    .iter()
                    .map(|s| {
                        let values: Vec<Option<f64>> = s.points.iter().map(|p| p.1).collect();
                        Number {
                            labels: s.labels.clone(),
                            value: self.mode.reduce(self.reducer, &values),
                        }
                    })
                    .collect(),
            ),
            Value::Numbers(numbers) => Value::Numbers(
                numbers
                    .iter()
                    .filter_map(|n| {
                        self.mode.map_number(n.value).map(|value| Number {
                            labels: n.labels.clone(),
                            value,
                        })
                    })
                    .collect(),
            ),
            Value::Scalar(v) => Value::Numbers(
                self.mode
                    .map_number(*v)
                    .map(|value| Number {
                        labels: Default::default(),
                        value,
                    })
                    .into_iter()
                    .collect(),
            ),
        })
    }
}
