//! What the APIs read of the running rules: each rule with its instances as of its last
//! evaluation, updated by the rule's routine.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::ports::{LoadedRule, RuleKey};
use crate::data::{Labels, Millis};
use crate::state::{State, StateReason, Values};

/// One alert instance as the APIs show it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    /// Labels.
    pub labels: Labels,
    /// Annotations as last rendered.
    pub annotations: Labels,
    /// State.
    pub state: State,
    /// Reason.
    pub reason: Option<StateReason>,
    /// When the current state began.
    pub active_at: Millis,
    /// Last evaluation.
    pub last_evaluated_at: Millis,
    /// Values by refId.
    pub values: Values,
    /// Error text.
    pub error: Option<String>,
}

/// One rule as the APIs show it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleView {
    /// The rule.
    pub rule: LoadedRule,
    /// Its instances.
    pub instances: Vec<InstanceView>,
    /// Its last evaluation, if any.
    pub last_evaluation: Option<Millis>,
}

/// The running rules, shared between the scheduler and the APIs.
#[derive(Debug, Clone, Default)]
pub struct StateView {
    rules: Arc<RwLock<HashMap<RuleKey, RuleView>>>,
}

impl StateView {
    pub(crate) fn put(&self, key: RuleKey, view: RuleView) {
        let mut rules = match self.rules.write() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        rules.insert(key, view);
    }

    pub(crate) fn remove(&self, key: &RuleKey) {
        let mut rules = match self.rules.write() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        rules.remove(key);
    }

    /// The rules of `org_id`.
    pub fn org(&self, org_id: i64) -> Vec<RuleView> {
        let rules = match self.rules.read() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        rules
            .iter()
            .filter(|(k, _)| k.0 == org_id)
            .map(|(_, v)| v.clone())
            .collect()
    }
}
