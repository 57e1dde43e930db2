//! Group labels and group keys (`getGroupLabels`, `aggrGroup.GroupKey`).

use super::route::{GroupBy, Route};
use crate::labels::LabelSet;

/// The labels of `alert_labels` that `route` groups by: the `group_by` labels present on the
/// alert, every label for `...`, and `{}` for an empty `group_by` (one group per route).
pub fn group_labels(route: &Route, alert_labels: &LabelSet) -> LabelSet {
    match route.group_by() {
        GroupBy::All => alert_labels.clone(),
        GroupBy::Labels(names) => alert_labels
            .iter()
            .filter(|(name, _)| names.iter().any(|n| n == name))
            .collect(),
    }
}

/// The aggregation group's `GroupKey`: `route.key() + ":" + group_labels.String()`, e.g.
/// `{}/{severity="page"}:{cluster="eu"}`. It is byte-identical to Alertmanager's.
pub fn group_key(route: &Route, group_labels: &LabelSet) -> String {
    format!("{}:{}", route.key(), group_labels)
}
