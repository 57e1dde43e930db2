//! Data sources: `/api/datasources`, Grafana's data source API. `secureJsonData` is sealed in
//! the database and never returned (only `secureJsonFields`); a read-only (provisioned) data
//! source refuses changes.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use wk_store::{DataSource, StoreError};

use crate::access::Caller;
use crate::datasources::{
    clear_other_defaults, seal_secrets, stored_json_data, to_json, to_list_item,
};
use crate::json::JsonBody;
use crate::rules::{self, store_error};
use crate::{ApiError, AppState};

const NAME_EXISTS: &str = "data source with the same name already exists";
const UID_EXISTS: &str = "data source with the same uid already exists";

fn not_found() -> ApiError {
    ApiError::not_found("Data source not found")
}

/// Body of `POST` and `PUT` (Grafana's add/update commands).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DataSourceBody {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    database: String,
    #[serde(default)]
    basic_auth: bool,
    #[serde(default)]
    basic_auth_user: String,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    json_data: Option<Value>,
    #[serde(default)]
    secure_json_data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    version: Option<i64>,
}

/// The `jsonData` to store (with the top-level `user` and `database`).
fn json_data(body: &DataSourceBody) -> Result<String, ApiError> {
    let json = match &body.json_data {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(ApiError::bad_request("jsonData: must be an object")),
    };
    Ok(stored_json_data(
        json,
        body.user.trim(),
        body.database.trim(),
    ))
}

/// `GET /api/datasources`: the organization's data sources, by name.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let all = state
        .store
        .data_sources(caller.0.org_id)
        .await
        .map_err(store_error)?;
    Ok(Json(Value::Array(all.iter().map(to_list_item).collect())))
}

/// `GET /api/datasources/uid/{uid}`.
pub(crate) async fn get_by_uid(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let d = state
        .store
        .data_source(caller.0.org_id, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    Ok(Json(to_json(&d)))
}

/// `GET /api/datasources/name/{name}`.
pub(crate) async fn get_by_name(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let d = state
        .store
        .data_source_by_name(caller.0.org_id, &name)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    Ok(Json(to_json(&d)))
}

/// `POST /api/datasources` → `{datasource, id, message: "Datasource added", name}`.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<DataSourceBody>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("name: required"));
    }
    if body.kind.trim().is_empty() {
        return Err(ApiError::bad_request("type: required"));
    }
    let uid = match body.uid.trim() {
        "" => rules::short_uid(),
        u => {
            if let Some(problem) = rules::uid_problem(u) {
                return Err(ApiError::bad_request(format!("uid: {problem}")));
            }
            u.to_owned()
        }
    };
    let store = &state.store;
    if store
        .data_source_by_name(org, name)
        .await
        .map_err(store_error)?
        .is_some()
    {
        return Err(ApiError::conflict(NAME_EXISTS));
    }
    if store
        .data_source(org, &uid)
        .await
        .map_err(store_error)?
        .is_some()
    {
        return Err(ApiError::conflict(UID_EXISTS));
    }
    let secure = seal_secrets(
        state.alertmanagers.secrets(),
        org,
        &uid,
        &body.secure_json_data.clone().unwrap_or_default(),
        None,
    )
    .map_err(|e| ApiError::internal("sealing data source secrets", &e))?;
    let new = DataSource {
        id: 0,
        org_id: org,
        uid: uid.clone(),
        name: name.to_owned(),
        kind: body.kind.trim().to_owned(),
        access: if body.access.is_empty() {
            "proxy".into()
        } else {
            body.access.clone()
        },
        url: body.url.clone(),
        basic_auth: body.basic_auth,
        basic_auth_user: body.basic_auth_user.clone(),
        is_default: body.is_default,
        read_only: false,
        json_data: json_data(&body)?,
        secure_json_data: secure,
        version: 0,
        created: 0,
        updated: 0,
    };
    let now = super::now();
    let created = match store.create_data_source(&new, now).await {
        Ok(d) => d,
        Err(StoreError::Conflict(_)) => return Err(ApiError::conflict(NAME_EXISTS)),
        Err(e) => return Err(store_error(e)),
    };
    saved_answer(store, org, &created, now, "Datasource added").await
}

/// After a save: clears the organization's other defaults when `saved` is the default, and
/// answers `{datasource, id, message, name}`.
async fn saved_answer(
    store: &wk_store::Store,
    org: i64,
    saved: &wk_store::DataSource,
    now: i64,
    message: &str,
) -> Result<Json<Value>, ApiError> {
    if saved.is_default {
        clear_other_defaults(store, org, &saved.uid, now)
            .await
            .map_err(store_error)?;
    }
    Ok(Json(json!({
        "datasource": to_json(saved),
        "id": saved.id,
        "message": message,
        "name": saved.name,
    })))
}

/// `PUT /api/datasources/uid/{uid}` → `{datasource, id, message: "Datasource updated", name}`.
/// Secrets not given are kept; a `version` older than the stored one is 409 as in Grafana.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody<DataSourceBody>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let current = store
        .data_source(org, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    if current.read_only {
        return Err(ApiError::forbidden("Cannot update read-only data source"));
    }
    if body.version.is_some_and(|v| v > 0 && v < current.version) {
        return Err(ApiError::conflict(
            "Datasource has already been updated by someone else. Please reload and try again",
        ));
    }
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("name: required"));
    }
    if let Some(other) = store
        .data_source_by_name(org, name)
        .await
        .map_err(store_error)?
        && other.uid != current.uid
    {
        return Err(ApiError::conflict(format!(
            "Failed to update datasource: {NAME_EXISTS}"
        )));
    }
    let secure = seal_secrets(
        state.alertmanagers.secrets(),
        org,
        &uid,
        &body.secure_json_data.clone().unwrap_or_default(),
        Some(&current),
    )
    .map_err(|e| ApiError::internal("sealing data source secrets", &e))?;
    let changed = DataSource {
        name: name.to_owned(),
        kind: match body.kind.trim() {
            "" => current.kind.clone(),
            k => k.to_owned(),
        },
        access: if body.access.is_empty() {
            current.access.clone()
        } else {
            body.access.clone()
        },
        url: body.url.clone(),
        basic_auth: body.basic_auth,
        basic_auth_user: body.basic_auth_user.clone(),
        is_default: body.is_default,
        json_data: json_data(&body)?,
        secure_json_data: secure,
        ..current.clone()
    };
    let now = super::now();
    let saved = match store.update_data_source(&changed, now).await {
        Ok(Some(d)) => d,
        Ok(None) => return Err(not_found()),
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(format!(
                "Failed to update datasource: {NAME_EXISTS}"
            )));
        }
        Err(e) => return Err(store_error(e)),
    };
    saved_answer(store, org, &saved, now, "Datasource updated").await
}

/// `DELETE /api/datasources/uid/{uid}` → `{"message": "Data source deleted", "id"}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let current = state
        .store
        .data_source(org, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    if current.read_only {
        return Err(ApiError::forbidden("Cannot delete read-only data source"));
    }
    if !state
        .store
        .delete_data_source(org, &uid)
        .await
        .map_err(store_error)?
    {
        return Err(not_found());
    }
    Ok(Json(
        json!({"message": "Data source deleted", "id": current.id}),
    ))
}
