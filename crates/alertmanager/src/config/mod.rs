//! The Alertmanager configuration file (Alertmanager 0.25's `config` package): strict YAML
//! parsing (unknown fields are errors), defaults, and upstream's validation with its messages,
//! prefixed by the YAML path of the offending value.
//!
//! Supported integrations are `webhook_configs` and `email_configs`; every other 0.25
//! integration key (`slack_configs`, `pagerduty_configs`, …) is rejected with
//! [`ConfigError::Unsupported`] until contact points land. Matcher strings are parsed with the
//! classic parser, as 0.25 does. The route tree is exposed as plain data ([`RouteConfig`]);
//! inheritance is applied by the routing code.

mod duration;
mod error;
mod global;
pub mod grafana;
mod http;
mod inhibit;
mod receiver;
mod route;

use std::collections::HashSet;

use serde::Deserialize;

pub use duration::{DurationError, format_model_duration, parse_model_duration};
pub use error::ConfigError;
pub use global::{GlobalConfig, OtherGlobals};
pub use http::{Authorization, BasicAuth, HttpClientConfig, OAuth2, TlsConfig};
pub use inhibit::InhibitRule;
pub use receiver::{EmailConfig, Receiver, WebhookConfig};
pub use route::{GroupBy, RouteConfig};

use crate::timeinterval::NamedTimeInterval;

/// A parsed and validated Alertmanager configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The `global` section with defaults.
    pub global: GlobalConfig,
    /// The root of the routing tree.
    pub route: RouteConfig,
    /// Receivers, in file order, with unique names.
    pub receivers: Vec<Receiver>,
    /// Inhibition rules.
    pub inhibit_rules: Vec<InhibitRule>,
    /// `time_intervals` followed by the deprecated `mute_time_intervals`; names are unique.
    pub time_intervals: Vec<NamedTimeInterval>,
    /// Template file globs, as written.
    pub templates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    global: Option<global::RawGlobal>,
    #[serde(default)]
    route: Option<route::RawRoute>,
    #[serde(default)]
    receivers: Vec<receiver::RawReceiver>,
    /// A null entry (`- ` alone) is an empty rule, as in Alertmanager.
    #[serde(default)]
    inhibit_rules: Vec<Option<inhibit::RawInhibitRule>>,
    #[serde(default)]
    time_intervals: Vec<NamedTimeInterval>,
    #[serde(default)]
    mute_time_intervals: Vec<NamedTimeInterval>,
    #[serde(default)]
    templates: Vec<String>,
}

impl Config {
    /// Parses and validates a configuration document.
    pub fn from_yaml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = serde_norway::from_str(text)?;
        let global = raw.global.unwrap_or_default().build()?;

        let mut names = HashSet::new();
        let mut receivers = Vec::with_capacity(raw.receivers.len());
        for (i, r) in raw.receivers.into_iter().enumerate() {
            let path = format!("receivers[{i}]");
            r.check_supported()?;
            let rcv = r.build(&path, &global)?;
            if !names.insert(rcv.name.clone()) {
                return Err(ConfigError::invalid(
                    path,
                    format!("notification config name {:?} is not unique", rcv.name),
                ));
            }
            receivers.push(rcv);
        }

        let mut time_intervals = raw.time_intervals;
        time_intervals.extend(raw.mute_time_intervals);
        let mut interval_names = HashSet::new();
        for ti in &time_intervals {
            if !interval_names.insert(ti.name.as_str()) {
                return Err(ConfigError::invalid(
                    "",
                    format!("time interval {:?} is not unique", ti.name),
                ));
            }
        }

        let Some(raw_route) = raw.route else {
            return Err(ConfigError::invalid("", "no routes provided"));
        };
        let route = raw_route.build("route")?;
        route::check_root(&route)?;
        let mut problem = None;
        route.walk("route", &mut |path, r| {
            if problem.is_some() {
                return;
            }
            if let Some(rcv) = &r.receiver
                && !names.contains(rcv)
            {
                problem = Some(ConfigError::invalid(
                    path,
                    format!("undefined receiver {rcv:?} used in route"),
                ));
            }
            for ti in r.mute_time_intervals.iter().chain(&r.active_time_intervals) {
                if problem.is_none() && !interval_names.contains(ti.as_str()) {
                    problem = Some(ConfigError::invalid(
                        path,
                        format!("undefined time interval {ti:?} used in route"),
                    ));
                }
            }
        });
        if let Some(e) = problem {
            return Err(e);
        }

        let mut inhibit_rules = Vec::with_capacity(raw.inhibit_rules.len());
        for (i, r) in raw.inhibit_rules.into_iter().enumerate() {
            inhibit_rules.push(
                r.unwrap_or_default()
                    .build(&format!("inhibit_rules[{i}]"))?,
            );
        }
        Ok(Config {
            global,
            route,
            receivers,
            inhibit_rules,
            time_intervals,
            templates: raw.templates,
        })
    }
}
