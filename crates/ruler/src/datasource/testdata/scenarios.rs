//! The TestData scenarios that generate series: random walk, CSV metric values, predictable
//! pulse, predictable CSV wave and datapoints outside range.
//!
//! Each returns the series with the names Grafana gives their value fields; the caller turns
//! names into `__name__` labels where Grafana would (see [`super::labels::identify_by_name`]).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::labels::{NamedSeries, parse_labels_field, series_name};
use super::model::{Obj, parse_point};
use crate::data::{Millis, Series, TimeRange, fnv1a};
use crate::datasource::QueryError;

/// Most series a random walk may ask for.
pub(super) const MAX_SERIES: i64 = 1_000;

/// Name Grafana gives the value field of the predictable scenarios.
const VALUE_FIELD: &str = "Value";

/// Frontend defaults of `predictable_pulse`, used for missing `pulseWave` fields.
const PULSE_TIME_STEP: i64 = 60;
const PULSE_ON_COUNT: i64 = 3;
const PULSE_OFF_COUNT: i64 = 3;
const PULSE_ON_VALUE: f64 = 2.0;
const PULSE_OFF_VALUE: f64 = 1.0;

/// Frontend defaults of `predictable_csv_wave`, used when `csvWave` or its `timeStep` is missing.
const WAVE_TIME_STEP: i64 = 60;
const WAVE_VALUES: &str = "0,0,2,2,1,1";

/// What every scenario gets besides the model.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request<'r> {
    /// The query's `refId`.
    pub(super) ref_id: &'r str,
    /// The time range, `from <= to`.
    pub(super) range: TimeRange,
    /// The step between random-walk points, in milliseconds.
    pub(super) interval_ms: i64,
    /// Most points per series (already bounded).
    pub(super) cap: usize,
}

// ---------------------------------------------------------------------------------------------
// Seeding

/// Seed for `purpose` (`b'w'` walk, `b's'` start value) of series `index`, from the refId and
/// the aligned start of the range.
fn derived_seed(purpose: u8, ref_id: &str, index: u64, aligned_from: Millis) -> u64 {
    fnv1a(&[
        &[purpose],
        &(ref_id.len() as u64).to_le_bytes(),
        ref_id.as_bytes(),
        &index.to_le_bytes(),
        &aligned_from.to_le_bytes(),
    ])
}

/// Where a random walk's randomness comes from.
#[derive(Debug, Clone, Copy)]
enum SeedSource<'r> {
    /// The model's `seed`.
    Explicit(u64),
    /// refId and the range start aligned to the interval.
    Derived {
        ref_id: &'r str,
        aligned_from: Millis,
    },
}

impl SeedSource<'_> {
    /// The generator for series `index`'s walk.
    fn walk(self, index: u64) -> StdRng {
        StdRng::seed_from_u64(match self {
            Self::Explicit(seed) => seed.wrapping_add(index),
            Self::Derived {
                ref_id,
                aligned_from,
            } => derived_seed(b'w', ref_id, index, aligned_from),
        })
    }

    /// The generator for the default start value, shared by all series.
    fn start(self) -> StdRng {
        StdRng::seed_from_u64(match self {
            Self::Explicit(seed) => fnv1a(&[b"s", &seed.to_le_bytes()]),
            Self::Derived {
                ref_id,
                aligned_from,
            } => derived_seed(b's', ref_id, 0, aligned_from),
        })
    }
}

/// The first multiple of `step` at or after `t`; `None` past `Millis::MAX`.
fn align_up(t: Millis, step: i64) -> Option<Millis> {
    match t.rem_euclid(step) {
        0 => Some(t),
        r => t.checked_add(step - r),
    }
}

// ---------------------------------------------------------------------------------------------
// random_walk

/// `random_walk`: `seriesCount` walks from `startValue`, one point per interval from the range
/// start rounded up to the interval while before the range end.
///
/// Each point is `walker + U[0,1) * noise`, clamped to `min` then `max` (clamping also moves
/// the walker); a point is dropped with probability `dropPercent / 100`; then the walker moves
/// by `(U[0,1) - 0.5) * spread`.
pub(super) fn random_walk(m: &Obj<'_>, req: Request<'_>) -> Result<Vec<NamedSeries>, QueryError> {
    let series_count = m.i64("seriesCount")?.unwrap_or(1);
    if !(0..=MAX_SERIES).contains(&series_count) {
        return Err(QueryError::invalid_field(
            "seriesCount",
            format!("must be between 0 and {MAX_SERIES}, got {series_count}"),
        ));
    }
    let start_value = m.f64("startValue")?;
    let spread = m.f64("spread")?.unwrap_or(1.0);
    let noise = m.f64("noise")?.unwrap_or(0.0);
    let min = m.f64("min")?;
    let max = m.f64("max")?;
    // Grafana's field is `dropPercent`; `drop` is accepted too, the former wins.
    let drop_percent = m.f64("dropPercent")?;
    let drop_alias = m.f64("drop")?;
    let drop = drop_percent.or(drop_alias).unwrap_or(0.0) / 100.0;
    let alias = m.str("alias")?.unwrap_or("");
    let labels_text = m.str("labels")?.unwrap_or("");
    let seed = m.seed("seed")?;

    if req.interval_ms <= 0 {
        return Err(QueryError::InvalidRequest(format!(
            "random_walk needs a positive interval, got {} ms",
            req.interval_ms
        )));
    }
    let first = align_up(req.range.from, req.interval_ms);
    let source = match seed {
        Some(seed) => SeedSource::Explicit(seed),
        None => SeedSource::Derived {
            ref_id: req.ref_id,
            // Past Millis::MAX there are no points; any fixed value will do for the seed.
            aligned_from: first.unwrap_or(Millis::MAX),
        },
    };
    let start_value = start_value.unwrap_or_else(|| source.start().random::<f64>() * 100.0);

    // The count is at most MAX_SERIES, so it fits usize and u64.
    let series_count = usize::try_from(series_count).unwrap_or(0);
    let mut out = Vec::with_capacity(series_count);
    for index in 0..series_count {
        let labels = parse_labels_field(labels_text, index, "labels")?;
        let mut rng = source.walk(index as u64);
        let mut points = Vec::new();
        let mut walker = start_value;
        let mut t = first;
        let mut steps = 0;
        while let Some(now) = t
            && now < req.range.to
            && steps < req.cap
        {
            let mut value = walker + rng.random::<f64>() * noise;
            if let Some(min) = min
                && value < min
            {
                value = min;
                walker = min;
            }
            if let Some(max) = max
                && value > max
            {
                value = max;
                walker = max;
            }
            let dropped = drop > 0.0 && rng.random::<f64>() < drop;
            if !dropped {
                points.push((now, Some(value)));
            }
            walker += (rng.random::<f64>() - 0.5) * spread;
            steps += 1;
            t = now.checked_add(req.interval_ms);
        }
        out.push(NamedSeries {
            name: series_name(req.ref_id, alias, index),
            series: Series { labels, points },
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// csv_metric_values

/// `csv_metric_values`: the comma-separated `stringInput` spread evenly over the range, first
/// value at its start, last at its end (Grafana's integer step, so the last may fall a few ms
/// short). Spaces are removed first; `null` or an empty item is a null point. `None` when the
/// input is blank (no data). Labels are not applied, as in Grafana.
pub(super) fn csv_metric_values(
    m: &Obj<'_>,
    req: Request<'_>,
) -> Result<Option<Vec<NamedSeries>>, QueryError> {
    let input = m.str("stringInput")?.unwrap_or("");
    let alias = m.str("alias")?.unwrap_or("");
    if input.trim().is_empty() {
        return Ok(None);
    }
    let compact: String = input.chars().filter(|c| *c != ' ').collect();
    let values = compact
        .split(',')
        .map(|item| match item {
            "" | "null" => Ok(None),
            _ => item.parse::<f64>().map(Some).map_err(|_| {
                QueryError::invalid_field("stringInput", format!("{item:?} is not a number"))
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;

    let TimeRange { from, to } = req.range;
    let span = i128::from(to) - i128::from(from);
    let step = match values.len() {
        0 | 1 => 0,
        n => span / (n as i128 - 1),
    };
    let points = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            // from + i * step lies within [from, to], so it fits Millis.
            let t = i128::from(from) + step * i as i128;
            (Millis::try_from(t).unwrap_or(to), v)
        })
        .collect();
    Ok(Some(vec![NamedSeries {
        name: series_name(req.ref_id, alias, 0),
        series: Series {
            labels: Default::default(),
            points,
        },
    }]))
}

// ---------------------------------------------------------------------------------------------
// predictable_pulse and predictable_csv_wave

/// Points every `step_ms` from the range start rounded down to the step (so the first may
/// precede the range, as in Grafana) while before the range end; the value at `t` is
/// `value(t)`, which depends on `t` alone.
fn predictable_points(
    range: TimeRange,
    step_ms: i64,
    cap: usize,
    value: impl Fn(Millis) -> Option<f64>,
) -> Vec<(Millis, Option<f64>)> {
    let mut points = Vec::new();
    let mut t = range.from.checked_sub(range.from.rem_euclid(step_ms));
    while let Some(now) = t
        && now < range.to
        && points.len() < cap
    {
        points.push((now, value(now)));
        t = now.checked_add(step_ms);
    }
    points
}

/// A step in seconds from `obj.key` (default `default`), as positive milliseconds.
fn step_millis(obj: &Obj<'_>, key: &str, default: i64) -> Result<i64, QueryError> {
    let seconds = obj.i64(key)?.unwrap_or(default);
    if seconds <= 0 {
        return Err(QueryError::invalid_field(
            obj.field(key),
            format!("must be a positive number of seconds, got {seconds}"),
        ));
    }
    seconds
        .checked_mul(1000)
        .ok_or_else(|| QueryError::invalid_field(obj.field(key), "too large"))
}

/// `predictable_pulse`: every `timeStep` seconds, aligned to the epoch; the wave repeats every
/// `timeStep * (onCount + offCount)` seconds counted from the epoch, its first `onCount` points
/// `onValue`, the rest `offValue`. Missing `pulseWave` fields take the frontend defaults
/// (60 s, 3 on, 3 off, on 2, off 1). The model's `labels` apply (`$seriesIndex` = 0).
pub(super) fn predictable_pulse(
    m: &Obj<'_>,
    req: Request<'_>,
) -> Result<Vec<NamedSeries>, QueryError> {
    let labels = parse_labels_field(m.str("labels")?.unwrap_or(""), 0, "labels")?;
    let empty = serde_json::Value::Object(Default::default());
    let pulse = match m.object("pulseWave")? {
        Some(p) => p,
        None => Obj::root(&empty)?,
    };
    let step_ms = step_millis(&pulse, "timeStep", PULSE_TIME_STEP)?;
    let count = |key: &str, default: i64| -> Result<i64, QueryError> {
        let n = pulse.i64(key)?.unwrap_or(default);
        if n < 0 {
            return Err(QueryError::invalid_field(
                pulse.field(key),
                format!("must not be negative, got {n}"),
            ));
        }
        Ok(n)
    };
    let on_count = count("onCount", PULSE_ON_COUNT)?;
    let off_count = count("offCount", PULSE_OFF_COUNT)?;
    let on_value = pulse
        .point_value("onValue")?
        .unwrap_or(Some(PULSE_ON_VALUE));
    let off_value = pulse
        .point_value("offValue")?
        .unwrap_or(Some(PULSE_OFF_VALUE));
    let period = on_count
        .checked_add(off_count)
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(step_ms))
        .ok_or_else(|| {
            QueryError::invalid_field(
                pulse.field("onCount"),
                "onCount + offCount must be positive, and the period must fit in 64-bit milliseconds",
            )
        })?;

    let points = predictable_points(req.range, step_ms, req.cap, |t| {
        if t.rem_euclid(period) / step_ms < on_count {
            on_value
        } else {
            off_value
        }
    });
    Ok(vec![NamedSeries {
        name: VALUE_FIELD.to_owned(),
        series: Series { labels, points },
    }])
}

/// Parses a wave's `valuesCSV`: trimmed, trailing commas dropped, split on `,`; each item
/// `null`, `nan` or a number.
fn wave_values(text: &str, field: &str) -> Result<Vec<Option<f64>>, QueryError> {
    text.trim()
        .trim_end_matches(',')
        .split(',')
        .map(|item| {
            parse_point(item).ok_or_else(|| {
                QueryError::invalid_field(field, format!("{:?} is not a number", item.trim()))
            })
        })
        .collect()
}

/// `predictable_csv_wave`: one series per `csvWave` entry; every `timeStep` seconds aligned to
/// the epoch, the value is the entry's `valuesCSV` item at `(t / timeStep) mod len`, so the
/// wave repeats every `timeStep * len` seconds from the epoch. Each entry's `labels` apply.
/// A missing `csvWave` is the frontend default (60 s, `0,0,2,2,1,1`); an empty one is no data.
pub(super) fn predictable_csv_wave(
    m: &Obj<'_>,
    req: Request<'_>,
) -> Result<Option<Vec<NamedSeries>>, QueryError> {
    let default_wave = serde_json::json!({ "timeStep": WAVE_TIME_STEP, "valuesCSV": WAVE_VALUES });
    let waves = match m.objects("csvWave")? {
        Some(waves) => waves,
        None => vec![Obj::root(&default_wave)?],
    };
    if waves.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(waves.len());
    for wave in &waves {
        let step_ms = step_millis(wave, "timeStep", WAVE_TIME_STEP)?;
        let values_field = wave.field("valuesCSV");
        let values = match wave.str("valuesCSV")? {
            Some(text) => wave_values(text, &values_field)?,
            None => return Err(QueryError::invalid_field(values_field, "missing")),
        };
        let labels_field = wave.field("labels");
        let labels = parse_labels_field(wave.str("labels")?.unwrap_or(""), 0, &labels_field)?;
        // Checked for type only: a wave's name names its frame, not its series.
        wave.str("name")?;
        let len = i64::try_from(values.len()).unwrap_or(i64::MAX);
        let period = step_ms
            .checked_mul(len)
            .ok_or_else(|| QueryError::invalid_field(values_field.clone(), "wave too long"))?;
        let points = predictable_points(req.range, step_ms, req.cap, |t| {
            let index = t.rem_euclid(period) / step_ms;
            usize::try_from(index)
                .ok()
                .and_then(|i| values.get(i))
                .copied()
                .flatten()
        });
        out.push(NamedSeries {
            name: VALUE_FIELD.to_owned(),
            series: Series { labels, points },
        });
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------------
// datapoints_outside_range

/// `datapoints_outside_range`: a single point of value 10, one hour before the range start.
pub(super) fn datapoints_outside_range(req: Request<'_>) -> Vec<NamedSeries> {
    let t = req.range.from.saturating_sub(3_600_000);
    vec![NamedSeries {
        name: VALUE_FIELD.to_owned(),
        series: Series {
            labels: Default::default(),
            points: vec![(t, Some(10.0))],
        },
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MIN: i64 = 60_000;

    fn req(from: Millis, to: Millis) -> Request<'static> {
        Request {
            ref_id: "A",
            range: TimeRange { from, to },
            interval_ms: MIN,
            cap: 10_000,
        }
    }

    fn walk(model: serde_json::Value, r: Request<'_>) -> Vec<NamedSeries> {
        random_walk(&Obj::root(&model).unwrap(), r).unwrap()
    }

    fn values(s: &NamedSeries) -> Vec<f64> {
        s.series.points.iter().map(|(_, v)| v.unwrap()).collect()
    }

    fn times(s: &NamedSeries) -> Vec<Millis> {
        s.series.points.iter().map(|(t, _)| *t).collect()
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        // Published FNV-1a 64 test vectors: "" and "a".
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"a", b"b"]), fnv1a(&[b"ab"]));
    }

    #[test]
    fn walk_points_start_at_from_rounded_up_and_stop_before_to() {
        let out = walk(json!({}), req(10 * MIN + 5, 20 * MIN));
        assert_eq!(out.len(), 1);
        let expected: Vec<Millis> = (11..20).map(|i| i * MIN).collect();
        assert_eq!(times(&out[0]), expected);
    }

    #[test]
    fn walk_flat_without_spread_or_noise() {
        let out = walk(
            json!({"startValue": 10, "spread": 0, "noise": 0}),
            req(0, 10 * MIN),
        );
        assert_eq!(values(&out[0]), vec![10.0; 10]);
    }

    #[test]
    fn walk_default_start_value_is_within_0_100_and_shared() {
        let out = walk(json!({"seriesCount": 3, "spread": 0}), req(0, 3 * MIN));
        let first: Vec<f64> = out.iter().map(|s| values(s)[0]).collect();
        assert!((0.0..100.0).contains(&first[0]), "{first:?}");
        assert!(first.iter().all(|v| *v == first[0]), "{first:?}");
    }

    #[test]
    fn walk_noise_adds_up_to_noise() {
        let out = walk(
            json!({"startValue": 0, "spread": 0, "noise": 5}),
            req(0, 100 * MIN),
        );
        let v = values(&out[0]);
        assert!(v.iter().all(|x| (0.0..5.0).contains(x)), "{v:?}");
        assert!(v.iter().any(|x| *x != v[0]));
    }

    #[test]
    fn walk_spread_moves_at_most_half_spread_per_step() {
        let out = walk(
            json!({"startValue": 0, "spread": 2, "noise": 0}),
            req(0, 200 * MIN),
        );
        let v = values(&out[0]);
        assert!(v.windows(2).all(|w| (w[1] - w[0]).abs() <= 1.0));
        assert!(v.iter().any(|x| *x != 0.0));
    }

    #[test]
    fn walk_clamps_to_min_and_max() {
        let out = walk(
            json!({"startValue": 50, "spread": 1000, "min": 0, "max": 100}),
            req(0, 500 * MIN),
        );
        let v = values(&out[0]);
        assert!(v.iter().all(|x| (0.0..=100.0).contains(x)), "{v:?}");
        assert!(v.contains(&0.0), "min never reached");
        assert!(v.contains(&100.0), "max never reached");

        // min above max: max wins, as in Grafana.
        let out = walk(
            json!({"startValue": 50, "min": 80, "max": 20}),
            req(0, 10 * MIN),
        );
        assert_eq!(values(&out[0]), vec![20.0; 10]);
    }

    #[test]
    fn walk_drop_percent() {
        let all = walk(json!({"dropPercent": 100}), req(0, 50 * MIN));
        assert_eq!(all.len(), 1);
        assert!(all[0].series.points.is_empty());

        let none = walk(json!({"drop": 0}), req(0, 50 * MIN));
        assert_eq!(none[0].series.points.len(), 50);

        let half = walk(json!({"drop": 50}), req(0, 200 * MIN));
        let n = half[0].series.points.len();
        assert!(n > 20 && n < 180, "{n}");

        // dropPercent wins over drop.
        let both = walk(json!({"dropPercent": 0, "drop": 100}), req(0, 50 * MIN));
        assert_eq!(both[0].series.points.len(), 50);
    }

    #[test]
    fn walk_series_count_labels_and_names() {
        let out = walk(
            json!({"seriesCount": 2, "labels": "host=web01, idx=$seriesIndex"}),
            req(0, 5 * MIN),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "A-series");
        assert_eq!(out[1].name, "A-series1");
        assert_eq!(out[0].series.labels["idx"], "0");
        assert_eq!(out[1].series.labels["idx"], "1");
        assert_eq!(out[1].series.labels["host"], "web01");
    }

    #[test]
    fn walk_is_deterministic() {
        let model = json!({"seriesCount": 2});
        assert_eq!(
            walk(model.clone(), req(0, 50 * MIN)),
            walk(model, req(0, 50 * MIN))
        );
    }

    #[test]
    fn walk_differs_by_ref_id_series_and_tick() {
        let model = json!({"seriesCount": 2, "startValue": 0});
        let a = walk(model.clone(), req(0, 50 * MIN));
        assert_ne!(values(&a[0]), values(&a[1]), "series 0 and 1 walk alike");

        let mut rb = req(0, 50 * MIN);
        rb.ref_id = "B";
        let b = walk(model.clone(), rb);
        assert_ne!(values(&a[0]), values(&b[0]), "refIds A and B walk alike");

        // Were the seed blind to time, the next tick would repeat the same values.
        let later = walk(model, req(MIN, 51 * MIN));
        assert_ne!(values(&a[0]), values(&later[0]), "ticks walk alike");
    }

    #[test]
    fn walk_seed_uses_the_aligned_start() {
        let model = json!({"startValue": 0});
        // Both starts round up to 3 minutes, so the walks agree.
        let a = walk(model.clone(), req(2 * MIN + 1, 20 * MIN));
        let b = walk(model, req(3 * MIN, 20 * MIN));
        assert_eq!(a, b);
    }

    #[test]
    fn walk_explicit_seed_ignores_ref_id_and_time() {
        let model = json!({"seed": 42, "seriesCount": 2});
        let a = walk(model.clone(), req(0, 20 * MIN));
        let mut other = req(100 * MIN, 120 * MIN);
        other.ref_id = "Z";
        let b = walk(model, other);
        assert_eq!(values(&a[0]), values(&b[0]));
        assert_eq!(values(&a[1]), values(&b[1]));
        assert_ne!(values(&a[0]), values(&a[1]));

        let c = walk(json!({"seed": 43, "seriesCount": 2}), req(0, 20 * MIN));
        assert_ne!(values(&a[0]), values(&c[0]));
    }

    #[test]
    fn walk_caps_points() {
        let mut r = req(0, 100 * MIN);
        r.cap = 7;
        assert_eq!(walk(json!({}), r)[0].series.points.len(), 7);
    }

    #[test]
    fn walk_near_the_end_of_time_does_not_overflow() {
        let r = req(Millis::MAX - 3 * MIN, Millis::MAX);
        let out = walk(json!({}), r);
        assert!(out[0].series.points.len() <= 3);
        let r = req(Millis::MAX - 5, Millis::MAX);
        assert!(walk(json!({}), r)[0].series.points.is_empty());
    }

    #[test]
    fn walk_rejects_bad_series_count_and_interval() {
        for bad in [json!({"seriesCount": -1}), json!({"seriesCount": 1001})] {
            let err = random_walk(&Obj::root(&bad).unwrap(), req(0, MIN)).unwrap_err();
            assert!(
                matches!(err, QueryError::InvalidField { ref field, .. } if field == "seriesCount")
            );
        }
        let mut r = req(0, MIN);
        r.interval_ms = 0;
        let err = random_walk(&Obj::root(&json!({})).unwrap(), r).unwrap_err();
        assert!(matches!(err, QueryError::InvalidRequest(_)));
    }

    fn csv(model: serde_json::Value, r: Request<'_>) -> Option<Vec<NamedSeries>> {
        csv_metric_values(&Obj::root(&model).unwrap(), r).unwrap()
    }

    #[test]
    fn csv_values_spread_over_the_range() {
        let out = csv(json!({"stringInput": "1,20,90,30,5,0"}), req(0, 500_000)).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, "A-series");
        assert_eq!(
            out[0].series.points,
            vec![
                (0, Some(1.0)),
                (100_000, Some(20.0)),
                (200_000, Some(90.0)),
                (300_000, Some(30.0)),
                (400_000, Some(5.0)),
                (500_000, Some(0.0)),
            ]
        );
    }

    #[test]
    fn csv_step_truncates_like_grafana() {
        let out = csv(json!({"stringInput": "1,2,3"}), req(1000, 1005)).unwrap();
        assert_eq!(times(&out[0]), vec![1000, 1002, 1004]);
        let out = csv(json!({"stringInput": "7"}), req(1000, 2000)).unwrap();
        assert_eq!(out[0].series.points, vec![(1000, Some(7.0))]);
    }

    #[test]
    fn csv_nulls_spaces_and_labels() {
        let out = csv(
            json!({"stringInput": " 1, null,, 2 .5", "labels": "a=b", "alias": "x"}),
            req(0, 300),
        )
        .unwrap();
        assert_eq!(out[0].name, "x");
        assert!(
            out[0].series.labels.is_empty(),
            "Grafana ignores labels here"
        );
        let v: Vec<Option<f64>> = out[0].series.points.iter().map(|p| p.1).collect();
        assert_eq!(v, vec![Some(1.0), None, None, Some(2.5)]);
    }

    #[test]
    fn csv_blank_is_no_data_and_bad_values_name_the_field() {
        assert_eq!(csv(json!({"stringInput": "  "}), req(0, 1)), None);
        assert_eq!(csv(json!({}), req(0, 1)), None);
        let err = csv_metric_values(
            &Obj::root(&json!({"stringInput": "1,true"})).unwrap(),
            req(0, 1),
        )
        .unwrap_err();
        assert!(
            matches!(err, QueryError::InvalidField { ref field, .. } if field == "stringInput")
        );
    }

    fn pulse(model: serde_json::Value, r: Request<'_>) -> Vec<NamedSeries> {
        predictable_pulse(&Obj::root(&model).unwrap(), r).unwrap()
    }

    const PULSE: &str =
        r#"{"pulseWave":{"timeStep":60,"onCount":3,"offCount":3,"onValue":2,"offValue":1}}"#;

    #[test]
    fn pulse_values_by_hand() {
        let model: serde_json::Value = serde_json::from_str(PULSE).unwrap();
        // 1_700_000_040_000 ms = 28_333_334 minutes = 4_722_222 periods of 6 minutes + 2
        // minutes: index 2 (on), then 3, 4, 5 (off), then 0, 1, 2 (on), 3 (off).
        let from = 1_700_000_040_000;
        let out = pulse(model, req(from, from + 8 * MIN));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, "Value");
        let expected: Vec<(Millis, Option<f64>)> = [2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0]
            .iter()
            .enumerate()
            .map(|(i, v)| (from + i as i64 * MIN, Some(*v)))
            .collect();
        assert_eq!(out[0].series.points, expected);
    }

    #[test]
    fn pulse_first_point_rounds_down_and_end_is_exclusive() {
        let model: serde_json::Value = serde_json::from_str(PULSE).unwrap();
        let out = pulse(model, req(6 * MIN + 30_000, 8 * MIN));
        // 6 min (index 0, on) precedes the range start, as in Grafana; 8 min is excluded.
        assert_eq!(
            out[0].series.points,
            vec![(6 * MIN, Some(2.0)), (7 * MIN, Some(2.0))]
        );
    }

    #[test]
    fn pulse_depends_only_on_time() {
        let model: serde_json::Value = serde_json::from_str(PULSE).unwrap();
        let a = pulse(model.clone(), req(0, 60 * MIN));
        let mut other = req(17 * MIN, 40 * MIN);
        other.ref_id = "Q";
        let b = pulse(model, other);
        for point in &b[0].series.points {
            assert!(a[0].series.points.contains(point), "{point:?}");
        }
        assert_eq!(b[0].series.points.len(), 23);
    }

    #[test]
    fn pulse_defaults_labels_and_null_values() {
        let model: serde_json::Value = serde_json::from_str(PULSE).unwrap();
        assert_eq!(
            pulse(json!({}), req(0, 30 * MIN)),
            pulse(model, req(0, 30 * MIN))
        );
        let out = pulse(
            json!({"labels": "a=$seriesIndex", "pulseWave": {"timeStep": 1, "onCount": 1,
                   "offCount": 1, "onValue": "null", "offValue": "nan"}}),
            req(0, 2000),
        );
        assert_eq!(out[0].series.labels["a"], "0");
        assert_eq!(out[0].series.points[0], (0, None));
        assert!(out[0].series.points[1].1.unwrap().is_nan());
    }

    #[test]
    fn pulse_and_wave_are_capped() {
        let mut r = req(0, 60 * MIN);
        r.cap = 4;
        assert_eq!(pulse(json!({}), r)[0].series.points.len(), 4);
        assert_eq!(wave(json!({}), r).unwrap()[0].series.points.len(), 4);
    }

    #[test]
    fn pulse_rejects_bad_parameters() {
        let cases = [
            (json!({"pulseWave": {"timeStep": 0}}), "pulseWave.timeStep"),
            (
                json!({"pulseWave": {"timeStep": "60"}}),
                "pulseWave.timeStep",
            ),
            (
                json!({"pulseWave": {"onCount": 0, "offCount": 0}}),
                "pulseWave.onCount",
            ),
            (json!({"pulseWave": {"offCount": -1}}), "pulseWave.offCount"),
            (
                json!({"pulseWave": {"onValue": "high"}}),
                "pulseWave.onValue",
            ),
            (json!({"pulseWave": 5}), "pulseWave"),
            (
                json!({"pulseWave": {"timeStep": i64::MAX}}),
                "pulseWave.timeStep",
            ),
        ];
        for (model, want) in cases {
            let err = predictable_pulse(&Obj::root(&model).unwrap(), req(0, MIN)).unwrap_err();
            assert!(
                matches!(err, QueryError::InvalidField { ref field, .. } if field == want),
                "{model}: {err}"
            );
        }
    }

    fn wave(model: serde_json::Value, r: Request<'_>) -> Option<Vec<NamedSeries>> {
        predictable_csv_wave(&Obj::root(&model).unwrap(), r).unwrap()
    }

    #[test]
    fn csv_wave_values_by_hand() {
        let out = wave(
            json!({"csvWave": [{"timeStep": 60, "valuesCSV": "0,0,2,2,1,1", "labels": "w=one"}]}),
            req(4 * MIN, 12 * MIN),
        )
        .unwrap();
        // Period 6 min: minutes 4..11 are indices 4,5,0,1,2,3,4,5.
        let v: Vec<Option<f64>> = out[0].series.points.iter().map(|p| p.1).collect();
        let want = [1.0, 1.0, 0.0, 0.0, 2.0, 2.0, 1.0, 1.0].map(Some).to_vec();
        assert_eq!(v, want);
        assert_eq!(times(&out[0])[0], 4 * MIN);
        assert_eq!(out[0].series.labels["w"], "one");
    }

    #[test]
    fn csv_wave_several_waves_nulls_and_trailing_commas() {
        let out = wave(
            json!({"csvWave": [
                {"timeStep": 1, "valuesCSV": " 5,null,nan,, ", "labels": "w=a"},
                {"timeStep": 2, "valuesCSV": "7", "labels": "w=b"}
            ]}),
            req(0, 4000),
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        let a = &out[0].series.points;
        assert_eq!(a.len(), 4);
        assert_eq!(a[0], (0, Some(5.0)));
        assert_eq!(a[1], (1000, None));
        assert!(a[2].1.unwrap().is_nan());
        assert_eq!(a[3], (3000, Some(5.0)));
        assert_eq!(
            out[1].series.points,
            vec![(0, Some(7.0)), (2000, Some(7.0))]
        );
    }

    #[test]
    fn csv_wave_defaults_single_object_and_empty_list() {
        let default = wave(json!({}), req(0, 6 * MIN)).unwrap();
        let v: Vec<Option<f64>> = default[0].series.points.iter().map(|p| p.1).collect();
        assert_eq!(v, [0.0, 0.0, 2.0, 2.0, 1.0, 1.0].map(Some).to_vec());

        let single = wave(
            json!({"csvWave": {"timeStep": 60, "valuesCSV": "0,0,2,2,1,1"}}),
            req(0, 6 * MIN),
        );
        assert_eq!(single, Some(default));

        assert_eq!(wave(json!({"csvWave": []}), req(0, MIN)), None);
    }

    #[test]
    fn csv_wave_errors_name_the_entry() {
        let cases = [
            (
                json!({"csvWave": [{"valuesCSV": "1,x"}]}),
                "csvWave[0].valuesCSV",
            ),
            (
                json!({"csvWave": [{"timeStep": 1}]}),
                "csvWave[0].valuesCSV",
            ),
            (
                json!({"csvWave": [{"valuesCSV": "1"}, {"valuesCSV": 3}]}),
                "csvWave[1].valuesCSV",
            ),
            (
                json!({"csvWave": [{"valuesCSV": "1", "timeStep": -5}]}),
                "csvWave[0].timeStep",
            ),
            (
                json!({"csvWave": [{"valuesCSV": "1", "labels": "bad"}]}),
                "csvWave[0].labels",
            ),
            (json!({"csvWave": "1,2"}), "csvWave"),
        ];
        for (model, want) in cases {
            let err = predictable_csv_wave(&Obj::root(&model).unwrap(), req(0, MIN)).unwrap_err();
            assert!(
                matches!(err, QueryError::InvalidField { ref field, .. } if field == want),
                "{model}: {err}"
            );
        }
    }

    #[test]
    fn outside_range_is_one_point_an_hour_early() {
        let out = datapoints_outside_range(req(10_000_000, 20_000_000));
        assert_eq!(out[0].series.points, vec![(6_400_000, Some(10.0))]);
    }
}
