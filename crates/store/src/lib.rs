//! Watchkeeper's shared SQL store.
//!
//! This crate owns everything Watchkeeper keeps in its database: the schema and its versioned
//! migrations, the connection pools, and typed access to organizations, users, org membership,
//! login sessions (`user_auth_token`), API tokens, login attempts (for cluster-wide lockout),
//! the generic `kv_store`, folders, data sources, alert rules with
//! their versions, alert state, state history (annotations) and where alerts are sent. One codebase serves embedded SQLite (the default), PostgreSQL and
//! MySQL/MariaDB (for HA, where several instances share one database).
//!
//! It deliberately avoids sqlx's `Any` driver: [`Store`] holds one typed pool per backend, and a
//! small internal layer expands each query once per backend and rewrites portable SQL
//! (`?` placeholders, `"quoted"` identifiers) into each dialect.

#![warn(missing_docs)]

mod alert_configuration;
mod alert_instances;
mod alert_rules;
mod annotations;
mod api_keys;
mod auth_tokens;
mod data_sources;
mod db;
mod error;
mod folders;
mod kv;
mod login_attempts;
mod migrate;
mod migrations;
mod ngalert_configuration;
mod options;
mod org_users;
mod orgs;
mod resolve;
mod role;
mod schema;
mod sql;
mod store;
mod users;

#[cfg(feature = "testing")]
pub mod testing;

pub use alert_configuration::AlertConfiguration;
pub use alert_instances::AlertInstanceRow;
pub use alert_rules::{GroupSaved, RuleToSave, RuleVersion, StoredRule};
pub use annotations::{Annotation, AnnotationQuery};
pub use api_keys::{ApiKey, NewApiKey};
pub use auth_tokens::{AuthToken, NewAuthToken};
pub use data_sources::DataSource;
pub use error::StoreError;
pub use folders::Folder;
pub use kv::KvEntry;
pub use options::{Backend, StoreOptions};
pub use org_users::{OrgUserView, UserOrgView};
pub use orgs::Org;
pub use role::{OrgRole, ParseOrgRoleError};
pub use store::Store;
pub use users::{NewUser, User};
