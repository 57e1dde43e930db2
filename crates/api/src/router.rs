//! Assembles the router: the route table with each route's requirement, then the layers every
//! request passes (metrics and logs, JSON errors, limits, authentication).

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{Redirect, Response};
use axum::routing::{MethodFilter, get, on};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::access::{Need, require};
use crate::error::message_response;
use crate::{ApiError, AppState, authn, metrics, routes};

/// One route: method, path template and what it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path template, e.g. `/api/org/users/{user_id}`.
    pub path: &'static str,
    /// Requirement checked before the handler runs.
    pub need: Need,
}

/// Collects routes together with their requirements.
pub(crate) struct RouteTable {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl RouteTable {
    pub(crate) fn new() -> Self {
        Self {
            router: Router::new(),
            specs: Vec::new(),
        }
    }

    /// Adds a route; `need` is enforced before `handler` runs.
    pub(crate) fn add<H, T>(
        mut self,
        method: &'static str,
        path: &'static str,
        need: Need,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            other => unreachable!("route table uses an unsupported method {other}"),
        };
        let endpoint =
            on(filter, handler).route_layer(from_fn(move |req, next| require(need, req, next)));
        self.router = self.router.route(path, endpoint);
        self.specs.push(RouteSpec { method, path, need });
        self
    }
}

/// Every route with its requirement (for documentation and tests).
pub fn route_table() -> Vec<RouteSpec> {
    routes::table().specs
}

/// Builds the HTTP application; with a sub path (`serve_from_sub_path`) every route is served
/// under it, `/` redirects to it and other paths are not found.
pub fn router(state: AppState) -> Router {
    let sub_path = state.opts.sub_path.clone();
    let app = application(state);
    if sub_path.is_empty() || sub_path == "/" {
        return app;
    }
    let home = format!("{sub_path}/");
    Router::new()
        .nest(&sub_path, app)
        .route("/", get(move || async move { Redirect::to(&home) }))
        .fallback(|| async { ApiError::not_found("Not found") })
}

/// The routes and their layers, served from `/`.
fn application(state: AppState) -> Router {
    let opts = state.opts.clone();
    routes::table()
        .router
        .fallback(|| async { ApiError::not_found("Not found") })
        .layer(from_fn_with_state(state.clone(), authn::authenticate))
        .layer(DefaultBodyLimit::max(opts.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            opts.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            message_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }))
        .layer(from_fn(json_errors))
        .layer(from_fn(routes::no_store))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Rewrites error answers that are not JSON (from axum or tower layers: 405, 413, timeouts) into
/// `{"message": ...}`, keeping their other headers (such as `Allow`).
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let message = text.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let json = message_response(status, &message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, json.into_body())
}
