//! The removed Alertmanager API v1 under `/api/alertmanager/grafana/api/v1/`: every former
//! route answers 410 Gone with the JSON body Alertmanager 0.27+ sends.

use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Upstream's body, byte for byte (Go's JSON encoder ends it with a newline).
pub(crate) const GONE_BODY: &str = "{\"status\":\"deprecated\",\"error\":\"The Alertmanager v1 API was deprecated in version 0.16.0 and is removed as of version 0.27.0 - please use the equivalent route in the v2 API\"}\n";

/// Any v1 route: 410 with `Content-Type: application/json`.
pub(crate) async fn gone(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    tracing::warn!(%method, path, "v1 API received a request on a removed endpoint");
    (
        StatusCode::GONE,
        [(header::CONTENT_TYPE, "application/json")],
        GONE_BODY,
    )
        .into_response()
}
