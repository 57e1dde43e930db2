//! Resample: downsampling and upsampling on the range's grid, window parsing, errors.

use serde_json::json;

use super::{assert_same, labels, num, range, results, run, series};
use crate::data::{Series, Value};
use crate::expr::{ExprError, Expression, evaluate, parse_duration};

fn model(window: &str, down: &str, up: &str) -> serde_json::Value {
    json!({"type": "resample", "expression": "A", "window": window,
           "downsampler": down, "upsampler": up})
}

fn resample_one(
    s: Series,
    window: &str,
    down: &str,
    up: &str,
    from: i64,
    to: i64,
) -> Vec<Option<f64>> {
    let input = results(vec![("A", Value::Series(vec![s]))]);
    match run(model(window, down, up), &input, range(from, to)) {
        Value::Series(out) => {
            assert_eq!(out.len(), 1);
            let s = &out[0];
            assert_eq!(s.labels, labels(&[("host", "a")]));
            let times: Vec<i64> = s.points.iter().map(|p| p.0).collect();
            let window_ms = parse_duration(window).expect("valid window");
            let want_times: Vec<i64> = (0..times.len() as i64)
                .map(|k| from + k * window_ms)
                .collect();
            assert_eq!(times, want_times, "grid times");
            s.points.iter().map(|p| p.1).collect()
        }
        other => panic!("expected series, got {other:?}"),
    }
}

#[test]
fn downsampling() {
    // Points at 1s, 2s, 6s, 7s; 5s grid over 0..10s: 0s (nothing yet), 5s (1s, 2s), 10s (6s, 7s).
    let s = series(
        &[("host", "a")],
        &[
            (1000, Some(1.0)),
            (2000, Some(3.0)),
            (6000, Some(5.0)),
            (7000, Some(8.0)),
        ],
    );
    let cases: &[(&str, &str, [Option<f64>; 3])] = &[
        ("mean", "fillna", [None, Some(2.0), Some(6.5)]),
        ("min", "fillna", [None, Some(1.0), Some(5.0)]),
        ("max", "fillna", [None, Some(3.0), Some(8.0)]),
        ("sum", "fillna", [None, Some(4.0), Some(13.0)]),
        ("last", "fillna", [None, Some(3.0), Some(8.0)]),
        ("mean", "pad", [None, Some(2.0), Some(6.5)]),
        ("mean", "backfilling", [Some(1.0), Some(2.0), Some(6.5)]),
    ];
    for (down, up, want) in cases {
        let got = resample_one(s.clone(), "5s", down, up, 0, 10_000);
        assert_eq!(
            format!("{got:?}"),
            format!("{want:?}"),
            "downsampler {down}, upsampler {up}"
        );
    }
}

#[test]
fn upsampling() {
    // Points at 0s and 3s on a 1s grid over 0..4s.
    let s = series(&[("host", "a")], &[(0, Some(1.0)), (3000, Some(4.0))]);
    let cases: &[(&str, [Option<f64>; 5])] = &[
        (
            "pad",
            [Some(1.0), Some(1.0), Some(1.0), Some(4.0), Some(4.0)],
        ),
        (
            "backfilling",
            [Some(1.0), Some(4.0), Some(4.0), Some(4.0), None],
        ),
        ("fillna", [Some(1.0), None, None, Some(4.0), None]),
    ];
    for (up, want) in cases {
        let got = resample_one(s.clone(), "1s", "mean", up, 0, 4000);
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "upsampler {up}");
    }
}

#[test]
fn points_before_the_range_fall_in_the_first_step_and_after_it_are_ignored() {
    // Pad repeats the last input value seen (4), not the last output (6).
    let s = series(
        &[("host", "a")],
        &[
            (-5000, Some(2.0)),
            (-1000, Some(4.0)),
            (20_000, Some(100.0)),
        ],
    );
    let got = resample_one(s, "10s", "sum", "pad", 0, 10_000);
    assert_eq!(got, vec![Some(6.0), Some(4.0)]);
}

#[test]
fn a_null_in_a_step_makes_the_strict_downsample_nan() {
    let s = series(&[("host", "a")], &[(1000, Some(1.0)), (2000, None)]);
    let got = resample_one(s, "5s", "mean", "fillna", 0, 5000);
    assert_eq!(
        format!("{got:?}"),
        format!("{:?}", vec![None, Some(f64::NAN)])
    );
}

#[test]
fn window_durations() {
    let cases: &[(&str, Option<i64>)] = &[
        ("10s", Some(10_000)),
        ("500ms", Some(500)),
        ("1m", Some(60_000)),
        ("1m30s", Some(90_000)),
        ("1.5h", Some(5_400_000)),
        ("1d", Some(86_400_000)),
        ("1w", Some(604_800_000)),
        ("1y", Some(31_536_000_000)),
        (" 5s ", Some(5_000)),
        ("", None),
        ("10", None),
        ("s", None),
        ("0s", None),
        ("-5s", None),
        ("5x", None),
        ("1..5s", None),
        ("99999999999999y", None),
    ];
    for (text, want) in cases {
        assert_eq!(parse_duration(text), *want, "{text:?}");
    }
}

#[test]
fn no_data_and_empty_input() {
    let input = results(vec![("A", Value::NoData)]);
    assert_same(
        &run(model("1s", "mean", "pad"), &input, range(0, 10_000)),
        &Value::NoData,
    );
    let input = results(vec![("A", Value::Series(vec![]))]);
    assert_same(
        &run(model("1s", "mean", "pad"), &input, range(0, 10_000)),
        &Value::Series(vec![]),
    );
}

#[test]
fn evaluation_errors() {
    let e = super::parse("R", model("10s", "mean", "pad"));
    let series_input = results(vec![(
        "A",
        Value::Series(vec![series(&[("host", "a")], &[(0, Some(1.0))])]),
    )]);
    // The range is shorter than the window.
    let err = evaluate(&e, &series_input, range(0, 5_000)).expect_err("range too short");
    assert!(
        matches!(&err, ExprError::InvalidInput { ref_id, reason } if ref_id == "R" && reason.contains("shorter than the window")),
        "{err:?}"
    );
    // Numbers cannot be resampled.
    let numbers = results(vec![("A", Value::Numbers(vec![num(&[], Some(1.0))]))]);
    let err = evaluate(&e, &numbers, range(0, 60_000)).expect_err("numbers");
    assert!(
        matches!(&err, ExprError::InvalidInput { reason, .. } if reason.contains("can only resample time series")),
        "{err:?}"
    );
    // Too many points.
    let e = super::parse("R", model("1ms", "mean", "pad"));
    let err = evaluate(&e, &series_input, range(0, 86_400_000)).expect_err("too many points");
    assert!(
        matches!(&err, ExprError::InvalidInput { reason, .. } if reason.contains("limit")),
        "{err:?}"
    );
    // Missing input.
    assert_eq!(
        evaluate(&e, &results(vec![]), range(0, 10)),
        Err(ExprError::MissingRef {
            ref_id: "R".into(),
            missing: "A".into()
        })
    );
}

#[test]
fn parse_errors() {
    let err = |m| Expression::parse("R", &m).expect_err("invalid model");
    assert!(matches!(
        err(model("ten seconds", "mean", "pad")),
        ExprError::InvalidField { field, .. } if field == "window"
    ));
    assert!(matches!(
        err(model("10s", "count", "pad")),
        ExprError::UnknownReducer { field, reducer, .. } if field == "downsampler" && reducer == "count"
    ));
    assert!(matches!(
        err(model("10s", "mean", "linear")),
        ExprError::InvalidField { field, reason, .. } if field == "upsampler" && reason.contains("linear")
    ));
    assert!(matches!(
        err(json!({"type": "resample", "expression": "A", "window": "1s", "downsampler": "mean"})),
        ExprError::MissingField { field, .. } if field == "upsampler"
    ));
}
