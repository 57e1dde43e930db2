//! Unit tests of the expressions engine, by expression type, plus shared helpers.

mod classic;
mod graph;
mod math;
mod parse;
mod reduce;
mod resample;
mod threshold;

use serde_json::Value as Json;

use crate::data::{Labels, Millis, Number, Results, Series, TimeRange, Value};
use crate::expr::{Expression, evaluate};

/// Labels from pairs.
pub(super) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A labelled number.
pub(super) fn num(pairs: &[(&str, &str)], value: Option<f64>) -> Number {
    Number {
        labels: labels(pairs),
        value,
    }
}

/// A labelled series.
pub(super) fn series(pairs: &[(&str, &str)], points: &[(Millis, Option<f64>)]) -> Series {
    Series {
        labels: labels(pairs),
        points: points.to_vec(),
    }
}

/// Results from `(refId, value)` pairs.
pub(super) fn results(entries: Vec<(&str, Value)>) -> Results {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// A time range.
pub(super) fn range(from: Millis, to: Millis) -> TimeRange {
    TimeRange { from, to }
}

/// Parses an expression model, failing the test on error.
pub(super) fn parse(ref_id: &str, model: Json) -> Expression {
    match Expression::parse(ref_id, &model) {
        Ok(e) => e,
        Err(e) => panic!("model for {ref_id} should parse: {e}"),
    }
}

/// Parses and evaluates an expression model, failing the test on error.
pub(super) fn run(model: Json, input: &Results, tr: TimeRange) -> Value {
    let e = parse("X", model);
    match evaluate(&e, input, tr) {
        Ok(v) => v,
        Err(e) => panic!("evaluation should succeed: {e}"),
    }
}

/// Asserts two values are equal, treating NaN as equal to NaN (compares `Debug` renderings).
#[track_caller]
pub(super) fn assert_same(actual: &Value, expected: &Value) {
    assert_eq!(format!("{actual:?}"), format!("{expected:?}"));
}

/// Compares two nullable floats, NaN equal to NaN.
#[track_caller]
pub(super) fn assert_f(actual: Option<f64>, expected: Option<f64>, what: &str) {
    assert_eq!(
        format!("{actual:?}"),
        format!("{expected:?}"),
        "{what}: got {actual:?}, want {expected:?}"
    );
}
