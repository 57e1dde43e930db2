//! `inhibit_rules`: source and target matchers (`*_match`, `*_match_re`, `*_matchers` combined)
//! and the `equal` label list.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::ConfigError;
use crate::labels::is_valid_classic_label_name;
use crate::matchers::{MatchType, Matcher, Matchers, Mode, parse_matchers};

/// One inhibition rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InhibitRule {
    /// Alerts that inhibit.
    pub source_matchers: Matchers,
    /// Alerts that get inhibited.
    pub target_matchers: Matchers,
    /// Labels whose values must be equal on source and target.
    pub equal: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInhibitRule {
    #[serde(default)]
    source_match: BTreeMap<String, String>,
    #[serde(default)]
    source_match_re: BTreeMap<String, String>,
    #[serde(default)]
    source_matchers: Vec<String>,
    #[serde(default)]
    target_match: BTreeMap<String, String>,
    #[serde(default)]
    target_match_re: BTreeMap<String, String>,
    #[serde(default)]
    target_matchers: Vec<String>,
    #[serde(default)]
    equal: Vec<String>,
}

fn combine(
    path: &str,
    side: &str,
    eq: BTreeMap<String, String>,
    re: BTreeMap<String, String>,
    list: &[String],
) -> Result<Matchers, ConfigError> {
    let mut out = Matchers::new();
    for (key, kind, map) in [
        ("match", MatchType::Equal, eq),
        ("match_re", MatchType::Regexp, re),
    ] {
        for (k, v) in map {
            let p = format!("{path}.{side}_{key}.{k}");
            if !is_valid_classic_label_name(&k) {
                return Err(ConfigError::invalid(p, format!("invalid label name {k:?}")));
            }
            out.push(Matcher::new(kind, k, v).map_err(|e| ConfigError::invalid(p, e.to_string()))?);
        }
    }
    for (i, s) in list.iter().enumerate() {
        let ms = parse_matchers(s, Mode::Fallback).map_err(|e| {
            ConfigError::invalid(format!("{path}.{side}_matchers[{i}]"), e.to_string())
        })?;
        ms.into_iter().for_each(|m| out.push(m));
    }
    Ok(out)
}

impl RawInhibitRule {
    /// Converts and checks the rule; `path` is e.g. `inhibit_rules[0]`.
    pub(super) fn build(self, path: &str) -> Result<InhibitRule, ConfigError> {
        for (i, l) in self.equal.iter().enumerate() {
            // UTF-8 names, like alerts and matchers (Alertmanager 0.27+).
            if l.is_empty() {
                return Err(ConfigError::invalid(
                    format!("{path}.equal[{i}]"),
                    format!("{l:?} is not a valid label name"),
                ));
            }
        }
        Ok(InhibitRule {
            source_matchers: combine(
                path,
                "source",
                self.source_match,
                self.source_match_re,
                &self.source_matchers,
            )?,
            target_matchers: combine(
                path,
                "target",
                self.target_match,
                self.target_match_re,
                &self.target_matchers,
            )?,
            equal: self.equal,
        })
    }
}
