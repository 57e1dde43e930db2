//! `GET /status` and `GET /receivers`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use wk_cluster::ClusterStatus;

use super::V2Error;
use super::instance;
use crate::AppState;
use crate::access::Caller;

/// The `cluster` object (`clusterStatus`): name, `ready`/`settling` and the members with their
/// addresses when clustered; `{"status": "disabled", "peers": []}` for the single-node peer.
fn cluster(status: Option<ClusterStatus>) -> Value {
    match status {
        None => json!({"status": "disabled", "peers": []}),
        Some(c) => json!({
            "name": c.name,
            "status": c.status,
            "peers": c.peers.iter().map(|p| json!({"name": p.name, "address": p.address})).collect::<Vec<_>>(),
        }),
    }
}

/// `GET /status`: the cluster as the peer reports it (`disabled` for the single-node peer).
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, V2Error> {
    let am = instance(&state, &caller).await?;
    let build = &state.opts.build;
    Ok(Json(json!({
        "cluster": cluster(state.alertmanagers.peer().status()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use wk_cluster::PeerInfo;

    #[test]
    fn cluster_status_has_alertmanagers_shape() {
        assert_eq!(cluster(None), json!({"status": "disabled", "peers": []}));
        let status = ClusterStatus {
            name: "01HX".into(),
            status: "settling",
            peers: vec![
                PeerInfo {
                    name: "01HX".into(),
                    address: "10.0.0.1:9094".into(),
                },
                PeerInfo {
                    name: "01HY".into(),
                    address: "10.0.0.2:9094".into(),
                },
            ],
        };
        assert_eq!(
            cluster(Some(status)),
            json!({
                "name": "01HX",
                "status": "settling",
                "peers": [
                    {"name": "01HX", "address": "10.0.0.1:9094"},
                    {"name": "01HY", "address": "10.0.0.2:9094"},
                ],
            })
        );
    }
}
