//! The JSON of Grafana's ruler API (`/api/ruler/grafana/api/v1/rules`): a rule group as posted
//! (`PostableRuleGroupConfig`) and as returned (`GettableRuleGroupConfig`), and their
//! conversion to and from [`Rule`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validate::RuleError;
use super::{AlertQuery, Rule, format_ms, parse_ms};
use crate::state::{ExecErrState, NoDataState};

/// A rule group as posted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostableRuleGroup {
    /// The group's name.
    pub name: String,
    /// Evaluation interval (`1m`); empty for the default.
    #[serde(default)]
    pub interval: Option<String>,
    /// The rules, in order.
    #[serde(default)]
    pub rules: Vec<PostableRuleNode>,
    /// Data-source rules only; must be absent or empty here.
    #[serde(default)]
    pub source_tenants: Option<Vec<String>>,
}

/// One rule of a posted group.
#[derive(Debug, Clone, Deserialize)]
pub struct PostableRuleNode {
    /// `for` duration.
    #[serde(default, rename = "for")]
    pub for_duration: Option<String>,
    /// `keep_firing_for` duration.
    #[serde(default)]
    pub keep_firing_for: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations.
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The Grafana-managed part (required here).
    #[serde(default)]
    pub grafana_alert: Option<PostableGrafanaRule>,
    /// Data-source managed rules' expression: not accepted for Grafana rules.
    #[serde(default)]
    pub expr: Option<String>,
}

/// The Grafana-managed part of a posted rule.
#[derive(Debug, Clone, Deserialize)]
pub struct PostableGrafanaRule {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Condition refId.
    #[serde(default)]
    pub condition: String,
    /// Queries and expressions.
    #[serde(default)]
    pub data: Vec<AlertQuery>,
    /// Existing rule's uid (empty: a new rule).
    #[serde(default)]
    pub uid: String,
    /// What no data means (default NoData).
    #[serde(default)]
    pub no_data_state: Option<String>,
    /// What an error means (default Error).
    #[serde(default)]
    pub exec_err_state: Option<String>,
    /// Paused.
    #[serde(default)]
    pub is_paused: bool,
    /// Missed evaluations before a vanished series resolves.
    #[serde(default)]
    pub missing_series_evals_to_resolve: Option<u32>,
    /// Simplified routing: not supported.
    #[serde(default)]
    pub notification_settings: Option<serde_json::Value>,
}

/// A rule group as returned.
#[derive(Debug, Clone, Serialize)]
pub struct GettableRuleGroup {
    /// The group's name.
    pub name: String,
    /// Evaluation interval (`1m`).
    pub interval: String,
    /// The rules, in order.
    pub rules: Vec<GettableRuleNode>,
}

/// One rule of a returned group.
#[derive(Debug, Clone, Serialize)]
pub struct GettableRuleNode {
    /// Always empty for Grafana rules.
    pub expr: String,
    /// `for` duration.
    #[serde(rename = "for")]
    pub for_duration: String,
    /// `keep_firing_for` duration.
    pub keep_firing_for: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// The Grafana-managed part.
    pub grafana_alert: GettableGrafanaRule,
}

/// The Grafana-managed part of a returned rule.
#[derive(Debug, Clone, Serialize)]
pub struct GettableGrafanaRule {
    /// Organization.
    #[serde(rename = "orgId")]
    pub org_id: i64,
    /// Title.
    pub title: String,
    /// Condition refId.
    pub condition: String,
    /// Queries and expressions.
    pub data: Vec<AlertQuery>,
    /// Last change (RFC 3339).
    pub updated: String,
    /// Evaluation interval in seconds.
    #[serde(rename = "intervalSeconds")]
    pub interval_seconds: i64,
    /// Version.
    pub version: i64,
    /// Unique id.
    pub uid: String,
    /// The folder's uid.
    pub namespace_uid: String,
    /// The group.
    pub rule_group: String,
    /// What no data means.
    pub no_data_state: NoDataState,
    /// What an error means.
    pub exec_err_state: ExecErrState,
    /// Paused.
    pub is_paused: bool,
    /// Provisioned from a file (`file`) or not (empty).
    pub provenance: String,
}

/// A duration field, or an error naming it.
pub(crate) fn duration_field(field: &str, value: Option<&str>) -> Result<u64, RuleError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(0),
        Some(v) => {
            parse_ms(v).ok_or_else(|| RuleError::new(field, format!("invalid duration {v:?}")))
        }
    }
}

/// A state-mode field, or an error naming it and the allowed values.
pub(crate) fn mode_field<T: std::str::FromStr + Default>(
    field: &str,
    value: Option<&str>,
    allowed: &str,
) -> Result<T, RuleError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(T::default()),
        Some(v) => v
            .parse()
            .map_err(|_| RuleError::new(field, format!("{v:?} is not one of {allowed}"))),
    }
}

/// The text fields of a rule as an API or a file gives them, with the names those fields have
/// there (for errors): the modes and durations still to be parsed.
pub(crate) struct RuleText<'a> {
    /// `(field name, value)` of the no-data mode.
    pub(crate) no_data_state: (String, Option<&'a str>),
    /// `(field name, value)` of the error mode.
    pub(crate) exec_err_state: (String, Option<&'a str>),
    /// `(field name, value)` of `for`.
    pub(crate) for_duration: (String, Option<&'a str>),
    /// `(field name, value)` of `keep_firing_for`.
    pub(crate) keep_firing_for: (String, Option<&'a str>),
}

impl RuleText<'_> {
    /// Parses the fields into `rule` (whose other fields are already set).
    pub(crate) fn apply(self, mut rule: Rule) -> Result<Rule, RuleError> {
        rule.no_data_state = mode_field(
            &self.no_data_state.0,
            self.no_data_state.1,
            "Alerting, NoData, OK, KeepLast",
        )?;
        rule.exec_err_state = mode_field(
            &self.exec_err_state.0,
            self.exec_err_state.1,
            "Alerting, Error, OK, KeepLast",
        )?;
        rule.for_ms = duration_field(&self.for_duration.0, self.for_duration.1)?;
        rule.keep_firing_for_ms = duration_field(&self.keep_firing_for.0, self.keep_firing_for.1)?;
        Ok(rule)
    }
}

/// A rule with the given fields and default modes and durations.
pub(crate) fn plain_rule(
    uid: String,
    title: String,
    condition: String,
    data: Vec<AlertQuery>,
) -> Rule {
    Rule {
        uid,
        title,
        condition,
        data,
        no_data_state: NoDataState::default(),
        exec_err_state: ExecErrState::default(),
        for_ms: 0,
        keep_firing_for_ms: 0,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        is_paused: false,
        missing_series_evals_to_resolve: None,
    }
}

impl PostableRuleGroup {
    /// The group's interval in milliseconds (`None` when not given), and its rules (uids may
    /// be empty: the caller assigns new ones). Only the shape is checked here; see
    /// [`super::validate`] for the rest.
    pub fn into_rules(self) -> Result<(Option<u64>, Vec<Rule>), RuleError> {
        if self.name.trim().is_empty() {
            return Err(RuleError::new("name", "a rule group needs a name"));
        }
        if self.source_tenants.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(RuleError::new(
                "source_tenants",
                "not supported for Grafana-managed rules",
            ));
        }
        let interval = match self
            .interval
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => Some(
                parse_ms(v)
                    .ok_or_else(|| RuleError::new("interval", format!("invalid duration {v:?}")))?,
            ),
        };
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, node) in self.rules.into_iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            if node.expr.as_ref().is_some_and(|e| !e.is_empty()) {
                return Err(RuleError::new(
                    &at("expr"),
                    "data-source managed rules are not supported; use grafana_alert",
                ));
            }
            let g = node
                .grafana_alert
                .ok_or_else(|| RuleError::new(&at("grafana_alert"), "required"))?;
            if g.notification_settings
                .as_ref()
                .is_some_and(|v| !v.is_null())
            {
                return Err(RuleError::new(
                    &at("grafana_alert.notification_settings"),
                    "simplified routing is not supported; route with notification policies",
                ));
            }
            let text = RuleText {
                no_data_state: (
                    at("grafana_alert.no_data_state"),
                    g.no_data_state.as_deref(),
                ),
                exec_err_state: (
                    at("grafana_alert.exec_err_state"),
                    g.exec_err_state.as_deref(),
                ),
                for_duration: (at("for"), node.for_duration.as_deref()),
                keep_firing_for: (at("keep_firing_for"), node.keep_firing_for.as_deref()),
            };
            let rule = Rule {
                labels: node.labels.clone().unwrap_or_default(),
                annotations: node.annotations.clone().unwrap_or_default(),
                is_paused: g.is_paused,
                missing_series_evals_to_resolve: g.missing_series_evals_to_resolve,
                ..plain_rule(
                    g.uid.clone(),
                    g.title.clone(),
                    g.condition.clone(),
                    g.data.clone(),
                )
            };
            rules.push(text.apply(rule)?);
        }
        Ok((interval, rules))
    }
}

/// Where a returned rule lives and its bookkeeping.
#[derive(Debug, Clone)]
pub struct RuleMeta {
    /// Organization.
    pub org_id: i64,
    /// The folder's uid.
    pub folder_uid: String,
    /// The group.
    pub group: String,
    /// Interval in seconds.
    pub interval_seconds: i64,
    /// Version.
    pub version: i64,
    /// Last change, RFC 3339.
    pub updated: String,
    /// Provenance (`file` when provisioned from a file).
    pub provenance: String,
}

impl GettableRuleNode {
    /// The returned form of `rule`.
    pub fn new(rule: &Rule, meta: &RuleMeta) -> Self {
        Self {
            expr: String::new(),
            for_duration: format_ms(rule.for_ms),
            keep_firing_for: format_ms(rule.keep_firing_for_ms),
            labels: rule.labels.clone(),
            annotations: rule.annotations.clone(),
            grafana_alert: GettableGrafanaRule {
                org_id: meta.org_id,
                title: rule.title.clone(),
                condition: rule.condition.clone(),
                data: rule.data.clone(),
                updated: meta.updated.clone(),
                interval_seconds: meta.interval_seconds,
                version: meta.version,
                uid: rule.uid.clone(),
                namespace_uid: meta.folder_uid.clone(),
                rule_group: meta.group.clone(),
                no_data_state: rule.no_data_state,
                exec_err_state: rule.exec_err_state,
                is_paused: rule.is_paused,
                provenance: meta.provenance.clone(),
            },
        }
    }
}
