//! Watchkeeper's configuration: everything about reading Grafana-style INI settings, and
//! nothing else (no other crate parses INI).
//!
//! This crate owns
//! - a go-ini compatible INI parser ([`ini`]);
//! - the layered loader: embedded `conf/defaults.ini` → `--config` file → `WATCHKEEPER_*`
//!   environment → `cfg:` arguments → `${VAR}`/`$__env{}`/`$__file{}` expansion, with the
//!   [`Source`] of every value ([`load`], [`LoadOptions`]);
//! - the typed, validated [`Settings`] with Grafana's key names and defaults; validation
//!   collects every problem ([`ConfigErrors`]) and reports unknown keys as [`ConfigWarning`]s;
//! - Grafana-style durations ([`parse_duration`], [`format_duration`]), also used by other crates.
//!
//! Secret values (keys containing `password`, `secret` or `token`) are shown as `*****` in
//! every `Display` and `Debug` output of this crate.

pub mod duration;
mod expand;
pub mod ini;
pub mod loader;
mod problem;
mod raw;
mod reader;
pub mod settings;
mod source;
mod unknown;

#[cfg(test)]
mod test_support;

pub use duration::{DurationError, format_duration, parse_duration};
pub use loader::{
    CUSTOM_INI, DEFAULTS_INI, ENV_PREFIX, LoadOptions, Loaded, env_key, load, process_env,
};
pub use problem::{ConfigErrors, ConfigWarning, Problem};
pub use raw::{RawConfig, RawSection, RawValue};
pub use settings::HaStateKeys;
pub use settings::{
    AuthSettings, DatabaseSettings, DatabaseType, LogFormat, LogLevel, LogSettings, PathsSettings,
    Protocol, SameSite, SecuritySettings, ServerSettings, Settings, StateHistoryBackend,
    StateHistorySettings, UnifiedAlertingSettings,
};
pub use source::{REDACTED, Source, is_secret_key, redact_value};
