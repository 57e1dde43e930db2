//! First-start data: organization 1 "Main Org." and the initial admin user.

use wk_config::SecuritySettings;
use wk_store::{NewUser, OrgRole, Store};

/// Name of the organization every installation starts with.
pub const MAIN_ORG_NAME: &str = "Main Org.";

/// Errors while creating the initial data.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The database failed.
    #[error("creating initial data: {0}")]
    Store(#[from] wk_store::StoreError),
    /// The admin password could not be hashed or is unacceptable.
    #[error("[security] admin_password: {0}")]
    AdminPassword(wk_auth::AuthError),
}

/// Creates the main organization and, unless disabled, the admin user. Safe when several instances
/// start at once; an existing admin keeps its password.
pub async fn run(store: &Store, security: &SecuritySettings) -> Result<(), BootstrapError> {
    let now = wk_auth::unix_now();
    store.ensure_org(1, MAIN_ORG_NAME, now).await?;
    if security.disable_initial_admin_creation {
        return Ok(());
    }
    let password_hash = wk_auth::hash_new_password(&security.admin_password)
        .await
        .map_err(BootstrapError::AdminPassword)?;
    let (user, created) = store
        .ensure_user(
            &NewUser {
                login: security.admin_user.clone(),
                email: security.admin_email.clone(),
                name: String::new(),
                password_hash,
                is_admin: true,
                org_id: 1,
                role: OrgRole::Admin,
            },
            now,
        )
        .await?;
    if created {
        tracing::info!(login = %user.login, "created the initial admin user");
    }
    Ok(())
}
