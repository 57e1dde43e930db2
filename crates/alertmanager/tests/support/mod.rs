//! Shared scaffolding of the instance tests: a local webhook that records JSON bodies, instance
//! options on a clock that tokio's paused time drives, and a loopback pair of peers connecting
//! two instances in-process.

#![allow(dead_code)] // Each test file uses a different part.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use chrono::Utc;
use wk_alertmanager::dispatch::Clock;
use wk_alertmanager::instance::InstanceOptions;
use wk_cluster::{BoxFuture, Channel, NilPeer, Peer, State as PeerState};

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
/// An Alertmanager YAML configuration: one route (`group_by: [alertname]`, `group_wait: 5s`) to
/// receiver `hook`, a webhook to `http://{addr}/hook`.
pub fn hook_config(addr: SocketAddr) -> String {
    format!(
        "route:
  receiver: hook
  group_by: [alertname]
  group_wait: 5s
receivers:
  - name: hook
    webhook_configs:
      - url: http://{addr}/hook
"
    )
}

pub fn opts() -> InstanceOptions {
    let mut o = InstanceOptions::new("http://wk.example/", Arc::new(NilPeer));
    o.clock = Clock::starting_at(Utc::now());
    o
}

/// One side of a loopback pair: a [`Peer`] whose channels deliver every broadcast
/// synchronously to the other side's state of the same key (as a gossip update), recording the
/// bytes sent under each key.
pub struct Loopback {
    me: Weak<Loopback>,
    position: u32,
    states: Mutex<HashMap<String, Arc<dyn PeerState>>>,
    other: OnceLock<Weak<Loopback>>,
    sent: Mutex<Vec<(String, Vec<u8>)>>,
    connected: std::sync::atomic::AtomicBool,
}

/// Two connected peers, at positions 0 and 1.
pub fn loopback_pair() -> (Arc<Loopback>, Arc<Loopback>) {
    let side = |position| {
        Arc::new_cyclic(|me| Loopback {
            me: me.clone(),
            position,
            states: Mutex::default(),
            other: OnceLock::new(),
            sent: Mutex::default(),
            connected: std::sync::atomic::AtomicBool::new(true),
        })
    };
    let (a, b) = (side(0), side(1));
    let _ = a.other.set(Arc::downgrade(&b));
    let _ = b.other.set(Arc::downgrade(&a));
    (a, b)
}

impl Loopback {
    /// The bytes broadcast under `key` (local updates and relays), in order.
    pub fn sent(&self, key: &str) -> Vec<Vec<u8>> {
        self.sent
            .lock()
            .expect("lock")
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Whether broadcasts reach the other side (they are recorded either way).
    pub fn set_connected(&self, connected: bool) {
        self.connected
            .store(connected, std::sync::atomic::Ordering::SeqCst);
    }

    /// The state registered under `key`.
    pub fn state(&self, key: &str) -> Option<Arc<dyn PeerState>> {
        self.states.lock().expect("lock").get(key).cloned()
    }

    /// Push/pull: merges every state of this side into the other side's state of the same key.
    pub fn push_full_state(&self) {
        let Some(other) = self.other.get().and_then(Weak::upgrade) else {
            return;
        };
        let mine: Vec<(String, Arc<dyn PeerState>)> = self
            .states
            .lock()
            .expect("lock")
            .iter()
            .map(|(k, s)| (k.clone(), Arc::clone(s)))
            .collect();
        for (key, state) in mine {
            if let Some(theirs) = other.state(&key) {
                theirs.merge(&state.marshal()).expect("full state merges");
            }
        }
    }

    fn deliver(&self, key: &str, bytes: Vec<u8>) {
        self.sent
            .lock()
            .expect("lock")
            .push((key.to_owned(), bytes.clone()));
        if !self.connected.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        // Looked up, and the lock released, before merging: the merge may relay back here.
        let target = self
            .other
            .get()
            .and_then(Weak::upgrade)
            .and_then(|o| o.state(key));
        if let Some(state) = target {
            state.merge(&bytes).expect("gossip merges");
        }
    }
}

/// A channel of a [`Loopback`] peer.
struct LoopbackChannel {
    key: String,
    peer: Weak<Loopback>,
}

impl Channel for LoopbackChannel {
    fn broadcast(&self, bytes: Vec<u8>) {
        if let Some(p) = self.peer.upgrade() {
            p.deliver(&self.key, bytes);
        }
    }
}

impl Peer for Loopback {
    fn position(&self) -> u32 {
        self.position
    }

    fn wait_ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    fn add_state(&self, key: &str, state: Arc<dyn PeerState>) -> Arc<dyn Channel> {
        self.states
            .lock()
            .expect("lock")
            .insert(key.to_owned(), state);
        Arc::new(LoopbackChannel {
            key: key.to_owned(),
            peer: self.me.clone(),
        })
    }

    fn ready(&self) -> bool {
        true
    }
}
