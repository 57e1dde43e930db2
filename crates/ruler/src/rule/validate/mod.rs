//! Validation of rules before they are saved, with errors that name the field: titles,
//! conditions among the refIds, unique refIds, known data sources, expressions that parse and
//! form no cycle, valid PromQL for Prometheus queries, and group intervals that are a positive
//! multiple of the scheduler's base interval.

use std::collections::BTreeSet;

use super::Rule;
use crate::expr::{Expression, Pipeline, is_expression_datasource};

/// Longest title (it is indexed).
pub const MAX_TITLE_LEN: usize = 190;

/// A rule that cannot be saved: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    /// The field's path in the payload (`rules[0].grafana_alert.condition`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl RuleError {
    /// An error about `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The same error under `prefix` (`rules[2].`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}{}", self.field);
        self
    }
}

/// What validation needs to know beyond the rule.
pub struct Context<'a> {
    /// The scheduler's base interval, ms (intervals must be multiples of it).
    pub base_interval_ms: u64,
    /// The type of the organization's data source with this uid (`None`: no such source).
    pub datasource_type: &'a dyn Fn(&str) -> Option<String>,
}

/// Checks a group's interval.
pub fn interval(field: &str, interval_ms: u64, base_interval_ms: u64) -> Result<(), RuleError> {
    if interval_ms == 0 {
        return Err(RuleError::new(field, "must be greater than 0"));
    }
    if base_interval_ms > 0 && !interval_ms.is_multiple_of(base_interval_ms) {
        return Err(RuleError::new(
            field,
            format!(
                "{} is not a multiple of the scheduler's base interval {}",
                super::format_ms(interval_ms),
                super::format_ms(base_interval_ms)
            ),
        ));
    }
    Ok(())
}

/// Checks one rule; field paths are relative to the rule (`title`, `data[1].model`).
pub fn rule(r: &Rule, ctx: &Context<'_>) -> Result<(), RuleError> {
    let title = r.title.trim();
    if title.is_empty() {
        return Err(RuleError::new("title", "required"));
    }
    if r.title.chars().count() > MAX_TITLE_LEN {
        return Err(RuleError::new(
            "title",
            format!("longer than {MAX_TITLE_LEN} characters"),
        ));
    }
    if r.data.is_empty() {
        return Err(RuleError::new("data", "at least one query is required"));
    }
    let mut ref_ids = BTreeSet::new();
    let mut queries: Vec<&str> = Vec::new();
    let mut expressions = Vec::new();
    for (i, q) in r.data.iter().enumerate() {
        let at = |f: &str| format!("data[{i}].{f}");
        if q.ref_id.trim().is_empty() {
            return Err(RuleError::new(&at("refId"), "required"));
        }
        if !ref_ids.insert(q.ref_id.as_str()) {
            return Err(RuleError::new(
                &at("refId"),
                format!("{:?} is used twice", q.ref_id),
            ));
        }
        if q.datasource_uid.trim().is_empty() {
            return Err(RuleError::new(&at("datasourceUid"), "required"));
        }
        if is_expression_datasource(&q.datasource_uid) {
            let e = Expression::parse(&q.ref_id, &q.model)
                .map_err(|e| RuleError::new(&at("model"), e.to_string()))?;
            expressions.push(e);
            continue;
        }
        queries.push(&q.ref_id);
        let Some(kind) = (ctx.datasource_type)(&q.datasource_uid) else {
            return Err(RuleError::new(
                &at("datasourceUid"),
                format!("data source {:?} not found", q.datasource_uid),
            ));
        };
        if q.relative_time_range.from < q.relative_time_range.to {
            return Err(RuleError::new(
                &at("relativeTimeRange"),
                "from must be at least to (both are seconds before the evaluation)",
            ));
        }
        if kind == "prometheus" {
            promql(&q.model).map_err(|m| RuleError::new(&at("model.expr"), m))?;
        }
    }
    if r.condition.trim().is_empty() {
        return Err(RuleError::new("condition", "required"));
    }
    if !ref_ids.contains(r.condition.as_str()) {
        return Err(RuleError::new(
            "condition",
            format!(
                "{:?} is not among the refIds ({})",
                r.condition,
                ref_ids.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Pipeline::new(&queries, expressions).map_err(|e| RuleError::new("data", e.to_string()))?;
    for name in r.labels.keys() {
        if name.trim().is_empty() {
            return Err(RuleError::new("labels", "a label name is empty"));
        }
    }
    for name in r.annotations.keys() {
        if name.trim().is_empty() {
            return Err(RuleError::new("annotations", "an annotation name is empty"));
        }
    }
    Ok(())
}

/// Checks a group: its interval, each rule (errors prefixed with `rules[i].` and `rule_prefix`),
/// unique titles and uids within it.
pub fn group(
    rules: &[Rule],
    interval_ms: u64,
    interval_field: &str,
    rule_prefix: &str,
    ctx: &Context<'_>,
) -> Result<(), RuleError> {
    interval(interval_field, interval_ms, ctx.base_interval_ms)?;
    let mut titles = BTreeSet::new();
    let mut uids = BTreeSet::new();
    for (i, r) in rules.iter().enumerate() {
        let prefix = format!("rules[{i}].{rule_prefix}");
        rule(r, ctx).map_err(|e| e.within(&prefix))?;
        if !titles.insert(r.title.as_str()) {
            return Err(RuleError::new(
                &format!("{prefix}title"),
                format!("{:?} is used by another rule of the group", r.title),
            ));
        }
        if !r.uid.is_empty() && !uids.insert(r.uid.as_str()) {
            return Err(RuleError::new(
                &format!("{prefix}uid"),
                format!("{:?} is used by another rule of the group", r.uid),
            ));
        }
    }
    Ok(())
}

/// Checks the `expr` of a Prometheus query model.
fn promql(model: &serde_json::Value) -> Result<(), String> {
    let expr = model
        .get("expr")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| "a Prometheus query needs an expression".to_owned())?;
    promql_parser::parser::parse(expr)
        .map(|_| ())
        .map_err(|e| format!("invalid PromQL: {e}"))
}

#[cfg(test)]
mod tests;
