//! The resample expression: puts each time series on a fixed grid of `window` steps over the
//! query's time range, so series with different timestamps can be combined in math.
//!
//! As in Grafana, the grid runs from the range's start to its end (both inclusive); a grid
//! point at time `t` takes every not yet used input point at or before `t`. One such point
//! gives its value, several are combined with the downsampler, none are filled by the
//! upsampler (`pad`: the last value seen, `backfilling`: the next value, `fillna`: null).

use crate::data::{Millis, Results, Series, TimeRange, Value};

use super::ExprError;
use super::model::{Obj, input_ref};
use super::reduce::Reducer;

/// The most points a resampled series may have.
pub const MAX_POINTS: i64 = 100_000;

/// How grid points without input points are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsampler {
    /// `pad`: the last value seen (null before the first one).
    Pad,
    /// `backfilling`: the next value (null after the last one).
    Backfill,
    /// `fillna`: null.
    FillNa,
}

impl Upsampler {
    /// The names `upsampler` accepts.
    pub const NAMES: &'static [&'static str] = &["pad", "backfilling", "fillna"];

    /// The upsampler named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "pad" => Self::Pad,
            "backfilling" | "backfill" => Self::Backfill,
            "fillna" => Self::FillNa,
            _ => return None,
        })
    }
}

/// The downsamplers Grafana supports.
const DOWNSAMPLERS: &[Reducer] = &[
    Reducer::Mean,
    Reducer::Min,
    Reducer::Max,
    Reducer::Sum,
    Reducer::Last,
];

/// A parsed resample expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Resample {
    /// This expression's refId.
    pub ref_id: String,
    /// The refId it resamples.
    pub input: String,
    /// The step, in milliseconds (at least 1).
    pub window: Millis,
    /// How several points in one step are combined (mean, min, max, sum or last).
    pub downsampler: Reducer,
    /// How steps without points are filled.
    pub upsampler: Upsampler,
}

/// Parses a duration such as `10s`, `1m30s`, `1.5h`, `2d`, `1w`, `1y` (units `ms`, `s`, `m`,
/// `h`, `d`, `w`, `y` = 365 days) into milliseconds.
pub fn parse_duration(text: &str) -> Option<Millis> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let ms_per_unit = match unit {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            "w" => 604_800_000.0,
            "y" => 31_536_000_000.0,
            _ => return None,
        };
        total += value * ms_per_unit;
        rest = next;
    }
    let ms = total.round();
    (1.0..9.0e15).contains(&ms).then_some(ms as Millis)
}

impl Resample {
    /// Reads a resample model (`expression`, `window`, `downsampler`, `upsampler`).
    pub(crate) fn parse(obj: &Obj<'_>) -> Result<Self, ExprError> {
        let input = input_ref(obj, "expression")?;
        let window_text = obj.req_str("window")?;
        let window = parse_duration(window_text).ok_or_else(|| {
            obj.invalid(
                "window",
                format!(
                    "invalid duration {window_text:?} (expected e.g. \"10s\", \"1m\", \"1h30m\"; \
                     units ms, s, m, h, d, w, y)"
                ),
            )
        })?;
        let down_name = obj.req_str("downsampler")?;
        let downsampler = Reducer::from_name(down_name)
            .filter(|r| DOWNSAMPLERS.contains(r))
            .ok_or_else(|| ExprError::UnknownReducer {
                ref_id: obj.ref_id.to_string(),
                field: "downsampler".into(),
                reducer: down_name.to_string(),
                expected: DOWNSAMPLERS
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let up_name = obj.req_str("upsampler")?;
        let upsampler = Upsampler::from_name(up_name).ok_or_else(|| {
            obj.invalid(
                "upsampler",
                format!(
                    "unknown upsampler {up_name:?} (expected one of: {})",
                    Upsampler::NAMES.join(", ")
                ),
            )
        })?;
        Ok(Self {
            ref_id: obj.ref_id.to_string(),
            input,
            window,
            downsampler,
            upsampler,
        })
    }

    /// Resamples every series of the input over `range`; no data stays no data.
    pub fn evaluate(&self, results: &Results, range: TimeRange) -> Result<Value, ExprError> {
        let input = results
            .get(&self.input)
            .ok_or_else(|| ExprError::MissingRef {
                ref_id: self.ref_id.clone(),
                missing: self.input.clone(),
            })?;
        let series = match input {
            Value::NoData => return Ok(Value::NoData),
            Value::Series(series) => series,
            Value::Numbers(_) | Value::Scalar(_) => {
                return Err(self.invalid(format!(
                    "can only resample time series, but {} holds numbers",
                    self.input
                )));
            }
        };
        let steps = range.to.checked_sub(range.from).unwrap_or(-1) / self.window.max(1);
        if steps <= 0 {
            return Err(self.invalid(format!(
                "the series cannot be resampled: the time range ({} ms) is shorter than the window ({} ms)",
                range.to.saturating_sub(range.from),
                self.window
            )));
        }
        if steps >= MAX_POINTS {
            return Err(self.invalid(format!(
                "resampling would make {steps} points per series (the limit is {MAX_POINTS}); use a larger window"
            )));
        }
        Ok(Value::Series(
            series
                .iter()
                .map(|s| self.resample_one(s, range, steps))
                .collect(),
        ))
    }

    fn invalid(&self, reason: String) -> ExprError {
        ExprError::InvalidInput {
            ref_id: self.ref_id.clone(),
            reason,
        }
    }

    fn resample_one(&self, s: &Series, range: TimeRange, steps: i64) -> Series {
        let mut points = Vec::with_capacity(usize::try_from(steps + 1).unwrap_or(0));
        let mut next = 0; // index of the first input point not used yet
        let mut last_seen: Option<f64> = None;
        for k in 0..=steps {
            let Some(t) = k
                .checked_mul(self.window)
                .and_then(|off| range.from.checked_add(off))
            else {
                break;
            };
            if t > range.to {
                break;
            }
            let start = next;
            while s.points.get(next).is_some_and(|p| p.0 <= t) {
                next += 1;
            }
            let window: Vec<Option<f64>> = s
                .points
                .get(start..next)
                .unwrap_or_default()
                .iter()
                .map(|p| p.1)
                .collect();
            if let Some(v) = window.last() {
                last_seen = *v;
            }
            let value = match window.as_slice() {
                [] => match self.upsampler {
                    Upsampler::Pad => last_seen,
                    Upsampler::Backfill => s.points.get(next).and_then(|p| p.1),
                    Upsampler::FillNa => None,
                },
                [one] => *one,
                many => self.downsampler.apply(many),
            };
            points.push((t, value));
        }
        Series {
            labels: s.labels.clone(),
            points,
        }
    }
}
