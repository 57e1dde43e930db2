//! Grafana's built-in TestData data source (type `grafana-testdata-datasource`, formerly
//! `testdata`), as alert rules see it: [`query`] turns the query model stored in a rule's
//! `data[].model` into a [`Value`].
//!
//! # Scenarios
//!
//! The scenario is the model's `scenarioId` (default `random_walk`), or its `queryType` when
//! that names a Grafana scenario (Grafana routes on it first).
//!
//! | scenario | fields | result |
//! | --- | --- | --- |
//! | `random_walk` | `seriesCount` (1), `startValue` (random in [0,100)), `spread` (1), `noise` (0), `min`, `max`, `dropPercent` or `drop` (0), `labels`, `alias`, `seed` | series |
//! | `csv_metric_values` | `stringInput`, `alias` | one series; no data if blank |
//! | `predictable_pulse` | `pulseWave {timeStep (60), onCount (3), offCount (3), onValue (2), offValue (1)}`, `labels` | one series |
//! | `predictable_csv_wave` | `csvWave [{timeStep (60), valuesCSV, labels, name}]` (default `0,0,2,2,1,1`) | one series per wave; no data if `[]` |
//! | `datapoints_outside_range` | – | one point, 10, an hour before the range |
//! | `no_data_points` | – | no data |
//! | `server_error_500` | `stringInput` | error if `stringInput` is empty, else as `csv_metric_values` (Grafana's "Conditional Error") |
//! | `random_walk_with_error`, `error_with_source` | – | error |
//!
//! Every other scenario (`arrow`, `slow_query`, tables, logs, streaming, simulations, …) and any
//! unknown id is [`QueryError::UnsupportedScenario`] naming it. Unknown fields are ignored; a
//! known field that is `null` counts as missing; one of the wrong type is
//! [`QueryError::InvalidField`] naming it.
//!
//! # Times
//!
//! Random-walk points fall every `interval_ms`, from the range start rounded *up* to a multiple
//! of the interval, while strictly before the range end (Grafana stops before `to` too). The
//! predictable scenarios put points every `timeStep` seconds from the range start rounded
//! *down* to the step (Grafana's way, so the first point may precede the range), also strictly
//! before `to`; their value depends on the timestamp alone, the cycle counted from the Unix
//! epoch, so every instance querying at any time agrees on every point. `csv_metric_values`
//! spreads its values from `from` to `to` inclusive. Series carry at most `max_points` points
//! (0 means [`MAX_POINTS`]), never more than [`MAX_POINTS`].
//!
//! # Random-walk seeding
//!
//! Grafana seeds its random walk with the wall clock; here the walk is a pure function of the
//! request, so HA instances evaluating the same rule at the same tick produce the same data.
//! Series `i` uses a [`rand::rngs::StdRng`] seeded with
//! `seed + i` (wrapping) when the model has an integer `seed` field, otherwise with the 64-bit
//! FNV-1a hash of (refId, `i`, range start rounded up to the interval). The default
//! `startValue` (shared by all series, as in Grafana) comes from a generator seeded the same
//! way with a different tag. Walks are thus equal for equal (refId, aligned start, model) and
//! differ between refIds, series and ticks; with an explicit `seed` they ignore refId and time.
//! `StdRng` is not promised to stay the same across `rand` releases, so instances should run
//! the same build.
//!
//! # Labels
//!
//! `labels` is Grafana's label string (see [`parse_labels`]), applied to every random-walk
//! series with `$seriesIndex` in values replaced by the series index, and to the pulse; each
//! wave has its own. When no series of the result has labels and the series' names are
//! distinct, each series gets `__name__=<name>` ([`NAME_LABEL`]), as Grafana's server-side
//! expressions do for TestData: random-walk series are named `<refId>-series`,
//! `<refId>-series1`, … (or the `alias`), `csv_metric_values` `<refId>-series` (or the
//! alias), the predictable scenarios `Value`. Several series with the same labels (e.g.
//! `seriesCount: 2` with `labels` lacking `$seriesIndex`) stay alike, as in Grafana.

mod labels;
mod model;
mod scenarios;

pub use labels::{NAME_LABEL, parse_labels};

use crate::data::{TimeRange, Value};
use crate::datasource::QueryError;
use labels::{NamedSeries, identify_by_name};
use model::Obj;
use scenarios::Request;

/// The data source type of TestData in current Grafana.
pub const DATASOURCE_TYPE: &str = "grafana-testdata-datasource";

/// The type TestData had before Grafana 10.
pub const LEGACY_DATASOURCE_TYPE: &str = "testdata";

/// Most points a series may have, whatever `max_points` says (Grafana's own limit).
pub const MAX_POINTS: usize = 10_000;

/// Whether `ds_type` is the TestData data source (current or legacy type name).
pub fn is_testdata(ds_type: &str) -> bool {
    ds_type == DATASOURCE_TYPE || ds_type == LEGACY_DATASOURCE_TYPE
}

/// Scenario ids Grafana registers; a `queryType` naming one of them selects it.
const GRAFANA_SCENARIOS: &[&str] = &[
    "annotations",
    "arrow",
    "csv_content",
    "csv_file",
    "csv_metric_values",
    "datapoints_outside_range",
    "error_with_source",
    "exponential_heatmap_bucket_data",
    "flame_graph",
    "grafana_api",
    "linear_heatmap_bucket_data",
    "live",
    "logs",
    "no_data_points",
    "node_graph",
    "predictable_csv_wave",
    "predictable_pulse",
    "random_walk",
    "random_walk_table",
    "random_walk_with_error",
    "raw_frame",
    "server_error_500",
    "simulation",
    "slow_query",
    "steps",
    "streaming_client",
    "table_static",
    "trace",
    "usa",
];

/// The scenario a model asks for.
fn scenario_id<'a>(m: &Obj<'a>) -> Result<&'a str, QueryError> {
    if let Some(query_type) = m.str("queryType")?
        && GRAFANA_SCENARIOS.contains(&query_type)
    {
        return Ok(query_type);
    }
    Ok(match m.str("scenarioId")? {
        None | Some("") => "random_walk",
        Some(id) => id,
    })
}

/// Runs a TestData query: `model` is the query model (`data[].model` of an alert rule), `range`
/// the absolute time range, `interval_ms` the step between random-walk points and `max_points`
/// the most points per series (0 for [`MAX_POINTS`]). See the module docs for scenarios,
/// fields, times and seeding.
pub fn query(
    model: &serde_json::Value,
    range: TimeRange,
    interval_ms: i64,
    max_points: usize,
) -> Result<Value, QueryError> {
    let m = Obj::root(model)?;
    let scenario = scenario_id(&m)?;
    let ref_id = m.str("refId")?.unwrap_or("");
    if range.to < range.from {
        return Err(QueryError::InvalidRequest(format!(
            "time range ends ({}) before it starts ({})",
            range.to, range.from
        )));
    }
    let cap = match max_points {
        0 => MAX_POINTS,
        n => n.min(MAX_POINTS),
    };
    let req = Request {
        ref_id,
        range,
        interval_ms,
        cap,
    };
    let failed = |message: &str| QueryError::ScenarioFailed {
        scenario: scenario.to_owned(),
        message: message.to_owned(),
    };

    let series: Option<Vec<NamedSeries>> = match scenario {
        "random_walk" => Some(scenarios::random_walk(&m, req)?),
        "csv_metric_values" => scenarios::csv_metric_values(&m, req)?,
        "predictable_pulse" => Some(scenarios::predictable_pulse(&m, req)?),
        "predictable_csv_wave" => scenarios::predictable_csv_wave(&m, req)?,
        "datapoints_outside_range" => Some(scenarios::datapoints_outside_range(req)),
        "no_data_points" => None,
        "server_error_500" => match m.str("stringInput")? {
            None | Some("") => return Err(failed("Test Data Panic!")),
            Some(_) => scenarios::csv_metric_values(&m, req)?,
        },
        "random_walk_with_error" => {
            return Err(failed(
                "this is an error and it can include URLs http://grafana.com/",
            ));
        }
        "error_with_source" => {
            let source = m.str("errorSource")?.unwrap_or("plugin");
            return Err(failed(&format!("error (source: {source})")));
        }
        other => return Err(QueryError::UnsupportedScenario(other.to_owned())),
    };
    Ok(match series {
        Some(series) if !series.is_empty() => Value::Series(identify_by_name(series)),
        _ => Value::NoData,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Labels, Millis, Series};
    use serde_json::json;

    const MIN: i64 = 60_000;
    const RANGE: TimeRange = TimeRange {
        from: 100 * MIN,
        to: 110 * MIN,
    };

    fn run(model: serde_json::Value) -> Result<Value, QueryError> {
        query(&model, RANGE, MIN, 1000)
    }

    fn series(v: Value) -> Vec<Series> {
        match v {
            Value::Series(s) => s,
            other => panic!("expected series, got {other:?}"),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn field_of(err: QueryError) -> String {
        match err {
            QueryError::InvalidField { field, .. } => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn type_names() {
        assert!(is_testdata("grafana-testdata-datasource"));
        assert!(is_testdata("testdata"));
        assert!(!is_testdata("prometheus"));
    }

    #[test]
    fn empty_model_is_a_default_random_walk() {
        let s = series(run(json!({"refId": "A"})).unwrap());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].labels, labels(&[(NAME_LABEL, "A-series")]));
        let times: Vec<Millis> = s[0].points.iter().map(|p| p.0).collect();
        assert_eq!(times, (100..110).map(|i| i * MIN).collect::<Vec<_>>());
        assert_eq!(
            run(json!({"refId": "A"})).unwrap(),
            run(json!({"refId": "A", "scenarioId": "random_walk"})).unwrap()
        );
    }

    #[test]
    fn documented_random_walk_model() {
        let model = json!({"refId":"A","scenarioId":"random_walk","seriesCount":2,"alias":"",
            "labels":"host=web01, env=prod, s=$seriesIndex","startValue":10,"min":0,"max":100,
            "spread":1,"noise":0,"drop":0});
        let s = series(run(model.clone()).unwrap());
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1].labels,
            labels(&[("host", "web01"), ("env", "prod"), ("s", "1")])
        );
        assert_eq!(s[0].points[0].1, Some(10.0));
        assert!(
            s.iter()
                .flat_map(|s| &s.points)
                .all(|p| (0.0..=100.0).contains(&p.1.unwrap()))
        );
        assert_eq!(run(model).unwrap(), Value::Series(s), "not deterministic");
    }

    #[test]
    fn unlabelled_series_are_named() {
        let s = series(run(json!({"refId": "B", "seriesCount": 3})).unwrap());
        let names: Vec<&str> = s.iter().map(|s| s.labels[NAME_LABEL].as_str()).collect();
        assert_eq!(names, ["B-series", "B-series1", "B-series2"]);

        let s = series(run(json!({"scenarioId": "predictable_pulse"})).unwrap());
        assert_eq!(s[0].labels, labels(&[(NAME_LABEL, "Value")]));

        // Same alias for every series: names clash, so no labels at all (as in Grafana).
        let s = series(run(json!({"seriesCount": 2, "alias": "x"})).unwrap());
        assert!(s.iter().all(|s| s.labels.is_empty()));
    }

    #[test]
    fn zero_series_is_no_data() {
        assert_eq!(run(json!({"seriesCount": 0})).unwrap(), Value::NoData);
    }

    #[test]
    fn documented_csv_metric_values_model() {
        let s = series(
            run(json!({"refId": "A", "scenarioId": "csv_metric_values",
                "stringInput": "1,20,90,30,5,0", "labels": "a=b"}))
            .unwrap(),
        );
        assert_eq!(s[0].points.len(), 6);
        assert_eq!(s[0].points[0], (100 * MIN, Some(1.0)));
        assert_eq!(s[0].points[5], (110 * MIN, Some(0.0)));
        assert_eq!(s[0].labels, labels(&[(NAME_LABEL, "A-series")]));
        assert_eq!(
            run(json!({"scenarioId": "csv_metric_values"})).unwrap(),
            Value::NoData
        );
    }

    #[test]
    fn documented_pulse_model() {
        let model = json!({"scenarioId":"predictable_pulse","labels":"k=v",
            "pulseWave":{"timeStep":60,"onCount":3,"offCount":3,"onValue":2,"offValue":1}});
        let s = series(run(model).unwrap());
        // 100 min = 16 periods of 6 min + 4 min: indices 4,5,0,1,2,3,4,5,0,1.
        let v: Vec<f64> = s[0].points.iter().map(|p| p.1.unwrap()).collect();
        assert_eq!(v, [1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
        assert_eq!(s[0].labels, labels(&[("k", "v")]));
    }

    #[test]
    fn pulse_agrees_between_instances_and_overlapping_ranges() {
        let model = json!({"scenarioId":"predictable_pulse",
            "pulseWave":{"timeStep":10,"onCount":1,"offCount":2,"onValue":5,"offValue":0}});
        let a = series(query(&model, RANGE, MIN, 0).unwrap());
        let shifted = TimeRange {
            from: RANGE.from + 25_000,
            to: RANGE.to + 25_000,
        };
        let b = series(query(&model, shifted, 15_000, 0).unwrap());
        let common: Vec<_> = b[0]
            .points
            .iter()
            .filter(|p| p.0 < RANGE.to && p.0 >= RANGE.from)
            .collect();
        assert!(!common.is_empty());
        for p in common {
            assert!(a[0].points.contains(p), "{p:?}");
        }
    }

    #[test]
    fn documented_csv_wave_model() {
        let model = json!({"scenarioId":"predictable_csv_wave",
            "csvWave":[{"timeStep":60,"valuesCSV":"0,0,2,2,1,1","labels":"wave=a"},
                       {"timeStep":120,"valuesCSV":"3,4","labels":"wave=b"}]});
        let s = series(run(model).unwrap());
        assert_eq!(s.len(), 2);
        let a: Vec<f64> = s[0].points.iter().map(|p| p.1.unwrap()).collect();
        // Minutes 100..109 mod 6 = 4,5,0,1,2,3,4,5,0,1.
        assert_eq!(a, [1.0, 1.0, 0.0, 0.0, 2.0, 2.0, 1.0, 1.0, 0.0, 0.0]);
        // Every 2 minutes: 100/2 = 50 (even, 3), 51 (4), ...
        let b: Vec<f64> = s[1].points.iter().map(|p| p.1.unwrap()).collect();
        assert_eq!(b, [3.0, 4.0, 3.0, 4.0, 3.0]);
        assert_eq!(s[1].labels, labels(&[("wave", "b")]));
    }

    #[test]
    fn no_data_points() {
        assert_eq!(
            run(json!({"scenarioId": "no_data_points"})).unwrap(),
            Value::NoData
        );
    }

    #[test]
    fn error_scenarios() {
        for model in [
            json!({"scenarioId": "server_error_500"}),
            json!({"scenarioId": "server_error_500", "stringInput": ""}),
        ] {
            let err = run(model).unwrap_err();
            assert!(
                matches!(err, QueryError::ScenarioFailed { ref scenario, .. } if scenario == "server_error_500")
            );
        }
        // With input it is Grafana's "Conditional Error": CSV metric values.
        let ok = run(json!({"scenarioId": "server_error_500", "stringInput": "1,2"})).unwrap();
        assert_eq!(series(ok)[0].points.len(), 2);

        for id in ["random_walk_with_error", "error_with_source"] {
            let err = run(json!({ "scenarioId": id })).unwrap_err();
            assert!(
                matches!(err, QueryError::ScenarioFailed { ref scenario, .. } if scenario == id)
            );
        }
    }

    #[test]
    fn datapoints_outside_range() {
        let s = series(run(json!({"scenarioId": "datapoints_outside_range"})).unwrap());
        assert_eq!(s[0].points, vec![(40 * MIN, Some(10.0))]);
    }

    #[test]
    fn unsupported_scenarios_are_named() {
        for id in ["arrow", "slow_query", "table_static", "no_such_thing"] {
            let err = run(json!({ "scenarioId": id })).unwrap_err();
            assert_eq!(err, QueryError::UnsupportedScenario(id.to_owned()));
            assert!(err.to_string().contains(id));
        }
    }

    #[test]
    fn query_type_selects_a_grafana_scenario_first() {
        let v = run(json!({"queryType": "no_data_points", "scenarioId": "random_walk"})).unwrap();
        assert_eq!(v, Value::NoData);
        // A queryType that is no scenario falls back to scenarioId.
        let v = run(json!({"queryType": "range", "scenarioId": "no_data_points"})).unwrap();
        assert_eq!(v, Value::NoData);
    }

    #[test]
    fn unknown_fields_are_ignored_and_nulls_are_missing() {
        let plain = run(json!({"refId": "A", "seed": 1})).unwrap();
        let noisy = run(json!({"refId": "A", "seed": 1, "datasource": {"uid": "x"},
            "intervalMs": 1000, "hide": false, "whatever": [1, 2],
            "min": null, "labels": null, "seriesCount": null}))
        .unwrap();
        assert_eq!(plain, noisy);
    }

    #[test]
    fn wrong_field_types_name_the_field() {
        let cases = [
            (json!({"seriesCount": "2"}), "seriesCount"),
            (json!({"startValue": true}), "startValue"),
            (json!({"spread": [1]}), "spread"),
            (json!({"labels": 5}), "labels"),
            (json!({"labels": "oops"}), "labels"),
            (json!({"seed": "x"}), "seed"),
            (json!({"drop": "10"}), "drop"),
            (json!({"scenarioId": 3}), "scenarioId"),
            (json!({"refId": 1}), "refId"),
            (json!({"queryType": {}}), "queryType"),
            (
                json!({"scenarioId": "predictable_pulse", "pulseWave": {"onCount": "3"}}),
                "pulseWave.onCount",
            ),
            (
                json!({"scenarioId": "predictable_csv_wave", "csvWave": [{"valuesCSV": 1}]}),
                "csvWave[0].valuesCSV",
            ),
            (
                json!({"scenarioId": "csv_metric_values", "stringInput": 12}),
                "stringInput",
            ),
        ];
        for (model, want) in cases {
            let err = run(model.clone()).unwrap_err();
            assert!(err.to_string().contains(want), "{model}: {err}");
            assert_eq!(field_of(err), want, "{model}");
        }
    }

    #[test]
    fn bad_requests() {
        assert_eq!(
            query(&json!([]), RANGE, MIN, 10).unwrap_err(),
            QueryError::NotAnObject("an array")
        );
        let backwards = TimeRange { from: 10, to: 5 };
        assert!(matches!(
            query(&json!({}), backwards, MIN, 10).unwrap_err(),
            QueryError::InvalidRequest(_)
        ));
        assert!(matches!(
            query(&json!({}), RANGE, -1, 10).unwrap_err(),
            QueryError::InvalidRequest(_)
        ));
    }

    #[test]
    fn max_points_caps_and_zero_means_the_limit() {
        let s = series(query(&json!({}), RANGE, MIN, 3).unwrap());
        assert_eq!(s[0].points.len(), 3);
        let wide = TimeRange {
            from: 0,
            to: 20_000 * MIN,
        };
        let s = series(query(&json!({}), wide, MIN, 0).unwrap());
        assert_eq!(s[0].points.len(), MAX_POINTS);
        let s = series(query(&json!({}), wide, MIN, 50_000).unwrap());
        assert_eq!(s[0].points.len(), MAX_POINTS);
    }
}
