//! Rule preview, `POST /api/v1/rule/test/grafana` (Grafana's "test rule" for Grafana-managed
//! conditions): the queries and expressions are validated as the ruler API validates a rule,
//! then evaluated once, now or at `now`, without saving anything. The answer is a simplified
//! list of the instances (Grafana answers data frames here).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use wk_ruler::eval::EvalResult;
use wk_ruler::rule::validate::{self, RuleError};
use wk_ruler::rule::{AlertQuery, Rule};
use wk_ruler::state::Outcome;

use crate::access::Caller;
use crate::json::JsonBody;
use crate::rules::{self, rule_error, store_error};
use crate::{ApiError, AppState};

/// Where validation errors point in the body.
const PREFIX: &str = "grafana_condition.";

/// Body: `{"grafana_condition": {"condition", "data", "now"?}}` (Grafana's `TestRulePayload`).
#[derive(Deserialize)]
pub(crate) struct TestRuleBody {
    #[serde(default)]
    grafana_condition: Option<Condition>,
}

/// Grafana's `EvalAlertConditionCommand`.
#[derive(Deserialize)]
struct Condition {
    #[serde(default)]
    condition: String,
    #[serde(default)]
    data: Vec<AlertQuery>,
    /// RFC 3339; absent, empty or Go's zero time: now.
    #[serde(default)]
    now: Option<String>,
}

/// The evaluation instant, ms.
fn instant(now: Option<&str>) -> Result<i64, ApiError> {
    let current = Utc::now().timestamp_millis();
    let Some(text) = now.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(current);
    };
    let at = DateTime::parse_from_rfc3339(text).map_err(|e| {
        rule_error(RuleError::new(
            &format!("{PREFIX}now"),
            format!("{text:?} is not an RFC 3339 time: {e}"),
        ))
    })?;
    // Go's zero time (`0001-01-01T00:00:00Z`) is what Grafana's clients send for "now".
    Ok(if at.year() <= 1 {
        current
    } else {
        at.timestamp_millis()
    })
}

fn instance(r: &EvalResult) -> Value {
    let (state, error) = match &r.outcome {
        Outcome::Normal => ("Normal", None),
        Outcome::Alerting => ("Alerting", None),
        Outcome::NoData => ("NoData", None),
        Outcome::Error(message) => ("Error", Some(message)),
    };
    let values: Map<String, Value> = r
        .values
        .iter()
        .map(|(ref_id, (_, v))| (ref_id.clone(), json!(v)))
        .collect();
    let mut out = json!({ "labels": r.labels, "state": state, "values": values });
    if let Some(e) = error {
        out["error"] = Value::String(e.clone());
    }
    out
}

/// `POST /api/v1/rule/test/grafana` → 200 `{"instances": [{labels, state, values, error?}]}`;
/// 400 naming the field when the condition is not valid.
pub(crate) async fn grafana(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<TestRuleBody>,
) -> Result<Json<Value>, ApiError> {
    let Some(c) = body.grafana_condition else {
        return Err(ApiError::bad_request(
            "grafana_condition: required (only Grafana-managed conditions can be tested here)",
        ));
    };
    let Some(evaluator) = &state.rule_evaluator else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "rule evaluation is not available on this instance",
        ));
    };
    let org = caller.0.org_id;
    let at = instant(c.now.as_deref())?;
    let data = serde_json::to_value(&c.data).map_err(|e| ApiError::internal("rule preview", &e))?;
    // A rule with a placeholder title; everything else as a new rule has it.
    let rule: Rule = serde_json::from_value(json!({
        "uid": "",
        "title": "Rule preview",
        "condition": c.condition,
        "data": data,
    }))
    .map_err(|e| ApiError::internal("rule preview", &e))?;
    let types = rules::datasource_types(&state.store, org)
        .await
        .map_err(store_error)?;
    rules::with_context(&types, &state.opts, |ctx| validate::rule(&rule, ctx))
        .map_err(|e| rule_error(e.within(PREFIX)))?;
    let results = evaluator.evaluate(org, &rule, at, &BTreeSet::new()).await;
    Ok(Json(json!({
        "instances": results.iter().map(instance).collect::<Vec<_>>(),
    })))
}
