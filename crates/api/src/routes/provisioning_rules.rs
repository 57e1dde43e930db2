//! Grafana's alerting provisioning API for rules: `/api/v1/provisioning/alert-rules` and
//! `/api/v1/provisioning/folder/{folderUid}/rule-groups/{group}`. Rules written here get
//! provenance `api` (none with `X-Disable-Provenance`); rules provisioned from files cannot be
//! changed here (409).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use wk_ruler::rule::Rule;
use wk_ruler::rule::provisioning::{ProvisionedGroup, ProvisionedRule};
use wk_ruler::rule::validate::{self, RuleError};
use wk_store::{Folder, Store, StoredRule};

use crate::access::Caller;
use crate::json::JsonBody;
use crate::rules::{self, folder_not_found, rule_error, store_error};
use crate::{ApiError, AppState};

fn rule_not_found() -> ApiError {
    ApiError::not_found("rule not found")
}

fn group_not_found() -> ApiError {
    ApiError::not_found("rule group not found")
}

/// The provisioning form of a stored rule.
fn provisioned(stored: &StoredRule, provenance: &str) -> Result<ProvisionedRule, ApiError> {
    let rule = rules::decode(stored)?;
    let mut p = ProvisionedRule::from_rule(&rule, &rules::meta(stored, provenance), 0);
    // The store keeps no row ids; Grafana's clients address rules by uid.
    p.id = None;
    Ok(p)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal("encoding rules", &e))
}

/// Reads a stored rule back with its provenance.
async fn read_back(store: &Store, org: i64, uid: &str) -> Result<ProvisionedRule, ApiError> {
    let stored = store
        .rule(org, uid)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::internal("reading a saved rule", &"it is gone"))?;
    let prov = rules::provenance(store, org, uid)
        .await
        .map_err(store_error)?;
    provisioned(&stored, &prov)
}

/// Validates one rule of the provisioning API (fields at the top level).
async fn validate_rule(state: &AppState, org: i64, rule: &Rule) -> Result<(), ApiError> {
    let types = rules::datasource_types(&state.store, org)
        .await
        .map_err(store_error)?;
    rules::with_context(&types, &state.opts, |ctx| validate::rule(rule, ctx)).map_err(rule_error)
}

/// The folder a rule body names (`folderUID`), which must exist.
async fn body_folder(store: &Store, org: i64, uid: &str) -> Result<Folder, ApiError> {
    if uid.trim().is_empty() {
        return Err(rule_error(RuleError::new("folderUID", "required")));
    }
    store
        .folder(org, uid)
        .await
        .map_err(store_error)?
        .ok_or_else(|| {
            rule_error(RuleError::new(
                "folderUID",
                format!("folder {uid:?} not found"),
            ))
        })
}

/// `GET /api/v1/provisioning/alert-rules`: every rule of the organization.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let stored = state
        .store
        .rules(org, None, None)
        .await
        .map_err(store_error)?;
    let provs = rules::provenances(&state.store, org)
        .await
        .map_err(store_error)?;
    let mut out = Vec::with_capacity(stored.len());
    for s in &stored {
        let prov = provs.get(&s.uid).map(String::as_str).unwrap_or("");
        out.push(to_json(&provisioned(s, prov)?)?);
    }
    Ok(Json(Value::Array(out)))
}

/// `GET /api/v1/provisioning/alert-rules/{uid}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    if state
        .store
        .rule(org, &uid)
        .await
        .map_err(store_error)?
        .is_none()
    {
        return Err(rule_not_found());
    }
    Ok(Json(to_json(&read_back(&state.store, org, &uid).await?)?))
}

/// `POST /api/v1/provisioning/alert-rules` → 201 with the rule: added to its group (whose
/// interval it takes; the default for a new group).
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ProvisionedRule>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let mut rule = body.to_rule().map_err(rule_error)?;
    let folder = body_folder(store, org, &body.folder_uid).await?;
    let group = body.rule_group.trim();
    if group.is_empty() {
        return Err(rule_error(RuleError::new("ruleGroup", "required")));
    }
    if rule.uid.is_empty() {
        rule.uid = rules::short_uid();
    } else if let Some(problem) = rules::uid_problem(&rule.uid) {
        return Err(rule_error(RuleError::new("uid", problem)));
    }
    validate_rule(&state, org, &rule).await?;
    let provenance = rules::request_provenance(&headers);

    let _guard = rules::WRITE_LOCK.lock().await;
    if store
        .rule(org, &rule.uid)
        .await
        .map_err(store_error)?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "a rule with uid {:?} already exists",
            rule.uid
        )));
    }
    let existing = store
        .rules(org, Some(&folder.uid), Some(group))
        .await
        .map_err(store_error)?;
    let interval_s = existing.first().map_or_else(
        || rules::seconds(rules::default_interval_ms(&state.opts)),
        |r| r.interval_seconds,
    );
    let mut to_save: Vec<_> = existing.iter().map(rules::keep).collect();
    to_save.push(rules::to_save(&rule));
    let now = super::now();
    store
        .save_rule_group(org, &folder.uid, group, interval_s, &to_save, now)
        .await
        .map_err(store_error)?;
    rules::set_provenance(store, org, &rule.uid, provenance, now)
        .await
        .map_err(store_error)?;
    let out = read_back(store, org, &rule.uid).await?;
    Ok((StatusCode::CREATED, Json(to_json(&out)?)).into_response())
}

/// `PUT /api/v1/provisioning/alert-rules/{uid}` → 200 with the rule. The rule stays in its
/// folder and group.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody<ProvisionedRule>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let mut rule = body.to_rule().map_err(rule_error)?;
    rule.uid = uid.clone();
    validate_rule(&state, org, &rule).await?;
    let provenance = rules::request_provenance(&headers);

    let _guard = rules::WRITE_LOCK.lock().await;
    let current = store
        .rule(org, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(rule_not_found)?;
    if !body.folder_uid.is_empty() && body.folder_uid != current.namespace_uid {
        return Err(rule_error(RuleError::new(
            "folderUID",
            "moving a rule to another folder is not supported; delete and re-create it",
        )));
    }
    if !body.rule_group.is_empty() && body.rule_group != current.rule_group {
        return Err(rule_error(RuleError::new(
            "ruleGroup",
            "moving a rule to another group is not supported; change the groups with \
             PUT /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}",
        )));
    }
    let stored_prov = rules::provenance(store, org, &uid)
        .await
        .map_err(store_error)?;
    if !rules::provenance_allows(&stored_prov, provenance) {
        return Err(rules::provenance_conflict(&stored_prov, provenance));
    }
    let group = store
        .rules(org, Some(&current.namespace_uid), Some(&current.rule_group))
        .await
        .map_err(store_error)?;
    let to_save: Vec<_> = group
        .iter()
        .map(|r| {
            if r.uid == uid {
                rules::to_save(&rule)
            } else {
                rules::keep(r)
            }
        })
        .collect();
    let now = super::now();
    store
        .save_rule_group(
            org,
            &current.namespace_uid,
            &current.rule_group,
            current.interval_seconds,
            &to_save,
            now,
        )
        .await
        .map_err(store_error)?;
    rules::set_provenance(store, org, &uid, provenance, now)
        .await
        .map_err(store_error)?;
    Ok(Json(to_json(&read_back(store, org, &uid).await?)?).into_response())
}

/// `DELETE /api/v1/provisioning/alert-rules/{uid}` → 204 (also when there is no such rule).
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let provenance = rules::request_provenance(&headers);
    let _guard = rules::WRITE_LOCK.lock().await;
    let Some(current) = store.rule(org, &uid).await.map_err(store_error)? else {
        return Ok(StatusCode::NO_CONTENT);
    };
    let stored_prov = rules::provenance(store, org, &uid)
        .await
        .map_err(store_error)?;
    if !rules::provenance_allows(&stored_prov, provenance) {
        return Err(rules::provenance_conflict(&stored_prov, provenance));
    }
    let group = store
        .rules(org, Some(&current.namespace_uid), Some(&current.rule_group))
        .await
        .map_err(store_error)?;
    let to_save: Vec<_> = group
        .iter()
        .filter(|r| r.uid != uid)
        .map(rules::keep)
        .collect();
    let saved = store
        .save_rule_group(
            org,
            &current.namespace_uid,
            &current.rule_group,
            current.interval_seconds,
            &to_save,
            super::now(),
        )
        .await
        .map_err(store_error)?;
    rules::forget_rules(store, org, &saved.deleted).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The group in provisioning form, or 404 when it has no rules.
async fn read_group(
    store: &Store,
    org: i64,
    folder_uid: &str,
    group: &str,
) -> Result<ProvisionedGroup, ApiError> {
    let stored = store
        .rules(org, Some(folder_uid), Some(group))
        .await
        .map_err(store_error)?;
    let Some(first) = stored.first() else {
        return Err(group_not_found());
    };
    let provs = rules::provenances(store, org).await.map_err(store_error)?;
    let mut out = Vec::with_capacity(stored.len());
    for s in &stored {
        let prov = provs.get(&s.uid).map(String::as_str).unwrap_or("");
        out.push(provisioned(s, prov)?);
    }
    Ok(ProvisionedGroup {
        title: group.to_owned(),
        folder_uid: folder_uid.to_owned(),
        interval: first.interval_seconds,
        rules: out,
    })
}

/// `GET /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}`.
pub(crate) async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((folder_uid, group)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    if state
        .store
        .folder(org, &folder_uid)
        .await
        .map_err(store_error)?
        .is_none()
    {
        return Err(folder_not_found());
    }
    Ok(Json(to_json(
        &read_group(&state.store, org, &folder_uid, &group).await?,
    )?))
}

/// `PUT /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}`: the group becomes exactly
/// the given rules (interval in seconds) → 200 with the saved group.
pub(crate) async fn put_group(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((folder_uid, group)): Path<(String, String)>,
    JsonBody(body): JsonBody<ProvisionedGroup>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let opts = &state.opts;
    if store
        .folder(org, &folder_uid)
        .await
        .map_err(store_error)?
        .is_none()
    {
        return Err(folder_not_found());
    }
    let interval_ms = u64::try_from(body.interval)
        .unwrap_or_default()
        .saturating_mul(1000);
    rules::check_interval("interval", interval_ms, opts).map_err(rule_error)?;
    let mut new_rules = Vec::with_capacity(body.rules.len());
    for (i, r) in body.rules.iter().enumerate() {
        let rule = r
            .to_rule()
            .map_err(|e| rule_error(e.within(&format!("rules[{i}]."))))?;
        if !rule.uid.is_empty()
            && let Some(problem) = rules::uid_problem(&rule.uid)
        {
            return Err(rule_error(RuleError::new(
                &format!("rules[{i}].uid"),
                problem,
            )));
        }
        new_rules.push(rule);
    }
    let types = rules::datasource_types(store, org)
        .await
        .map_err(store_error)?;
    rules::with_context(&types, opts, |ctx| {
        validate::group(&new_rules, interval_ms, "interval", "", ctx)
    })
    .map_err(rule_error)?;
    let provenance = rules::request_provenance(&headers);

    let _guard = rules::WRITE_LOCK.lock().await;
    let existing = store
        .rules(org, Some(&folder_uid), Some(&group))
        .await
        .map_err(store_error)?;
    let provs = rules::provenances(store, org).await.map_err(store_error)?;
    let stored_prov = |uid: &str| provs.get(uid).cloned().unwrap_or_default();
    for uid in existing
        .iter()
        .map(|r| r.uid.as_str())
        .chain(new_rules.iter().map(|r| r.uid.as_str()))
        .filter(|u| !u.is_empty())
    {
        let stored = stored_prov(uid);
        if !rules::provenance_allows(&stored, provenance) {
            return Err(rules::provenance_conflict(&stored, provenance));
        }
    }
    for rule in &mut new_rules {
        if rule.uid.is_empty() {
            rule.uid = rules::short_uid();
        }
    }
    let to_save: Vec<_> = new_rules.iter().map(rules::to_save).collect();
    let now = super::now();
    let saved = store
        .save_rule_group(
            org,
            &folder_uid,
            &group,
            rules::seconds(interval_ms),
            &to_save,
            now,
        )
        .await
        .map_err(store_error)?;
    rules::forget_rules(store, org, &saved.deleted).await;
    for rule in &new_rules {
        rules::set_provenance(store, org, &rule.uid, provenance, now)
            .await
            .map_err(store_error)?;
    }
    if new_rules.is_empty() {
        return Ok(Json(to_json(&ProvisionedGroup {
            title: group,
            folder_uid,
            interval: body.interval,
            rules: Vec::new(),
        })?));
    }
    Ok(Json(to_json(
        &read_group(store, org, &folder_uid, &group).await?,
    )?))
}

/// `DELETE /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}` → 204.
pub(crate) async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((folder_uid, group)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let provenance = rules::request_provenance(&headers);
    let _guard = rules::WRITE_LOCK.lock().await;
    let existing = store
        .rules(org, Some(&folder_uid), Some(&group))
        .await
        .map_err(store_error)?;
    let Some(first) = existing.first() else {
        return Err(group_not_found());
    };
    let provs = rules::provenances(store, org).await.map_err(store_error)?;
    for r in &existing {
        let stored = provs.get(&r.uid).cloned().unwrap_or_default();
        if !rules::provenance_allows(&stored, provenance) {
            return Err(rules::provenance_conflict(&stored, provenance));
        }
    }
    let saved = store
        .save_rule_group(
            org,
            &folder_uid,
            &group,
            first.interval_seconds,
            &[],
            super::now(),
        )
        .await
        .map_err(store_error)?;
    rules::forget_rules(store, org, &saved.deleted).await;
    Ok(StatusCode::NO_CONTENT)
}
