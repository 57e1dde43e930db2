//! Typed settings: one struct per INI section, each read and validated next to its definition.

use std::collections::BTreeSet;
use std::path::Path;

use crate::ini::DEFAULT_SECTION;
use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

mod auth;
mod database;
mod log;
mod paths;
mod security;
mod server;
mod state_history;
mod unified_alerting;

pub use auth::AuthSettings;
pub use database::{DatabaseSettings, DatabaseType};
pub use log::{LogFormat, LogLevel, LogSettings};
pub use paths::PathsSettings;
pub use security::{SameSite, SecuritySettings};
pub use server::{Protocol, ServerSettings};
pub use state_history::{StateHistoryBackend, StateHistorySettings};
pub use unified_alerting::{HaStateKeys, UnifiedAlertingSettings};

/// Sections whose keys are free-form, so their keys are never reported as unknown.
pub(crate) const FREE_SECTIONS: &[&str] = &[state_history::EXTERNAL_LABELS_SECTION];

/// The whole typed configuration of a Watchkeeper instance.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `app_mode` in the default section: `production` or `development`.
    pub app_mode: String,
    /// `instance_name` in the default section; defaults to the hostname.
    pub instance_name: String,
    /// `[paths]`.
    pub paths: PathsSettings,
    /// `[server]`.
    pub server: ServerSettings,
    /// `[database]`.
    pub database: DatabaseSettings,
    /// `[security]`.
    pub security: SecuritySettings,
    /// `[auth]`.
    pub auth: AuthSettings,
    /// `[log]`.
    pub log: LogSettings,
    /// `[unified_alerting]`.
    pub unified_alerting: UnifiedAlertingSettings,
    /// `[unified_alerting.state_history]` and its `external_labels` subsection.
    pub state_history: StateHistorySettings,
}

impl Settings {
    /// Reads every section, recording problems and warnings in `diag`.
    pub(crate) fn read(raw: &RawConfig, homepath: &Path, diag: &mut Diagnostics) -> Settings {
        let mut r = SectionReader::new(raw, DEFAULT_SECTION, diag);
        let app_mode = r.string("app_mode", "production");
        let instance_name = r.string("instance_name", "unknown_instance_name");
        let paths = PathsSettings::read(raw, homepath, diag);
        let server = ServerSettings::read(raw, diag);
        let database = DatabaseSettings::read(raw, &paths.data, diag);
        let security = SecuritySettings::read(raw, diag);
        let auth = AuthSettings::read(raw, diag);
        let log = LogSettings::read(raw, diag);
        let unified_alerting = UnifiedAlertingSettings::read(raw, diag);
        let state_history = StateHistorySettings::read(raw, diag);
        Settings {
            app_mode,
            instance_name,
            paths,
            server,
            database,
            security,
            auth,
            log,
            unified_alerting,
            state_history,
        }
    }
}

/// Every `(section, key)` the typed settings read.
pub(crate) fn known_keys() -> BTreeSet<(String, String)> {
    let mut diag = Diagnostics::default();
    Settings::read(&RawConfig::default(), Path::new("."), &mut diag);
    diag.read_keys
}

/// Implements `Debug` for a settings struct, showing `secret` fields as `*****` and `url` fields
/// with any password hidden. Destructures `self`, so a field missing from the list fails to build.
macro_rules! debug_redacted {
    ($ty:ident { $($field:ident),* $(,)? } secret { $($secret:ident),* $(,)? } url { $($url:ident),* $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let $ty { $($field,)* $($secret,)* $($url,)* } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), $field))*
                    $(.field(stringify!($secret), &$crate::source::redact_value("password", $secret)))*
                    $(.field(stringify!($url), &$crate::source::redact_value("url", $url)))*
                    .finish()
            }
        }
    };
}
pub(crate) use debug_redacted;

#[cfg(test)]
mod tests;
