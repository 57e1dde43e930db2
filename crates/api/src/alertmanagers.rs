//! The per-organization Alertmanager instances, created on first use with the default
//! configuration and their silences and notification log restored from the kvstore.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use wk_alertmanager::instance::{Alertmanager, DEFAULT_CONFIG, InstanceOptions};
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
    instances: Mutex<HashMap<i64, Arc<Alertmanager>>>,
    external_url: String,
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

    /// The organization's instance, created (and restored from the kvstore) on first use.
    pub async fn get(&self, store: &Store, org_id: i64) -> Result<Arc<Alertmanager>, ApiError> {
        let mut map = self.instances.lock().await;
        if let Some(am) = map.get(&org_id) {
            return Ok(Arc::clone(am));
        }
        let opts = InstanceOptions::new(self.external_url.clone(), Arc::new(NilPeer));
        let am = Alertmanager::from_yaml(DEFAULT_CONFIG, opts)
            .map_err(|e| ApiError::internal("creating the alertmanager", &e))?;
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
        map.insert(org_id, Arc::clone(&am));
        Ok(am)
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
            .map(|(k, v)| (*k, Arc::clone(v)))
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
        for am in self.instances.lock().await.values() {
            am.maintenance(am.now());
        }
    }
}
