//! Watchkeeper's HTTP surface: the router, authentication middleware, per-route role checks, JSON
//! errors, request metrics and logs, `/metrics` and the Grafana-shaped account APIs (login,
//! users, organizations, API tokens). Later: the alerting APIs.

mod access;
pub mod alertmanagers;
mod authn;
mod contact_point_secrets;
mod cookie;
mod error;
mod json;
pub mod metrics;
mod options;
mod router;
mod routes;
mod state;

pub use access::Need;
pub use error::ApiError;
pub use options::{ApiOptions, BuildInfo, SameSite};
pub use router::{route_table, router};
pub use state::AppState;
