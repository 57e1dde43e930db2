//! Decoding Prometheus' query API responses into [`Value`]s, as Grafana's data source and
//! server-side expressions see them: a range query's matrix is series, an instant query's
//! vector is numbers, a scalar is one number without labels, an empty result is no data.
//! Labels are kept as Prometheus gives them, `__name__` included.

use serde::Deserialize;

use crate::data::{Labels, Millis, Number, Series, Value};

/// The envelope of every API response.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    pub status: String,
    #[serde(default)]
    pub data: Option<Data>,
    #[serde(default, rename = "errorType")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// `data` of a query response.
#[derive(Debug, Deserialize)]
pub(crate) struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: serde_json::Value,
}

/// `[<unix seconds>, "<value>"]`.
type Pair = (f64, String);

#[derive(Debug, Deserialize)]
struct MatrixSeries {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    values: Vec<Pair>,
    #[serde(default)]
    histograms: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct VectorSample {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    value: Option<Pair>,
    #[serde(default)]
    histogram: Option<serde_json::Value>,
}

impl Envelope {
    /// The error Prometheus reported (`errorType: error`), if any.
    pub(crate) fn error_message(&self) -> Option<String> {
        if self.status == "success" && self.error.is_none() {
            return None;
        }
        let error = self.error.as_deref().unwrap_or("unknown error");
        Some(match self.error_type.as_deref() {
            Some(t) if !t.is_empty() => format!("{t}: {error}"),
            _ => error.to_owned(),
        })
    }
}

/// Milliseconds from Prometheus' float seconds.
fn millis(seconds: f64) -> Millis {
    (seconds * 1000.0).round() as Millis
}

/// A sample value: a decimal, `NaN`, `+Inf` or `-Inf`.
fn sample_value(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .map_err(|_| format!("invalid sample value {text:?}"))
}

fn histograms_unsupported() -> String {
    "the query returned native histogram samples, which alerting cannot use; \
     apply histogram_quantile, histogram_count or similar"
        .into()
}

/// Converts `data` into a [`Value`]; an error message when it cannot.
pub(crate) fn to_value(data: Data) -> Result<Value, String> {
    let Data {
        result_type,
        result,
    } = data;
    let bad = |e: serde_json::Error| format!("invalid {result_type} result: {e}");
    match result_type.as_str() {
        "matrix" => {
            let result: Vec<MatrixSeries> = serde_json::from_value(result).map_err(bad)?;
            let mut out = Vec::with_capacity(result.len());
            for s in result {
                if !s.histograms.is_empty() {
                    return Err(histograms_unsupported());
                }
                let points = s
                    .values
                    .iter()
                    .map(|(t, v)| Ok((millis(*t), Some(sample_value(v)?))))
                    .collect::<Result<Vec<_>, String>>()?;
                out.push(Series {
                    labels: s.metric,
                    points,
                });
            }
            Ok(if out.is_empty() {
                Value::NoData
            } else {
                Value::Series(out)
            })
        }
        "vector" => {
            let result: Vec<VectorSample> = serde_json::from_value(result).map_err(bad)?;
            let mut out = Vec::with_capacity(result.len());
            for s in result {
                let value = match (s.value, s.histogram) {
                    (Some((_, v)), _) => sample_value(&v)?,
                    (None, Some(_)) => return Err(histograms_unsupported()),
                    (None, None) => return Err("vector sample without a value".into()),
                };
                out.push(Number {
                    labels: s.metric,
                    value: Some(value),
                });
            }
            Ok(if out.is_empty() {
                Value::NoData
            } else {
                Value::Numbers(out)
            })
        }
        "scalar" => {
            let (_, v): Pair = serde_json::from_value(result).map_err(bad)?;
            Ok(Value::Numbers(vec![Number {
                labels: Labels::new(),
                value: Some(sample_value(&v)?),
            }]))
        }
        "string" => Err("the query returned a string, which alerting cannot use".into()),
        other => Err(format!("unknown result type {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: serde_json::Value) -> Data {
        serde_json::from_value(v).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn matrix_is_series_with_name_label() {
        let v = to_value(data(json!({"resultType": "matrix", "result": [
            {"metric": {"__name__": "up", "job": "p"}, "values": [[1700000000.5, "1"], [1700000001, "NaN"]]}
        ]})))
        .unwrap();
        let Value::Series(s) = v else { panic!("{v:?}") };
        assert_eq!(s[0].labels, labels(&[("__name__", "up"), ("job", "p")]));
        assert_eq!(s[0].points[0], (1_700_000_000_500, Some(1.0)));
        assert!(s[0].points[1].1.unwrap().is_nan());
    }

    #[test]
    fn vector_is_numbers_and_special_values_parse() {
        let v = to_value(data(json!({"resultType": "vector", "result": [
            {"metric": {"a": "1"}, "value": [1, "+Inf"]},
            {"metric": {"a": "2"}, "value": [1, "-Inf"]},
            {"metric": {}, "value": [1, "2.5e3"]}
        ]})))
        .unwrap();
        let Value::Numbers(n) = v else {
            panic!("{v:?}")
        };
        assert_eq!(n[0].value, Some(f64::INFINITY));
        assert_eq!(n[1].value, Some(f64::NEG_INFINITY));
        assert_eq!(n[2].value, Some(2500.0));
        assert!(n[2].labels.is_empty());
    }

    #[test]
    fn empty_results_are_no_data() {
        for t in ["matrix", "vector"] {
            assert_eq!(
                to_value(data(json!({"resultType": t, "result": []}))).unwrap(),
                Value::NoData
            );
        }
    }

    #[test]
    fn scalar_is_one_unlabelled_number() {
        let v = to_value(data(json!({"resultType": "scalar", "result": [1, "42"]}))).unwrap();
        assert_eq!(
            v,
            Value::Numbers(vec![Number {
                labels: Labels::new(),
                value: Some(42.0)
            }])
        );
    }

    #[test]
    fn unusable_results() {
        let e = to_value(data(json!({"resultType": "string", "result": [1, "x"]}))).unwrap_err();
        assert!(e.contains("string"), "{e}");
        let e = to_value(data(json!({"resultType": "vector", "result": [
            {"metric": {}, "histogram": [1, {"count": "1"}]}
        ]})))
        .unwrap_err();
        assert!(e.contains("histogram"), "{e}");
        let e = to_value(data(
            json!({"resultType": "vector", "result": [{"metric": {}, "value": [1, "x"]}]}),
        ))
        .unwrap_err();
        assert!(e.contains("invalid sample value"), "{e}");
    }

    #[test]
    fn error_envelope() {
        let e: Envelope = serde_json::from_value(
            json!({"status": "error", "errorType": "bad_data", "error": "parse error"}),
        )
        .unwrap();
        assert_eq!(e.error_message().unwrap(), "bad_data: parse error");
        let ok: Envelope = serde_json::from_value(
            json!({"status": "success", "data": {"resultType": "vector", "result": []}}),
        )
        .unwrap();
        assert_eq!(ok.error_message(), None);
    }
}
