//! A local webhook receiver for black-box tests: records every POST body (as JSON when it
//! parses) with its `Authorization` header, and waits for what a test expects with a deadline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;

/// One received request: its `Authorization` header and body.
pub type Request = (Option<String>, Value);

/// What the receiver shares with the test: the requests, and a wake-up for each new one.
#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Request>>,
    arrived: tokio::sync::Notify,
}

/// A running receiver at [`Collector::url`].
#[derive(Clone)]
pub struct Collector {
    /// The URL to configure as the webhook.
    pub url: String,
    shared: Arc<Shared>,
}

async fn record(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> &'static str {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    shared.got.lock().expect("lock").push((auth, body));
    shared.arrived.notify_waiters();
    "ok"
}

impl Collector {
    /// Starts a receiver on a free loopback port, serving `/hook`; it lives as long as the test.
    pub async fn start() -> Collector {
        Self::start_on("127.0.0.1").await
    }

    /// Starts a receiver on a free port of `ip`.
    pub async fn start_on(ip: &str) -> Collector {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .expect("bind collector");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Collector {
            url: format!("http://{addr}/hook"),
            shared,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.got.lock().expect("lock").clone()
    }

    /// Every body received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.requests().into_iter().map(|(_, b)| b).collect()
    }

    /// Polls until `found` returns something for the requests received so far; panics after
    /// `limit` with what was received and `context()` (e.g. the server log).
    pub async fn wait_for<T>(
        &self,
        limit: Duration,
        context: impl Fn() -> String,
        found: impl Fn(&[Request]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            // Registered before looking, so a request arriving in between still wakes us.
            let arrived = self.shared.arrived.notified();
            if let Some(t) = found(&self.requests()) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "the webhook did not receive what was expected; got {:?}\n{}",
                self.requests(),
                context()
            );
            let _ = tokio::time::timeout(Duration::from_millis(100), arrived).await;
        }
    }
}

/// Whether a webhook body carries an alert named `alertname`.
pub fn has_alert(body: &Value, alertname: &str) -> bool {
    body["alerts"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["labels"]["alertname"] == alertname))
}
