//! The per-organization Alertmanager instances, created on first use from the organization's
//! latest stored configuration (Grafana JSON form; the default if none is stored) with their
//! silences and notification log restored from the kvstore. [`Alertmanagers::sync`] re-reads the
//! stored configurations and applies those whose hash changed (another server saved one).

use std::collections::HashMap;
use std::sync::Arc;

use md5::{Digest, Md5};
use tokio::sync::Mutex;
use wk_alertmanager::config::Config;
use wk_alertmanager::config::grafana::{DEFAULT_GRAFANA_CONFIG, PostableUserConfig};
use wk_alertmanager::instance::{Alertmanager, InstanceOptions};
use wk_alertmanager::proto::{from_kvstore_base64, to_kvstore_base64};
use wk_cluster::NilPeer;
use wk_store::Store;

use crate::ApiError;

/// kvstore namespace of the Alertmanager state.
pub const KV_NAMESPACE: &str = "alertmanager";
/// kvstore key of the silences snapshot.
pub const KV_SILENCES: &str = "silences";
/// kvstore key of the notification log snapshot.
pub const KV_NFLOG: &str = "notifications";

/// The registry of instances, one per organization.
#[derive(Default)]
pub struct Alertmanagers {
    instances: Mutex<HashMap<i64, Instance>>,
    external_url: String,
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

/// Why a posted configuration is rejected.
fn parse(text: &str) -> Result<Config, String> {
    let user = PostableUserConfig::from_json(text).map_err(|e| e.to_string())?;
    user.to_config().map_err(|e| e.to_string())
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

impl Alertmanagers {
    /// An empty registry; instances report `external_url` to receivers.
    pub fn new(external_url: impl Into<String>) -> Self {
        Self {
            instances: Mutex::default(),
            external_url: external_url.into(),
        }
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
        let opts = InstanceOptions::new(self.external_url.clone(), Arc::new(NilPeer));
        let config = match parse(&text) {
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
        let am = Arc::new(am);
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
        let config = parse(text).map_err(ApiError::bad_request)?;
        am.validate_receivers(&config)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let hash = config_hash(text);
        let mut map = self.instances.lock().await;
        store
            .save_alert_configuration(org_id, text, &hash, is_default, am.now().timestamp())
            .await
            .map_err(|e| ApiError::internal("saving the alertmanager configuration", &e))?;
        am.apply_config(config, text)
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
            let result = match parse(text) {
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

    /// Stops every instance and saves its silences and notification log.
    pub async fn shutdown(&self, store: &Store) -> Result<(), String> {
        let instances: Vec<(i64, Arc<Alertmanager>)> = self
            .instances
            .lock()
            .await
            .iter()
            .map(|(k, v)| (*k, Arc::clone(&v.am)))
            .collect();
        let mut errors = Vec::new();
        for (org_id, am) in instances {
            am.stop().await;
            if let Err(e) = Self::save_silences(store, org_id, &am).await {
                errors.push(format!("org {org_id} silences: {e}"));
            }
            let nflog = to_kvstore_base64(&am.snapshot_nflog());
            if let Err(e) = store
                .kv_set(org_id, KV_NAMESPACE, KV_NFLOG, &nflog, am.now().timestamp())
                .await
            {
                errors.push(format!("org {org_id} notifications: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Runs garbage collection on every instance.
    pub async fn maintenance(&self) {
        for i in self.instances.lock().await.values() {
            i.am.maintenance(i.am.now());
        }
    }
}
