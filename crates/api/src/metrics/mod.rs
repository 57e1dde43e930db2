//! Metrics: process metrics, HTTP request metrics, and the `/metrics` exposition.

mod http;
mod process;

pub use http::HttpMetrics;
pub(crate) use http::track;
pub use process::ProcessCollector;

use prometheus_client::registry::Registry;

/// Content type of the exposition (OpenMetrics text, which Prometheus scrapes natively).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Creates the process's Alertmanager metrics (shared by every organization's instance, with
/// an `org` label) and registers them in `registry`; hand them to
/// [`crate::alertmanagers::Alertmanagers::with_metrics`].
pub fn alertmanager(registry: &mut Registry) -> std::sync::Arc<wk_alertmanager::metrics::Metrics> {
    let metrics = std::sync::Arc::new(wk_alertmanager::metrics::Metrics::new());
    metrics.register(registry);
    metrics
}

/// Renders a registry in the OpenMetrics text format.
pub fn render(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry)?;
    Ok(out)
}
