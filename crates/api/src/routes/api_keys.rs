//! API tokens of the caller's organization: `/api/auth/keys` (Grafana's API key shapes).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::org_users::parse_role;
use super::views::rfc3339;
use crate::access::Caller;
use crate::json::JsonBody;
use crate::{ApiError, AppState};

/// `GET /api/auth/keys`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let keys = state.store.list_api_keys(caller.0.org_id).await?;
    Ok(Json(Value::Array(
        keys.into_iter()
            .map(|k| {
                json!({
                    "id": k.id,
                    "name": k.name,
                    "role": k.role.to_string(),
                    "expiration": k.expires.map(rfc3339),
                    "lastUsedAt": k.last_used_at.map(rfc3339),
                })
            })
            .collect(),
    )))
}

/// Body of `POST /api/auth/keys`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateKey {
    name: String,
    role: String,
    #[serde(default)]
    seconds_to_live: Option<i64>,
}

/// `POST /api/auth/keys`: the raw token is in the answer, once.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<Json<Value>, ApiError> {
    let role = parse_role("role", &body.role)?;
    if !caller.0.has_role(role) {
        return Err(ApiError::forbidden(format!(
            "role: cannot create a token with a higher role ({role}) than your own"
        )));
    }
    let created = state
        .auth
        .create_api_key(caller.0.org_id, &body.name, role, body.seconds_to_live)
        .await
        .map_err(|e| match e {
            wk_auth::AuthError::Store(wk_store::StoreError::Conflict(_)) => {
                ApiError::conflict("API key name must be unique in the organization")
            }
            other => other.into(),
        })?;
    Ok(Json(json!({
        "id": created.key.id,
        "name": created.key.name,
        "key": created.token,
    })))
}

/// `DELETE /api/auth/keys/{key_id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    if !state.store.delete_api_key(caller.0.org_id, key_id).await? {
        return Err(ApiError::not_found("API key not found"));
    }
    state.auth.forget_api_key(key_id);
    Ok(Json(json!({ "message": "API key deleted" })))
}
