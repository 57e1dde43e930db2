//! `POST /login` and `POST /logout`: session cookies.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use wk_auth::AuthMethod;

use crate::access::Caller;
use crate::json::JsonBody;
use crate::{ApiError, AppState, cookie};

/// Body of `POST /login`.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    user: String,
    password: String,
}

/// Checks the password and sets the session cookie.
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(form): JsonBody<LoginForm>,
) -> Result<Response, ApiError> {
    if form.user.trim().is_empty() {
        return Err(ApiError::bad_request("user: must not be empty"));
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (user, token) = state
        .auth
        .login(&form.user, &form.password, &addr.ip().to_string(), agent)
        .await?;
    tracing::info!(login = %user.login, "user logged in");
    let mut resp = Json(json!({ "message": "Logged in", "redirectUrl": "/" })).into_response();
    if let Some(c) = cookie::session(&state.opts, &token.0) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// Revokes the current session (if the request has one) and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    caller: Option<Caller>,
) -> Result<Response, ApiError> {
    if let Some(Caller(id)) = caller
        && let AuthMethod::Session { token_id } = id.method
    {
        state.auth.revoke_session(token_id).await?;
    }
    let mut resp = Json(json!({ "message": "Logged out" })).into_response();
    if let Some(c) = cookie::clear(&state.opts) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}
