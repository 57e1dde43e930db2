//! `GET /status` and `GET /receivers`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::instance;
use crate::access::Caller;
use crate::{ApiError, AppState};

/// `GET /status`: the single-node peer reports cluster status `disabled`.
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let am = instance(&state, &caller).await?;
    let build = &state.opts.build;
    Ok(Json(json!({
        "cluster": {"status": "disabled", "peers": []},
        "versionInfo": {
            "version": build.version,
            "revision": build.commit,
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
        },
        "config": {"original": am.config_yaml()},
        "uptime": super::time(am.started_at()),
    })))
}

/// `GET /receivers`.
pub(crate) async fn receivers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let am = instance(&state, &caller).await?;
    Ok(Json(Value::Array(
        am.receivers()
            .into_iter()
            .map(|r| json!({"name": r.name}))
            .collect(),
    )))
}
