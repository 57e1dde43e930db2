//! What the ruler API, the provisioning API and file provisioning share about Grafana-managed
//! alert rules: generated uids, interval checks, the organization's data source types for
//! validation, provenance records (`kv_store`, namespace [`PROVENANCE_NAMESPACE`]), the stored
//! form of a rule and the clean-up after rules are deleted.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use wk_ruler::rule::Rule;
use wk_ruler::rule::api::RuleMeta;
use wk_ruler::rule::validate::{self, Context, RuleError};
use wk_store::{Folder, RuleToSave, Store, StoreError, StoredRule};

use crate::{ApiError, ApiOptions};

/// `kv_store` namespace of alert rule provenance records (key: rule uid, value: `api` or `file`).
pub const PROVENANCE_NAMESPACE: &str = "provenance:alert_rule";
/// Provenance of rules written through the provisioning API.
pub const PROVENANCE_API: &str = "api";
/// Provenance of rules written by file provisioning.
pub const PROVENANCE_FILE: &str = "file";
/// Header that makes the provisioning API record no provenance (Grafana's).
pub(crate) const DISABLE_PROVENANCE_HEADER: &str = "x-disable-provenance";

/// Serializes read-modify-write changes of rule groups within this process, so two requests
/// adding rules to one group do not drop each other's rule.
pub(crate) static WRITE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Longest uid Grafana accepts.
const MAX_UID_LEN: usize = 40;

/// A new short uid like Grafana's: 14 lowercase letters and digits, starting with a letter.
pub(crate) fn short_uid() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALPHANUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 14];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The system generator does not fail in practice; fall back to the clock.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(37);
        }
    }
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let set = if i == 0 { LETTERS } else { ALPHANUM };
            char::from(set[usize::from(*b) % set.len()])
        })
        .collect()
}

/// Whether `uid` is acceptable as a folder, data source or rule uid (Grafana's short uid rules:
/// letters, digits, `-` and `_`, at most 40 characters).
pub(crate) fn uid_problem(uid: &str) -> Option<&'static str> {
    if uid.len() > MAX_UID_LEN {
        return Some("uid too long, max 40 characters");
    }
    if !uid
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Some("uid contains illegal characters");
    }
    None
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The interval of groups that do not give one, ms.
pub(crate) fn default_interval_ms(opts: &ApiOptions) -> u64 {
    millis(opts.rule_default_interval)
}

/// Checks a group interval: a positive multiple of the base interval, at least the minimum.
pub(crate) fn check_interval(
    field: &str,
    interval_ms: u64,
    opts: &ApiOptions,
) -> Result<(), RuleError> {
    validate::interval(field, interval_ms, millis(opts.rule_base_interval))?;
    let min = millis(opts.rule_min_interval);
    if interval_ms < min {
        return Err(RuleError::new(
            field,
            format!(
                "{} is shorter than the minimum interval {} ([unified_alerting] min_interval)",
                wk_ruler::rule::format_ms(interval_ms),
                wk_ruler::rule::format_ms(min)
            ),
        ));
    }
    if !interval_ms.is_multiple_of(1000) {
        return Err(RuleError::new(field, "must be a whole number of seconds"));
    }
    Ok(())
}

/// Group interval in whole seconds.
pub(crate) fn seconds(interval_ms: u64) -> i64 {
    i64::try_from(interval_ms / 1000).unwrap_or(i64::MAX)
}

/// The types of an organization's data sources, by uid (what validation looks up).
pub(crate) async fn datasource_types(
    store: &Store,
    org_id: i64,
) -> Result<HashMap<String, String>, StoreError> {
    Ok(store
        .data_sources(org_id)
        .await?
        .into_iter()
        .map(|d| (d.uid, d.kind))
        .collect())
}

/// A validation context over a uid → type map.
pub(crate) fn with_context<T>(
    types: &HashMap<String, String>,
    opts: &ApiOptions,
    f: impl FnOnce(&Context<'_>) -> T,
) -> T {
    let lookup = |uid: &str| types.get(uid).cloned();
    let ctx = Context {
        base_interval_ms: millis(opts.rule_base_interval),
        datasource_type: &lookup,
    };
    f(&ctx)
}

/// A rule error as the API reports it: 400 `{"message": "<field>: <message>"}`.
pub(crate) fn rule_error(e: RuleError) -> ApiError {
    if e.field.is_empty() {
        ApiError::bad_request(e.message)
    } else {
        ApiError::bad_request(e.to_string())
    }
}

/// A store error as the rule APIs report it (conflicts 409, bad arguments 400).
pub(crate) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(m) => ApiError::conflict(m),
        StoreError::InvalidArgument(m) => ApiError::bad_request(m),
        StoreError::NotFound(m) => ApiError::not_found(m),
        other => ApiError::internal("database operation failed", &other),
    }
}

/// Every provenance record of an organization's rules, by uid.
pub(crate) async fn provenances(
    store: &Store,
    org_id: i64,
) -> Result<HashMap<String, String>, StoreError> {
    Ok(store
        .kv_list(org_id, PROVENANCE_NAMESPACE)
        .await?
        .into_iter()
        .map(|(k, e)| (k, e.value))
        .collect())
}

/// The provenance of one rule (empty when none).
pub(crate) async fn provenance(
    store: &Store,
    org_id: i64,
    uid: &str,
) -> Result<String, StoreError> {
    Ok(store
        .kv_get(org_id, PROVENANCE_NAMESPACE, uid)
        .await?
        .map(|e| e.value)
        .unwrap_or_default())
}

/// Records a rule's provenance; empty removes the record.
pub(crate) async fn set_provenance(
    store: &Store,
    org_id: i64,
    uid: &str,
    value: &str,
    now: i64,
) -> Result<(), StoreError> {
    if value.is_empty() {
        store.kv_delete(org_id, PROVENANCE_NAMESPACE, uid).await?;
        Ok(())
    } else {
        store
            .kv_set(org_id, PROVENANCE_NAMESPACE, uid, value, now)
            .await
    }
}

/// Whether a rule stored with provenance `stored` may be written with provenance `new`
/// (Grafana's rule: same, from none, or from `api` to none).
pub(crate) fn provenance_allows(stored: &str, new: &str) -> bool {
    stored == new || stored.is_empty() || (stored == PROVENANCE_API && new.is_empty())
}

/// The 409 refusing a provenance change.
pub(crate) fn provenance_conflict(stored: &str, new: &str) -> ApiError {
    ApiError::conflict(format!(
        "cannot change provenance from '{stored}' to '{new}'"
    ))
}

/// The provenance the provisioning API writes: `api`, or none with `X-Disable-Provenance`.
pub(crate) fn request_provenance(headers: &HeaderMap) -> &'static str {
    if headers.contains_key(DISABLE_PROVENANCE_HEADER) {
        ""
    } else {
        PROVENANCE_API
    }
}

/// Reads a stored definition.
pub(crate) fn decode(stored: &StoredRule) -> Result<Rule, ApiError> {
    Rule::from_json(&stored.definition).map_err(|e| {
        ApiError::internal(
            &format!("stored alert rule {} cannot be read", stored.uid),
            &e,
        )
    })
}

/// Unix seconds as RFC 3339 (`2024-01-02T03:04:05Z`).
pub(crate) fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Where a stored rule lives and its bookkeeping.
pub(crate) fn meta(stored: &StoredRule, provenance: &str) -> RuleMeta {
    RuleMeta {
        org_id: stored.org_id,
        folder_uid: stored.namespace_uid.clone(),
        group: stored.rule_group.clone(),
        interval_seconds: stored.interval_seconds,
        version: stored.version,
        updated: rfc3339(stored.updated),
        provenance: provenance.to_owned(),
    }
}

/// What `save_rule_group` is given for a rule.
pub(crate) fn to_save(rule: &Rule) -> RuleToSave {
    RuleToSave {
        uid: rule.uid.clone(),
        title: rule.title.clone(),
        is_paused: rule.is_paused,
        definition: rule.to_json(),
    }
}

/// A stored rule saved again unchanged.
pub(crate) fn keep(stored: &StoredRule) -> RuleToSave {
    RuleToSave {
        uid: stored.uid.clone(),
        title: stored.title.clone(),
        is_paused: stored.is_paused,
        definition: stored.definition.clone(),
    }
}

/// Whether saving `new` with `interval_seconds` over the group's `existing` rules would create,
/// change or delete a rule (a new order alone is no change).
pub(crate) fn group_changes(
    existing: &[StoredRule],
    new: &[RuleToSave],
    interval_seconds: i64,
) -> bool {
    if existing.len() != new.len() {
        return true;
    }
    new.iter().any(|n| {
        existing.iter().find(|e| e.uid == n.uid).is_none_or(|e| {
            e.title != n.title
                || e.is_paused != n.is_paused
                || e.definition != n.definition
                || e.interval_seconds != interval_seconds
        })
    })
}

/// Clean-up after rules were deleted: their alert states and provenance records. Failures are
/// logged (the rules are gone either way).
pub(crate) async fn forget_rules(store: &Store, org_id: i64, uids: &[String]) {
    for uid in uids {
        if let Err(e) = store.delete_alert_instances(org_id, uid, None).await {
            tracing::warn!(error = %e, rule_uid = %uid, "removing the alert states of a deleted rule failed");
        }
        if let Err(e) = store.kv_delete(org_id, PROVENANCE_NAMESPACE, uid).await {
            tracing::warn!(error = %e, rule_uid = %uid, "removing the provenance of a deleted rule failed");
        }
    }
}

/// A folder's full path as Grafana shows it: titles from the top, joined by `/` (a `/` inside a
/// title escaped as `\/`).
pub(crate) fn folder_path(folders: &[Folder], folder: &Folder) -> String {
    let mut parts = vec![folder.title.replace('/', "\\/")];
    let mut parent = folder.parent_uid.clone();
    let mut depth = 0;
    while let Some(p) = parent {
        depth += 1;
        let Some(f) = folders.iter().find(|f| f.uid == p) else {
            break;
        };
        if depth > 16 {
            break;
        }
        parts.push(f.title.replace('/', "\\/"));
        parent = f.parent_uid.clone();
    }
    parts.reverse();
    parts.join("/")
}

/// The folder a ruler namespace names: by uid, else (older clients) by title, else by full path.
pub(crate) async fn namespace_folder(
    store: &Store,
    org_id: i64,
    namespace: &str,
) -> Result<Folder, ApiError> {
    if let Some(f) = store.folder(org_id, namespace).await.map_err(store_error)? {
        return Ok(f);
    }
    let folders = store.folders(org_id).await.map_err(store_error)?;
    let found = folders
        .iter()
        .find(|f| f.title == namespace)
        .or_else(|| {
            folders
                .iter()
                .find(|f| folder_path(&folders, f) == namespace)
        })
        .cloned();
    found.ok_or_else(folder_not_found)
}

/// Grafana's 404 for a folder.
pub(crate) fn folder_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "folder not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_uids_look_like_grafanas() {
        let a = short_uid();
        let b = short_uid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 14);
        assert!(a.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert!(uid_problem(&a).is_none());
        assert!(uid_problem("a b").is_some());
        assert!(uid_problem(&"x".repeat(41)).is_some());
    }

    #[test]
    fn provenance_transitions_follow_grafana() {
        assert!(provenance_allows("", "api"));
        assert!(provenance_allows("api", "api"));
        assert!(provenance_allows("api", ""));
        assert!(!provenance_allows("file", "api"));
        assert!(!provenance_allows("file", ""));
        assert!(!provenance_allows("api", "file"));
        assert!(provenance_allows("file", "file"));
    }

    #[test]
    fn intervals_are_checked_against_base_and_minimum() {
        let opts = ApiOptions {
            rule_min_interval: Duration::from_secs(20),
            ..ApiOptions::default()
        };
        assert!(check_interval("interval", 60_000, &opts).is_ok());
        let e = check_interval("interval", 15_000, &opts).expect_err("15s");
        assert_eq!(e.field, "interval");
        let e = check_interval("interval", 10_000, &opts).expect_err("below min");
        assert!(e.message.contains("min_interval"), "{e}");
    }

    #[test]
    fn folder_paths_join_parents() {
        let f = |uid: &str, title: &str, parent: Option<&str>| Folder {
            id: 1,
            org_id: 1,
            uid: uid.into(),
            title: title.into(),
            parent_uid: parent.map(str::to_owned),
            version: 1,
            created: 0,
            updated: 0,
        };
        let all = vec![f("a", "Top", None), f("b", "Sub/x", Some("a"))];
        assert_eq!(folder_path(&all, &all[1]), "Top/Sub\\/x");
        assert_eq!(folder_path(&all, &all[0]), "Top");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
