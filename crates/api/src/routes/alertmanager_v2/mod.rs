//! Alertmanager API v2 of the caller's organization, under
//! `/api/alertmanager/grafana/api/v2/` (what `amtool` and Prometheus talk to).

pub(crate) mod alerts;
pub(crate) mod silences;
pub(crate) mod status;

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};
use wk_alertmanager::instance::Alertmanager;
use wk_alertmanager::labels::LabelSet;
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

/// A label set as a JSON object.
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

/// The `filter` parameters as matchers (UTF-8 parser).
pub(crate) fn filter_matchers(query: &[(String, String)]) -> Result<Matchers, ApiError> {
    let mut out = Matchers::new();
    for f in params(query, "filter") {
        let m = parse_matcher(f, Mode::Utf8).map_err(|e| ApiError::bad_request(e.to_string()))?;
        out.push(m);
    }
    Ok(out)
}
