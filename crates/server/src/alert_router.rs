//! Where an organization's alerts go (Grafana's `AlertsRouter`): its embedded Alertmanager, its
//! external Alertmanagers, or both, by the choice saved with the admin config API
//! (`ngalert_configuration.send_alerts_to`; none saved counts as `all`).
//!
//! External Alertmanagers are the organization's `alertmanager` data sources with
//! `jsonData.handleGrafanaManagedAlerts = true` (`implementation` `mimir`/`cortex` gets
//! `/alertmanager` appended; basic auth from `basicAuthUser` and the `basicAuthPassword` secret).
//! Alerts reach them as Alertmanager API v2 `POST {url}/api/v2/alerts`, through one bounded
//! queue and one sending task per Alertmanager, so evaluation never waits for them: a full
//! queue drops the batch (counted), and failures are logged once per failure streak. The
//! choice and the Alertmanagers are read again every `admin_config_poll_interval`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use wk_alertmanager::alert::PostedAlert;
use wk_api::alertmanagers::Alertmanagers;
use wk_ruler::data::{Labels, Millis};
use wk_ruler::eval::BoxFuture;
use wk_ruler::schedule::AlertSink;
use wk_ruler::state::PostableAlert;
use wk_secrets::SecretBox;
use wk_store::Store;

/// How long one POST to an external Alertmanager may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Batches waiting per external Alertmanager before new ones are dropped.
const QUEUE_CAPACITY: usize = 1024;

/// `send_alerts_to`: 0 all, 1 the embedded Alertmanager only, 2 external ones only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    All,
    Internal,
    External,
}

impl Choice {
    fn from_stored(v: Option<i64>) -> Self {
        match v {
            Some(1) => Choice::Internal,
            Some(2) => Choice::External,
            _ => Choice::All,
        }
    }
}

/// Where and how to post to one external Alertmanager (no `Debug`: it holds a password).
#[derive(Clone, PartialEq, Eq)]
struct Target {
    /// `…/api/v2/alerts`, as posted to (credentials in it are used as basic auth).
    url: String,
    /// The same without credentials, for the API and logs.
    shown: String,
    /// Basic auth from the data source's settings.
    auth: Option<(String, String)>,
}

/// An external Alertmanager's queue (its sending task ends when this is dropped).
struct External {
    target: Target,
    queue: mpsc::Sender<String>,
    dropped: AtomicU64,
    dropping: AtomicBool,
}

impl External {
    fn start(http: reqwest::Client, target: Target) -> Arc<Self> {
        let (queue, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(deliver(http, target.clone(), rx));
        Arc::new(External {
            target,
            queue,
            dropped: AtomicU64::new(0),
            dropping: AtomicBool::new(false),
        })
    }

    /// Queues `body` (`count` alerts) without waiting; drops it when the queue is full.
    fn enqueue(&self, body: String, count: usize) {
        match self.queue.try_send(body) {
            Ok(()) => {
                self.dropping.store(false, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                let total = self.dropped.fetch_add(count as u64, Ordering::Relaxed) + count as u64;
                if !self.dropping.swap(true, Ordering::Relaxed) {
                    tracing::warn!(alertmanager = %self.target.shown, dropped_total = total,
                        "external alertmanager queue full; alerts dropped");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// Posts every queued batch to `target`, one at a time, until the queue is dropped.
async fn deliver(http: reqwest::Client, target: Target, mut queue: mpsc::Receiver<String>) {
    let mut failing = false;
    while let Some(body) = queue.recv().await {
        let mut req = http
            .post(&target.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some((user, password)) = &target.auth {
            req = req.basic_auth(user, Some(password));
        }
        let outcome = match req.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                Err(format!(
                    "{status}: {}",
                    text.chars().take(200).collect::<String>()
                ))
            }
            Err(e) => Err(e.without_url().to_string()),
        };
        match outcome {
            Ok(()) if failing => {
                failing = false;
                tracing::info!(alertmanager = %target.shown, "sending alerts to the external alertmanager works again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(alertmanager = %target.shown, %error,
                    "sending alerts to the external alertmanager failed (logged again once it has worked)");
            }
            Err(error) => {
                tracing::debug!(alertmanager = %target.shown, %error, "sending alerts failed")
            }
        }
    }
}

/// An organization's routing as last read.
struct Route {
    read_at: Instant,
    choice: Choice,
    externals: Vec<Arc<External>>,
}

impl Route {
    /// Whether the embedded Alertmanager gets the alerts: unless only external ones are chosen
    /// and there are some.
    fn internal(&self) -> bool {
        self.choice != Choice::External || self.externals.is_empty()
    }

    /// The external Alertmanagers that get the alerts.
    fn external(&self) -> &[Arc<External>] {
        if self.choice == Choice::Internal {
            &[]
        } else {
            &self.externals
        }
    }
}

/// The [`AlertSink`] of the scheduler: routes each organization's alerts.
pub struct AlertRouter {
    store: Store,
    secrets: SecretBox,
    alertmanagers: Arc<Alertmanagers>,
    http: reqwest::Client,
    poll: Duration,
    routes: Mutex<HashMap<i64, Arc<Route>>>,
    refresh: tokio::sync::Mutex<()>,
}

impl AlertRouter {
    /// A router reading choices and data sources from `store` every `poll`.
    pub fn new(
        store: Store,
        secrets: SecretBox,
        alertmanagers: Arc<Alertmanagers>,
        poll: Duration,
    ) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("Watchkeeper/", env!("CARGO_PKG_VERSION")))
            .timeout(SEND_TIMEOUT)
            .no_proxy()
            .build()
            .unwrap_or_default();
        Self {
            store,
            secrets,
            alertmanagers,
            http,
            poll,
            routes: Mutex::new(HashMap::new()),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// The external Alertmanagers `org_id`'s alerts go to now (URLs without credentials).
    pub async fn active_urls(&self, org_id: i64) -> Vec<String> {
        let route = self.route(org_id).await;
        route
            .external()
            .iter()
            .map(|e| e.target.shown.clone())
            .collect()
    }

    fn cached(&self, org_id: i64) -> Option<Arc<Route>> {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes
            .get(&org_id)
            .filter(|r| r.read_at.elapsed() < self.poll)
            .cloned()
    }

    /// The organization's routing, read again when older than the poll interval.
    async fn route(&self, org_id: i64) -> Arc<Route> {
        if let Some(r) = self.cached(org_id) {
            return r;
        }
        let _one_reader = self.refresh.lock().await;
        if let Some(r) = self.cached(org_id) {
            return r;
        }
        let old = self
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&org_id)
            .cloned();
        let route = match self.read(org_id, old.as_deref()).await {
            Ok(r) => r,
            Err(error) => {
                tracing::warn!(org = org_id, %error, "reading where alerts go failed; keeping the previous routing");
                Route {
                    read_at: Instant::now(),
                    choice: old.as_ref().map_or(Choice::All, |o| o.choice),
                    externals: old
                        .as_ref()
                        .map(|o| o.externals.clone())
                        .unwrap_or_default(),
                }
            }
        };
        let shown = |r: Option<&Route>| -> Vec<String> {
            r.map(|r| {
                r.external()
                    .iter()
                    .map(|e| e.target.shown.clone())
                    .collect()
            })
            .unwrap_or_default()
        };
        let (before, after) = (shown(old.as_deref()), shown(Some(&route)));
        if before != after || old.as_ref().is_some_and(|o| o.choice != route.choice) {
            tracing::info!(org = org_id, choice = ?route.choice, alertmanagers = ?after, "alert routing changed");
        }
        let route = Arc::new(route);
        self.routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(org_id, Arc::clone(&route));
        route
    }

    /// Reads the choice and the external Alertmanagers, keeping the queues of unchanged ones.
    async fn read(&self, org_id: i64, old: Option<&Route>) -> Result<Route, String> {
        let stored = self
            .store
            .send_alerts_to(org_id)
            .await
            .map_err(|e| e.to_string())?;
        let choice = Choice::from_stored(stored);
        let targets = if choice == Choice::Internal {
            Vec::new()
        } else {
            self.discover(org_id).await?
        };
        let mut externals: Vec<Arc<External>> = Vec::new();
        for t in targets {
            if externals.iter().any(|e| e.target == t) {
                continue;
            }
            let kept = old.and_then(|o| o.externals.iter().find(|e| e.target == t).cloned());
            externals.push(kept.unwrap_or_else(|| External::start(self.http.clone(), t)));
        }
        Ok(Route {
            read_at: Instant::now(),
            choice,
            externals,
        })
    }

    /// The organization's Alertmanager data sources that handle Grafana-managed alerts.
    async fn discover(&self, org_id: i64) -> Result<Vec<Target>, String> {
        let sources = self
            .store
            .data_sources(org_id)
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for ds in sources.iter().filter(|d| d.kind == "alertmanager") {
            let handles = serde_json::from_str::<Value>(&ds.json_data)
                .ok()
                .and_then(|j| j.get("handleGrafanaManagedAlerts").cloned());
            if handles != Some(Value::Bool(true)) {
                continue;
            }
            let target = match wk_api::datasources::load(
                &self.store,
                &self.secrets,
                org_id,
                &ds.uid,
            )
            .await
            {
                Ok(Some(d)) => target(
                    &d.source.url,
                    &d.json_data,
                    d.source.basic_auth.then(|| {
                        (
                            d.source.basic_auth_user.as_str(),
                            d.secure_json_data
                                .get("basicAuthPassword")
                                .map(String::as_str),
                        )
                    }),
                ),
                Ok(None) => continue,
                Err(e) => Err(e.to_string()),
            };
            match target {
                Ok(t) => out.push(t),
                Err(error) => {
                    tracing::warn!(org = org_id, datasource = %ds.uid, %error, "external alertmanager skipped")
                }
            }
        }
        Ok(out)
    }

    /// Hands `alerts` to the organization's embedded Alertmanager.
    async fn put_embedded(&self, org_id: i64, alerts: Vec<PostableAlert>) {
        let am = match self.alertmanagers.get(&self.store, org_id).await {
            Ok(am) => am,
            Err(e) => {
                tracing::warn!(org = org_id, error = %e, "no alertmanager for the organization; alerts not delivered");
                return;
            }
        };
        let time = |ms: Millis| Utc.timestamp_millis_opt(ms).single();
        let posted: Vec<PostedAlert> = alerts
            .into_iter()
            .map(|a| PostedAlert {
                labels: a.labels,
                annotations: Some(a.annotations).filter(|a: &BTreeMap<_, _>| !a.is_empty()),
                starts_at: time(a.starts_at),
                ends_at: time(a.ends_at),
                generator_url: a.generator_url,
            })
            .collect();
        for e in am.put_alerts(posted, am.now()) {
            tracing::warn!(org = org_id, error = %e, "the alertmanager refused an alert");
        }
    }
}

impl AlertSink for AlertRouter {
    fn send(&self, org_id: i64, alerts: Vec<PostableAlert>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if alerts.is_empty() {
                return;
            }
            let route = self.route(org_id).await;
            let external = route.external();
            if !external.is_empty() {
                let body = encode(&alerts);
                for am in external {
                    am.enqueue(body.clone(), alerts.len());
                }
            }
            if route.internal() {
                self.put_embedded(org_id, alerts).await;
            }
        })
    }
}

/// The target of a data source: its URL (`http://` when it has no scheme; `/alertmanager`
/// appended for Mimir and Cortex unless already last) plus `/api/v2/alerts`, and basic auth
/// (`Some((user, password))` when the data source enables it).
fn target(
    url: &str,
    json_data: &Map<String, Value>,
    basic_auth: Option<(&str, Option<&str>)>,
) -> Result<Target, String> {
    let raw = url.trim();
    if raw.is_empty() {
        return Err("the data source has no URL".into());
    }
    let full = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    let mut u = reqwest::Url::parse(&full).map_err(|e| format!("URL {raw:?}: {e}"))?;
    u.set_query(None);
    u.set_fragment(None);
    let mut path = u.path().trim_end_matches('/').to_owned();
    let implementation = json_data.get("implementation").and_then(Value::as_str);
    if matches!(implementation, Some("mimir" | "cortex")) && !path.ends_with("/alertmanager") {
        path.push_str("/alertmanager");
    }
    u.set_path(&format!("{path}/api/v2/alerts"));
    let auth = match basic_auth {
        None => None,
        Some((user, Some(password))) if !password.is_empty() => {
            Some((user.to_owned(), password.to_owned()))
        }
        Some(_) => return Err("basic auth enabled but no password set".into()),
    };
    let url = u.to_string();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    Ok(Target {
        url,
        shown: u.to_string(),
        auth,
    })
}

/// The alerts as Alertmanager API v2 `PostableAlerts` JSON.
fn encode(alerts: &[PostableAlert]) -> String {
    let time = |ms: Millis| {
        Utc.timestamp_millis_opt(ms)
            .single()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    let list: Vec<Value> = alerts
        .iter()
        .map(|a| {
            let mut o = json!({
                "labels": sanitize(&a.labels),
                "annotations": sanitize(&a.annotations),
                "startsAt": time(a.starts_at),
                "endsAt": time(a.ends_at),
            });
            if let Some(g) = &a.generator_url {
                o["generatorURL"] = Value::String(g.clone());
            }
            o
        })
        .collect();
    Value::Array(list).to_string()
}

/// Label (and annotation) names as Alertmanager accepts them (`[a-zA-Z_][a-zA-Z0-9_]*`), as
/// Grafana sends them: whitespace removed, other ASCII replaced by `_`, other characters by
/// their hex code; a leading digit gets a `_` before it, and a name that clashes after that
/// gets a numeric suffix.
fn sanitize(labels: &Labels) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in labels {
        let mut clean = String::with_capacity(name.len());
        for c in name.chars().filter(|c| !c.is_whitespace()) {
            match c {
                'a'..='z' | 'A'..='Z' | '_' => clean.push(c),
                '0'..='9' => {
                    if clean.is_empty() {
                        clean.push('_');
                    }
                    clean.push(c);
                }
                c if c.is_ascii() => clean.push('_'),
                c => {
                    if clean.is_empty() {
                        clean.push('_');
                    }
                    clean.push_str(&format!("{:#x}", u32::from(c)));
                }
            }
        }
        if clean.is_empty() {
            continue;
        }
        let mut unique = clean.clone();
        let mut n = 1;
        while out.contains_key(&unique) {
            unique = format!("{clean}_{n}");
            n += 1;
        }
        out.insert(unique, value.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn targets_follow_grafana() {
        let plain = target("127.0.0.1:9093/", &Map::new(), None).expect("target");
        assert_eq!(plain.url, "http://127.0.0.1:9093/api/v2/alerts");
        assert_eq!(plain.auth, None);
        let mimir = json(json!({"implementation": "mimir"}));
        let t = target(
            "https://m.example/prefix?x=1",
            &mimir,
            Some(("u", Some("p"))),
        )
        .expect("target");
        assert_eq!(t.url, "https://m.example/prefix/alertmanager/api/v2/alerts");
        assert_eq!(t.auth, Some(("u".into(), "p".into())));
        let already = target("http://c/alertmanager/", &mimir, None).expect("target");
        assert_eq!(already.url, "http://c/alertmanager/api/v2/alerts");
        let creds = target("http://a:b@h:1", &Map::new(), None).expect("target");
        assert_eq!(creds.url, "http://a:b@h:1/api/v2/alerts");
        assert_eq!(creds.shown, "http://h:1/api/v2/alerts");
        assert!(target("http://h", &Map::new(), Some(("u", None))).is_err());
        assert!(target("  ", &Map::new(), None).is_err());
    }

    #[test]
    fn names_are_sanitized() {
        let labels: Labels = [
            ("ok_name", "1"),
            ("with space", "2"),
            ("a-b", "3"),
            ("a_b", "4"),
            ("1st", "5"),
            ("é", "6"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let out = sanitize(&labels);
        let names: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["_0xe9", "_1st", "a_b", "a_b_1", "ok_name", "withspace"],
            "{out:?}"
        );
    }

    #[test]
    fn alerts_are_encoded_for_api_v2() {
        let alert = PostableAlert {
            labels: [("alertname".to_owned(), "A".to_owned())].into(),
            annotations: Labels::new(),
            starts_at: 1_700_000_000_000,
            ends_at: 1_700_000_060_000,
            generator_url: Some("http://wk/alerting/grafana/x/view".into()),
            state: wk_ruler::state::State::Alerting,
        };
        let v: Value = serde_json::from_str(&encode(&[alert])).expect("JSON");
        assert_eq!(
            v,
            json!([{
                "labels": {"alertname": "A"},
                "annotations": {},
                "startsAt": "2023-11-14T22:13:20.000Z",
                "endsAt": "2023-11-14T22:14:20.000Z",
                "generatorURL": "http://wk/alerting/grafana/x/view"
            }])
        );
    }

    #[test]
    fn the_choice_decides() {
        let route = |choice, n: usize| Route {
            read_at: Instant::now(),
            choice,
            externals: (0..n)
                .map(|_| {
                    let (queue, _) = mpsc::channel(1);
                    Arc::new(External {
                        target: target("h", &Map::new(), None).expect("target"),
                        queue,
                        dropped: AtomicU64::new(0),
                        dropping: AtomicBool::new(false),
                    })
                })
                .collect(),
        };
        let both = |r: Route| (r.internal(), r.external().len());
        assert_eq!(both(route(Choice::All, 1)), (true, 1));
        assert_eq!(both(route(Choice::All, 0)), (true, 0));
        assert_eq!(both(route(Choice::Internal, 1)), (true, 0));
        assert_eq!(both(route(Choice::External, 1)), (false, 1));
        // External chosen but none configured: the embedded Alertmanager still gets them.
        assert_eq!(both(route(Choice::External, 0)), (true, 0));
    }
}
