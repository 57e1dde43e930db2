//! Evaluation of a math syntax tree, with Grafana's semantics:
//!
//! * Binary operations join the items (numbers or series) of both operands by label set: equal
//!   labels, or one set a subset of the other (the result takes the larger set); an item or a
//!   scalar without labels joins every item; when nothing joins and each side holds exactly one
//!   item, the two join anyway and the result has no labels. Items that find no partner are
//!   dropped. Number op number gives a number, anything with a series gives a series, and
//!   series op series keeps only the timestamps present in both.
//! * Null in, null out; NaN in, NaN out, except that `||` is 1 when its left side is non-zero
//!   and `&&` is 0 when its left side is 0. Comparisons and logic give 1 or 0.
//! * No data in an operand gives no data.

use std::collections::BTreeMap;

use crate::data::{Labels, Millis, Number, Results, Series, Value};

use super::lexer::BinOp;
use super::parser::{Func, Node, UnaryOp};
use crate::expr::ExprError;
use crate::expr::reduce::is_number;

/// Evaluates `node` over `results` for the expression `ref_id`.
pub(crate) fn eval(node: &Node, results: &Results, ref_id: &str) -> Result<Value, ExprError> {
    Ok(match node {
        Node::Number(f) => Value::Scalar(Some(*f)),
        Node::Var { name, .. } => {
            results
                .get(name)
                .cloned()
                .ok_or_else(|| ExprError::MissingRef {
                    ref_id: ref_id.to_string(),
                    missing: name.clone(),
                })?
        }
        Node::Unary { op, arg } => {
            let v = eval(arg, results, ref_id)?;
            let op = *op;
            map_value(&v, |x| x.map(|f| unary_op(op, f)))
        }
        Node::Binary { op, lhs, rhs } => {
            let a = eval(lhs, results, ref_id)?;
            let b = eval(rhs, results, ref_id)?;
            binary(*op, &a, &b)
        }
        Node::Call { func, args } => {
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                values.push(eval(arg, results, ref_id)?);
            }
            call(*func, values.first())
        }
    })
}

/// Applies a unary operator to one value.
fn unary_op(op: UnaryOp, a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    match op {
        UnaryOp::Neg => -a,
        UnaryOp::Not => bool_f(a == 0.0),
    }
}

/// 1 for true, 0 for false.
fn bool_f(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Applies a binary operator to two values.
pub fn binary_op(op: BinOp, a: f64, b: f64) -> f64 {
    // Short circuits come before NaN handling, as in Grafana.
    match op {
        BinOp::Or if a != 0.0 => return 1.0,
        BinOp::And if a == 0.0 => return 0.0,
        _ => {}
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Mod => a % b,
        BinOp::Pow => a.powf(b),
        BinOp::Eq => bool_f(a == b),
        BinOp::Ne => bool_f(a != b),
        BinOp::Gt => bool_f(a > b),
        BinOp::Ge => bool_f(a >= b),
        BinOp::Lt => bool_f(a < b),
        BinOp::Le => bool_f(a <= b),
        BinOp::Or => bool_f(a != 0.0 || b != 0.0),
        BinOp::And => bool_f(a != 0.0 && b != 0.0),
    }
}

/// Applies a binary operator to two nullable values: null if either is null.
fn apply(op: BinOp, a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(binary_op(op, a, b)),
        _ => None,
    }
}

/// Maps every value (scalar, number or series point) of `v` through `f`.
fn map_value(v: &Value, f: impl Fn(Option<f64>) -> Option<f64>) -> Value {
    match v {
        Value::NoData => Value::NoData,
        Value::Scalar(x) => Value::Scalar(f(*x)),
        Value::Numbers(ns) => Value::Numbers(
            ns.iter()
                .map(|n| Number {
                    labels: n.labels.clone(),
                    value: f(n.value),
                })
                .collect(),
        ),
        Value::Series(ss) => Value::Series(
            ss.iter()
                .map(|s| Series {
                    labels: s.labels.clone(),
                    points: s.points.iter().map(|(t, x)| (*t, f(*x))).collect(),
                })
                .collect(),
        ),
    }
}

/// Calls a built-in function (arity was checked by the parser).
fn call(func: Func, arg: Option<&Value>) -> Value {
    // Functions of real numbers: null gives NaN, as in Grafana.
    let per_float = |f: fn(f64) -> f64| -> Value {
        match arg {
            Some(v) => map_value(v, |x| Some(x.map_or(f64::NAN, f))),
            None => Value::Scalar(None),
        }
    };
    let per_nullable = |f: fn(Option<f64>) -> Option<f64>| -> Value {
        match arg {
            Some(v) => map_value(v, f),
            None => Value::Scalar(None),
        }
    };
    match func {
        Func::Nan => Value::Scalar(Some(f64::NAN)),
        Func::Inf => Value::Scalar(Some(f64::INFINITY)),
        Func::Infn => Value::Scalar(Some(f64::NEG_INFINITY)),
        Func::Null => Value::Scalar(None),
        Func::Abs => per_float(f64::abs),
        Func::Ceil => per_float(f64::ceil),
        Func::Floor => per_float(f64::floor),
        Func::Round => per_float(f64::round),
        Func::Log => per_float(f64::ln),
        Func::IsNan => per_float(|f| bool_f(f.is_nan())),
        Func::IsInf => per_float(|f| bool_f(f.is_infinite())),
        Func::IsNull => per_nullable(|x| Some(bool_f(x.is_none()))),
        Func::IsNumber => per_nullable(|x| Some(bool_f(is_number(x)))),
    }
}

/// One item of an operand: a number's value or a series' points.
#[derive(Clone, Copy)]
enum Item<'a> {
    Num(Option<f64>),
    Ser(&'a [(Millis, Option<f64>)]),
}

/// The items of an operand with their labels (a scalar is one item without labels).
fn items<'a>(v: &'a Value, no_labels: &'a Labels) -> Vec<(&'a Labels, Item<'a>)> {
    match v {
        Value::NoData => Vec::new(),
        Value::Scalar(x) => vec![(no_labels, Item::Num(*x))],
        Value::Numbers(ns) => ns.iter().map(|n| (&n.labels, Item::Num(n.value))).collect(),
        Value::Series(ss) => ss
            .iter()
            .map(|s| (&s.labels, Item::Ser(s.points.as_slice())))
            .collect(),
    }
}

/// Whether every label of `small` is in `big` with the same value.
fn contains(big: &Labels, small: &Labels) -> bool {
    small.iter().all(|(k, v)| big.get(k) == Some(v))
}

/// Grafana's union: which items of `a` combine with which items of `b`, and the labels of
/// each combination.
pub(crate) fn union(a: &[&Labels], b: &[&Labels]) -> Vec<(Labels, usize, usize)> {
    let mut out = Vec::new();
    if a.is_empty() || b.is_empty() {
        return out;
    }
    for (i, la) in a.iter().enumerate() {
        for (j, lb) in b.iter().enumerate() {
            let labels = if la == lb || la.is_empty() || lb.is_empty() {
                if la.is_empty() { lb } else { la }
            } else if la.len() == lb.len() {
                continue;
            } else if contains(la, lb) {
                la
            } else if contains(lb, la) {
                lb
            } else {
                continue;
            };
            out.push(((*labels).clone(), i, j));
        }
    }
    if out.is_empty() && a.len() == 1 && b.len() == 1 {
        // One item on each side joins regardless of labels; the result has none.
        out.push((Labels::new(), 0, 0));
    }
    out
}

/// The result of combining two items.
enum Combined {
    Num(Number),
    Ser(Series),
}

/// Applies a binary operator between two values with union semantics.
pub(crate) fn binary(op: BinOp, a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::NoData, _) | (_, Value::NoData) => return Value::NoData,
        (Value::Scalar(x), Value::Scalar(y)) => return Value::Scalar(apply(op, *x, *y)),
        _ => {}
    }
    let no_labels = Labels::new();
    let a_items = items(a, &no_labels);
    let b_items = items(b, &no_labels);
    let a_labels: Vec<&Labels> = a_items.iter().map(|i| i.0).collect();
    let b_labels: Vec<&Labels> = b_items.iter().map(|i| i.0).collect();
    let combined = union(&a_labels, &b_labels)
        .into_iter()
        .filter_map(|(labels, i, j)| {
            let (x, y) = (a_items.get(i)?.1, b_items.get(j)?.1);
            Some(combine(op, labels, x, y))
        });
    let series_out = matches!(a, Value::Series(_)) || matches!(b, Value::Series(_));
    if series_out {
        Value::Series(
            combined
                .filter_map(|c| match c {
                    Combined::Ser(s) => Some(s),
                    Combined::Num(_) => None,
                })
                .collect(),
        )
    } else {
        Value::Numbers(
            combined
                .filter_map(|c| match c {
                    Combined::Num(n) => Some(n),
                    Combined::Ser(_) => None,
                })
                .collect(),
        )
    }
}

/// Combines two joined items.
fn combine(op: BinOp, labels: Labels, a: Item<'_>, b: Item<'_>) -> Combined {
    match (a, b) {
        (Item::Num(x), Item::Num(y)) => Combined::Num(Number {
            labels,
            value: apply(op, x, y),
        }),
        (Item::Ser(points), Item::Num(y)) => Combined::Ser(Series {
            labels,
            points: points.iter().map(|(t, x)| (*t, apply(op, *x, y))).collect(),
        }),
        (Item::Num(x), Item::Ser(points)) => Combined::Ser(Series {
            labels,
            points: points.iter().map(|(t, y)| (*t, apply(op, x, *y))).collect(),
        }),
        (Item::Ser(a_points), Item::Ser(b_points)) => {
            let by_time: BTreeMap<Millis, Option<f64>> = b_points.iter().copied().collect();
            Combined::Ser(Series {
                labels,
                points: a_points
                    .iter()
                    .filter_map(|(t, x)| by_time.get(t).map(|y| (*t, apply(op, *x, *y))))
                    .collect(),
            })
        }
    }
}
