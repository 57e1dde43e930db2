//! Settings of the authentication service, filled by the server from `[security]` and `[auth]`.

use std::time::Duration;

/// Tunables for logins, sessions and API tokens.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// Turn off the failed-login lockout.
    pub disable_brute_force_protection: bool,
    /// Failed logins within `lockout_window` after which a user is locked out.
    pub max_login_attempts: u32,
    /// Window over which failed logins are counted.
    pub lockout_window: Duration,
    /// A session unused for this long expires.
    pub max_inactive_lifetime: Duration,
    /// A session expires this long after login, used or not.
    pub max_lifetime: Duration,
    /// How often an active session's token is replaced by a new one.
    pub rotation_interval: Duration,
    /// After a rotation the previous token is still accepted this long (requests in flight).
    pub rotation_grace: Duration,
    /// Largest lifetime an API token may be given; `None` allows tokens that never expire.
    pub api_key_max_ttl: Option<Duration>,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            disable_brute_force_protection: false,
            max_login_attempts: 5,
            lockout_window: Duration::from_secs(300),
            max_inactive_lifetime: Duration::from_secs(7 * 86_400),
            max_lifetime: Duration::from_secs(30 * 86_400),
            rotation_interval: Duration::from_secs(600),
            rotation_grace: Duration::from_secs(60),
            api_key_max_ttl: None,
        }
    }
}
