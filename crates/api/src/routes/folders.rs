//! Folders: `/api/folders`, Grafana's folder API (the folders that hold alert rules).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use wk_auth::OrgRole;
use wk_store::Folder;

use crate::access::Caller;
use crate::json::JsonBody;
use crate::rules::{self, folder_not_found, store_error};
use crate::{ApiError, AppState};

/// Grafana's 409 for a title taken (its message names the general folder).
const SAME_NAME: &str =
    "a folder or dashboard in the general folder with the same name already exists";
/// Grafana's 409 for a uid taken.
const SAME_UID: &str = "a folder/dashboard with the same uid already exists";

/// A URL slug of a title, as Grafana makes it.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Grafana's folder JSON.
fn folder_json(f: &Folder, caller: &Caller) -> Value {
    let editor = caller.0.has_role(OrgRole::Editor);
    let mut v = json!({
        "id": f.id,
        "uid": f.uid,
        "orgId": f.org_id,
        "title": f.title,
        "url": format!("/dashboards/f/{}/{}", f.uid, slug(&f.title)),
        "hasAcl": false,
        "canSave": editor,
        "canEdit": editor,
        "canAdmin": caller.0.has_role(OrgRole::Admin),
        "canDelete": editor,
        "created": rules::rfc3339(f.created),
        "updated": rules::rfc3339(f.updated),
        "version": f.version,
    });
    if let Some(p) = &f.parent_uid {
        v["parentUid"] = Value::String(p.clone());
    }
    v
}

/// `GET /api/folders`: `[{id, uid, title}]` (with `parentUid` for nested folders).
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let folders = state
        .store
        .folders(caller.0.org_id)
        .await
        .map_err(store_error)?;
    Ok(Json(Value::Array(
        folders
            .iter()
            .map(|f| {
                let mut v = json!({"id": f.id, "uid": f.uid, "title": f.title});
                if let Some(p) = &f.parent_uid {
                    v["parentUid"] = Value::String(p.clone());
                }
                v
            })
            .collect(),
    )))
}

/// `GET /api/folders/{uid}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let f = state
        .store
        .folder(caller.0.org_id, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(folder_not_found)?;
    Ok(Json(folder_json(&f, &caller)))
}

/// Body of `POST /api/folders`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateFolder {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    parent_uid: Option<String>,
    /// Accepted and ignored (Watchkeeper stores no folder description).
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

/// `POST /api/folders`: 200 with the folder; 409 when the uid or the title is taken.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateFolder>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let title = body.title.trim();
    if title.is_empty() {
        return Err(ApiError::bad_request("folder title cannot be empty"));
    }
    let uid = match body.uid.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => {
            if let Some(problem) = rules::uid_problem(u) {
                return Err(ApiError::bad_request(problem));
            }
            u.to_owned()
        }
        None => rules::short_uid(),
    };
    let parent = body
        .parent_uid
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(p) = parent
        && state
            .store
            .folder(org, p)
            .await
            .map_err(store_error)?
            .is_none()
    {
        return Err(ApiError::not_found("parent folder not found"));
    }
    if state
        .store
        .folder(org, &uid)
        .await
        .map_err(store_error)?
        .is_some()
    {
        return Err(ApiError::conflict(SAME_UID));
    }
    let f = match state
        .store
        .create_folder(org, &uid, title, parent, super::now())
        .await
    {
        Ok(f) => f,
        Err(wk_store::StoreError::Conflict(_)) => return Err(ApiError::conflict(SAME_NAME)),
        Err(e) => return Err(store_error(e)),
    };
    Ok(Json(folder_json(&f, &caller)))
}

/// Body of `PUT /api/folders/{uid}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateFolder {
    #[serde(default)]
    title: String,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    overwrite: bool,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

/// `PUT /api/folders/{uid}`: renames; a `version` other than the current one without
/// `overwrite` is 412 as in Grafana.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody<UpdateFolder>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let current = state
        .store
        .folder(org, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(folder_not_found)?;
    if !body.overwrite
        && let Some(v) = body.version
        && v != current.version
    {
        return Ok((
            StatusCode::PRECONDITION_FAILED,
            Json(json!({
                "status": "version-mismatch",
                "message": "the folder has been changed by someone else",
            })),
        )
            .into_response());
    }
    let title = body.title.trim();
    if title.is_empty() {
        return Err(ApiError::bad_request("folder title cannot be empty"));
    }
    let f = if title == current.title {
        current
    } else {
        match state
            .store
            .rename_folder(org, &uid, title, super::now())
            .await
        {
            Ok(Some(f)) => f,
            Ok(None) => return Err(folder_not_found()),
            Err(wk_store::StoreError::Conflict(_)) => return Err(ApiError::conflict(SAME_NAME)),
            Err(e) => return Err(store_error(e)),
        }
    };
    Ok(Json(folder_json(&f, &caller)).into_response())
}

/// Query of `DELETE /api/folders/{uid}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteQuery {
    #[serde(default)]
    force_delete_rules: bool,
}

/// `DELETE /api/folders/{uid}`: refused (400, as Grafana) while the folder holds alert rules,
/// unless `?forceDeleteRules=true`, which deletes them too.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let _guard = rules::WRITE_LOCK.lock().await;
    let f = state
        .store
        .folder(org, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(folder_not_found)?;
    let inside = state
        .store
        .rules(org, Some(&uid), None)
        .await
        .map_err(store_error)?;
    let children = state
        .store
        .folders(org)
        .await
        .map_err(store_error)?
        .into_iter()
        .any(|c| c.parent_uid.as_deref() == Some(uid.as_str()));
    if children {
        return Err(ApiError::bad_request(
            "Folder cannot be deleted: folder is not empty (it has subfolders)",
        ));
    }
    if !inside.is_empty() && !q.force_delete_rules {
        return Err(ApiError::bad_request(format!(
            "Folder cannot be deleted: folder is not empty (it contains {} alert rules; \
             use forceDeleteRules=true to delete them with it)",
            inside.len()
        )));
    }
    if !state
        .store
        .delete_folder(org, &uid)
        .await
        .map_err(store_error)?
    {
        return Err(folder_not_found());
    }
    let uids: Vec<String> = inside.into_iter().map(|r| r.uid).collect();
    rules::forget_rules(&state.store, org, &uids).await;
    Ok(Json(json!({
        "title": f.title,
        "message": format!("Folder {} deleted", f.title),
        "id": f.id,
        "uid": f.uid,
    })))
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(slug("My Alerts / Prod"), "my-alerts-prod");
        assert_eq!(slug("x"), "x");
    }
}
