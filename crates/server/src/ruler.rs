//! The rule evaluation on this instance: the ruler's ports implemented over the shared
//! database (rules, alert states, state history annotations, data sources), and the scheduler
//! started with the settings and the sink alerts go to (`crate::alert_router`).

use std::collections::HashMap;
use std::sync::Arc;

use wk_config::Settings;
use wk_ruler::data::{Labels, labels_hash};
use wk_ruler::datasource::DataSourceConfig;
use wk_ruler::eval::{BoxFuture, DataSources, Evaluator};
use wk_ruler::rule::Rule;
use wk_ruler::schedule::{
    AlertSink, HistoryEntry, HistorySink, Jitter, LoadedRule, RuleKey, RuleSource, RulerMetrics,
    Scheduler, SchedulerOptions, StateStore, StateView,
};
use wk_ruler::state::StoredInstance;
use wk_store::{AlertInstanceRow, Annotation, Store};

/// The ports over the database.
pub struct Ports {
    store: Store,
    /// This instance's name in state history.
    instance: String,
    /// Whether transitions are recorded (`[unified_alerting.state_history] enabled`).
    history: bool,
}

impl RuleSource for Ports {
    fn versions(&self) -> BoxFuture<'_, Result<Vec<(RuleKey, i64)>, String>> {
        Box::pin(async move {
            Ok(self
                .store
                .rule_versions()
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|v| ((v.org_id, v.uid), v.version))
                .collect())
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<Vec<LoadedRule>, String>> {
        Box::pin(async move {
            let stored = self.store.all_rules().await.map_err(|e| e.to_string())?;
            let mut titles: HashMap<i64, HashMap<String, String>> = HashMap::new();
            let mut rules = Vec::with_capacity(stored.len());
            for s in stored {
                if let std::collections::hash_map::Entry::Vacant(slot) = titles.entry(s.org_id) {
                    let folders = self
                        .store
                        .folders(s.org_id)
                        .await
                        .map_err(|e| e.to_string())?;
                    slot.insert(folders.into_iter().map(|f| (f.uid, f.title)).collect());
                }
                let rule = match Rule::from_json(&s.definition) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(rule = %s.uid, error = %e, "stored rule unreadable; skipped");
                        continue;
                    }
                };
                let folder_title = titles
                    .get(&s.org_id)
                    .and_then(|t| t.get(&s.namespace_uid))
                    .cloned()
                    .unwrap_or_else(|| s.namespace_uid.clone());
                rules.push(LoadedRule {
                    org_id: s.org_id,
                    folder_uid: s.namespace_uid,
                    folder_title,
                    group: s.rule_group,
                    interval_ms: u64::try_from(s.interval_seconds)
                        .unwrap_or(0)
                        .saturating_mul(1000),
                    version: s.version,
                    rule: Rule {
                        is_paused: s.is_paused,
                        ..rule
                    },
                });
            }
            Ok(rules)
        })
    }
}

impl StateStore for Ports {
    fn load(&self) -> BoxFuture<'_, Result<Vec<(RuleKey, StoredInstance)>, String>> {
        Box::pin(async move {
            let rows = self
                .store
                .alert_instances()
                .await
                .map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                match serde_json::from_str::<StoredInstance>(&r.detail) {
                    Ok(s) => out.push(((r.org_id, r.rule_uid), s)),
                    Err(e) => {
                        tracing::warn!(rule = %r.rule_uid, error = %e, "stored alert state unreadable; skipped");
                    }
                }
            }
            Ok(out)
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a RuleKey,
        changed: Vec<StoredInstance>,
        removed: Option<Vec<Labels>>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let (org_id, rule_uid) = key;
            match removed {
                None => self
                    .store
                    .delete_alert_instances(*org_id, rule_uid, None)
                    .await
                    .map_err(|e| e.to_string())?,
                Some(labels) if !labels.is_empty() => {
                    let hashes: Vec<String> = labels.iter().map(labels_hash).collect();
                    self.store
                        .delete_alert_instances(*org_id, rule_uid, Some(&hashes))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Some(_) => {}
            }
            let rows: Vec<AlertInstanceRow> = changed
                .iter()
                .map(|s| AlertInstanceRow {
                    org_id: *org_id,
                    rule_uid: rule_uid.clone(),
                    labels_hash: labels_hash(&s.labels),
                    labels: serde_json::to_string(&s.labels).unwrap_or_default(),
                    current_state: s.state.as_str().to_owned(),
                    current_state_since: s.starts_at,
                    last_eval_time: s.last_evaluated_at,
                    detail: serde_json::to_string(s).unwrap_or_default(),
                })
                .collect();
            self.store
                .save_alert_instances(&rows)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

impl HistorySink for Ports {
    fn record(&self, entries: Vec<HistoryEntry>) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            if !self.history {
                return Ok(());
            }
            let rows: Vec<Annotation> = entries
                .into_iter()
                .map(|e| Annotation {
                    id: 0,
                    org_id: e.key.0,
                    rule_uid: e.key.1,
                    rule_title: e.rule_title,
                    instance: self.instance.clone(),
                    labels_hash: labels_hash(&e.labels),
                    labels: serde_json::to_string(&e.labels).unwrap_or_default(),
                    prev_state: e.previous,
                    new_state: e.current,
                    text: e.error.unwrap_or_default(),
                    data: serde_json::json!({ "values": e.values }).to_string(),
                    epoch: e.at,
                })
                .collect();
            self.store
                .insert_annotations(&rows)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// The scheduler's options from `[unified_alerting]`.
pub fn scheduler_options(settings: &Settings) -> SchedulerOptions {
    let ua = &settings.unified_alerting;
    SchedulerOptions {
        base_interval: ua.base_interval,
        min_interval: ua.min_interval,
        jitter: if ua.disable_jitter {
            Jitter::Never
        } else {
            Jitter::ByGroup
        },
        evaluation_timeout: ua.evaluation_timeout,
        max_attempts: ua.max_attempts.max(1),
        retry_delay: ua.initial_retry_delay,
        max_retry_delay: ua.max_retry_delay,
        randomization_factor: ua.randomization_factor,
        external_url: settings.server.root_url.to_string(),
    }
}

/// A running scheduler: what the APIs read, and the switch that stops it.
pub struct Running {
    /// The rules' current states.
    pub view: StateView,
    /// Turn to true to stop.
    pub stop: tokio::sync::watch::Sender<bool>,
    /// The scheduler's task, done once every routine has saved its state.
    pub task: tokio::task::JoinHandle<()>,
}

/// Why rule evaluation cannot start.
#[derive(Debug, thiserror::Error)]
pub enum RulerError {
    /// A state history backend other than annotations was asked for.
    #[error(
        "[unified_alerting.state_history] backend: {0} is not available in this version; use annotations (the default)"
    )]
    HistoryBackend(&'static str),
    /// Single-node evaluation was asked for.
    #[error(
        "[unified_alerting] ha_single_node_evaluation: not available in this version; every instance evaluates every rule"
    )]
    SingleNodeEvaluation,
}

/// Checks the settings rule evaluation depends on.
pub fn check(settings: &Settings) -> Result<(), RulerError> {
    use wk_config::StateHistoryBackend as B;
    if settings.unified_alerting.ha_single_node_evaluation {
        return Err(RulerError::SingleNodeEvaluation);
    }
    let h = &settings.state_history;
    if !h.enabled {
        return Ok(());
    }
    match h.backend {
        B::Annotations => Ok(()),
        B::Loki => Err(RulerError::HistoryBackend("loki")),
        B::Prometheus => Err(RulerError::HistoryBackend("prometheus")),
        B::Multiple => Err(RulerError::HistoryBackend("multiple")),
    }
}

/// How often state history retention runs.
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Deletes state history older than `max_age` and beyond `max_annotations_to_keep` per
/// organization, every minute (nothing when both are zero).
pub async fn history_retention_loop(store: Store, settings: Settings) {
    let h = &settings.state_history;
    let (max_age, keep) = (h.annotations_max_age, h.annotations_max_to_keep);
    if max_age.is_zero() && keep == 0 {
        return;
    }
    let mut tick = tokio::time::interval(RETENTION_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !max_age.is_zero() {
            let now = wk_ruler::data::Millis::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis(),
            )
            .unwrap_or(i64::MAX);
            let age = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
            match store
                .delete_annotations_before(now.saturating_sub(age))
                .await
            {
                Ok(n) if n > 0 => {
                    tracing::debug!(deleted = n, "state history past max_age deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "state history retention failed"),
            }
        }
        if keep > 0 {
            let orgs = match store.list_orgs().await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %e, "state history retention failed");
                    continue;
                }
            };
            for org in orgs {
                if let Err(e) = store.trim_annotations(org.id, keep).await {
                    tracing::warn!(org = org.id, error = %e, "state history retention failed");
                }
            }
        }
    }
}

/// Starts the scheduler (unless `[unified_alerting] execute_alerts = false`), sending alerts to
/// `sink`.
pub fn start(
    settings: &Settings,
    store: Store,
    sink: Arc<dyn AlertSink>,
    sources: Arc<dyn DataSources>,
    metrics: RulerMetrics,
) -> Option<Running> {
    if !settings.unified_alerting.execute_alerts {
        tracing::info!("execute_alerts = false: rules are not evaluated on this instance");
        return None;
    }
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_owned());
    let ports = Arc::new(Ports {
        store,
        instance: format!("{host}:{}", settings.server.http_port),
        history: settings.state_history.enabled,
    });
    let evaluator = Evaluator::new(sources, settings.unified_alerting.evaluation_timeout);
    let scheduler = Scheduler::new(
        ports.clone(),
        evaluator,
        ports.clone(),
        ports,
        sink,
        metrics,
        scheduler_options(settings),
    );
    let view = scheduler.view();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(scheduler.run(rx));
    Some(Running { view, stop, task })
}

/// Data sources from the database with secrets decrypted, kept for a few seconds so that
/// frequent evaluations do not read and decrypt them every time.
pub struct StoredSources {
    store: Store,
    secrets: wk_secrets::SecretBox,
    cache: std::sync::Mutex<HashMap<(i64, String), CachedSource>>,
}

/// A data source as read, and when.
type CachedSource = (std::time::Instant, Option<DataSourceConfig>);

/// How long a data source read from the database is reused.
const SOURCE_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl StoredSources {
    /// Data sources of `store`, decrypted with `secrets`.
    pub fn new(store: Store, secrets: wk_secrets::SecretBox) -> Self {
        Self {
            store,
            secrets,
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

/// A string field of `jsonData`.
fn json_str(json: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    json.get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl DataSources for StoredSources {
    fn get<'a>(
        &'a self,
        org_id: i64,
        uid: &'a str,
    ) -> BoxFuture<'a, Result<Option<DataSourceConfig>, String>> {
        Box::pin(async move {
            let key = (org_id, uid.to_owned());
            if let Ok(cache) = self.cache.lock()
                && let Some((at, c)) = cache.get(&key)
                && at.elapsed() < SOURCE_CACHE_TTL
            {
                return Ok(c.clone());
            }
            let loaded = wk_api::datasources::load(&self.store, &self.secrets, org_id, uid)
                .await
                .map_err(|e| e.to_string())?;
            let config = loaded.map(|d| DataSourceConfig {
                uid: d.source.uid.clone(),
                kind: d.source.kind.clone(),
                url: d.source.url.clone(),
                basic_auth_user: d
                    .source
                    .basic_auth
                    .then(|| d.source.basic_auth_user.clone()),
                user: json_str(&d.json_data, "user"),
                database: json_str(&d.json_data, "database"),
                json_data: serde_json::Value::Object(d.json_data),
                secure: d.secure_json_data,
            });
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(key, (std::time::Instant::now(), config.clone()));
            }
            Ok(config)
        })
    }
}
