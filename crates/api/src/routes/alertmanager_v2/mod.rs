//! Alertmanager API v2 of the caller's organization, under
//! `/api/alertmanager/grafana/api/v2/` (what `amtool` and Prometheus talk to).

pub(crate) mod alerts;
#[cfg(test)]
mod openapi_tests;
pub(crate) mod silences;
pub(crate) mod status;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
#[cfg(test)]
use serde_json::{Map, Value};
use wk_alertmanager::instance::Alertmanager;
#[cfg(test)]
use wk_alertmanager::labels::LabelSet;
use wk_alertmanager::labels::NameValidation;
use wk_alertmanager::matchers::{Matchers, Mode, parse_matcher};

use crate::access::Caller;
use crate::{ApiError, AppState};

/// The caller's organization's instance.
pub(crate) async fn instance(
    state: &AppState,
    caller: &Caller,
) -> Result<Arc<Alertmanager>, ApiError> {
    state.alertmanagers.get(&state.store, caller.0.org_id).await
}

/// RFC 3339 with millisecond precision, like Go's `strfmt.DateTime`.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A label set as a JSON object (the reference the streamed `gettableAlert` is tested against).
#[cfg(test)]
pub(crate) fn label_object(labels: &LabelSet) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect::<Map<String, Value>>(),
    )
}

/// The values of the repeated `name` query parameter.
pub(crate) fn params<'a>(query: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    query
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A boolean query parameter (default `default`).
pub(crate) fn bool_param(
    query: &[(String, String)],
    name: &str,
    default: bool,
) -> Result<bool, ApiError> {
    match params(query, name).last() {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::bad_request(format!("{name}: invalid boolean {v:?}"))),
    }
}

/// The `filter` parameters as matchers: the UTF-8 parser, or the classic one when `am` runs in
/// classic mode.
pub(crate) fn filter_matchers(
    am: &Alertmanager,
    query: &[(String, String)],
) -> Result<Matchers, ApiError> {
    let mode = match am.name_validation() {
        NameValidation::Classic => Mode::Classic,
        NameValidation::Utf8 => Mode::Utf8,
    };
    let mut out = Matchers::new();
    for f in params(query, "filter") {
        let m = parse_matcher(f, mode).map_err(|e| ApiError::bad_request(e.to_string()))?;
        out.push(m);
    }
    Ok(out)
}

/// Path prefix of the API v2.
pub(crate) const PREFIX: &str = "/api/alertmanager/grafana/api/v2/";

/// Our OpenAPI (Swagger 2.0) description of the API v2, served at `PREFIX + "openapi.yaml"`.
pub(crate) const OPENAPI: &str = include_str!("openapi.yaml");

/// `GET /openapi.yaml`.
pub(crate) async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/yaml")],
        OPENAPI,
    )
        .into_response()
}

/// Middleware: every answer under the API v2 prefix, errors included, gets
/// `Cache-Control: no-store` (as upstream's `setResponseHeaders`).
pub(crate) async fn no_store(req: Request, next: Next) -> Response {
    let v2 = req.uri().path().starts_with(PREFIX);
    let mut resp = next.run(req).await;
    if v2 {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// An error of an API v2 handler, answered as upstream does: the status and the message as a
/// JSON string (`"..."`, `Content-Type: application/json`), which go-swagger clients such as
/// amtool decode. Authentication errors keep the server-wide `{"message"}` shape.
#[derive(Debug)]
pub(crate) struct V2Error(pub(crate) ApiError);

impl From<ApiError> for V2Error {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&self.0.message).unwrap_or_else(|_| "\"\"".to_owned());
        (
            self.0.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
