//! What the scheduler reads and writes outside the ruler, as traits the server implements:
//! the rules, the saved alert states, the state history and where alerts go.

use crate::data::{Labels, Millis};
use crate::eval::BoxFuture;
use crate::rule::Rule;
use crate::state::{PostableAlert, StoredInstance};

/// A rule with where it lives and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRule {
    /// Organization.
    pub org_id: i64,
    /// The folder's uid.
    pub folder_uid: String,
    /// The folder's title (the `grafana_folder` label).
    pub folder_title: String,
    /// The group.
    pub group: String,
    /// The group's interval, ms.
    pub interval_ms: u64,
    /// Version; a new one means the rule changed.
    pub version: i64,
    /// The rule.
    pub rule: Rule,
}

/// A rule's identity: organization and uid.
pub type RuleKey = (i64, String);

/// Where rules come from (the shared database).
pub trait RuleSource: Send + Sync {
    /// Every rule's key and version, cheap enough to read at every tick.
    fn versions(&self) -> BoxFuture<'_, Result<Vec<(RuleKey, i64)>, String>>;
    /// Every rule in full.
    fn load(&self) -> BoxFuture<'_, Result<Vec<LoadedRule>, String>>;
}

/// Where alert states are saved, so a restart does not start over.
pub trait StateStore: Send + Sync {
    /// Every saved state.
    fn load(&self) -> BoxFuture<'_, Result<Vec<(RuleKey, StoredInstance)>, String>>;
    /// Saves `changed` instances of a rule and forgets `removed` label sets (`None`: all of
    /// the rule's).
    fn save<'a>(
        &'a self,
        key: &'a RuleKey,
        changed: Vec<StoredInstance>,
        removed: Option<Vec<Labels>>,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// One state transition, as state history records it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The rule.
    pub key: RuleKey,
    /// Its title.
    pub rule_title: String,
    /// The alert's labels.
    pub labels: Labels,
    /// State before, with reason (`Normal`, `Alerting (NoData)`).
    pub previous: String,
    /// State after.
    pub current: String,
    /// Values by refId at the evaluation.
    pub values: std::collections::BTreeMap<String, Option<f64>>,
    /// Error text, if any.
    pub error: Option<String>,
    /// When.
    pub at: Millis,
}

/// Where state transitions are recorded.
pub trait HistorySink: Send + Sync {
    /// Records `entries`.
    fn record(&self, entries: Vec<HistoryEntry>) -> BoxFuture<'_, Result<(), String>>;
}

/// Where alerts go (the organization's embedded Alertmanager, external ones, or both).
pub trait AlertSink: Send + Sync {
    /// Hands `alerts` of `org_id` on.
    fn send(&self, org_id: i64, alerts: Vec<PostableAlert>) -> BoxFuture<'_, ()>;
}
