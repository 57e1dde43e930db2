//! What queries and expressions yield, in Grafana's `mathexp` terms: time series, numbers
//! (one value per label set), a scalar, or no data, each set keyed by its query's `refId`.

use std::collections::BTreeMap;

/// A label set, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The time range a query covers, as absolute instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Start, inclusive.
    pub from: Millis,
    /// End, inclusive.
    pub to: Millis,
}

/// One time series: labels and points in time order; a point's value may be null.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// `(time, value)` points, oldest first.
    pub points: Vec<(Millis, Option<f64>)>,
}

/// One value with labels (what reduce, SQL and instant queries give).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Number {
    /// The number's labels.
    pub labels: Labels,
    /// The value; `None` is null.
    pub value: Option<f64>,
}

/// The result of one query or expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Time series (possibly none).
    Series(Vec<Series>),
    /// Numbers (possibly none).
    Numbers(Vec<Number>),
    /// A scalar without labels (a constant in math).
    Scalar(Option<f64>),
    /// The query returned nothing.
    NoData,
}

/// Results by `refId`.
pub type Results = BTreeMap<String, Value>;

/// 64-bit FNV-1a over `parts`: stable across builds, platforms and Rust versions (std's hasher
/// is not), so every instance of a cluster computes the same value.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// A stable hash of a label set (names and values, in order), as hex.
pub fn labels_hash(labels: &Labels) -> String {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(labels.len() * 4);
    for (k, v) in labels {
        parts.extend([k.as_bytes(), b"\xff", v.as_bytes(), b"\xff"]);
    }
    format!("{:016x}", fnv1a(&parts))
}
