//! Grafana-managed alert rules: the definition Watchkeeper stores ([`Rule`]), the shapes of
//! Grafana's APIs and provisioning files that carry it ([`api`], [`provisioning`]), and
//! validation with errors that name the field ([`validate`]).

pub mod api;
pub mod provisioning;
pub mod validate;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::state::{ExecErrState, NoDataState, RuleSettings};

/// A query's time range relative to the evaluation, in seconds before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RelativeTimeRange {
    /// Start, seconds before the evaluation.
    #[serde(default)]
    pub from: i64,
    /// End, seconds before the evaluation.
    #[serde(default)]
    pub to: i64,
}

/// One entry of a rule's `data`: a query to a data source or an expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertQuery {
    /// The name results are known by.
    pub ref_id: String,
    /// Data-source specific query type.
    #[serde(default)]
    pub query_type: String,
    /// The time range queried.
    #[serde(default)]
    pub relative_time_range: RelativeTimeRange,
    /// The data source (`__expr__` for expressions).
    #[serde(default, rename = "datasourceUid")]
    pub datasource_uid: String,
    /// The query or expression model.
    #[serde(default)]
    pub model: serde_json::Value,
}

/// A rule definition as stored (the JSON in `alert_rule.definition`); where it lives (folder,
/// group, interval) and its version are kept beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Unique id within the organization.
    pub uid: String,
    /// Title (the `alertname` label of its alerts).
    pub title: String,
    /// The refId whose result decides firing.
    pub condition: String,
    /// Queries and expressions.
    pub data: Vec<AlertQuery>,
    /// What no data means.
    #[serde(default)]
    pub no_data_state: NoDataState,
    /// What an error means.
    #[serde(default)]
    pub exec_err_state: ExecErrState,
    /// `for`, in milliseconds.
    #[serde(default)]
    pub for_ms: u64,
    /// `keep_firing_for`, in milliseconds.
    #[serde(default)]
    pub keep_firing_for_ms: u64,
    /// Labels added to its alerts (templated).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations of its alerts (templated).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Paused: not evaluated.
    #[serde(default)]
    pub is_paused: bool,
    /// Missed evaluations before a vanished series resolves (`None`: 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_series_evals_to_resolve: Option<u32>,
}

impl Rule {
    /// The settings the state machine needs, for a group evaluated every `interval`.
    pub fn settings(&self, interval: Duration) -> RuleSettings {
        RuleSettings {
            interval: millis(interval),
            for_duration: i64::try_from(self.for_ms).unwrap_or(i64::MAX),
            keep_firing_for: i64::try_from(self.keep_firing_for_ms).unwrap_or(i64::MAX),
            no_data_state: self.no_data_state,
            exec_err_state: self.exec_err_state,
            missing_series_evals_to_resolve: self.missing_series_evals_to_resolve,
        }
    }

    /// The stored JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain data (strings, numbers, maps, JSON values) cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored JSON.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Where a rule lives and how often its group runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// Organization.
    pub org_id: i64,
    /// The folder's uid.
    pub folder_uid: String,
    /// The group's name.
    pub group: String,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Formats milliseconds like Prometheus durations (`5m`, `1h30m`, `0s`).
pub fn format_ms(ms: u64) -> String {
    wk_alertmanager::config::format_model_duration(Duration::from_millis(ms))
}

/// Parses a Prometheus duration (`5m`, `1h30m`, `0`) into milliseconds.
pub fn parse_ms(text: &str) -> Option<u64> {
    wk_alertmanager::config::parse_model_duration(text)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}
