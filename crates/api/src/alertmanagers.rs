//! The per-organization Alertmanager instances, created on first use from the organization's
//! latest stored configuration (Grafana JSON form; the default if none is stored) with their
//! silences, notification log and alerts restored from the kvstore, which
//! [`Alertmanagers::maintenance`] and [`Alertmanagers::shutdown`] save them to.
//! [`Alertmanagers::sync`] re-reads the stored configurations and applies those whose hash
//! changed (another server saved one).

use std::collections::HashMap;
use std::sync::Arc;

use md5::{Digest, Md5};
use tokio::sync::Mutex;
use wk_alertmanager::config::Config;
use wk_alertmanager::config::grafana::{DEFAULT_GRAFANA_CONFIG, PostableUserConfig};
use wk_alertmanager::instance::{Alertmanager, InstanceOptions, StateKeys};
use wk_alertmanager::labels::NameValidation;
use wk_alertmanager::metrics::Metrics;
use wk_alertmanager::proto::{from_kvstore_base64, to_kvstore_base64};
use wk_cluster::{NilPeer, Peer};
use wk_secrets::SecretBox;
use wk_store::Store;

use crate::ApiError;
use crate::contact_point_secrets;

/// kvstore namespace of the Alertmanager state.
pub const KV_NAMESPACE: &str = "alertmanager";
/// kvstore key of the silences snapshot.
pub const KV_SILENCES: &str = "silences";
/// kvstore key of the notification log snapshot.
pub const KV_NFLOG: &str = "notifications";
/// kvstore key of the alerts snapshot (Watchkeeper's own; Grafana does not persist alerts).
pub const KV_ALERTS: &str = "alerts";

/// Serializes the kvstore saves of Alertmanager state, each taking its snapshot under the lock,
/// so an older snapshot (e.g. periodic) never overwrites a newer one (e.g. after a silence
/// change).
static SAVE_LOCK: Mutex<()> = Mutex::const_new(());

/// Which keys the instances register their nflog and silences under with the peer; peers only
/// exchange states with equal keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StateKeyStyle {
    /// Grafana's, for every organization: `notificationlog:<org>` and `silences:<org>`.
    #[default]
    Grafana,
    /// Prometheus Alertmanager's `nfl` and `sil` for organization 1 (so it can gossip with
    /// Alertmanagers), Grafana's for the other organizations.
    Alertmanager,
}

impl StateKeyStyle {
    /// The keys of organization `org_id`'s instance.
    pub fn keys(self, org_id: i64) -> StateKeys {
        match self {
            Self::Alertmanager if org_id == 1 => StateKeys::alertmanager(),
            Self::Grafana | Self::Alertmanager => StateKeys::grafana(org_id),
        }
    }
}

/// The registry of instances, one per organization.
pub struct Alertmanagers {
    instances: Mutex<HashMap<i64, Instance>>,
    external_url: String,
    secrets: Arc<SecretBox>,
    metrics: Arc<Metrics>,
    dispatch_start_at: Option<tokio::time::Instant>,
    peer: Arc<dyn Peer>,
    key_style: StateKeyStyle,
    peer_timeout: Option<std::time::Duration>,
    name_validation: NameValidation,
}

/// An instance and the hash of the configuration text it runs.
struct Instance {
    am: Arc<Alertmanager>,
    hash: String,
}

/// Hex MD5 of a configuration text (the `configuration_hash` column).
pub fn config_hash(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// Parses a configuration whose secrets are in clear text.
fn parse(text: &str) -> Result<Config, String> {
    let user = PostableUserConfig::from_json(text).map_err(|e| e.to_string())?;
    user.to_config().map_err(|e| e.to_string())
}

/// Parses a stored configuration (secrets sealed).
fn parse_stored(text: &str, secrets: &SecretBox) -> Result<Config, String> {
    parse(&contact_point_secrets::reveal(text, secrets)?)
}

impl std::fmt::Debug for Alertmanagers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alertmanagers").finish_non_exhaustive()
    }
}

async fn load(store: &Store, org_id: i64, key: &str) -> Result<Vec<u8>, String> {
    match store.kv_get(org_id, KV_NAMESPACE, key).await {
        Ok(Some(e)) => from_kvstore_base64(&e.value).map_err(|e| e.to_string()),
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// Saves an instance's silences, notification log and the given alerts snapshot to the
/// kvstore; returns one message per failed write.
async fn save_state(store: &Store, org_id: i64, am: &Alertmanager, alerts: &[u8]) -> Vec<String> {
    let _guard = SAVE_LOCK.lock().await;
    let now = am.now().timestamp();
    let values = [
        (KV_SILENCES, to_kvstore_base64(&am.snapshot_silences())),
        (KV_NFLOG, to_kvstore_base64(&am.snapshot_nflog())),
        (KV_ALERTS, to_kvstore_base64(alerts)),
    ];
    let mut errors = Vec::new();
    for (key, value) in values {
        if let Err(e) = store.kv_set(org_id, KV_NAMESPACE, key, &value, now).await {
            errors.push(format!("org {org_id} {key}: {e}"));
        }
    }
    errors
}

impl Alertmanagers {
    /// An empty registry; instances report `external_url` to receivers, and contact point
    /// secrets are sealed with `secrets` in the database.
    pub fn new(external_url: impl Into<String>, secrets: SecretBox) -> Self {
        Self {
            instances: Mutex::default(),
            external_url: external_url.into(),
            secrets: Arc::new(secrets),
            metrics: Arc::default(),
            dispatch_start_at: None,
            peer: Arc::new(NilPeer),
            key_style: StateKeyStyle::Grafana,
            peer_timeout: None,
            name_validation: NameValidation::Utf8,
        }
    }

    /// The box sealing secrets in the database (`[security] secret_key`), shared with the
    /// data source API.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// Runs every instance as a member of `peer`'s cluster (instead of the single-node
    /// [`NilPeer`]), registering its state under the keys of `keys`. Instances created before
    /// the call keep their peer, so call it before the first [`Alertmanagers::get`].
    pub fn with_peer(mut self, peer: Arc<dyn Peer>, keys: StateKeyStyle) -> Self {
        self.peer = peer;
        self.key_style = keys;
        self
    }

    /// How much longer each cluster position waits before notifying
    /// (`[unified_alerting] ha_peer_timeout`; 15s when not set).
    pub fn with_peer_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.peer_timeout = Some(timeout);
        self
    }

    /// Alertmanager's classic mode (`[unified_alerting] alertmanager_classic_mode`): label
    /// names in alerts, silences and filters limited to the classic character set.
    pub fn with_classic_mode(mut self, classic: bool) -> Self {
        self.name_validation = if classic {
            NameValidation::Classic
        } else {
            NameValidation::Utf8
        };
        self
    }

    /// The cluster peer every instance runs with ([`NilPeer`] unless [`Alertmanagers::with_peer`]
    /// set another).
    pub fn peer(&self) -> &Arc<dyn Peer> {
        &self.peer
    }

    /// Counts every instance's activity into `metrics` (see [`crate::metrics::alertmanager`]).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Holds every instance's notifications until `delay` after now (the server's start;
    /// `[unified_alerting] alertmanager_dispatch_start_delay`, Alertmanager's
    /// `--dispatch.start-delay`). Instances created or reloaded later keep the same start.
    pub fn with_dispatch_start_delay(mut self, delay: std::time::Duration) -> Self {
        self.dispatch_start_at = (!delay.is_zero()).then(|| tokio::time::Instant::now() + delay);
        self
    }

    /// The organization's instance, created (from the latest stored configuration, and restored
    /// from the kvstore) on first use.
    pub async fn get(&self, store: &Store, org_id: i64) -> Result<Arc<Alertmanager>, ApiError> {
        let mut map = self.instances.lock().await;
        if let Some(i) = map.get(&org_id) {
            return Ok(Arc::clone(&i.am));
        }
        let stored = store
            .latest_alert_configuration(org_id)
            .await
            .map_err(|e| ApiError::internal("loading the alertmanager configuration", &e))?;
        let text = stored.map_or_else(
            || DEFAULT_GRAFANA_CONFIG.to_owned(),
            |c| c.alertmanager_configuration,
        );
        let mut opts = InstanceOptions::new(self.external_url.clone(), Arc::clone(&self.peer));
        opts.state_keys = self.key_style.keys(org_id);
        if let Some(t) = self.peer_timeout {
            opts.peer_timeout = t;
        }
        opts.metrics = self.metrics.org(org_id.to_string());
        opts.dispatch_start_at = self.dispatch_start_at;
        opts.name_validation = self.name_validation;
        let am_metrics = opts.metrics.clone();
        let config = match parse_stored(&text, &self.secrets) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(org_id, error = %e, "stored configuration is invalid; using the default");
                parse(DEFAULT_GRAFANA_CONFIG)
                    .map_err(|e| ApiError::internal("parsing the default configuration", &e))?
            }
        };
        let am = match Alertmanager::with_text(config, &text, opts.clone()) {
            Ok(am) => am,
            Err(e) => {
                tracing::warn!(org_id, error = %e, "stored configuration cannot be built; using the default");
                let config = parse(DEFAULT_GRAFANA_CONFIG)
                    .map_err(|e| ApiError::internal("parsing the default configuration", &e))?;
                Alertmanager::with_text(config, DEFAULT_GRAFANA_CONFIG, opts)
                    .map_err(|e| ApiError::internal("creating the alertmanager", &e))?
            }
        };
        let silences = load(store, org_id, KV_SILENCES)
            .await
            .map_err(|e| ApiError::internal("loading silences", &e))?;
        let nflog = load(store, org_id, KV_NFLOG)
            .await
            .map_err(|e| ApiError::internal("loading the notification log", &e))?;
        if let Err(e) = am.restore(&silences, &nflog) {
            tracing::warn!(org_id, error = %e, "could not restore alertmanager state");
        }
        // After the notification log, so the first flush of the rebuilt groups dedups against it.
        let alerts = load(store, org_id, KV_ALERTS)
            .await
            .map_err(|e| ApiError::internal("loading the saved alerts", &e))?;
        match am.restore_alerts(&alerts) {
            Ok(r) if r.skipped.is_empty() => {
                tracing::debug!(org_id, restored = r.restored, "restored alerts");
            }
            Ok(r) => {
                tracing::warn!(org_id, restored = r.restored, skipped = ?r.skipped, "some saved alerts could not be restored");
            }
            Err(e) => tracing::warn!(org_id, error = %e, "could not restore saved alerts"),
        }
        let am = Arc::new(am);
        am_metrics.track(&am);
        let hash = config_hash(&am.config_yaml());
        map.insert(
            org_id,
            Instance {
                am: Arc::clone(&am),
                hash,
            },
        );
        Ok(am)
    }

    /// Validates a Grafana JSON configuration (parse, conversion, receivers), saves it as a new
    /// version and applies it to the organization's instance. An invalid configuration gives a
    /// 400 naming the problem and changes nothing.
    pub async fn save_and_apply(
        &self,
        store: &Store,
        org_id: i64,
        text: &str,
        is_default: bool,
    ) -> Result<(), ApiError> {
        let am = self.get(store, org_id).await?;
        // Held from reading the previous version to saving the new one, so that two saves on
        // this server do not both merge secrets from the same previous version.
        let mut map = self.instances.lock().await;
        let previous = store
            .latest_alert_configuration(org_id)
            .await
            .map_err(|e| ApiError::internal("loading the alertmanager configuration", &e))?;
        let prepared = contact_point_secrets::prepare(
            text,
            previous
                .as_ref()
                .map(|c| c.alertmanager_configuration.as_str()),
            &self.secrets,
        )
        .map_err(ApiError::bad_request)?;
        let config = parse(&prepared.plain).map_err(ApiError::bad_request)?;
        am.validate_receivers(&config)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let hash = config_hash(&prepared.stored);
        store
            .save_alert_configuration(
                org_id,
                &prepared.stored,
                &hash,
                is_default,
                am.now().timestamp(),
            )
            .await
            .map_err(|e| ApiError::internal("saving the alertmanager configuration", &e))?;
        am.apply_config(config, &prepared.stored)
            .await
            .map_err(|e| ApiError::internal("applying the alertmanager configuration", &e))?;
        if let Some(i) = map.get_mut(&org_id) {
            i.hash = hash;
        }
        Ok(())
    }

    /// Re-reads every instance's latest stored configuration and applies it when its hash
    /// differs from the applied one.
    pub async fn sync(&self, store: &Store) {
        let mut map = self.instances.lock().await;
        for (org_id, inst) in map.iter_mut() {
            let stored = match store.latest_alert_configuration(*org_id).await {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(org_id, error = %e, "reading the alertmanager configuration failed");
                    continue;
                }
            };
            let hash = config_hash(&stored.alertmanager_configuration);
            if hash == inst.hash {
                continue;
            }
            let text = &stored.alertmanager_configuration;
            let result = match parse_stored(text, &self.secrets) {
                Ok(config) => inst
                    .am
                    .apply_config(config, text)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    tracing::info!(org_id, hash = %hash, "applied a changed alertmanager configuration");
                }
                Err(e) => {
                    tracing::warn!(org_id, hash = %hash, error = %e, "stored alertmanager configuration is invalid");
                }
            }
            // Remember the hash either way so an invalid version is not retried every poll.
            inst.hash = hash;
        }
    }

    /// Saves an instance's silences snapshot to the kvstore.
    pub async fn save_silences(
        store: &Store,
        org_id: i64,
        am: &Alertmanager,
    ) -> Result<(), wk_store::StoreError> {
        let _guard = SAVE_LOCK.lock().await;
        let value = to_kvstore_base64(&am.snapshot_silences());
        store
            .kv_set(
                org_id,
                KV_NAMESPACE,
                KV_SILENCES,
                &value,
                am.now().timestamp(),
            )
            .await
    }

    /// Stops every instance and saves its silences, notification log and alerts.
    pub async fn shutdown(&self, store: &Store) -> Result<(), String> {
        let mut errors = Vec::new();
        for (org_id, am) in self.all().await {
            // Before stopping: stopping drops the aggregation groups, the only holders of
            // resolved alerts whose resolved notification is still pending. A flush finishing
            // in between is recorded in the notification log, saved after the stop.
            let alerts = am.snapshot_alerts();
            am.stop().await;
            errors.extend(save_state(store, org_id, &am, &alerts).await);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Garbage-collects every instance, then saves its silences, notification log and alerts
    /// to the kvstore (upstream's maintenance: GC, then snapshot). Returns one message per
    /// failed save; the next run or the shutdown saves again.
    pub async fn maintenance(&self, store: &Store) -> Vec<String> {
        let mut errors = Vec::new();
        for (org_id, am) in self.all().await {
            am.maintenance(am.now());
            let alerts = am.snapshot_alerts();
            errors.extend(save_state(store, org_id, &am, &alerts).await);
        }
        errors
    }

    /// Creates, at server start, the instance of every organization that has saved alerts, so
    /// that notifications pending at the last shutdown (e.g. a resolved one) go out without
    /// waiting for the organization's first request. Returns how many were started; failures
    /// are logged and leave the instance to be created on first use.
    pub async fn start_saved(&self, store: &Store) -> usize {
        self.start_orgs(store, |org_id| async move {
            match store.kv_get(org_id, KV_NAMESPACE, KV_ALERTS).await {
                Ok(Some(e)) => !e.value.is_empty(),
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(org_id, error = %e, "reading saved alerts failed");
                    false
                }
            }
        })
        .await
    }

    /// Starts the Alertmanager of every organization not started yet (when clustered, every
    /// instance runs one per organization so that their states replicate). Returns how many
    /// were started; failures are logged.
    pub async fn start_all(&self, store: &Store) -> usize {
        self.start_orgs(store, |org_id| async move {
            !self.instances.lock().await.contains_key(&org_id)
        })
        .await
    }

    /// Starts the instance of every organization `wanted` accepts; returns how many started.
    /// Failures are logged and leave the instance to be created on first use.
    async fn start_orgs<F, Fut>(&self, store: &Store, wanted: F) -> usize
    where
        F: Fn(i64) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let orgs = match store.list_orgs().await {
            Ok(orgs) => orgs,
            Err(e) => {
                tracing::warn!(error = %e, "listing organizations to start alertmanagers failed");
                return 0;
            }
        };
        let mut started = 0;
        for org in orgs {
            if !wanted(org.id).await {
                continue;
            }
            match self.get(store, org.id).await {
                Ok(_) => started += 1,
                Err(e) => {
                    tracing::warn!(org_id = org.id, error = %e, "starting the alertmanager failed");
                }
            }
        }
        started
    }

    /// Every instance, cloned out so that no database work happens under the registry lock.
    async fn all(&self) -> Vec<(i64, Arc<Alertmanager>)> {
        let mut all: Vec<(i64, Arc<Alertmanager>)> = self
            .instances
            .lock()
            .await
            .iter()
            .map(|(k, v)| (*k, Arc::clone(&v.am)))
            .collect();
        all.sort_by_key(|(org_id, _)| *org_id);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wk_cluster::{BoxFuture, Channel, ClusterStatus, NilChannel, State};

    /// A peer that only reports a status.
    struct Clustered;

    impl Peer for Clustered {
        fn position(&self) -> u32 {
            0
        }
        fn wait_ready(&self) -> BoxFuture<'_, ()> {
            Box::pin(std::future::ready(()))
        }
        fn add_state(&self, _key: &str, _state: Arc<dyn State>) -> Arc<dyn Channel> {
            Arc::new(NilChannel)
        }
        fn ready(&self) -> bool {
            true
        }
        fn status(&self) -> Option<ClusterStatus> {
            Some(ClusterStatus {
                name: "me".into(),
                status: "ready",
                peers: Vec::new(),
            })
        }
    }

    #[test]
    fn key_styles() {
        assert_eq!(StateKeyStyle::default(), StateKeyStyle::Grafana);
        let grafana = StateKeyStyle::Grafana.keys(1);
        assert_eq!(grafana.nflog, "notificationlog:1");
        assert_eq!(grafana.silences, "silences:1");
        let am = StateKeyStyle::Alertmanager.keys(1);
        assert_eq!((am.nflog.as_str(), am.silences.as_str()), ("nfl", "sil"));
        assert_eq!(StateKeyStyle::Alertmanager.keys(2), StateKeys::grafana(2));
    }

    #[test]
    fn peer_is_nil_unless_set() {
        let secrets = || SecretBox::new("test key").expect("secret box");
        let registry = Alertmanagers::new("http://x/", secrets());
        assert!(registry.peer().status().is_none());
        let registry = Alertmanagers::new("http://x/", secrets())
            .with_peer(Arc::new(Clustered), StateKeyStyle::Alertmanager)
            .with_peer_timeout(std::time::Duration::from_secs(3));
        assert_eq!(registry.key_style, StateKeyStyle::Alertmanager);
        assert_eq!(
            registry.peer_timeout,
            Some(std::time::Duration::from_secs(3))
        );
        assert_eq!(registry.peer().status().map(|s| s.name), Some("me".into()));
    }
}
