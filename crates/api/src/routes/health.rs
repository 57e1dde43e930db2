//! `/api/health` (what load balancers probe) and `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::{ApiError, AppState, metrics};

/// 200 with `"database":"ok"`, or 503 with `"database":"failing"` when the database does not answer.
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let ok = matches!(
        tokio::time::timeout(state.opts.health_timeout, state.store.ping()).await,
        Ok(Ok(()))
    );
    let body = json!({
        "database": if ok { "ok" } else { "failing" },
        "version": state.opts.build.version,
        "commit": state.opts.build.commit,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        tracing::warn!("health check: database is not answering");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// The metrics exposition.
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = metrics::render(&state.registry)
        .map_err(|e| ApiError::internal("rendering metrics failed", &e))?;
    Ok(([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response())
}
