//! `/api/alertmanager/grafana/config/api/v1/alerts`: the organization's Alertmanager
//! configuration in Grafana's JSON form (read, replace, reset to the default).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use wk_alertmanager::config::grafana::DEFAULT_GRAFANA_CONFIG;

use super::alertmanager_v2::instance;
use crate::access::Caller;
use crate::{ApiError, AppState};

/// Settings that are secret even when given in `settings` rather than `secureSettings`.
const SECRET_SETTINGS: &[&str] = &["password", "authorization_credentials"];

/// Turns a `PostableUserConfig` into Grafana's `GettableUserConfig`: secret settings of contact
/// points are removed and reported in `secureFields`.
fn gettable(text: &str) -> Result<Value, ApiError> {
    let mut doc: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::internal("reading the applied configuration", &e))?;
    if let Some(obj) = doc.as_object_mut() {
        obj.entry("template_files")
            .or_insert_with(|| Value::Object(Map::new()));
        obj.entry("template_file_provenances")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let receivers = doc
        .pointer_mut("/alertmanager_config/receivers")
        .and_then(Value::as_array_mut);
    for r in receivers.into_iter().flatten() {
        let contacts = r
            .get_mut("grafana_managed_receiver_configs")
            .and_then(Value::as_array_mut);
        for c in contacts.into_iter().flatten() {
            let Some(c) = c.as_object_mut() else { continue };
            let mut secure = Map::new();
            if let Some(Value::Object(s)) = c.remove("secureSettings") {
                for k in s.keys() {
                    secure.insert(k.clone(), Value::Bool(true));
                }
            }
            if let Some(Value::Object(settings)) = c.get_mut("settings") {
                for k in SECRET_SETTINGS {
                    if settings.remove(*k).is_some() {
                        secure.insert((*k).to_owned(), Value::Bool(true));
                    }
                }
            }
            c.insert("secureFields".into(), Value::Object(secure));
        }
    }
    Ok(doc)
}

/// `GET`: the applied configuration without its secrets.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let am = instance(&state, &caller).await?;
    Ok(Json(gettable(&am.config_yaml())?))
}

/// `POST`: validates, saves as a new version and applies a `PostableUserConfig`.
pub(crate) async fn post(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Response, ApiError> {
    state
        .alertmanagers
        .save_and_apply(&state.store, caller.0.org_id, &body, false)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "configuration created"})),
    )
        .into_response())
}

/// `DELETE`: saves the default configuration as a new version and applies it.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    state
        .alertmanagers
        .save_and_apply(&state.store, caller.0.org_id, DEFAULT_GRAFANA_CONFIG, true)
        .await?;
    Ok(Json(
        json!({"message": "configuration deleted; the default is applied"}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_reported_not_shown() {
        let text = r#"{"alertmanager_config":{"route":{"receiver":"r"},"receivers":[{"name":"r",
            "grafana_managed_receiver_configs":[{"type":"webhook","settings":{"url":"http://x",
            "username":"u","password":"p"},"secureSettings":{"authorization_credentials":"t"}}]}]}}"#;
        let doc = gettable(text).expect("gettable");
        let c = &doc["alertmanager_config"]["receivers"][0]["grafana_managed_receiver_configs"][0];
        assert_eq!(c["settings"]["username"], "u");
        assert!(c["settings"].get("password").is_none());
        assert!(c.get("secureSettings").is_none());
        assert_eq!(
            c["secureFields"],
            json!({"password": true, "authorization_credentials": true})
        );
        assert!(!doc.to_string().contains("\"p\"") && !doc.to_string().contains("\"t\""));
        assert_eq!(doc["template_files"], json!({}));
    }
}
