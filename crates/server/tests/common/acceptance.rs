//! The acceptance harness (a port of upstream Alertmanager's `test/with_api_v2` framework):
//! start one or more `watchkeeper` servers, configure their organization-1 Alertmanager in
//! Grafana's JSON form, run a timeline of actions (push alerts, set and delete silences,
//! reload) at times relative to a base time taken once every server is up, and check what the
//! webhook [`Collector`]s received against the expectations.
//!
//! Actions go to every server (like Prometheus pushing to every Alertmanager), so a cluster
//! test only needs `Options::servers > 1` and the cluster arguments; all servers can share one
//! collector.

mod collector;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::time::Instant;

#[allow(unused_imports)] // Some of these are for test files yet to come (cluster).
pub use collector::{Batch, Collector, GotAlert, Hook, Interval, between};

use super::{Server, Start};

/// The comparison tolerance for `startsAt`/`endsAt`, as upstream (150 ms).
pub const TOLERANCE: Duration = Duration::from_millis(150);

/// Where the organization's Alertmanager API lives.
pub const AM_API: &str = "/api/alertmanager/grafana/api/v2";
/// Where its configuration is posted.
pub const AM_CONFIG: &str = super::AM_CONFIG_PATH;

/// The base time: a tokio instant (for scheduling and arrival times) and the wall-clock time
/// read at the same moment (for alert times).
#[derive(Debug, Clone, Copy)]
pub struct Base {
    instant: Instant,
    wall: DateTime<Utc>,
}

impl Base {
    fn now() -> Self {
        Self {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }

    /// Seconds since the base time.
    pub fn since(&self) -> f64 {
        Instant::now()
            .saturating_duration_since(self.instant)
            .as_secs_f64()
    }

    /// The tokio instant `rel` seconds after the base.
    pub fn instant(&self, rel: f64) -> Instant {
        self.instant + Duration::from_secs_f64(rel.max(0.0))
    }

    /// The wall-clock time `rel` seconds after the base.
    pub fn expand(&self, rel: f64) -> DateTime<Utc> {
        self.wall + chrono::TimeDelta::microseconds((rel * 1e6).round() as i64)
    }

    /// Seconds from the base to `t`.
    pub fn relative(&self, t: DateTime<Utc>) -> f64 {
        (t - self.wall).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
    }
}

/// An alert with times relative to the base (upstream's `TestAlert`).
#[derive(Debug, Clone, PartialEq)]
pub struct TestAlert {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// `startsAt`, seconds; `None` = not set.
    pub starts_at: Option<f64>,
    /// `endsAt`, seconds; `None` = not set.
    pub ends_at: Option<f64>,
}

fn pairs(kv: &[&str]) -> BTreeMap<String, String> {
    assert!(kv.len().is_multiple_of(2), "bad key/values {kv:?}");
    kv.chunks(2)
        .map(|p| (p[0].to_owned(), p[1].to_owned()))
        .collect()
}

/// `Alert("name", "value", ...)`: an alert with these labels and no times.
pub fn alert(labels: &[&str]) -> TestAlert {
    TestAlert {
        labels: pairs(labels),
        annotations: BTreeMap::new(),
        starts_at: None,
        ends_at: None,
    }
}

fn positive(t: f64) -> Option<f64> {
    (t > 0.0).then_some(t)
}

impl TestAlert {
    /// Adds annotations.
    pub fn annotate(mut self, kv: &[&str]) -> Self {
        self.annotations.extend(pairs(kv));
        self
    }

    /// `Active(start)`: sets `startsAt` (only if > 0, so `active(-100.0)` leaves it unset).
    pub fn active(mut self, start: f64) -> Self {
        self.starts_at = positive(start);
        self
    }

    /// `Active(start, end)`: sets `startsAt` and `endsAt` (each only if > 0).
    pub fn active_until(mut self, start: f64, end: f64) -> Self {
        self.starts_at = positive(start);
        self.ends_at = positive(end);
        self
    }

    /// The same alert, firing from `start` until `start + 3` (Prometheus ≥ 2.4 style) when
    /// `with_ends_at`, otherwise `active(start)`.
    pub fn active_maybe_ends(self, start: f64, with_ends_at: bool) -> Self {
        if with_ends_at {
            self.active_until(start, start + 3.0)
        } else {
            self.active(start)
        }
    }

    /// The API form, as upstream's client sends it (unset times as Go's zero time).
    pub fn postable(&self, base: &Base) -> Value {
        let t = |rel: Option<f64>| {
            rel.map_or_else(
                || "0001-01-01T00:00:00.000Z".to_owned(),
                |r| {
                    base.expand(r)
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                },
            )
        };
        json!({
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": t(self.starts_at),
            "endsAt": t(self.ends_at),
        })
    }

    /// A short description with relative times.
    pub fn describe(&self) -> String {
        let t = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        format!(
            "{:?} {:?} [{}:{}]",
            self.labels,
            self.annotations,
            t(self.starts_at),
            t(self.ends_at)
        )
    }
}

/// A silence with times relative to the base (upstream's `TestSilence`); the id(s) the
/// servers returned are remembered for deletion.
#[derive(Debug, Default)]
pub struct TestSilence {
    matchers: Vec<(String, String, bool)>,
    starts_at: f64,
    ends_at: f64,
    ids: Mutex<Vec<(usize, String)>>,
}

/// `Silence(start, end)`.
pub fn silence(start: f64, end: f64) -> TestSilence {
    TestSilence {
        starts_at: start,
        ends_at: end,
        ..TestSilence::default()
    }
}

impl TestSilence {
    /// Adds an equality matcher.
    pub fn matching(mut self, name: &str, value: &str) -> Self {
        self.matchers.push((name.into(), value.into(), false));
        self
    }

    /// Adds a regex matcher.
    pub fn matching_re(mut self, name: &str, value: &str) -> Self {
        self.matchers.push((name.into(), value.into(), true));
        self
    }

    fn postable(&self, base: &Base) -> Value {
        let mut s = json!({
            "matchers": self.matchers.iter().map(|(n, v, re)| json!({
                "name": n, "value": v, "isRegex": re, "isEqual": true
            })).collect::<Vec<_>>(),
            "comment": "some comment",
            "createdBy": "admin@example.com",
        });
        if self.starts_at > 0.0 {
            s["startsAt"] = json!(base.expand(self.starts_at).to_rfc3339());
        }
        if self.ends_at > 0.0 {
            s["endsAt"] = json!(base.expand(self.ends_at).to_rfc3339());
        }
        s
    }
}

/// Options of an acceptance test.
#[derive(Clone)]
pub struct Options {
    /// How many servers to start (all get every action).
    pub servers: usize,
    /// Extra `cfg:` arguments for every server.
    pub args: Vec<String>,
    /// Path prefix every route is served under (`serve_from_sub_path`), e.g. `/foo`.
    pub prefix: String,
    /// Tolerance for alert times.
    pub tolerance: Duration,
    /// Form one memberlist cluster of all servers (short gossip timers; the test sets
    /// `ha_peer_timeout` in `args` if it cares) and wait until every member is ready.
    pub cluster: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            servers: 1,
            args: Vec::new(),
            prefix: String::new(),
            tolerance: TOLERANCE,
            cluster: false,
        }
    }
}

/// One running server of the test.
pub struct Member {
    /// The server process.
    pub server: Server,
    prefix: String,
    /// An Admin API token of organization 1. Actions use it rather than basic auth, whose
    /// argon2 check costs tens of milliseconds of CPU per request (upstream's Alertmanager has
    /// no authentication, so that cost would only blur the timeline).
    token: String,
}

impl Member {
    /// `rb` with this server's credentials.
    pub fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.bearer_auth(&self.token)
    }

    /// An absolute URL for `path` (under the prefix).
    pub fn url(&self, path: &str) -> String {
        self.server.url(&format!("{}{path}", self.prefix))
    }

    /// An absolute URL of the Alertmanager API v2 (`path` like `/alerts`).
    pub fn api(&self, path: &str) -> String {
        self.url(&format!("{AM_API}{path}"))
    }
}

/// What every action gets: the servers, an HTTP client, the base time and an error sink.
#[derive(Clone)]
pub struct Ctx {
    /// The servers.
    pub members: Arc<Vec<Member>>,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// The base time.
    pub base: Base,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Ctx {
    /// Records an action failure (reported by the check).
    pub fn error(&self, e: String) {
        self.errors.lock().expect("errors lock").push(e);
    }

    /// POSTs JSON to `m` with its credentials; records a failure unless the status is `want`.
    pub async fn post(&self, m: &Member, url: &str, body: &Value, want: u16) -> Option<Value> {
        match m.auth(self.http.post(url)).json(body).send().await {
            Ok(r) if r.status().as_u16() == want => Some(r.json().await.unwrap_or(Value::Null)),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                self.error(format!(
                    "@{:.3} POST {url}: {status} {text}",
                    self.base.since()
                ));
                None
            }
            Err(e) => {
                self.error(format!("@{:.3} POST {url}: {e}", self.base.since()));
                None
            }
        }
    }
}

type ActionFn = Box<dyn FnOnce(Ctx) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// An acceptance test: servers, collectors, a configuration and a timeline.
pub struct AcceptanceTest {
    opts: Options,
    base: Arc<OnceLock<Base>>,
    collectors: Vec<Arc<Collector>>,
    actions: Vec<(f64, ActionFn)>,
    config: Option<Value>,
    ctx: Option<Ctx>,
}

/// Starts a server and waits until `<prefix>/api/health` answers 200.
async fn start_server(opts: &Options, extra: Vec<String>) -> Server {
    let mut args = opts.args.clone();
    args.extend(extra);
    let server = Server::spawn(&Start {
        args,
        ..Start::default()
    });
    let http = reqwest::Client::new();
    let url = server.url(&format!("{}/api/health", opts.prefix));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(&url).send().await
            && r.status() == 200
        {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "server did not become healthy at {url}; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl AcceptanceTest {
    /// A test with these options.
    pub fn new(opts: Options) -> Self {
        Self {
            opts,
            base: Arc::new(OnceLock::new()),
            collectors: Vec::new(),
            actions: Vec::new(),
            config: None,
            ctx: None,
        }
    }

    /// A test with one server and the default options.
    pub fn single() -> Self {
        Self::new(Options::default())
    }

    /// Starts a webhook collector.
    pub async fn collector(&mut self, name: &str) -> Arc<Collector> {
        let c = Collector::start(name, Arc::clone(&self.base)).await;
        self.collectors.push(Arc::clone(&c));
        c
    }

    /// Sets the `alertmanager_config` (Alertmanager's configuration as JSON) posted to every
    /// server once it is up.
    pub fn config(&mut self, alertmanager_config: Value) {
        self.config = Some(alertmanager_config);
    }

    /// Runs `f` at `at` seconds after the base time.
    pub fn at<F, Fut>(&mut self, at: f64, f: F)
    where
        F: FnOnce(Ctx) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.actions
            .push((at, Box::new(move |ctx| Box::pin(f(ctx)))));
    }

    /// Pushes `alerts` to every server at `at`.
    pub fn push(&mut self, at: f64, alerts: &[TestAlert]) {
        let alerts = alerts.to_vec();
        self.at(at, move |ctx| async move {
            let body = Value::from(
                alerts
                    .iter()
                    .map(|a| a.postable(&ctx.base))
                    .collect::<Vec<_>>(),
            );
            for m in ctx.members.iter() {
                ctx.post(m, &m.api("/alerts"), &body, 200).await;
            }
        });
    }

    /// Creates `sil` on every server at `at`.
    pub fn set_silence(&mut self, at: f64, sil: &Arc<TestSilence>) {
        let sil = Arc::clone(sil);
        self.at(at, move |ctx| async move {
            let body = sil.postable(&ctx.base);
            for (i, m) in ctx.members.iter().enumerate() {
                if let Some(r) = ctx.post(m, &m.api("/silences"), &body, 200).await {
                    match r["silenceID"].as_str() {
                        Some(id) => sil.ids.lock().expect("ids").push((i, id.to_owned())),
                        None => ctx.error(format!("silence created without id: {r}")),
                    }
                }
            }
        });
    }

    /// Deletes `sil` from every server at `at`.
    pub fn del_silence(&mut self, at: f64, sil: &Arc<TestSilence>) {
        let sil = Arc::clone(sil);
        self.at(at, move |ctx| async move {
            let ids = sil.ids.lock().expect("ids").clone();
            if ids.len() != ctx.members.len() {
                ctx.error(format!("silence to delete has ids {ids:?}"));
            }
            for (i, id) in ids {
                let m = &ctx.members[i];
                let url = m.api(&format!("/silence/{id}"));
                match m.auth(ctx.http.delete(&url)).send().await {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => ctx.error(format!("DELETE {url}: {}", r.status())),
                    Err(e) => ctx.error(format!("DELETE {url}: {e}")),
                }
            }
        });
    }

    /// Reloads every server at `at` (upstream's SIGHUP): posts the same configuration again,
    /// which rebuilds the dispatcher and inhibitor.
    pub fn reload(&mut self, at: f64) {
        let config = self.config_body();
        self.at(at, move |ctx| async move {
            for m in ctx.members.iter() {
                ctx.post(m, &m.url(AM_CONFIG), &config, 202).await;
            }
        });
    }

    fn config_body(&self) -> Value {
        json!({
            "template_files": {},
            "alertmanager_config": self.config.clone().expect("config() before reload()/start()"),
        })
    }

    /// Starts the servers, posts the configuration to each and sets the base time (only
    /// once); returns the context for direct API calls.
    pub async fn start(&mut self) -> Ctx {
        if let Some(ctx) = &self.ctx {
            return ctx.clone();
        }
        let http = reqwest::Client::new();
        let mut members = Vec::new();
        let cluster = if self.opts.cluster {
            super::cluster_args(self.opts.servers)
        } else {
            vec![Vec::new(); self.opts.servers]
        };
        for (i, extra) in cluster.into_iter().enumerate() {
            let server = start_server(&self.opts, extra).await;
            let prefix = self.opts.prefix.clone();
            let r = http
                .post(server.url(&format!("{prefix}/api/auth/keys")))
                .basic_auth("admin", Some("admin"))
                .json(&json!({"name": format!("acceptance-{i}"), "role": "Admin"}))
                .send()
                .await
                .expect("create API token");
            assert_eq!(r.status(), 200, "API token; log:\n{}", server.log());
            let body: Value = r.json().await.expect("API token JSON");
            let token = body["key"].as_str().expect("API token").to_owned();
            members.push(Member {
                server,
                prefix,
                token,
            });
        }
        if self.config.is_some() {
            let body = self.config_body();
            for m in &members {
                let r = m
                    .auth(http.post(m.url(AM_CONFIG)))
                    .json(&body)
                    .send()
                    .await
                    .expect("post config");
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                assert_eq!(
                    status,
                    202,
                    "config rejected: {text}; log:\n{}",
                    m.server.log()
                );
            }
        }
        if self.opts.cluster {
            for m in &members {
                super::wait_cluster_ready(
                    &http,
                    &m.api("/status"),
                    &m.token,
                    members.len(),
                    &m.server,
                )
                .await;
            }
        }
        let base = Base::now();
        let _ = self.base.set(base);
        let ctx = Ctx {
            members: Arc::new(members),
            http,
            base,
            errors: Arc::default(),
        };
        self.ctx = Some(ctx.clone());
        ctx
    }

    /// Starts (if not started), runs the timeline until the latest expected interval ends,
    /// then checks every collector; panics with the report on failure.
    pub async fn run(&mut self) {
        let ctx = self.start().await;
        let mut tasks = Vec::new();
        for (at, f) in std::mem::take(&mut self.actions) {
            let ctx = ctx.clone();
            let when = ctx.base.instant(at);
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(when).await;
                f(ctx).await;
            }));
        }
        let latest = self
            .collectors
            .iter()
            .map(|c| c.latest())
            .fold(0.0, f64::max);
        tokio::time::sleep_until(ctx.base.instant(latest)).await;
        let mut report = String::new();
        let mut ok = true;
        for c in &self.collectors {
            let (r, good) = c.check(self.opts.tolerance);
            report.push_str(&r);
            ok &= good;
        }
        let errors = ctx.errors.lock().expect("errors lock").clone();
        for e in &errors {
            report.push_str(&format!("\naction failed: {e}"));
        }
        ok &= errors.is_empty();
        for t in tasks {
            if !t.is_finished() {
                report.push_str("\nan action was still running at the end");
                ok = false;
            }
            t.abort();
        }
        if !ok {
            let logs: Vec<String> = ctx.members.iter().map(|m| m.server.log()).collect();
            panic!(
                "acceptance check failed:{report}\n\nserver logs:\n{}",
                logs.join("\n----\n")
            );
        }
        eprintln!("{report}");
    }
}
