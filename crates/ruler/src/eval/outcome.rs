//! From the condition's result to outcomes: every number is one label set, firing when it is
//! not zero, Normal at zero, NoData when null; nothing at all is NoData; a time series is an
//! error (only reduced data can be alerted on). Each outcome carries the numbers of every refId
//! that belong to its label set, for `$values` in templates.

use std::collections::BTreeMap;

use crate::data::{Labels, Number, Results, Value};
use crate::state::Outcome;

/// One outcome of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Result {
    /// The label set the condition produced (the rule's own labels not yet added).
    pub labels: Labels,
    /// What the condition said.
    pub outcome: Outcome,
    /// Values by refId: the matching number's labels and value.
    pub values: BTreeMap<String, (Labels, Option<f64>)>,
}

impl Result {
    /// One Error outcome without labels.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            labels: Labels::new(),
            outcome: Outcome::Error(message.into()),
            values: BTreeMap::new(),
        }
    }

    fn no_data() -> Self {
        Self {
            labels: Labels::new(),
            outcome: Outcome::NoData,
            values: BTreeMap::new(),
        }
    }
}

/// Whether `small` is a subset of `big`.
fn subset(small: &Labels, big: &Labels) -> bool {
    small.iter().all(|(k, v)| big.get(k) == Some(v))
}

/// The values of every refId whose result holds a number for `labels`.
fn values_for(labels: &Labels, results: &Results) -> BTreeMap<String, (Labels, Option<f64>)> {
    let mut values = BTreeMap::new();
    for (ref_id, value) in results {
        match value {
            Value::Numbers(numbers) => {
                let found = numbers
                    .iter()
                    .find(|n| n.labels == *labels)
                    .or_else(|| numbers.iter().find(|n| subset(&n.labels, labels)));
                if let Some(n) = found {
                    values.insert(ref_id.clone(), (n.labels.clone(), n.value));
                }
            }
            Value::Scalar(v) => {
                values.insert(ref_id.clone(), (Labels::new(), *v));
            }
            Value::Series(_) | Value::NoData => {}
        }
    }
    values
}

fn from_number(n: &Number, results: &Results) -> Result {
    let outcome = match n.value {
        None => Outcome::NoData,
        Some(0.0) => Outcome::Normal,
        Some(_) => Outcome::Alerting,
    };
    Result {
        labels: n.labels.clone(),
        outcome,
        values: values_for(&n.labels, results),
    }
}

/// The outcomes of condition `condition` given every refId's result.
pub fn outcomes(condition: &str, results: &Results) -> Vec<Result> {
    match results.get(condition) {
        None => vec![Result::error(format!(
            "the condition {condition:?} produced no result"
        ))],
        Some(Value::NoData) => vec![Result::no_data()],
        Some(Value::Scalar(v)) => vec![from_number(
            &Number {
                labels: Labels::new(),
                value: *v,
            },
            results,
        )],
        Some(Value::Numbers(numbers)) if numbers.is_empty() => vec![Result::no_data()],
        Some(Value::Numbers(numbers)) => numbers.iter().map(|n| from_number(n, results)).collect(),
        Some(Value::Series(_)) => vec![Result::error(format!(
            "invalid format of evaluation results for the alert definition {condition}: looks \
             like time series data, only reduced data can be alerted on"
        ))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn number(l: &[(&str, &str)], v: Option<f64>) -> Number {
        Number {
            labels: labels(l),
            value: v,
        }
    }

    #[test]
    fn numbers_become_outcomes_with_their_values() {
        let mut results = Results::new();
        results.insert(
            "B".into(),
            Value::Numbers(vec![
                number(&[("host", "a")], Some(91.0)),
                number(&[("host", "b")], Some(3.0)),
                number(&[("host", "c")], None),
            ]),
        );
        results.insert(
            "C".into(),
            Value::Numbers(vec![
                number(&[("host", "a")], Some(1.0)),
                number(&[("host", "b")], Some(0.0)),
                number(&[("host", "c")], None),
            ]),
        );
        let got = outcomes("C", &results);
        let states: Vec<_> = got.iter().map(|r| r.outcome.clone()).collect();
        assert_eq!(
            states,
            [Outcome::Alerting, Outcome::Normal, Outcome::NoData]
        );
        assert_eq!(got[0].values["B"], (labels(&[("host", "a")]), Some(91.0)));
        assert_eq!(got[1].values["B"].1, Some(3.0));
    }

    #[test]
    fn no_data_series_and_missing_condition() {
        let mut results = Results::new();
        results.insert("A".into(), Value::NoData);
        results.insert("S".into(), Value::Series(vec![]));
        results.insert("E".into(), Value::Numbers(vec![]));
        assert_eq!(outcomes("A", &results)[0].outcome, Outcome::NoData);
        assert_eq!(outcomes("E", &results)[0].outcome, Outcome::NoData);
        assert!(
            matches!(outcomes("S", &results)[0].outcome, Outcome::Error(ref m) if m.contains("time series"))
        );
        assert!(matches!(
            outcomes("Z", &results)[0].outcome,
            Outcome::Error(_)
        ));
    }

    #[test]
    fn a_scalar_condition_has_no_labels() {
        let mut results = Results::new();
        results.insert("C".into(), Value::Scalar(Some(2.0)));
        let got = outcomes("C", &results);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].outcome, Outcome::Alerting);
        assert!(got[0].labels.is_empty());
    }

    #[test]
    fn a_subset_number_supplies_the_value() {
        let mut results = Results::new();
        results.insert("T".into(), Value::Numbers(vec![number(&[], Some(5.0))]));
        results.insert(
            "C".into(),
            Value::Numbers(vec![number(&[("host", "a")], Some(1.0))]),
        );
        assert_eq!(outcomes("C", &results)[0].values["T"].1, Some(5.0));
    }
}
