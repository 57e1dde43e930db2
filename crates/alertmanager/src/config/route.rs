//! `route`: the routing tree as plain data ([`RouteConfig`]), with `match`, `match_re` and
//! `matchers` combined and sorted, durations parsed and per-route checks applied. Inheritance
//! is left to the routing code.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::Deserialize;

use super::duration::parse_model_duration;
use super::error::ConfigError;
use crate::labels::is_valid_classic_label_name;
use crate::matchers::{MatchType, Matcher, Matchers, Mode, parse_matchers};

/// How a route groups alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// `group_by: ['...']`: every label of the alert.
    All,
    /// These label names (order and duplicates do not matter).
    Labels(Vec<String>),
}

/// One node of the routing tree, as configured (nothing inherited yet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteConfig {
    /// Receiver name; `None` inherits the parent's.
    pub receiver: Option<String>,
    /// Grouping (`["..."]` is [`GroupBy::All`]); `None` inherits.
    pub group_by: Option<GroupBy>,
    /// Keep matching siblings after this route matched.
    pub continue_: bool,
    /// `match`, `match_re` and `matchers`, ANDed, sorted by (name, value, type).
    pub matchers: Matchers,
    /// `group_wait`; `None` inherits.
    pub group_wait: Option<Duration>,
    /// `group_interval` (never zero); `None` inherits.
    pub group_interval: Option<Duration>,
    /// `repeat_interval` (never zero); `None` inherits.
    pub repeat_interval: Option<Duration>,
    /// Names of time intervals during which notifications are muted (not inherited).
    pub mute_time_intervals: Vec<String>,
    /// Names of time intervals outside which notifications are muted (not inherited).
    pub active_time_intervals: Vec<String>,
    /// Child routes, in order.
    pub routes: Vec<RouteConfig>,
}

impl RouteConfig {
    /// Visits this route and its descendants depth-first, with their YAML paths.
    pub fn walk<'a>(&'a self, path: &str, f: &mut dyn FnMut(&str, &'a RouteConfig)) {
        f(path, self);
        for (i, r) in self.routes.iter().enumerate() {
            r.walk(&format!("{path}.routes[{i}]"), f);
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    #[serde(default)]
    receiver: Option<String>,
    #[serde(default)]
    group_by: Option<Vec<String>>,
    #[serde(default, rename = "continue")]
    continue_: bool,
    #[serde(default, rename = "match")]
    match_: BTreeMap<String, String>,
    #[serde(default)]
    match_re: BTreeMap<String, String>,
    #[serde(default)]
    matchers: Vec<String>,
    #[serde(default)]
    group_wait: Option<String>,
    #[serde(default)]
    group_interval: Option<String>,
    #[serde(default)]
    repeat_interval: Option<String>,
    #[serde(default)]
    mute_time_intervals: Vec<String>,
    #[serde(default)]
    active_time_intervals: Vec<String>,
    #[serde(default)]
    routes: Vec<RawRoute>,
}

fn duration(path: &str, key: &str, v: Option<String>) -> Result<Option<Duration>, ConfigError> {
    v.map(|s| parse_model_duration(&s))
        .transpose()
        .map_err(|e| ConfigError::invalid(format!("{path}.{key}"), e.to_string()))
}

impl RawRoute {
    /// Converts and checks this route and its children; `path` is e.g. `route.routes[0]`.
    pub(super) fn build(self, path: &str) -> Result<RouteConfig, ConfigError> {
        let err = |p: String, m: String| ConfigError::invalid(p, m);
        if let Some(gb) = &self.group_by {
            let mut seen = HashSet::new();
            for (i, l) in gb.iter().enumerate() {
                let p = format!("{path}.group_by[{i}]");
                if l == "..." {
                    if gb.len() > 1 {
                        return Err(err(
                            p,
                            "cannot have wildcard group_by (`...`) and other other labels at the same time".into(),
                        ));
                    }
                    continue;
                }
                // UTF-8 names, like alerts and matchers (Alertmanager 0.27+; 0.25 wants
                // classic names here).
                if l.is_empty() {
                    return Err(err(p, format!("invalid label name {l:?} in group_by list")));
                }
                if !seen.insert(l) {
                    return Err(err(p, format!("duplicated label {l:?} in group_by")));
                }
            }
        }
        let mut matchers = Matchers::new();
        for (k, v) in self.match_ {
            if !is_valid_classic_label_name(&k) {
                return Err(err(
                    format!("{path}.match"),
                    format!("invalid label name {k:?}"),
                ));
            }
            let m = Matcher::new(MatchType::Equal, k, v)
                .map_err(|e| err(format!("{path}.match"), e.to_string()))?;
            matchers.push(m);
        }
        for (k, v) in self.match_re {
            let p = format!("{path}.match_re.{k}");
            if !is_valid_classic_label_name(&k) {
                return Err(err(p, format!("invalid label name {k:?}")));
            }
            let m = Matcher::new(MatchType::Regexp, k, v).map_err(|e| err(p, e.to_string()))?;
            matchers.push(m);
        }
        for (i, s) in self.matchers.iter().enumerate() {
            let ms = parse_matchers(s, Mode::Fallback)
                .map_err(|e| err(format!("{path}.matchers[{i}]"), e.to_string()))?;
            ms.into_iter().for_each(|m| matchers.push(m));
        }
        matchers.sort();
        let group_interval = duration(path, "group_interval", self.group_interval)?;
        if group_interval == Some(Duration::ZERO) {
            return Err(err(
                format!("{path}.group_interval"),
                "group_interval cannot be zero".into(),
            ));
        }
        let repeat_interval = duration(path, "repeat_interval", self.repeat_interval)?;
        if repeat_interval == Some(Duration::ZERO) {
            return Err(err(
                format!("{path}.repeat_interval"),
                "repeat_interval cannot be zero".into(),
            ));
        }
        let mut routes = Vec::with_capacity(self.routes.len());
        for (i, r) in self.routes.into_iter().enumerate() {
            routes.push(r.build(&format!("{path}.routes[{i}]"))?);
        }
        Ok(RouteConfig {
            receiver: self.receiver.filter(|r| !r.is_empty()),
            group_by: self.group_by.map(|labels| {
                if labels.iter().any(|l| l == "...") {
                    GroupBy::All
                } else {
                    GroupBy::Labels(labels)
                }
            }),
            continue_: self.continue_,
            matchers,
            group_wait: duration(path, "group_wait", self.group_wait)?,
            group_interval,
            repeat_interval,
            mute_time_intervals: self.mute_time_intervals,
            active_time_intervals: self.active_time_intervals,
            routes,
        })
    }
}

/// The checks that apply to the root route only.
pub(super) fn check_root(root: &RouteConfig) -> Result<(), ConfigError> {
    let err = |m: &str| Err(ConfigError::invalid("route", m));
    if root.receiver.is_none() {
        return err("root route must specify a default receiver");
    }
    if !root.matchers.is_empty() {
        return err("root route must not have any matchers");
    }
    if root.continue_ {
        return err("cannot have continue in root route");
    }
    if !root.mute_time_intervals.is_empty() {
        return err("root route must not have any mute time intervals");
    }
    if !root.active_time_intervals.is_empty() {
        return err("root route must not have any active time intervals");
    }
    Ok(())
}
