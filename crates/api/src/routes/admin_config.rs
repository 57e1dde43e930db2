//! Grafana's alerting admin configuration: where the organization's alerts go
//! (`/api/v1/ngalert/admin_config`: `all`, `internal` or `external` Alertmanagers, stored in
//! `ngalert_configuration`), the external Alertmanagers in use (`/api/v1/ngalert/alertmanagers`)
//! and the short status the alerting pages read (`/api/v1/ngalert`). The server's alert router
//! reads the choice every `admin_config_poll_interval`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::Caller;
use crate::json::JsonBody;
use crate::rules::store_error;
use crate::{ApiError, AppState};

/// The choices by their stored number (`send_alerts_to`).
const CHOICES: [&str; 3] = ["all", "internal", "external"];

/// The name of a stored choice; none stored is `all`.
fn choice_name(stored: Option<i64>) -> &'static str {
    stored
        .and_then(|v| usize::try_from(v).ok())
        .and_then(|i| CHOICES.get(i).copied())
        .unwrap_or(CHOICES[0])
}

/// Body of `POST /api/v1/ngalert/admin_config`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminConfigBody {
    #[serde(default)]
    alertmanagers_choice: String,
}

async fn stored_choice(state: &AppState, org_id: i64) -> Result<&'static str, ApiError> {
    let stored = state
        .store
        .send_alerts_to(org_id)
        .await
        .map_err(store_error)?;
    Ok(choice_name(stored))
}

/// Whether the organization has an Alertmanager data source that handles Grafana's alerts.
async fn has_external(state: &AppState, org_id: i64) -> Result<bool, ApiError> {
    let sources = state
        .store
        .data_sources(org_id)
        .await
        .map_err(store_error)?;
    Ok(sources.iter().any(|d| {
        d.kind == "alertmanager"
            && crate::datasources::parse_object(&d.json_data)
                .is_ok_and(|j| j.get("handleGrafanaManagedAlerts") == Some(&Value::Bool(true)))
    }))
}

/// `GET /api/v1/ngalert/admin_config` → `{"alertmanagersChoice"}` (`all` when none is saved).
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let choice = stored_choice(&state, caller.0.org_id).await?;
    Ok(Json(json!({ "alertmanagersChoice": choice })))
}

/// `POST /api/v1/ngalert/admin_config` → 201 `{"message": "admin configuration updated"}`.
pub(crate) async fn post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<AdminConfigBody>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let given = body.alertmanagers_choice.trim();
    let Some(choice) = CHOICES.iter().position(|c| *c == given) else {
        return Err(ApiError::bad_request(format!(
            "alertmanagersChoice: Invalid alertmanager choice specified: {given:?} (all, internal \
             or external)"
        )));
    };
    if CHOICES[choice] == "external" && !has_external(&state, org).await? {
        return Err(ApiError::bad_request(
            "alertmanagersChoice: At least one Alertmanager must be provided or configured as a \
             datasource that handles alerts to choose this option",
        ));
    }
    state
        .store
        .set_send_alerts_to(org, choice as i64, super::now())
        .await
        .map_err(store_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": "admin configuration updated" })),
    )
        .into_response())
}

/// `DELETE /api/v1/ngalert/admin_config`: back to `all` → `{"message": "admin configuration
/// deleted"}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    state
        .store
        .set_send_alerts_to(caller.0.org_id, 0, super::now())
        .await
        .map_err(store_error)?;
    Ok(Json(json!({ "message": "admin configuration deleted" })))
}

async fn active(state: &AppState, org_id: i64) -> Vec<String> {
    match &state.external_alertmanagers {
        Some(urls) => urls(org_id).await,
        None => Vec::new(),
    }
}

/// `GET /api/v1/ngalert/alertmanagers`: the external Alertmanagers the organization's alerts go
/// to, as Prometheus lists them.
pub(crate) async fn alertmanagers(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let active: Vec<Value> = active(&state, caller.0.org_id)
        .await
        .into_iter()
        .map(|url| json!({ "url": url }))
        .collect();
    Json(json!({
        "status": "success",
        "data": { "activeAlertManagers": active, "droppedAlertManagers": [] },
    }))
}

/// `GET /api/v1/ngalert` → `{"alertmanagersChoice", "numExternalAlertmanagers"}`.
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let choice = stored_choice(&state, org).await?;
    let n = active(&state, org).await.len();
    Ok(Json(json!({
        "alertmanagersChoice": choice,
        "numExternalAlertmanagers": n,
    })))
}
