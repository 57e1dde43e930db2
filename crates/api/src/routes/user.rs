//! The signed-in user's own endpoints: `/api/user`, password, organizations.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use wk_auth::AuthError;

use super::views::rfc3339;
use crate::access::Caller;
use crate::json::JsonBody;
use crate::{ApiError, AppState};

/// `GET /api/user`.
pub(crate) async fn current(caller: Caller) -> Result<Json<Value>, ApiError> {
    let u = caller.user()?;
    Ok(Json(json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "login": u.login,
        "theme": "",
        "orgId": caller.0.org_id,
        "isGrafanaAdmin": u.is_admin,
        "isDisabled": u.is_disabled,
        "isExternal": false,
        "createdAt": rfc3339(u.created),
        "updatedAt": rfc3339(u.updated),
    })))
}

/// Body of `PUT /api/user/password`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangePassword {
    old_password: String,
    new_password: String,
}

/// `PUT /api/user/password`.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Result<Json<Value>, ApiError> {
    let user = caller.user()?;
    match state
        .auth
        .change_password(user, &body.old_password, &body.new_password)
        .await
    {
        Ok(()) => Ok(Json(json!({ "message": "User password changed" }))),
        Err(AuthError::InvalidCredentials) => Err(ApiError::unauthorized("Invalid old password")),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/user/orgs`.
pub(crate) async fn orgs(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let user = caller.user()?;
    let orgs = state.store.list_user_orgs(user.id).await?;
    Ok(Json(Value::Array(
        orgs.into_iter()
            .map(|o| json!({ "orgId": o.org_id, "name": o.name, "role": o.role.to_string() }))
            .collect(),
    )))
}

/// `POST /api/user/using/{org_id}`: switches the user's current organization.
pub(crate) async fn switch_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let user = caller.user()?;
    if state.store.get_org_role(org_id, user.id).await?.is_none() {
        return Err(ApiError::forbidden(format!(
            "user is not a member of organization {org_id}"
        )));
    }
    state
        .store
        .set_user_org(user.id, org_id, super::now())
        .await?;
    Ok(Json(json!({ "message": "Active organization changed" })))
}
