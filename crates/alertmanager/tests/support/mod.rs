//! Shared scaffolding of the instance tests: a local webhook that records JSON bodies, and
//! instance options on a clock that tokio's paused time drives.

#![allow(dead_code)] // Each test file uses a different part.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use chrono::Utc;
use wk_alertmanager::dispatch::Clock;
use wk_alertmanager::instance::InstanceOptions;
use wk_cluster::NilPeer;

/// The JSON bodies a webhook received, in order.
pub type Bodies = Arc<Mutex<Vec<serde_json::Value>>>;

/// Starts a webhook at `http://<addr>/hook` that records every JSON body.
pub async fn serve() -> (Bodies, SocketAddr) {
    let bodies = Bodies::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(b): State<Bodies>, axum::Json(v): axum::Json<serde_json::Value>| async move {
                    b.lock().expect("lock").push(v);
                    "ok"
                },
            ),
        )
        .with_state(Arc::clone(&bodies));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (bodies, addr)
}

/// Options with a clock starting now, driven by tokio's (paused) time.
pub fn opts() -> InstanceOptions {
    let mut o = InstanceOptions::new("http://wk.example/", Arc::new(NilPeer));
    o.clock = Clock::starting_at(Utc::now());
    o
}
