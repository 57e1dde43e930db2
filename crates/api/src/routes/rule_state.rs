//! The state of Grafana-managed rules as Prometheus-compatible clients read it
//! (`/api/prometheus/grafana/api/v1/rules` and `/alerts`), and their state history
//! (`/api/v1/rules/history`). Rules come from the database; states from this instance's
//! scheduler (none when it does not evaluate: `execute_alerts = false`).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use wk_ruler::data::Labels;
use wk_ruler::rule::Rule;
use wk_ruler::schedule::{InstanceView, RuleView};
use wk_ruler::state::{State as AlertState, format_state_and_reason};
use wk_store::AnnotationQuery;

use crate::access::Caller;
use crate::{ApiError, AppState};

fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The `value` string of an instance (`[ var='B' labels={} value=3 ]`).
fn value_string(i: &InstanceView) -> String {
    i.values
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("[ var='{k}' labels={{}} value={v} ]"),
            None => format!("[ var='{k}' labels={{}} value=null ]"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn alert_json(i: &InstanceView) -> Value {
    json!({
        "labels": i.labels,
        "annotations": i.annotations,
        "state": format_state_and_reason(i.state, i.reason),
        "activeAt": rfc3339(i.active_at),
        "value": value_string(i),
    })
}

fn firing(s: AlertState) -> bool {
    matches!(s, AlertState::Alerting | AlertState::Recovering)
}

/// Query parameters of `/api/prometheus/grafana/api/v1/rules`.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct RulesQuery {
    /// Only this folder (uid).
    #[serde(default)]
    folder_uid: Option<String>,
    /// Only this group.
    #[serde(default)]
    rule_group: Option<String>,
}

/// `GET /api/prometheus/grafana/api/v1/rules`: every rule with its alerts, by group.
pub(crate) async fn rules(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RulesQuery>,
) -> Result<Json<Value>, ApiError> {
    let org_id = caller.0.org_id;
    let stored = state
        .store
        .rules(org_id, q.folder_uid.as_deref(), q.rule_group.as_deref())
        .await?;
    let titles: HashMap<String, String> = state
        .store
        .folders(org_id)
        .await?
        .into_iter()
        .map(|f| (f.uid, f.title))
        .collect();
    let views: HashMap<String, RuleView> = state
        .ruler
        .as_ref()
        .map(|v| v.org(org_id))
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v.rule.rule.uid.clone(), v))
        .collect();
    let mut groups: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut intervals: HashMap<(String, String), i64> = HashMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for s in stored {
        let Ok(rule) = Rule::from_json(&s.definition) else {
            continue;
        };
        let view = views.get(&s.uid);
        let instances: &[InstanceView] = view.map(|v| v.instances.as_slice()).unwrap_or(&[]);
        let rule_state = if instances.iter().any(|i| firing(i.state)) {
            "firing"
        } else if instances.iter().any(|i| i.state == AlertState::Pending) {
            "pending"
        } else {
            "inactive"
        };
        *totals.entry(rule_state.to_owned()).or_default() += 1;
        let mut rule_totals: BTreeMap<String, u64> = BTreeMap::new();
        for i in instances {
            *rule_totals
                .entry(i.state.as_str().to_lowercase())
                .or_default() += 1;
        }
        let health = if instances.iter().any(|i| i.state == AlertState::Error) {
            "error"
        } else if instances.iter().any(|i| i.state == AlertState::NoData) {
            "nodata"
        } else {
            "ok"
        };
        let last_error = instances
            .iter()
            .find_map(|i| i.error.clone())
            .unwrap_or_default();
        let key = (s.namespace_uid.clone(), s.rule_group.clone());
        intervals.insert(key.clone(), s.interval_seconds);
        groups.entry(key).or_default().push(json!({
            "uid": s.uid,
            "name": rule.title,
            "folderUid": s.namespace_uid,
            "query": serde_json::to_string(&rule.data).unwrap_or_default(),
            "duration": rule.for_ms / 1000,
            "keepFiringFor": rule.keep_firing_for_ms / 1000,
            "labels": rule.labels,
            "annotations": rule.annotations,
            "state": rule_state,
            "health": health,
            "lastError": last_error,
            "type": "alerting",
            "isPaused": s.is_paused,
            "alerts": instances.iter().map(alert_json).collect::<Vec<_>>(),
            "totals": rule_totals,
            "lastEvaluation": view.and_then(|v| v.last_evaluation).map(rfc3339).unwrap_or_else(|| "0001-01-01T00:00:00Z".to_owned()),
            "evaluationTime": 0,
        }));
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|((folder, name), rules)| {
            json!({
                "name": name,
                "file": titles.get(&folder).cloned().unwrap_or_else(|| folder.clone()),
                "folderUid": folder,
                "interval": intervals.get(&(folder.clone(), name.clone())).copied().unwrap_or(0),
                "rules": rules,
            })
        })
        .collect();
    Ok(Json(json!({
        "status": "success",
        "data": { "groups": groups, "totals": totals },
    })))
}

/// `GET /api/prometheus/grafana/api/v1/alerts`: every alert that is not Normal.
pub(crate) async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let alerts: Vec<Value> = state
        .ruler
        .as_ref()
        .map(|v| v.org(caller.0.org_id))
        .unwrap_or_default()
        .iter()
        .flat_map(|r| r.instances.iter())
        .filter(|i| i.state != AlertState::Normal)
        .map(alert_json)
        .collect();
    Ok(Json(
        json!({"status": "success", "data": {"alerts": alerts}}),
    ))
}

/// Query parameters of `/api/v1/rules/history`.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct HistoryQuery {
    /// Only this rule.
    #[serde(default, rename = "ruleUID")]
    rule_uid: Option<String>,
    /// From, unix ms.
    #[serde(default)]
    from: Option<i64>,
    /// To, unix ms.
    #[serde(default)]
    to: Option<i64>,
    /// At most this many entries.
    #[serde(default)]
    limit: Option<usize>,
    /// Only alerts with these labels (`labels_<name>=<value>`, as Grafana's).
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

/// `GET /api/v1/rules/history`: state transitions, newest first, as a data frame with the
/// columns `time`, `line` (the transition) and `labels`; one entry per instance that saw it.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let wanted: Labels = q
        .rest
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("labels_").map(|n| (n.to_owned(), v.clone())))
        .collect();
    let rows = state
        .store
        .annotations(&AnnotationQuery {
            org_id: caller.0.org_id,
            rule_uid: q.rule_uid.clone(),
            labels_hash: None,
            from: q.from,
            to: q.to,
            limit: if wanted.is_empty() {
                q.limit.unwrap_or(0)
            } else {
                0
            },
        })
        .await?;
    let mut times = Vec::new();
    let mut lines = Vec::new();
    let mut labels = Vec::new();
    for r in rows {
        let l: Labels = serde_json::from_str(&r.labels).unwrap_or_default();
        if !wanted.iter().all(|(k, v)| l.get(k) == Some(v)) {
            continue;
        }
        if q.limit.is_some_and(|n| n > 0 && times.len() >= n) {
            break;
        }
        let data: Value = serde_json::from_str(&r.data).unwrap_or(Value::Null);
        times.push(r.epoch);
        lines.push(json!({
            "schemaVersion": 1,
            "previous": r.prev_state,
            "current": r.new_state,
            "error": r.text,
            "values": data.get("values").cloned().unwrap_or(Value::Null),
            "ruleTitle": r.rule_title,
            "ruleUID": r.rule_uid,
            "instance": r.instance,
            "labels": l,
        }));
        labels.push(json!({"folderUID": "", "ruleUID": r.rule_uid, "from": "state-history", "instance": r.instance}));
    }
    Ok(Json(json!({
        "schema": {"fields": [
            {"name": "time", "type": "time", "typeInfo": {"frame": "time.Time"}},
            {"name": "line", "type": "other", "typeInfo": {"frame": "json.RawMessage"}},
            {"name": "labels", "type": "other", "typeInfo": {"frame": "json.RawMessage"}},
        ]},
        "data": {"values": [times, lines, labels]},
    })))
}
