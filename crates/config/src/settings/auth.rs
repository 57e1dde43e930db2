//! `[auth]`: login sessions and API keys.

use std::time::Duration;

use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// `[auth]`.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `login_cookie_name` (default `watchkeeper_session`).
    pub login_cookie_name: String,
    /// `login_maximum_inactive_lifetime_duration` (default 7d): idle time before a new login.
    pub login_maximum_inactive_lifetime_duration: Duration,
    /// `login_maximum_lifetime_duration` (default 30d): session age before a new login.
    pub login_maximum_lifetime_duration: Duration,
    /// `token_rotation_interval_minutes` (default 10, at least 2).
    pub token_rotation_interval_minutes: u32,
    /// `api_key_max_seconds_to_live` (default -1 = unlimited).
    pub api_key_max_seconds_to_live: i64,
}

impl AuthSettings {
    pub(crate) fn read(raw: &RawConfig, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, "auth", diag);
        let mut rotation = r.u32("token_rotation_interval_minutes", 10);
        if rotation < 2 {
            r.warning(
                "token_rotation_interval_minutes",
                "must be at least 2; using 2",
            );
            rotation = 2;
        }
        AuthSettings {
            login_cookie_name: r.string("login_cookie_name", "watchkeeper_session"),
            login_maximum_inactive_lifetime_duration: r
                .duration("login_maximum_inactive_lifetime_duration", 7 * DAY),
            login_maximum_lifetime_duration: r
                .duration("login_maximum_lifetime_duration", 30 * DAY),
            token_rotation_interval_minutes: rotation,
            api_key_max_seconds_to_live: r.i64("api_key_max_seconds_to_live", -1),
        }
    }
}
