//! Provisioning: the JSON of Grafana's provisioning API for alert rules
//! (`/api/v1/provisioning/alert-rules`, `ProvisionedAlertRule`; rule groups, `AlertRuleGroup`)
//! and the alerting file format read at start from `provisioning/alerting/*.yaml`
//! (`apiVersion: 1`, `groups`, `deleteRules`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::{RuleText, plain_rule};
use super::validate::RuleError;
use super::{AlertQuery, Rule, format_ms, parse_ms};

/// A rule in the provisioning API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvisionedRule {
    /// Row id (returned only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Unique id (empty: generated).
    #[serde(default)]
    pub uid: String,
    /// Organization.
    #[serde(default, rename = "orgID")]
    pub org_id: i64,
    /// The folder's uid.
    #[serde(default, rename = "folderUID")]
    pub folder_uid: String,
    /// The group.
    #[serde(default, rename = "ruleGroup")]
    pub rule_group: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Condition refId.
    #[serde(default)]
    pub condition: String,
    /// Queries and expressions.
    #[serde(default)]
    pub data: Vec<AlertQuery>,
    /// Last change (RFC 3339; returned only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// What no data means.
    #[serde(default, rename = "noDataState")]
    pub no_data_state: Option<String>,
    /// What an error means.
    #[serde(default, rename = "execErrState")]
    pub exec_err_state: Option<String>,
    /// `for` duration.
    #[serde(default, rename = "for")]
    pub for_duration: Option<String>,
    /// `keep_firing_for` duration.
    #[serde(default)]
    pub keep_firing_for: Option<String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Provenance (`api`, `file` or empty).
    #[serde(default)]
    pub provenance: String,
    /// Paused.
    #[serde(default, rename = "isPaused")]
    pub is_paused: bool,
    /// Missed evaluations before a vanished series resolves.
    #[serde(
        default,
        rename = "missingSeriesEvalsToResolve",
        skip_serializing_if = "Option::is_none"
    )]
    pub missing_series_evals_to_resolve: Option<u32>,
    /// Simplified routing: not supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_settings: Option<serde_json::Value>,
}

impl ProvisionedRule {
    /// The rule it describes (folder and group stay in `self`).
    pub fn to_rule(&self) -> Result<Rule, RuleError> {
        if self
            .notification_settings
            .as_ref()
            .is_some_and(|v| !v.is_null())
        {
            return Err(RuleError::new(
                "notification_settings",
                "simplified routing is not supported; route with notification policies",
            ));
        }
        RuleText {
            no_data_state: ("noDataState".to_owned(), self.no_data_state.as_deref()),
            exec_err_state: ("execErrState".to_owned(), self.exec_err_state.as_deref()),
            for_duration: ("for".to_owned(), self.for_duration.as_deref()),
            keep_firing_for: (
                "keep_firing_for".to_owned(),
                self.keep_firing_for.as_deref(),
            ),
        }
        .apply(Rule {
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
            is_paused: self.is_paused,
            missing_series_evals_to_resolve: self.missing_series_evals_to_resolve,
            ..plain_rule(
                self.uid.clone(),
                self.title.clone(),
                self.condition.clone(),
                self.data.clone(),
            )
        })
    }

    /// The provisioning form of `rule`.
    pub fn from_rule(rule: &Rule, meta: &super::api::RuleMeta, id: i64) -> Self {
        Self {
            id: Some(id),
            uid: rule.uid.clone(),
            org_id: meta.org_id,
            folder_uid: meta.folder_uid.clone(),
            rule_group: meta.group.clone(),
            title: rule.title.clone(),
            condition: rule.condition.clone(),
            data: rule.data.clone(),
            updated: Some(meta.updated.clone()),
            no_data_state: Some(rule.no_data_state.as_str().to_owned()),
            exec_err_state: Some(rule.exec_err_state.as_str().to_owned()),
            for_duration: Some(format_ms(rule.for_ms)),
            keep_firing_for: Some(format_ms(rule.keep_firing_for_ms)),
            annotations: rule.annotations.clone(),
            labels: rule.labels.clone(),
            provenance: meta.provenance.clone(),
            is_paused: rule.is_paused,
            missing_series_evals_to_resolve: rule.missing_series_evals_to_resolve,
            notification_settings: None,
        }
    }
}

/// A rule group in the provisioning API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvisionedGroup {
    /// The group's name.
    #[serde(default)]
    pub title: String,
    /// The folder's uid.
    #[serde(default, rename = "folderUid")]
    pub folder_uid: String,
    /// Evaluation interval, seconds.
    #[serde(default)]
    pub interval: i64,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<ProvisionedRule>,
}

/// An alerting provisioning file (`provisioning/alerting/*.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertingFile {
    /// Must be 1.
    pub api_version: i64,
    /// Rule groups to create or replace.
    #[serde(default)]
    pub groups: Vec<FileGroup>,
    /// Rules to delete.
    #[serde(default)]
    pub delete_rules: Vec<FileDeleteRule>,
}

/// A rule group in a provisioning file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileGroup {
    /// Organization (default 1).
    #[serde(default)]
    pub org_id: Option<i64>,
    /// The group's name.
    pub name: String,
    /// The folder's title (created when missing).
    pub folder: String,
    /// Evaluation interval (`1m`).
    pub interval: String,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<FileRule>,
}

/// A rule in a provisioning file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRule {
    /// Unique id (required in files).
    pub uid: String,
    /// Title.
    pub title: String,
    /// Condition refId.
    pub condition: String,
    /// Queries and expressions.
    #[serde(default)]
    pub data: Vec<AlertQuery>,
    /// What no data means.
    #[serde(default)]
    pub no_data_state: Option<String>,
    /// What an error means.
    #[serde(default)]
    pub exec_err_state: Option<String>,
    /// `for` duration.
    #[serde(default, rename = "for")]
    pub for_duration: Option<String>,
    /// `keep_firing_for` duration.
    #[serde(default)]
    pub keep_firing_for: Option<String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Paused.
    #[serde(default)]
    pub is_paused: bool,
    /// Missed evaluations before a vanished series resolves.
    #[serde(default)]
    pub missing_series_evals_to_resolve: Option<u32>,
    /// Dashboard link (kept for compatibility; not used).
    #[serde(default)]
    pub dashboard_uid: Option<String>,
    /// Panel link (kept for compatibility; not used).
    #[serde(default)]
    pub panel_id: Option<i64>,
}

/// A rule to delete in a provisioning file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDeleteRule {
    /// Organization (default 1).
    #[serde(default)]
    pub org_id: Option<i64>,
    /// The rule's uid.
    pub uid: String,
}

impl AlertingFile {
    /// Parses a provisioning file; errors name the field.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let file: Self = serde_norway::from_str(text)
            .map_err(|e| RuleError::new("", format!("invalid YAML: {e}")))?;
        if file.api_version != 1 {
            return Err(RuleError::new(
                "apiVersion",
                format!("{} is not supported (only 1)", file.api_version),
            ));
        }
        Ok(file)
    }
}

impl FileGroup {
    /// The group's interval in milliseconds and its rules.
    pub fn to_rules(&self, index: usize) -> Result<(u64, Vec<Rule>), RuleError> {
        let at = |f: &str| format!("groups[{index}].{f}");
        let interval = parse_ms(self.interval.trim()).ok_or_else(|| {
            RuleError::new(
                &at("interval"),
                format!("invalid duration {:?}", self.interval),
            )
        })?;
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, r) in self.rules.iter().enumerate() {
            let at = |f: &str| format!("groups[{index}].rules[{i}].{f}");
            if r.uid.trim().is_empty() {
                return Err(RuleError::new(&at("uid"), "required in provisioning files"));
            }
            let text = RuleText {
                no_data_state: (at("noDataState"), r.no_data_state.as_deref()),
                exec_err_state: (at("execErrState"), r.exec_err_state.as_deref()),
                for_duration: (at("for"), r.for_duration.as_deref()),
                keep_firing_for: (at("keepFiringFor"), r.keep_firing_for.as_deref()),
            };
            rules.push(text.apply(Rule {
                labels: r.labels.clone(),
                annotations: r.annotations.clone(),
                is_paused: r.is_paused,
                missing_series_evals_to_resolve: r.missing_series_evals_to_resolve,
                ..plain_rule(
                    r.uid.clone(),
                    r.title.clone(),
                    r.condition.clone(),
                    r.data.clone(),
                )
            })?);
        }
        Ok((interval, rules))
    }
}
