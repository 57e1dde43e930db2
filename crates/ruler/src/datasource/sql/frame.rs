//! Turning a SQL result into a [`Value`], as Grafana's SQL data sources and server-side
//! expressions do for alerting.
//!
//! * A result with a time column (`time`, or for MySQL also `time_sec`; a timestamp, a date or
//!   epoch seconds, milliseconds or nanoseconds) is time series: the text columns are labels,
//!   each numeric column is a value; one series per label set and value column (Grafana's
//!   "long to wide"), its points sorted by time. With several value columns each series also
//!   gets `__name__` = its column's name, so they stay apart.
//! * Without a time column each row gives one number per numeric column, labelled by the
//!   row's text columns (and `__name__` as above when there are several numeric columns).
//!
//! NULL values are null points or numbers; NULL text is an empty label value; rows with a NULL
//! time are skipped. Timestamp and date columns other than the time column are ignored.
//! Booleans count as 1 and 0. No rows is [`Value::NoData`]. This accepts both `format`s and
//! more shapes than Grafana (which refuses a `time_series` result without a time column, a
//! `table` result with several numeric columns, and labels series with several value columns
//! identically).

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::connect::{Kind, Table};
use crate::data::{Labels, Millis, Number, Series, Value};

/// The label naming a value column when there are several.
const NAME_LABEL: &str = "__name__";

/// Grafana's `epochPrecisionToMS`: seconds (10 digits) and nanoseconds (19 digits) become
/// milliseconds; other magnitudes are taken as milliseconds.
fn epoch_ms(v: f64) -> Millis {
    let magnitude = v.abs();
    if (1e9..1e10).contains(&magnitude) {
        (v * 1e3) as Millis
    } else if (1e18..1e19).contains(&magnitude) {
        (v / 1e6) as Millis
    } else {
        v as Millis
    }
}

/// A timestamp or date as the databases print them (`2024-01-02 03:04:05.123+00`,
/// `2024-01-02 03:04:05`, `2024-01-02`); values without an offset are UTC. `None` for values
/// with no instant, such as MySQL's zero date or PostgreSQL's `infinity`.
fn parse_time(text: &str) -> Option<Millis> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f") {
        return Some(t.and_utc().timestamp_millis());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// A numeric cell: a decimal (`NaN` and infinities included) or a PostgreSQL boolean.
fn parse_number(text: &str) -> Option<f64> {
    match text.trim() {
        "t" | "true" => Some(1.0),
        "f" | "false" => Some(0.0),
        t => t.parse().ok(),
    }
}

/// Converts `table`; `time_columns` are the names a time column may have. The error says
/// why the result is unusable.
pub(super) fn to_value(table: &Table, time_columns: &[&str]) -> Result<Value, String> {
    if table.rows.is_empty() {
        return Ok(Value::NoData);
    }
    // Grafana takes the last column with a time name.
    let time_index = table
        .columns
        .iter()
        .rposition(|c| time_columns.contains(&c.name.as_str()));
    let values: Vec<usize> = (0..table.columns.len())
        .filter(|i| Some(*i) != time_index && table.columns[*i].kind == Kind::Number)
        .collect();
    let labels: Vec<usize> = (0..table.columns.len())
        .filter(|i| Some(*i) != time_index && table.columns[*i].kind == Kind::Text)
        .collect();
    if values.is_empty() {
        return Err("the result has no numeric column to alert on".into());
    }
    let name = |column: usize| (values.len() > 1).then(|| table.columns[column].name.clone());
    let row_labels = |row: &[Option<String>], column: usize| -> Labels {
        let mut l: Labels = labels
            .iter()
            .map(|&i| {
                (
                    table.columns[i].name.clone(),
                    row[i].clone().unwrap_or_default(),
                )
            })
            .collect();
        if let Some(n) = name(column) {
            l.insert(NAME_LABEL.into(), n);
        }
        l
    };
    let number = |row: &[Option<String>], i: usize| -> Result<Option<f64>, String> {
        match &row[i] {
            None => Ok(None),
            Some(t) => parse_number(t)
                .map(Some)
                .ok_or_else(|| format!("column {:?}: invalid number {t:?}", table.columns[i].name)),
        }
    };
    let Some(ti) = time_index else {
        let mut out = Vec::with_capacity(table.rows.len() * values.len());
        for row in &table.rows {
            for &v in &values {
                out.push(Number {
                    labels: row_labels(row, v),
                    value: number(row, v)?,
                });
            }
        }
        return Ok(Value::Numbers(out));
    };
    let time_kind = table.columns[ti].kind;
    let mut series: Vec<Series> = Vec::new();
    let mut index: std::collections::HashMap<Labels, usize> = Default::default();
    for row in &table.rows {
        let Some(raw) = &row[ti] else { continue };
        let unreadable = || {
            format!(
                "column {:?}: cannot read {raw:?} as a time",
                table.columns[ti].name
            )
        };
        let time = match time_kind {
            Kind::Time => match parse_time(raw) {
                Some(t) => t,
                None => continue,
            },
            Kind::Number => parse_number(raw).map(epoch_ms).ok_or_else(unreadable)?,
            Kind::Text => return Err(unreadable()),
        };
        for &v in &values {
            let l = row_labels(row, v);
            let at = *index.entry(l.clone()).or_insert_with(|| {
                series.push(Series {
                    labels: l,
                    points: Vec::new(),
                });
                series.len() - 1
            });
            series[at].points.push((time, number(row, v)?));
        }
    }
    for s in &mut series {
        s.points.sort_by_key(|(t, _)| *t);
    }
    Ok(if series.is_empty() {
        Value::NoData
    } else {
        Value::Series(series)
    })
}

#[cfg(test)]
mod tests {
    use super::super::connect::Column;
    use super::*;

    fn table(cols: &[(&str, Kind)], rows: &[&[Option<&str>]]) -> Table {
        Table {
            columns: cols
                .iter()
                .map(|(n, k)| Column {
                    name: (*n).into(),
                    kind: *k,
                })
                .collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.map(str::to_owned)).collect())
                .collect(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const T: &[&str] = &["time"];

    #[test]
    fn long_rows_become_series_per_label_set() {
        let t = table(
            &[
                ("time", Kind::Time),
                ("host", Kind::Text),
                ("value", Kind::Number),
            ],
            &[
                &[Some("2024-01-01 00:01:00+00"), Some("a"), Some("2")],
                &[Some("2024-01-01 00:00:00+00"), Some("a"), Some("1")],
                &[Some("2024-01-01 00:00:00"), Some("b"), None],
                &[None, Some("c"), Some("9")],
            ],
        );
        let Value::Series(s) = to_value(&t, T).unwrap() else {
            panic!()
        };
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].labels, labels(&[("host", "a")]));
        assert_eq!(
            s[0].points,
            vec![
                (1_704_067_200_000, Some(1.0)),
                (1_704_067_260_000, Some(2.0))
            ]
        );
        assert_eq!(s[1].labels, labels(&[("host", "b")]));
        assert_eq!(s[1].points, vec![(1_704_067_200_000, None)]);
    }

    #[test]
    fn several_value_columns_are_named() {
        let t = table(
            &[
                ("time", Kind::Number),
                ("cpu", Kind::Number),
                ("mem", Kind::Number),
            ],
            &[&[Some("1704067200"), Some("1"), Some("2")]],
        );
        let Value::Series(s) = to_value(&t, T).unwrap() else {
            panic!()
        };
        assert_eq!(s[0].labels, labels(&[("__name__", "cpu")]));
        assert_eq!(s[1].labels, labels(&[("__name__", "mem")]));
        assert_eq!(s[1].points, vec![(1_704_067_200_000, Some(2.0))]);
    }

    #[test]
    fn epoch_precisions() {
        assert_eq!(epoch_ms(1_704_067_200.0), 1_704_067_200_000);
        assert_eq!(epoch_ms(1_704_067_200_123.0), 1_704_067_200_123);
        assert_eq!(epoch_ms(1.704_067_200_123_456_7e18), 1_704_067_200_123);
    }

    #[test]
    fn without_time_rows_are_numbers() {
        let t = table(
            &[
                ("host", Kind::Text),
                ("avg", Kind::Number),
                ("seen", Kind::Time),
            ],
            &[
                &[Some("a"), Some("1.5"), Some("2024-01-01")],
                &[None, Some("t"), None],
            ],
        );
        assert_eq!(
            to_value(&t, T).unwrap(),
            Value::Numbers(vec![
                Number {
                    labels: labels(&[("host", "a")]),
                    value: Some(1.5)
                },
                Number {
                    labels: labels(&[("host", "")]),
                    value: Some(1.0)
                },
            ])
        );
    }

    #[test]
    fn unusable_and_empty() {
        let t = table(&[("host", Kind::Text)], &[&[Some("a")]]);
        assert!(to_value(&t, T).unwrap_err().contains("numeric"));
        let t = table(
            &[("time", Kind::Text), ("v", Kind::Number)],
            &[&[Some("x"), Some("1")]],
        );
        assert!(to_value(&t, T).unwrap_err().contains("time"));
        let t = table(&[("v", Kind::Number)], &[&[Some("abc")]]);
        assert!(to_value(&t, T).unwrap_err().contains("invalid number"));
        assert_eq!(to_value(&Table::default(), T).unwrap(), Value::NoData);
        let t = table(
            &[("time", Kind::Time), ("v", Kind::Number)],
            &[&[None, Some("1")]],
        );
        assert_eq!(to_value(&t, T).unwrap(), Value::NoData);
    }

    #[test]
    fn times_parse() {
        assert_eq!(
            parse_time("2024-01-01 01:00:00+01"),
            Some(1_704_067_200_000)
        );
        assert_eq!(
            parse_time("2024-01-01 00:00:00.25+00:00"),
            Some(1_704_067_200_250)
        );
        assert_eq!(
            parse_time("2024-01-01 00:00:00.123456"),
            Some(1_704_067_200_123)
        );
        assert_eq!(parse_time("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(parse_time("0000-00-00 00:00:00"), None);
        assert_eq!(parse_time("infinity"), None);
    }
}
