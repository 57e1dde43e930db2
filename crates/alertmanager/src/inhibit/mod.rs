//! Inhibition (`inhibit/inhibit.go`): an alert matching a rule's target matchers is muted
//! while an unresolved alert matching its source matchers has the same values for the
//! rule's `equal` labels.
//!
//! Each rule keeps a cache of the source alerts it has observed and an index from the
//! fingerprint of their `equal`-label values to ONE source fingerprint (the one resolving
//! later wins). A label missing on an alert counts as the empty value, so a label missing on
//! both sides is equal. Feed it with [`Inhibitor::observe`] (or [`Inhibitor::subscribe`] to an
//! [`AlertStore`]) and drop resolved sources with [`Inhibitor::gc`] (upstream: every 15m).
//!
//! One deliberate difference: upstream's GC drops the index entry of every collected alert's
//! equal-labels even when it points at another, still firing source; here the entry is
//! repointed to a remaining unresolved source with the same equal labels, or dropped.

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::alerts::{AlertStore, SubscriptionId};
use crate::labels::{Fingerprint, LabelSet};
use crate::matchers::Matchers;

/// One inhibition rule (`inhibit_rules[]`).
#[derive(Debug, Clone, Default)]
pub struct InhibitRule {
    /// `source_matchers` (with `source_match` and `source_match_re`).
    pub source_matchers: Matchers,
    /// `target_matchers` (with `target_match` and `target_match_re`).
    pub target_matchers: Matchers,
    /// `equal`: labels whose values must be identical on source and target.
    pub equal: Vec<String>,
    /// Optional `name`.
    pub name: Option<String>,
}

impl InhibitRule {
    /// Fingerprint of the `equal` labels' values on `labels` (missing → `""`).
    fn equal_fingerprint(&self, labels: &LabelSet) -> Fingerprint {
        self.equal
            .iter()
            .map(|n| (n.as_str(), labels.get(n).unwrap_or("")))
            .collect::<LabelSet>()
            .fingerprint()
    }
}

/// A rule's source cache and its equal-labels index.
#[derive(Debug, Default)]
struct SourceCache {
    alerts: HashMap<Fingerprint, Arc<Alert>>,
    index: HashMap<Fingerprint, Fingerprint>,
}

#[derive(Debug)]
struct RuleState {
    rule: InhibitRule,
    cache: RwLock<SourceCache>,
}

impl RuleState {
    fn observe(&self, alert: &Arc<Alert>) {
        let fp = alert.fingerprint();
        let eq = self.rule.equal_fingerprint(&alert.labels);
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        cache.alerts.insert(fp, Arc::clone(alert));
        let replace = match cache.index.get(&eq) {
            None => true,
            Some(indexed) if *indexed == fp => false,
            // The new source wins if the indexed one resolves no later than it.
            Some(indexed) => cache
                .alerts
                .get(indexed)
                .is_none_or(|existing| existing.resolved_at(alert.ends_at)),
        };
        if replace {
            cache.index.insert(eq, fp);
        }
    }

    /// The unresolved source indexed under `labels`' equal-label values, unless the guard
    /// against two-sided matches excludes it.
    fn inhibiting_source(
        &self,
        labels: &LabelSet,
        exclude_two_sided: bool,
        now: DateTime<Utc>,
    ) -> Option<Fingerprint> {
        let eq = self.rule.equal_fingerprint(labels);
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        let source = cache.alerts.get(cache.index.get(&eq)?)?;
        if source.resolved_at(now) {
            return None;
        }
        if exclude_two_sided && self.rule.target_matchers.matches(&source.labels) {
            return None;
        }
        Some(source.fingerprint())
    }

    fn gc(&self, now: DateTime<Utc>) -> usize {
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        let removed: Vec<(Fingerprint, Fingerprint)> = cache
            .alerts
            .iter()
            .filter(|(_, a)| a.resolved_at(now))
            .map(|(fp, a)| (*fp, self.rule.equal_fingerprint(&a.labels)))
            .collect();
        for (fp, _) in &removed {
            cache.alerts.remove(fp);
        }
        for (fp, eq) in &removed {
            if cache.index.get(eq) != Some(fp) {
                continue;
            }
            let replacement = cache
                .alerts
                .iter()
                .filter(|(_, a)| self.rule.equal_fingerprint(&a.labels) == *eq)
                .max_by_key(|(_, a)| resolve_order(a))
                .map(|(fp, _)| *fp);
            match replacement {
                Some(r) => cache.index.insert(*eq, r),
                None => cache.index.remove(eq),
            };
        }
        removed.len()
    }
}

/// Sort key for "resolves later": a zero `ends_at` (no end known) sorts last.
fn resolve_order(a: &Alert) -> (bool, DateTime<Utc>) {
    (crate::alert::is_zero_time(a.ends_at), a.ends_at)
}

/// Decides whether label sets are inhibited by currently firing source alerts.
#[derive(Debug)]
pub struct Inhibitor {
    rules: Vec<RuleState>,
}

impl Inhibitor {
    /// An inhibitor for these rules, with empty source caches.
    pub fn new(rules: Vec<InhibitRule>) -> Self {
        let rules = rules
            .into_iter()
            .map(|rule| RuleState {
                rule,
                cache: RwLock::new(SourceCache::default()),
            })
            .collect();
        Self { rules }
    }

    /// The rules, in configuration order.
    pub fn rules(&self) -> impl Iterator<Item = &InhibitRule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// Records `alert` in the cache of every rule whose source matchers it matches.
    pub fn observe(&self, alert: &Alert) {
        if self.rules.is_empty() {
            return;
        }
        self.observe_shared(&Arc::new(alert.clone()));
    }

    /// [`Inhibitor::observe`] for an alert shared with the store (cached without a copy).
    pub fn observe_shared(&self, alert: &Arc<Alert>) {
        for state in &self.rules {
            if state.rule.source_matchers.matches(&alert.labels) {
                state.observe(alert);
            }
        }
    }

    /// Observes the alerts already in `store` and every alert stored from now on.
    pub fn subscribe(self: &Arc<Self>, store: &AlertStore) -> SubscriptionId {
        let me = Arc::clone(self);
        let (existing, id) = store.subscribe(move |a| me.observe_shared(a));
        for alert in &existing {
            self.observe_shared(alert);
        }
        id
    }

    /// `Mutes`: the fingerprint of the source alert inhibiting `labels` at `now`, if any. Rules
    /// are tried in order and the first hit wins. When `labels` also matches a rule's source
    /// matchers, a source that matches the target matchers is ignored (no self-inhibition).
    pub fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Option<Fingerprint> {
        self.rules.iter().find_map(|state| {
            if !state.rule.target_matchers.matches(labels) {
                return None;
            }
            let two_sided = state.rule.source_matchers.matches(labels);
            state.inhibiting_source(labels, two_sided, now)
        })
    }

    /// Drops source alerts resolved at `now` from every rule's cache and index; returns how
    /// many cache entries were removed.
    pub fn gc(&self, now: DateTime<Utc>) -> usize {
        self.rules.iter().map(|s| s.gc(now)).sum()
    }

    /// Number of cached source alerts per rule, in rule order.
    pub fn cache_sizes(&self) -> Vec<usize> {
        self.rules
            .iter()
            .map(|s| {
                let cache = s.cache.read().unwrap_or_else(PoisonError::into_inner);
                cache.alerts.len()
            })
            .collect()
    }
}
