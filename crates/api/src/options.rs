//! Settings of the HTTP layer, filled by the server from `[server]`, `[security]`, `[auth]` and
//! (rule intervals) `[unified_alerting]`.

use std::time::Duration;

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (implies `Secure` in browsers).
    None,
    /// No `SameSite` attribute at all.
    Disabled,
}

/// Version and commit of the running build.
#[derive(Debug, Clone)]
pub struct BuildInfo {
    /// Semantic version.
    pub version: String,
    /// Git commit the binary was built from.
    pub commit: String,
}

/// Options of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Name of the session cookie.
    pub cookie_name: String,
    /// Mark cookies `Secure`.
    pub cookie_secure: bool,
    /// `SameSite` attribute of cookies.
    pub cookie_samesite: SameSite,
    /// Lifetime of the session cookie in the browser.
    pub cookie_max_age: Duration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// A handler taking longer is cut off with 503.
    pub request_timeout: Duration,
    /// Log every request at info level (otherwise at debug).
    pub router_logging: bool,
    /// Timeout of the database probe in `/api/health`.
    pub health_timeout: Duration,
    /// Version and commit, shown by `/api/health`.
    pub build: BuildInfo,
    /// Path every route is served under (`[server] serve_from_sub_path`), e.g. `/wk`, without
    /// a trailing `/`; empty serves from `/`.
    pub sub_path: String,
    /// `[unified_alerting]` scheduler base interval: rule group intervals are multiples of it.
    pub rule_base_interval: Duration,
    /// `[unified_alerting] min_interval`: the shortest rule group interval.
    pub rule_min_interval: Duration,
    /// The interval of rule groups that do not give one (60s, or `min_interval` if larger).
    pub rule_default_interval: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            cookie_name: "watchkeeper_session".into(),
            cookie_secure: false,
            cookie_samesite: SameSite::Lax,
            cookie_max_age: Duration::from_secs(30 * 86_400),
            max_body_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            router_logging: false,
            health_timeout: Duration::from_secs(3),
            build: BuildInfo {
                version: env!("CARGO_PKG_VERSION").into(),
                commit: "unknown".into(),
            },
            sub_path: String::new(),
            rule_base_interval: Duration::from_secs(10),
            rule_min_interval: Duration::from_secs(10),
            rule_default_interval: Duration::from_secs(60),
        }
    }
}
