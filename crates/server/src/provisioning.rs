//! Start-up data for alerting, before the server serves: every organization's built-in TestData
//! data source, then the provisioning files under `[paths] provisioning` (data sources, then
//! alert rules; see `wk_api::provisioning`).

use wk_config::Settings;
use wk_secrets::SecretBox;
use wk_store::{Store, StoreError};

/// Why start-up provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningError {
    /// The database failed while creating the built-in data sources.
    #[error("creating the built-in data sources: {0}")]
    Store(#[from] StoreError),
    /// A provisioning file is invalid or could not be applied (names the file and field).
    #[error("provisioning: {0}")]
    File(#[from] wk_api::provisioning::ProvisioningError),
}

/// Creates the built-in data sources, then applies the provisioning files.
pub async fn run(
    store: &Store,
    secrets: &SecretBox,
    settings: &Settings,
) -> Result<(), ProvisioningError> {
    let now = wk_auth::unix_now();
    let created = wk_api::datasources::ensure_builtin_all(store, now).await?;
    if created > 0 {
        tracing::info!(
            organizations = created,
            "created the built-in TestData data source"
        );
    }
    let dir = &settings.paths.provisioning;
    let opts = crate::options::api(settings);
    let summary = wk_api::provisioning::provision(store, secrets, dir, &opts).await?;
    tracing::info!(
        directory = %dir.display(),
        data_sources = summary.data_sources,
        deleted_data_sources = summary.deleted_data_sources,
        rule_groups = summary.rule_groups,
        deleted_rules = summary.deleted_rules,
        "provisioning done"
    );
    Ok(())
}
