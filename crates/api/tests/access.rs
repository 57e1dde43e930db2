//! Every route declares what it needs: without credentials each protected route answers 401 JSON,
//! and with a Viewer's credentials each route above Viewer answers 403 JSON.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use prometheus_client::registry::Registry;
use tower::ServiceExt;
use wk_api::alertmanagers::Alertmanagers;
use wk_api::metrics::HttpMetrics;
use wk_api::{ApiOptions, AppState, Need, route_table, router};
use wk_auth::{AuthOptions, AuthService, OrgRole, hash_password};
use wk_secrets::SecretBox;
use wk_store::NewUser;

fn concrete(path: &str) -> String {
    path.replace("{org_id}", "1")
        .replace("{user_id}", "1")
        .replace("{key_id}", "1")
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    basic: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(concrete(path))
        .header("content-type", "application/json");
    if let Some(b) = basic {
        req = req.header("authorization", format!("Basic {b}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from("{}")).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, json)
}

#[tokio::test]
async fn routes_enforce_their_requirement() {
    let t = wk_store::testing::test_store(wk_store::Backend::Sqlite)
        .await
        .expect("sqlite is always available");
    let store = t.store.clone();
    store.ensure_org(1, "Main Org.", 0).await.expect("org");
    store
        .create_user(
            &NewUser {
                login: "viewer".into(),
                email: "viewer@example.com".into(),
                name: "V".into(),
                password_hash: hash_password("viewer-pw").expect("hash"),
                is_admin: false,
                org_id: 1,
                role: OrgRole::Viewer,
            },
            0,
        )
        .await
        .expect("user");
    let mut registry = Registry::default();
    let state = AppState {
        auth: AuthService::new(store.clone(), AuthOptions::default()),
        store,
        opts: Arc::new(ApiOptions::default()),
        http_metrics: HttpMetrics::register(&mut registry),
        registry: Arc::new(registry),
        alertmanagers: Arc::new(Alertmanagers::new(
            "http://localhost:3000/",
            SecretBox::new("test secret").expect("secret key"),
        )),
        ruler: None,
        rule_evaluator: None,
        external_alertmanagers: None,
    };
    let app = router(state).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
    let viewer = "dmlld2VyOnZpZXdlci1wdw=="; // viewer:viewer-pw

    let table = route_table();
    assert!(table.len() >= 20, "route table: {table:?}");
    let mut seen = std::collections::HashSet::new();
    for r in &table {
        assert!(seen.insert((r.method, r.path)), "duplicate route {r:?}");
        if r.need == Need::Public {
            continue;
        }
        let (status, body) = call(&app, r.method, r.path, None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{r:?} without credentials"
        );
        assert!(
            body["message"].is_string(),
            "{r:?}: JSON error body, got {body}"
        );
        let (status, body) = call(&app, r.method, r.path, Some(viewer)).await;
        match r.need {
            Need::Admin | Need::ServerAdmin | Need::Editor => {
                assert_eq!(status, StatusCode::FORBIDDEN, "{r:?} as Viewer");
                assert!(body["message"].is_string(), "{r:?}: {body}");
            }
            _ => assert_ne!(status, StatusCode::FORBIDDEN, "{r:?} as Viewer"),
        }
    }
    // Public routes answer without credentials.
    let (status, body) = call(&app, "GET", "/api/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], "ok");
}
