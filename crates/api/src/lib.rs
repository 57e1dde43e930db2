//! Watchkeeper's HTTP surface: the router, authentication middleware, per-route role checks, JSON
//! errors, request metrics and logs, `/metrics` and the Grafana-shaped account APIs (login,
//! users, organizations, API tokens), folders, data sources, Grafana-managed alert rules (ruler
//! and provisioning APIs) and file provisioning at start.

mod access;
pub mod alertmanagers;
mod authn;
mod contact_point_secrets;
mod cookie;
pub mod datasources;
mod error;
mod json;
pub mod metrics;
mod options;
pub mod provisioning;
mod router;
mod routes;
mod rules;
mod state;

pub use access::Need;
pub use error::ApiError;
pub use options::{ApiOptions, BuildInfo, SameSite};
pub use router::{route_table, router};
pub use rules::{PROVENANCE_API, PROVENANCE_FILE, PROVENANCE_NAMESPACE};
pub use state::AppState;
