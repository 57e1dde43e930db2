//! `GET|POST /alerts` and `GET /alerts/groups`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde_json::{Value, json};
use wk_alertmanager::alert::{Alert, PostedAlert};
use wk_alertmanager::instance::{AlertState, Alertmanager};
use wk_alertmanager::matchers::Matchers;

use super::V2Error;
use super::{bool_param, filter_matchers, instance, label_object, params, time};
use crate::access::Caller;
use crate::{ApiError, AppState};

/// What the `GET /alerts` and `GET /alerts/groups` parameters select.
struct AlertFilter {
    active: bool,
    silenced: bool,
    inhibited: bool,
    matchers: Matchers,
    receiver: Option<Regex>,
}

impl AlertFilter {
    fn parse(query: &[(String, String)]) -> Result<Self, ApiError> {
        let receiver = match params(query, "receiver").last() {
            Some(r) if !r.is_empty() => Some(
                Regex::new(&format!("^(?:{r})$"))
                    .map_err(|e| ApiError::bad_request(format!("receiver: {e}")))?,
            ),
            _ => None,
        };
        Ok(Self {
            active: bool_param(query, "active", true)?,
            silenced: bool_param(query, "silenced", true)?,
            inhibited: bool_param(query, "inhibited", true)?,
            matchers: filter_matchers(query)?,
            receiver,
        })
    }

    fn keep(&self, am: &Alertmanager, alert: &Alert, st: &AlertState) -> bool {
        if alert.resolved_at(am.now()) {
            return false;
        }
        if !self.matchers.matches(&alert.labels) {
            return false;
        }
        if let Some(re) = &self.receiver
            && !am
                .receivers_for(&alert.labels)
                .iter()
                .any(|r| re.is_match(r))
        {
            return false;
        }
        if !self.active && st.state == "active" {
            return false;
        }
        if !self.silenced && !st.silenced_by.is_empty() {
            return false;
        }
        if !self.inhibited && !st.inhibited_by.is_empty() {
            return false;
        }
        true
    }
}

/// The `gettableAlert` JSON of an alert; a non-empty `muted_by` (time intervals muting its
/// group) makes the state `suppressed`.
fn gettable(am: &Alertmanager, alert: &Alert, st: &AlertState, muted_by: &[String]) -> Value {
    let state = if muted_by.is_empty() {
        st.state
    } else {
        "suppressed"
    };
    json!({
        "labels": label_object(&alert.labels),
        "annotations": label_object(&alert.annotations),
        "startsAt": time(alert.starts_at),
        "updatedAt": time(alert.updated_at),
        "endsAt": time(alert.ends_at),
        "fingerprint": alert.fingerprint().to_string(),
        "receivers": am
            .receivers_for(&alert.labels)
            .into_iter()
            .map(|name| json!({"name": name}))
            .collect::<Vec<_>>(),
        "generatorURL": alert.generator_url,
        "status": {
            "state": state,
            "silencedBy": st.silenced_by,
            "inhibitedBy": st.inhibited_by,
            "mutedBy": muted_by,
        },
    })
}

/// `GET /alerts`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, V2Error> {
    let am = instance(&state, &caller).await?;
    let filter = AlertFilter::parse(&query)?;
    let mut out: Vec<(String, Value)> = am
        .alerts(|a, st| filter.keep(&am, a, st))
        .iter()
        .map(|(a, st)| (a.fingerprint().to_string(), gettable(&am, a, st, &[])))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Json(Value::Array(
        out.into_iter().map(|(_, v)| v).collect(),
    )))
}

/// `POST /alerts`: 200 with an empty body, or 400 with the joined validation errors as a JSON
/// string (the valid alerts are stored either way).
pub(crate) async fn post(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, V2Error> {
    let posted: Vec<PostedAlert> =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let am = instance(&state, &caller).await?;
    let errors = am.put_alerts(posted, am.now());
    if errors.is_empty() {
        Ok(StatusCode::OK.into_response())
    } else {
        Err(ApiError::bad_request(errors.join(";")).into())
    }
}

/// `GET /alerts/groups`: sorted by group labels, then receiver; empty groups are left out.
/// `muted=false` leaves out groups muted by time intervals (evaluated at query time); the
/// alerts of a muted group carry the interval names in `mutedBy` and state `suppressed`.
pub(crate) async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, V2Error> {
    let am = instance(&state, &caller).await?;
    let filter = AlertFilter::parse(&query)?;
    let show_muted = bool_param(&query, "muted", true)?;
    let now = am.now();
    let mut groups = am.groups();
    groups.sort_by(|a, b| {
        a.labels
            .to_string()
            .cmp(&b.labels.to_string())
            .then_with(|| a.receiver.cmp(&b.receiver))
    });
    let mut out = Vec::new();
    for g in groups {
        if let Some(re) = &filter.receiver
            && !re.is_match(&g.receiver)
        {
            continue;
        }
        let muted_by = am.muted_by(&g.route_id, now);
        if !show_muted && !muted_by.is_empty() {
            continue;
        }
        let alerts: Vec<Value> = g
            .alerts
            .iter()
            .filter_map(|a| {
                let st = am.alert_state(a, now);
                filter
                    .keep(&am, a, &st)
                    .then(|| gettable(&am, a, &st, &muted_by))
            })
            .collect();
        if alerts.is_empty() {
            continue;
        }
        out.push(json!({
            "labels": label_object(&g.labels),
            // Routes carry no labels in our configuration; the field is always present upstream.
            "routeLabels": {},
            "receiver": {"name": g.receiver},
            "alerts": alerts,
        }));
    }
    Ok(Json(Value::Array(out)))
}
