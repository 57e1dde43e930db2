//! TestData's label string (`host=web01, env=prod`, also `{job="foo", instance="bar"}`) and how
//! series get told apart: series names, and the `__name__` label Grafana's server-side
//! expressions add when no series of a TestData result has labels.

use std::collections::HashSet;

use crate::data::{Labels, Series};
use crate::datasource::QueryError;

/// The label Grafana sets to a series' name when no series of the result has labels.
pub const NAME_LABEL: &str = "__name__";

/// The placeholder replaced by the series index in label values.
const SERIES_INDEX: &str = "$seriesIndex";

/// Parses a label string the way Grafana's TestData does, for the series at `series_index`.
///
/// Any `{`/`}` at either end is dropped; a string shorter than two bytes after that is no
/// labels. The rest is split on `,`; each part is `key=value`, split at the first `=`, the key
/// and value trimmed of whitespace, the value also of `"` at either end, and `$seriesIndex` in a
/// value replaced by `series_index`. A later duplicate key wins. There is no escaping: a comma
/// always separates. Unlike Grafana, blank parts (`a=b,`) are skipped, and a part without `=` or
/// with an empty key is an error (Grafana panics or keeps an empty key); `field` names the
/// field in that error.
pub(super) fn parse_labels_field(
    text: &str,
    series_index: usize,
    field: &str,
) -> Result<Labels, QueryError> {
    let mut labels = Labels::new();
    let text = text.trim_matches(|c| c == '{' || c == '}');
    if text.len() < 2 {
        return Ok(labels);
    }
    for part in text.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = part.split_once('=') else {
            return Err(QueryError::invalid_field(
                field,
                format!("label {:?} is not of the form key=value", part.trim()),
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(QueryError::invalid_field(
                field,
                format!("label {:?} has an empty name", part.trim()),
            ));
        }
        let value = value.trim().trim_matches('"');
        let value = value.replace(SERIES_INDEX, &series_index.to_string());
        labels.insert(key.to_owned(), value);
    }
    Ok(labels)
}

/// Parses a TestData label string (the model's `labels` field) for the series at
/// `series_index`; errors name the field `labels`.
pub fn parse_labels(text: &str, series_index: usize) -> Result<Labels, QueryError> {
    parse_labels_field(text, series_index, "labels")
}

/// The name Grafana gives the `index`th series of a query: the alias, or `<refId>-series`
/// with the index appended from the second series on; the aliases `__server_names` and
/// `__house_locations` pick from fixed lists while they last.
pub(super) fn series_name(ref_id: &str, alias: &str, index: usize) -> String {
    let from_list = match alias {
        "" => return series_default_name(ref_id, index),
        "__server_names" => SERVER_NAMES.get(index),
        "__house_locations" => HOUSE_LOCATIONS.get(index),
        _ => None,
    };
    from_list.map_or_else(|| alias.to_owned(), |name| (*name).to_owned())
}

fn series_default_name(ref_id: &str, index: usize) -> String {
    if index == 0 {
        format!("{ref_id}-series")
    } else {
        format!("{ref_id}-series{index}")
    }
}

/// A series and the name of the data frame field it came from in Grafana.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NamedSeries {
    /// The field name (used only when no series has labels).
    pub(super) name: String,
    /// The series.
    pub(super) series: Series,
}

/// What Grafana's server-side expressions do to a TestData result: when no series has labels
/// and every series has a distinct, non-empty name, each series gets the label
/// `__name__=<name>`, so that the series can be told apart; otherwise labels stay as they are.
pub(super) fn identify_by_name(named: Vec<NamedSeries>) -> Vec<Series> {
    let unlabelled = named.iter().all(|n| n.series.labels.is_empty());
    let mut seen = HashSet::new();
    let unique = named
        .iter()
        .all(|n| !n.name.is_empty() && seen.insert(n.name.as_str()));
    let rename = unlabelled && unique;
    named
        .into_iter()
        .map(|NamedSeries { name, mut series }| {
            if rename {
                series.labels.insert(NAME_LABEL.to_owned(), name);
            }
            series
        })
        .collect()
}

const SERVER_NAMES: &[&str] = &[
    "Backend-ops-01",
    "Backend-ops-02",
    "Backend-ops-03",
    "Backend-ops-04",
    "Frontend-web-01",
    "Frontend-web-02",
    "Frontend-web-03",
    "Frontend-web-04",
    "MySQL-01",
    "MySQL-02",
    "MySQL-03",
    "MySQL-04",
    "Postgres-01",
    "Postgres-02",
    "Postgres-03",
    "Postgres-04",
    "DB-01",
    "DB-02",
    "SAN-01",
    "SAN-02",
    "SAN-02",
    "SAN-04",
    "Kaftka-01",
    "Kaftka-02",
    "Kaftka-03",
    "Zookeeper-01",
    "Zookeeper-02",
    "Zookeeper-03",
    "Zookeeper-04",
];

const HOUSE_LOCATIONS: &[&str] = &[
    "Cellar",
    "Living room",
    "Porch",
    "Bedroom",
    "Guest room",
    "Kitchen",
    "Playroom",
    "Bathroom",
    "Outside",
    "Roof",
    "Terrace",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn plain_pairs() {
        assert_eq!(
            parse_labels("host=web01, env=prod", 0).unwrap(),
            labels(&[("host", "web01"), ("env", "prod")])
        );
    }

    #[test]
    fn braces_and_quotes() {
        assert_eq!(
            parse_labels(r#"{job="foo", instance="bar"}"#, 0).unwrap(),
            labels(&[("job", "foo"), ("instance", "bar")])
        );
        assert_eq!(
            parse_labels(r#"job="foo""#, 0).unwrap(),
            labels(&[("job", "foo")])
        );
    }

    #[test]
    fn empty_and_tiny_strings_are_no_labels() {
        assert!(parse_labels("", 0).unwrap().is_empty());
        assert!(parse_labels("{}", 0).unwrap().is_empty());
        assert!(parse_labels("x", 0).unwrap().is_empty());
    }

    #[test]
    fn series_index_is_templated_in_values_only() {
        assert_eq!(
            parse_labels("series=s$seriesIndex, $seriesIndex=v", 3).unwrap(),
            labels(&[("series", "s3"), ("$seriesIndex", "v")])
        );
    }

    #[test]
    fn value_keeps_later_equals_signs_and_duplicates_take_the_last() {
        assert_eq!(
            parse_labels("q=a=b, k=1, k=2", 0).unwrap(),
            labels(&[("q", "a=b"), ("k", "2")])
        );
    }

    #[test]
    fn blank_parts_are_skipped() {
        assert_eq!(
            parse_labels("a=b, ,c=d,", 0).unwrap(),
            labels(&[("a", "b"), ("c", "d")])
        );
    }

    #[test]
    fn bad_label_strings_name_the_field() {
        for bad in ["nonsense", "a=b, c", "=x", "{ =x }"] {
            let err = parse_labels(bad, 0).unwrap_err();
            assert!(
                matches!(err, QueryError::InvalidField { ref field, .. } if field == "labels"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn series_names() {
        assert_eq!(series_name("A", "", 0), "A-series");
        assert_eq!(series_name("A", "", 2), "A-series2");
        assert_eq!(series_name("A", "cpu", 2), "cpu");
        assert_eq!(series_name("A", "__server_names", 1), "Backend-ops-02");
        assert_eq!(series_name("A", "__house_locations", 0), "Cellar");
        assert_eq!(
            series_name("A", "__house_locations", 99),
            "__house_locations"
        );
    }

    fn named(name: &str, l: Labels) -> NamedSeries {
        NamedSeries {
            name: name.to_owned(),
            series: Series {
                labels: l,
                points: vec![],
            },
        }
    }

    #[test]
    fn unlabelled_unique_names_become_name_labels() {
        let out = identify_by_name(vec![
            named("A-series", Labels::new()),
            named("A-series1", Labels::new()),
        ]);
        assert_eq!(out[0].labels, labels(&[(NAME_LABEL, "A-series")]));
        assert_eq!(out[1].labels, labels(&[(NAME_LABEL, "A-series1")]));
    }

    #[test]
    fn labels_or_clashing_names_are_left_alone() {
        let out = identify_by_name(vec![
            named("A-series", labels(&[("a", "1")])),
            named("A-series1", Labels::new()),
        ]);
        assert_eq!(out[0].labels, labels(&[("a", "1")]));
        assert!(out[1].labels.is_empty());

        let out = identify_by_name(vec![
            named("Value", Labels::new()),
            named("Value", Labels::new()),
        ]);
        assert!(out.iter().all(|s| s.labels.is_empty()));

        let out = identify_by_name(vec![named("", Labels::new())]);
        assert!(out[0].labels.is_empty());
    }
}
