//! Server-admin user management: `/api/users`, `/api/admin/users`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use wk_store::{NewUser, OrgRole, StoreError};

use super::views::UserView;
use crate::json::JsonBody;
use crate::{ApiError, AppState};

/// Query of `GET /api/users`.
#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    query: String,
    #[serde(default = "default_perpage")]
    perpage: usize,
    #[serde(default = "default_page")]
    page: usize,
}

fn default_perpage() -> usize {
    1000
}
fn default_page() -> usize {
    1
}

/// `GET /api/users` (and `/api/admin/users`): users, filtered by `query` on login, e-mail and name.
pub(crate) async fn search_users(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let needle = q.query.to_lowercase();
    let users = state.store.list_users().await?;
    let page = q.page.max(1) - 1;
    let views = users
        .iter()
        .filter(|u| {
            needle.is_empty()
                || [&u.login, &u.email, &u.name]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&needle))
        })
        .skip(page.saturating_mul(q.perpage))
        .take(q.perpage)
        .map(UserView::from)
        .collect();
    Ok(Json(views))
}

/// Body of `POST /api/admin/users`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateUser {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    login: String,
    password: String,
    #[serde(default, rename = "OrgId", alias = "orgId")]
    org_id: Option<i64>,
}

/// `POST /api/admin/users`: creates a user, a Viewer of the given (or main) organization.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<Json<Value>, ApiError> {
    let login = if body.login.trim().is_empty() {
        body.email.trim()
    } else {
        body.login.trim()
    };
    if login.is_empty() {
        return Err(ApiError::bad_request(
            "login: either login or email is required",
        ));
    }
    let org_id = body.org_id.unwrap_or(1);
    if state.store.get_org(org_id).await?.is_none() {
        return Err(ApiError::bad_request(format!(
            "OrgId: organization {org_id} does not exist"
        )));
    }
    let password_hash = wk_auth::hash_new_password(&body.password).await?;
    let new = NewUser {
        login: login.to_string(),
        email: body.email.trim().to_string(),
        name: body.name.trim().to_string(),
        password_hash,
        is_admin: false,
        org_id,
        role: OrgRole::Viewer,
    };
    match state.store.create_user(&new, super::now()).await {
        Ok(user) => Ok(Json(json!({ "id": user.id, "message": "User created" }))),
        Err(StoreError::Conflict(_)) => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "User with same email or login already exists",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /api/admin/users/{user_id}`.
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    Path(user_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    if !state.store.delete_user(user_id).await? {
        return Err(ApiError::not_found("User not found"));
    }
    Ok(Json(json!({ "message": "User deleted" })))
}

/// Body of `PUT /api/admin/users/{user_id}/password`.
#[derive(Deserialize)]
pub(crate) struct SetPassword {
    password: String,
}

/// `PUT /api/admin/users/{user_id}/password`: sets the password and ends the user's sessions.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    Path(user_id): Path<i64>,
    JsonBody(body): JsonBody<SetPassword>,
) -> Result<Json<Value>, ApiError> {
    if state.store.get_user(user_id).await?.is_none() {
        return Err(ApiError::not_found("User not found"));
    }
    state.auth.set_password(user_id, &body.password).await?;
    state
        .store
        .revoke_user_auth_tokens(user_id, super::now())
        .await?;
    Ok(Json(json!({ "message": "User password updated" })))
}

/// Body of `PUT /api/admin/users/{user_id}/permissions`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetPermissions {
    is_grafana_admin: bool,
}

/// `PUT /api/admin/users/{user_id}/permissions`: grants or revokes server admin.
pub(crate) async fn set_permissions(
    State(state): State<AppState>,
    Path(user_id): Path<i64>,
    JsonBody(body): JsonBody<SetPermissions>,
) -> Result<Json<Value>, ApiError> {
    if !state
        .store
        .set_user_admin(user_id, body.is_grafana_admin, super::now())
        .await?
    {
        return Err(ApiError::not_found("User not found"));
    }
    Ok(Json(json!({ "message": "User permissions updated" })))
}
