//! HTTP request metrics and request logs.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

/// Labels of the request histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    handler: String,
    method: String,
    status_code: String,
}

/// Request duration histogram and in-flight gauge.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    duration: Family<RequestLabels, Histogram>,
    in_flight: Gauge,
}

impl HttpMetrics {
    /// Creates the metrics and registers them.
    pub fn register(registry: &mut Registry) -> Self {
        let duration = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 12))
        });
        let in_flight = Gauge::default();
        registry.register(
            "watchkeeper_http_request_duration_seconds",
            "Time spent serving HTTP requests, by route, method and status code",
            duration.clone(),
        );
        registry.register(
            "watchkeeper_http_requests_in_flight",
            "HTTP requests being served right now",
            in_flight.clone(),
        );
        Self {
            duration,
            in_flight,
        }
    }
}

/// Middleware: times the request, counts it by route template, and logs it.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "notfound".to_owned());
    let m = &state.http_metrics;
    m.in_flight.inc();
    let resp = next.run(req).await;
    m.in_flight.dec();
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    m.duration
        .get_or_create(&RequestLabels {
            handler,
            method: method.clone(),
            status_code: status.to_string(),
        })
        .observe(elapsed.as_secs_f64());
    let ms = elapsed.as_secs_f64() * 1000.0;
    if state.opts.router_logging || status >= 500 {
        tracing::info!(%method, %path, status, duration_ms = ms, "request completed");
    } else {
        tracing::debug!(%method, %path, status, duration_ms = ms, "request completed");
    }
    resp
}
