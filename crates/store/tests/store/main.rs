//! Store tests; every test runs on each available backend (see `wk_store::testing`).

mod alert_configuration;
mod alert_rules;
mod alert_state;
mod api_keys;
mod auth_tokens;
mod connect;
mod data_sources;
mod folders;
mod kv;
mod login_attempts;
mod org_users;
mod orgs;
mod users;

use wk_store::{NewUser, OrgRole, Store, User};

/// A fixed "now" for tests (2027-01-15).
pub const T0: i64 = 1_800_000_000;

/// A user in org `org_id` with a derived email.
pub fn new_user(login: &str, org_id: i64, role: OrgRole) -> NewUser {
    NewUser {
        login: login.to_owned(),
        email: format!("{login}@example.com"),
        name: format!("{login} name"),
        password_hash: format!("$argon2id$hash-of-{login}"),
        is_admin: false,
        org_id,
        role,
    }
}

/// Ensures the main org and creates a user in it.
pub async fn user(store: &Store, login: &str) -> User {
    store.ensure_org(1, "Main Org.", T0).await.expect("org");
    store
        .create_user(&new_user(login, 1, OrgRole::Viewer), T0)
        .await
        .expect("create user")
}
