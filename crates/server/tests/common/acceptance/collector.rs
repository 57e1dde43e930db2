//! The webhook collector of the acceptance harness (upstream's `testutils.Collector` and
//! `MockWebhook`): a local HTTP server that records every received v4 webhook payload with its
//! arrival time relative to the test's base time, the expectations (`want`), and the check
//! that compares both and prints a report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Datelike, Utc};
use serde_json::Value;

use super::{Base, TestAlert};

/// What the mock webhook does with one request (upstream's `MockWebhook.Func`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Record the notification and answer 200.
    Record,
    /// Answer 200 without recording: the Alertmanager sees a success, the test sees nothing.
    Drop,
    /// Sleep, then answer 200 without recording (a webhook timeout when the sleep is longer
    /// than the integration's `timeout`).
    SleepThenDrop(Duration),
}

/// A per-collector hook, called with the arrival time in seconds since the base time.
pub type HookFn = Arc<dyn Fn(f64) -> Hook + Send + Sync>;

/// A time window `[start, end]` in seconds since the base time (inclusive, like upstream).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}

impl Interval {
    fn contains(&self, t: f64) -> bool {
        t >= self.start && t <= self.end
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{},{}]", self.start, self.end)
    }
}

/// `Between(a, b)`.
pub fn between(start: f64, end: f64) -> Interval {
    Interval { start, end }
}

/// An alert as a receiver saw it (absolute times; year 1 means zero).
#[derive(Debug, Clone)]
pub struct GotAlert {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// `startsAt`.
    pub starts_at: DateTime<Utc>,
    /// `endsAt`.
    pub ends_at: DateTime<Utc>,
}

/// One received notification.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Arrival, seconds since the base time (NaN when it arrived before the base was set).
    pub at: f64,
    /// The alerts, in payload order.
    pub alerts: Vec<GotAlert>,
}

#[derive(Default)]
struct Inner {
    received: Vec<Batch>,
    expected: Vec<(Interval, Vec<TestAlert>)>,
    /// Requests that could not be decoded.
    errors: Vec<String>,
}

/// Records notifications for one webhook URL and checks them against expectations.
pub struct Collector {
    name: String,
    url: String,
    base: Arc<OnceLock<Base>>,
    hook: Mutex<Option<HookFn>>,
    inner: Mutex<Inner>,
}

/// Go's zero time (`0001-01-01T00:00:00Z`) or earlier.
fn is_zero(t: &DateTime<Utc>) -> bool {
    t.year() <= 1
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn time(v: &Value) -> Result<DateTime<Utc>, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("not a time string: {v}"))?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("bad time {s:?}: {e}"))
}

fn decode(body: &str) -> Result<Vec<GotAlert>, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))?;
    if v["version"] != "4" {
        return Err(format!("not a v4 webhook payload: {body}"));
    }
    let alerts = v["alerts"]
        .as_array()
        .ok_or_else(|| format!("no alerts array: {body}"))?;
    alerts
        .iter()
        .map(|a| {
            Ok(GotAlert {
                labels: string_map(&a["labels"]),
                annotations: string_map(&a["annotations"]),
                starts_at: time(&a["startsAt"])?,
                ends_at: time(&a["endsAt"])?,
            })
        })
        .collect()
}

async fn receive(State(c): State<Arc<Collector>>, body: String) -> StatusCode {
    let at = c.now();
    let hook = c
        .hook
        .lock()
        .expect("hook lock")
        .clone()
        .map_or(Hook::Record, |h| h(at));
    match hook {
        Hook::Record => {}
        Hook::Drop => return StatusCode::OK,
        Hook::SleepThenDrop(d) => {
            tokio::time::sleep(d).await;
            return StatusCode::OK;
        }
    }
    let mut inner = c.inner.lock().expect("collector lock");
    match decode(&body) {
        Ok(alerts) => inner.received.push(Batch { at, alerts }),
        Err(e) => inner.errors.push(e),
    }
    StatusCode::OK
}

impl Collector {
    /// Starts the collector's HTTP server on a free loopback port.
    pub(super) async fn start(name: &str, base: Arc<OnceLock<Base>>) -> Arc<Collector> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind collector");
        let addr = listener.local_addr().expect("collector address");
        let c = Arc::new(Collector {
            name: name.to_owned(),
            url: format!("http://{addr}/"),
            base,
            hook: Mutex::new(None),
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route("/", post(receive))
            .route("/{*rest}", post(receive))
            .with_state(Arc::clone(&c));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        c
    }

    /// The webhook URL to put into the configuration.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sets the hook (upstream's `wh.Func`).
    pub fn set_hook(&self, hook: impl Fn(f64) -> Hook + Send + Sync + 'static) {
        *self.hook.lock().expect("hook lock") = Some(Arc::new(hook));
    }

    /// Seconds since the base time (NaN before it is set).
    fn now(&self) -> f64 {
        self.base.get().map_or(f64::NAN, Base::since)
    }

    /// Expects one notification arriving within `iv` holding exactly `alerts`; with no
    /// alerts, expects nothing to arrive within `iv`.
    pub fn want(&self, iv: Interval, alerts: &[TestAlert]) {
        self.inner
            .lock()
            .expect("collector lock")
            .expected
            .push((iv, alerts.to_vec()));
    }

    /// Expects no notification within `iv`.
    pub fn want_nothing(&self, iv: Interval) {
        self.want(iv, &[]);
    }

    /// The latest end of an expected interval.
    pub fn latest(&self) -> f64 {
        self.inner
            .lock()
            .expect("collector lock")
            .expected
            .iter()
            .map(|(iv, _)| iv.end)
            .fold(0.0, f64::max)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Batch> {
        self.inner.lock().expect("collector lock").received.clone()
    }

    /// Compares received and expected notifications; returns the report and whether all is
    /// well. Each non-empty expectation needs its own received batch within its interval with
    /// the same alerts; an empty one needs nothing received within its interval; the total
    /// number of received alerts must equal the total expected, and no notification may be
    /// empty.
    pub fn check(&self, tolerance: Duration) -> (String, bool) {
        let base = self.base.get().expect("base time set before check");
        let inner = self.inner.lock().expect("collector lock");
        let mut ok = true;
        let mut report = String::new();
        let _ = writeln!(report, "\ncollector {:?}:", self.name);
        let mut used = vec![false; inner.received.len()];
        let mut order: Vec<usize> = (0..inner.expected.len()).collect();
        order.sort_by(|&a, &b| {
            inner.expected[a]
                .0
                .start
                .total_cmp(&inner.expected[b].0.start)
        });
        for i in order {
            let (iv, exp) = &inner.expected[i];
            let _ = writeln!(report, "interval {iv}");
            for e in exp {
                let _ = writeln!(report, "- {}", e.describe());
            }
            let in_window: Vec<usize> = inner
                .received
                .iter()
                .enumerate()
                .filter(|(_, b)| iv.contains(b.at))
                .map(|(j, _)| j)
                .collect();
            let found = if exp.is_empty() {
                if in_window.is_empty() {
                    let _ = writeln!(report, "  (nothing)");
                }
                in_window.is_empty()
            } else {
                let hit = in_window.iter().copied().find(|&j| {
                    !used[j] && batch_equal(exp, &inner.received[j].alerts, base, tolerance)
                });
                if let Some(j) = hit {
                    used[j] = true;
                }
                hit.is_some()
            };
            let _ = writeln!(report, "  [ {} ]", if found { "ok" } else { "MISSING" });
            ok &= found;
        }
        let total_expected: usize = inner.expected.iter().map(|(_, e)| e.len()).sum();
        let total_received: usize = inner.received.iter().map(|b| b.alerts.len()).sum();
        if total_expected != total_received {
            ok = false;
            let _ = writeln!(
                report,
                "\nexpected a total of {total_expected} alerts, received {total_received}"
            );
        }
        if inner.received.iter().any(|b| b.alerts.is_empty()) {
            ok = false;
            let _ = writeln!(report, "\nreceived an empty notification");
        }
        for e in &inner.errors {
            ok = false;
            let _ = writeln!(report, "\nundecodable request: {e}");
        }
        let _ = writeln!(report, "\nreceived:");
        for b in &inner.received {
            let _ = writeln!(report, "@ {:.3}", b.at);
            for a in &b.alerts {
                let _ = writeln!(report, "- {}", describe_got(a, base));
            }
        }
        (report, ok)
    }
}

/// Whether a received batch holds exactly the expected alerts (as a set).
fn batch_equal(exp: &[TestAlert], got: &[GotAlert], base: &Base, tolerance: Duration) -> bool {
    exp.len() == got.len()
        && exp
            .iter()
            .all(|e| got.iter().any(|g| alert_equal(e, g, base, tolerance)))
}

/// Labels and annotations exact; `startsAt`/`endsAt` within the tolerance, with the same
/// zero-ness (upstream's `EqualAlerts`).
fn alert_equal(e: &TestAlert, g: &GotAlert, base: &Base, tolerance: Duration) -> bool {
    let time_equal = |want: Option<DateTime<Utc>>, got: &DateTime<Utc>| match want {
        None => is_zero(got),
        Some(w) => !is_zero(got) && (*got - w).abs().to_std().is_ok_and(|d| d <= tolerance),
    };
    e.labels == g.labels
        && e.annotations == g.annotations
        && time_equal(e.starts_at.map(|s| base.expand(s)), &g.starts_at)
        && time_equal(e.ends_at.map(|s| base.expand(s)), &g.ends_at)
}

fn describe_got(a: &GotAlert, base: &Base) -> String {
    let rel = |t: &DateTime<Utc>| {
        if is_zero(t) {
            String::new()
        } else {
            format!("{:.3}", base.relative(*t))
        }
    };
    format!(
        "{:?} {:?} [{}:{}]",
        a.labels,
        a.annotations,
        rel(&a.starts_at),
        rel(&a.ends_at)
    )
}
