//! Members of the caller's organization: `/api/org/users`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use wk_store::{OrgRole, StoreError};

use super::views::rfc3339;
use crate::access::Caller;
use crate::json::JsonBody;
use crate::{ApiError, AppState};

/// Parses a role name from a request field.
pub(super) fn parse_role(field: &str, value: &str) -> Result<OrgRole, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "{field}: invalid role {value:?}, expected Viewer, Editor or Admin"
        ))
    })
}

/// `GET /api/org/users`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let users = state.store.list_org_users(caller.0.org_id).await?;
    Ok(Json(Value::Array(
        users
            .into_iter()
            .map(|u| {
                json!({
                    "orgId": u.org_id,
                    "userId": u.user_id,
                    "email": u.email,
                    "name": u.name,
                    "login": u.login,
                    "role": u.role.to_string(),
                    "lastSeenAt": rfc3339(u.last_seen_at),
                })
            })
            .collect(),
    )))
}

/// Body of `POST /api/org/users`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AddUser {
    login_or_email: String,
    role: String,
}

/// `POST /api/org/users`: adds an existing user to the organization.
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<AddUser>,
) -> Result<Json<Value>, ApiError> {
    let role = parse_role("role", &body.role)?;
    let user = state
        .store
        .get_user_by_login_or_email(body.login_or_email.trim())
        .await?
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    match state
        .store
        .add_org_user(caller.0.org_id, user.id, role, super::now())
        .await
    {
        Ok(()) => Ok(Json(
            json!({ "message": "User added to organization", "userId": user.id }),
        )),
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(
            "User is already member of this organization",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Body of `PATCH /api/org/users/{user_id}`.
#[derive(Deserialize)]
pub(crate) struct UpdateUser {
    role: String,
}

/// Refuses a change that would leave the organization without an admin.
async fn keep_an_admin(state: &AppState, org_id: i64, user_id: i64) -> Result<(), ApiError> {
    let current = state.store.get_org_role(org_id, user_id).await?;
    match current {
        None => Err(ApiError::not_found("User not found in organization")),
        Some(OrgRole::Admin) if state.store.count_org_admins(org_id).await? <= 1 => Err(
            ApiError::bad_request("Cannot remove or demote the last admin of the organization"),
        ),
        Some(_) => Ok(()),
    }
}

/// `PATCH /api/org/users/{user_id}`: changes a member's role.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
    JsonBody(body): JsonBody<UpdateUser>,
) -> Result<Json<Value>, ApiError> {
    let role = parse_role("role", &body.role)?;
    let org_id = caller.0.org_id;
    if role != OrgRole::Admin {
        keep_an_admin(&state, org_id, user_id).await?;
    }
    if !state
        .store
        .set_org_user_role(org_id, user_id, role, super::now())
        .await?
    {
        return Err(ApiError::not_found("User not found in organization"));
    }
    Ok(Json(json!({ "message": "Organization user updated" })))
}

/// `DELETE /api/org/users/{user_id}`.
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let org_id = caller.0.org_id;
    keep_an_admin(&state, org_id, user_id).await?;
    if !state.store.remove_org_user(org_id, user_id).await? {
        return Err(ApiError::not_found("User not found in organization"));
    }
    Ok(Json(json!({ "message": "User removed from organization" })))
}
