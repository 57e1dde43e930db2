//! Organizations: `/api/orgs`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use wk_store::{OrgRole, StoreError};

use crate::access::Caller;
use crate::json::JsonBody;
use crate::{ApiError, AppState};

/// `GET /api/orgs`.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let orgs = state.store.list_orgs().await?;
    Ok(Json(Value::Array(
        orgs.into_iter()
            .map(|o| json!({ "id": o.id, "name": o.name }))
            .collect(),
    )))
}

/// Body of `POST /api/orgs`.
#[derive(Deserialize)]
pub(crate) struct CreateOrg {
    name: String,
}

/// `POST /api/orgs`: creates an organization (with the built-in TestData data source); the
/// creating user becomes its Admin.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateOrg>,
) -> Result<Json<Value>, ApiError> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("name: must not be empty"));
    }
    let now = super::now();
    let org = match state.store.create_org(name, now).await {
        Ok(org) => org,
        Err(StoreError::Conflict(_)) => return Err(ApiError::conflict("Organization name taken")),
        Err(e) => return Err(e.into()),
    };
    if let Some(user) = &caller.0.user {
        state
            .store
            .add_org_user(org.id, user.id, OrgRole::Admin, now)
            .await?;
    }
    // Every organization has the built-in TestData data source.
    if let Err(e) = crate::datasources::ensure_builtin(&state.store, org.id, now).await {
        tracing::warn!(error = %e, org_id = org.id, "creating the built-in TestData data source failed");
    }
    Ok(Json(
        json!({ "orgId": org.id, "message": "Organization created" }),
    ))
}
