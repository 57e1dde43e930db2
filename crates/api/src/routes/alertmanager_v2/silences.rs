//! `GET|POST /silences`, `GET|DELETE /silence/{id}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use wk_alertmanager::instance::Alertmanager;
use wk_alertmanager::matchers::{MatchType, Matcher, Matchers};
use wk_alertmanager::silences::{Silence, SilenceError, SilenceQuery, SilenceState};

use super::V2Error;
use super::{bool_param, filter_matchers, instance, time};
use crate::access::Caller;
use crate::alertmanagers::Alertmanagers;
use crate::json::JsonBody;
use crate::{ApiError, AppState};

fn silence_error(e: SilenceError) -> ApiError {
    match e {
        SilenceError::NotFound(_) => ApiError::not_found(e.to_string()),
        SilenceError::Decode(_) => ApiError::internal("silences", &e),
        _ => ApiError::bad_request(e.to_string()),
    }
}

/// The `gettableSilence` JSON; a silence with several matcher sets cannot be shown (500).
fn gettable(s: &Silence, now: DateTime<Utc>) -> Result<Value, ApiError> {
    if s.matcher_sets.len() > 1 {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("silence {} has more than one matcher set", s.id),
        ));
    }
    let matchers: Vec<Value> = s
        .matcher_sets
        .first()
        .map(|set| {
            set.iter()
                .map(|m| {
                    let kind = m.kind();
                    json!({
                        "name": m.name(),
                        "value": m.value(),
                        "isRegex": matches!(kind, MatchType::Regexp | MatchType::NotRegexp),
                        "isEqual": matches!(kind, MatchType::Equal | MatchType::Regexp),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let t = |x: Option<DateTime<Utc>>| x.map(time).unwrap_or_default();
    let mut v = json!({
        "id": s.id,
        "status": {"state": s.state(now).as_str()},
        "updatedAt": t(s.updated_at),
        "matchers": matchers,
        "startsAt": t(s.starts_at),
        "endsAt": t(s.ends_at),
        "createdBy": s.created_by,
        "comment": s.comment,
    });
    if !s.annotations.is_empty() {
        v["annotations"] = json!(s.annotations);
    }
    Ok(v)
}

/// Whether every filter matcher equals one of the silence's matchers.
fn filter_keeps(filter: &Matchers, s: &Silence) -> bool {
    filter.iter().all(|f| {
        s.matcher_sets.iter().any(|set| {
            set.iter()
                .any(|m| m.name() == f.name() && m.value() == f.value() && m.kind() == f.kind())
        })
    })
}

/// `GET /silences`: active (by end), then pending (by start), then expired (latest end first).
/// `active`, `pending`, `expired` (default true) leave out silences in that state (0.34).
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, V2Error> {
    let am = instance(&state, &caller).await?;
    let filter = filter_matchers(&am, &query)?;
    let mut states = Vec::new();
    for (name, state) in [
        ("active", SilenceState::Active),
        ("pending", SilenceState::Pending),
        ("expired", SilenceState::Expired),
    ] {
        if bool_param(&query, name, true)? {
            states.push(state);
        }
    }
    let now = am.now();
    let mut list: Vec<Silence> = am
        .silences()
        .query(&SilenceQuery::default(), now)
        .into_iter()
        .filter(|s| states.contains(&s.state(now)))
        .filter(|s| filter_keeps(&filter, s))
        .collect();
    let rank = |s: &Silence| match s.state(now) {
        SilenceState::Active => 0,
        SilenceState::Pending => 1,
        SilenceState::Expired => 2,
    };
    list.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| match a.state(now) {
            SilenceState::Active => a.ends_at.cmp(&b.ends_at),
            SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
            SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
        })
    });
    let out: Result<Vec<Value>, ApiError> = list.iter().map(|s| gettable(s, now)).collect();
    Ok(Json(Value::Array(out?)))
}

/// A matcher of a posted silence.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostedMatcher {
    name: String,
    value: String,
    is_regex: bool,
    #[serde(default = "yes")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

/// Body of `POST /silences`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostedSilence {
    #[serde(default)]
    id: Option<String>,
    matchers: Vec<PostedMatcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_by: String,
    comment: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

async fn save(state: &AppState, caller: &Caller, am: &Arc<Alertmanager>) {
    if let Err(e) = Alertmanagers::save_silences(&state.store, caller.0.org_id, am).await {
        tracing::error!(error = %e, "saving silences failed");
    }
}

/// `POST /silences`: `{"silenceID": id}`.
pub(crate) async fn post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PostedSilence>,
) -> Result<Json<Value>, V2Error> {
    let mut set = Matchers::new();
    for m in body.matchers {
        let kind = match (m.is_regex, m.is_equal) {
            (false, true) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (true, false) => MatchType::NotRegexp,
        };
        let matcher = Matcher::new(kind, m.name, m.value)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        set.push(matcher);
    }
    let am = instance(&state, &caller).await?;
    // The API's own checks, before the silence store's validation (upstream's messages).
    if body.starts_at >= body.ends_at {
        let msg = "Failed to create silence: start time must be before end time";
        return Err(ApiError::bad_request(msg).into());
    }
    if body.ends_at < am.now() {
        let msg = "Failed to create silence: end time can't be in the past";
        return Err(ApiError::bad_request(msg).into());
    }
    let silence = Silence {
        id: body.id.unwrap_or_default(),
        matcher_sets: if set.is_empty() { vec![] } else { vec![set] },
        starts_at: Some(body.starts_at),
        ends_at: Some(body.ends_at),
        updated_at: None,
        created_by: body.created_by,
        comment: body.comment,
        annotations: body.annotations,
    };
    let out = am
        .silences()
        .set(silence, am.now())
        .map_err(silence_error)?;
    save(&state, &caller, &am).await;
    Ok(Json(json!({"silenceID": out.id})))
}

/// `GET /silence/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, V2Error> {
    let am = instance(&state, &caller).await?;
    let s = am
        .silences()
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("silence {id} not found")))?;
    Ok(Json(gettable(&s, am.now())?))
}

/// `DELETE /silence/{id}`: expires it (idempotent), 404 if unknown.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, V2Error> {
    let am = instance(&state, &caller).await?;
    am.silences().expire(&id, am.now()).map_err(silence_error)?;
    save(&state, &caller, &am).await;
    Ok(StatusCode::OK)
}
