//! State shared by every handler.

use std::sync::Arc;

use prometheus_client::registry::Registry;
use wk_auth::AuthService;
use wk_store::Store;

use crate::ApiOptions;
use crate::alertmanagers::Alertmanagers;
use crate::metrics::HttpMetrics;

/// Everything a handler can reach: store, auth service, options, metrics, Alertmanagers and
/// rule states.
#[derive(Clone)]
pub struct AppState {
    /// The shared database.
    pub store: Store,
    /// Authentication.
    pub auth: AuthService,
    /// HTTP options.
    pub opts: Arc<ApiOptions>,
    /// HTTP request metrics.
    pub http_metrics: HttpMetrics,
    /// The registry `/metrics` renders.
    pub registry: Arc<Registry>,
    /// The per-organization Alertmanagers.
    pub alertmanagers: Arc<Alertmanagers>,
    /// The state of the rules this instance evaluates (`None` with `execute_alerts = false`).
    pub ruler: Option<wk_ruler::schedule::StateView>,
}
