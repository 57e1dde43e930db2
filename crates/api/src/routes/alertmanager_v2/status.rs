//! `GET /status` and `GET /receivers`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::V2Error;
use super::instance;
use crate::AppState;
use crate::access::Caller;

/// `GET /status`: the single-node peer reports cluster status `disabled`.
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, V2Error> {
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
) -> Result<Json<Value>, V2Error> {
    let am = instance(&state, &caller).await?;
    Ok(Json(Value::Array(
        am.receivers()
            .into_iter()
            .map(|r| json!({"name": r.name}))
            .collect(),
    )))
}
