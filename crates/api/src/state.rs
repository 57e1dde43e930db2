//! State shared by every handler.

use std::sync::Arc;

use prometheus_client::registry::Registry;
use wk_auth::AuthService;
use wk_store::Store;

use crate::ApiOptions;
use crate::alertmanagers::Alertmanagers;
use crate::metrics::HttpMetrics;

/// The external Alertmanagers in use by organization (the server's alert router answers).
pub type ExternalAlertmanagers =
    Arc<dyn Fn(i64) -> wk_ruler::eval::BoxFuture<'static, Vec<String>> + Send + Sync>;

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
    /// Evaluates rules for the rule preview (`POST /api/v1/rule/test/grafana`); `None`: the
    /// preview answers 503.
    pub rule_evaluator: Option<wk_ruler::eval::Evaluator>,
    /// The external Alertmanagers an organization's alerts go to now (`…/api/v2/alerts` URLs,
    /// without credentials); `None`: none.
    pub external_alertmanagers: Option<ExternalAlertmanagers>,
}
