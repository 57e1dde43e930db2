//! Grafana's ruler API for Grafana-managed rules: `/api/ruler/grafana/api/v1/rules`, rule
//! groups by folder (the namespace: the folder uid, or its title for older clients).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use wk_ruler::rule::api::{GettableRuleGroup, GettableRuleNode, PostableRuleGroup};
use wk_ruler::rule::validate::{self, RuleError};
use wk_ruler::rule::{Rule, format_ms};
use wk_store::{Folder, StoredRule};

use crate::access::Caller;
use crate::json::JsonBody;
use crate::rules::{self, namespace_folder, rule_error, store_error};
use crate::{ApiError, AppState};

/// Grafana's refusal to change rules written by provisioning.
const PROVISIONED: &str = "request affects resources created via provisioning API";

/// The groups of `rules` (sorted by folder, group, position) in returned form, in order.
fn groups_of(
    rules: &[StoredRule],
    provenances: &HashMap<String, String>,
) -> Result<Vec<(String, GettableRuleGroup)>, ApiError> {
    let mut out: Vec<(String, GettableRuleGroup)> = Vec::new();
    for stored in rules {
        let rule = rules::decode(stored)?;
        let prov = provenances
            .get(&stored.uid)
            .map(String::as_str)
            .unwrap_or("");
        let node = GettableRuleNode::new(&rule, &rules::meta(stored, prov));
        match out.last_mut() {
            Some((ns, g)) if *ns == stored.namespace_uid && g.name == stored.rule_group => {
                g.rules.push(node);
            }
            _ => out.push((
                stored.namespace_uid.clone(),
                GettableRuleGroup {
                    name: stored.rule_group.clone(),
                    interval: format_ms(
                        u64::try_from(stored.interval_seconds).unwrap_or_default() * 1000,
                    ),
                    rules: vec![node],
                },
            )),
        }
    }
    Ok(out)
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal("encoding rules", &e))
}

/// `{ "<folder path>": [group, ...] }` for the given folders' rules.
async fn namespace_map(
    state: &AppState,
    org: i64,
    only: Option<&Folder>,
) -> Result<Map<String, Value>, ApiError> {
    let store = &state.store;
    let folders = store.folders(org).await.map_err(store_error)?;
    let stored = store
        .rules(org, only.map(|f| f.uid.as_str()), None)
        .await
        .map_err(store_error)?;
    let provs = rules::provenances(store, org).await.map_err(store_error)?;
    let mut out = Map::new();
    for (ns, group) in groups_of(&stored, &provs)? {
        let Some(folder) = folders.iter().find(|f| f.uid == ns) else {
            continue;
        };
        let key = rules::folder_path(&folders, folder);
        let entry = out.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(to_value(&group)?);
        }
    }
    Ok(out)
}

/// `GET …/rules`: every rule group, by folder path (200).
pub(crate) async fn get_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(Value::Object(
        namespace_map(&state, caller.0.org_id, None).await?,
    )))
}

/// `GET …/rules/{namespace}`: the folder's groups under its path (202, as Grafana).
pub(crate) async fn get_namespace(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let folder = namespace_folder(&state.store, org, &namespace).await?;
    let map = namespace_map(&state, org, Some(&folder)).await?;
    Ok((StatusCode::ACCEPTED, Json(Value::Object(map))).into_response())
}

/// `GET …/rules/{namespace}/{group}`: one group (202, as Grafana); 404 when it has no rules.
pub(crate) async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let folder = namespace_folder(store, org, &namespace).await?;
    let stored = store
        .rules(org, Some(&folder.uid), Some(&group))
        .await
        .map_err(store_error)?;
    let provs = rules::provenances(store, org).await.map_err(store_error)?;
    let Some((_, g)) = groups_of(&stored, &provs)?.into_iter().next() else {
        return Err(ApiError::not_found("rule group does not exist"));
    };
    Ok((StatusCode::ACCEPTED, Json(to_value(&g)?)).into_response())
}

/// `GET /api/ruler/grafana/api/v1/rule/{uid}`: one rule (200) or 404.
pub(crate) async fn get_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.0.org_id;
    let stored = state
        .store
        .rule(org, &uid)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found("rule not found"))?;
    let prov = rules::provenance(&state.store, org, &uid)
        .await
        .map_err(store_error)?;
    let rule = rules::decode(&stored)?;
    Ok(Json(to_value(&GettableRuleNode::new(
        &rule,
        &rules::meta(&stored, &prov),
    ))?))
}

/// Fills what an update of an existing rule left out (title, condition, data), as Grafana does.
fn patch_partial(rule: &mut Rule, existing: &StoredRule) -> Result<(), ApiError> {
    if rule.title.trim().is_empty() || rule.condition.trim().is_empty() || rule.data.is_empty() {
        let old = rules::decode(existing)?;
        if rule.title.trim().is_empty() {
            rule.title = old.title;
        }
        if rule.condition.trim().is_empty() {
            rule.condition = old.condition;
        }
        if rule.data.is_empty() {
            rule.data = old.data;
        }
    }
    Ok(())
}

/// `POST …/rules/{namespace}`: creates, replaces or (with no rules) deletes a group → 202
/// `{message, created, updated, deleted}`.
pub(crate) async fn post_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
    JsonBody(body): JsonBody<PostableRuleGroup>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let store = &state.store;
    let opts = &state.opts;
    let folder = namespace_folder(store, org, &namespace).await?;
    let name = body.name.trim().to_owned();
    let (interval, mut posted) = body.into_rules().map_err(rule_error)?;
    let interval_ms = interval.unwrap_or_else(|| rules::default_interval_ms(opts));
    rules::check_interval("interval", interval_ms, opts).map_err(rule_error)?;

    let _guard = rules::WRITE_LOCK.lock().await;
    let existing = store
        .rules(org, Some(&folder.uid), Some(&name))
        .await
        .map_err(store_error)?;
    for (i, rule) in posted.iter_mut().enumerate() {
        if rule.uid.is_empty() {
            continue;
        }
        if let Some(problem) = rules::uid_problem(&rule.uid) {
            return Err(rule_error(RuleError::new(
                &format!("rules[{i}].grafana_alert.uid"),
                problem,
            )));
        }
        if let Some(e) = existing.iter().find(|e| e.uid == rule.uid) {
            patch_partial(rule, e)?;
        }
    }
    let types = rules::datasource_types(store, org)
        .await
        .map_err(store_error)?;
    rules::with_context(&types, opts, |ctx| {
        validate::group(&posted, interval_ms, "interval", "grafana_alert.", ctx)
    })
    .map_err(rule_error)?;
    for rule in &mut posted {
        if rule.uid.is_empty() {
            rule.uid = rules::short_uid();
        }
    }
    let to_save: Vec<_> = posted.iter().map(rules::to_save).collect();
    let interval_s = rules::seconds(interval_ms);
    let reordered = existing
        .iter()
        .map(|r| &r.uid)
        .ne(to_save.iter().map(|r| &r.uid));
    if !rules::group_changes(&existing, &to_save, interval_s) && !reordered {
        return Ok(accepted(
            "no changes detected in the rule group",
            &Default::default(),
        ));
    }
    let provs = rules::provenances(store, org).await.map_err(store_error)?;
    let provisioned = |uid: &str| provs.get(uid).is_some_and(|p| !p.is_empty());
    if existing.iter().any(|r| provisioned(&r.uid)) || posted.iter().any(|r| provisioned(&r.uid)) {
        return Err(ApiError::bad_request(format!(
            "failed to update rule group: {PROVISIONED}: alert rule group [{}/{name}]",
            folder.uid
        )));
    }
    let saved = store
        .save_rule_group(org, &folder.uid, &name, interval_s, &to_save, super::now())
        .await
        .map_err(store_error)?;
    rules::forget_rules(store, org, &saved.deleted).await;
    Ok(accepted("rule group updated successfully", &saved))
}

fn accepted(message: &str, saved: &wk_store::GroupSaved) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "message": message,
            "created": saved.created,
            "updated": saved.updated,
            "deleted": saved.deleted,
        })),
    )
        .into_response()
}

/// Deletes the groups of `folder` (one group when `group` is given) that hold no provisioned
/// rule → 202 `{"message": "rules deleted"}`; 400 when every group that matched is provisioned.
async fn delete_groups(
    state: &AppState,
    org: i64,
    folder: &Folder,
    group: Option<&str>,
) -> Result<Response, ApiError> {
    let store = &state.store;
    let _guard = rules::WRITE_LOCK.lock().await;
    let stored = store
        .rules(org, Some(&folder.uid), group)
        .await
        .map_err(store_error)?;
    let provs = rules::provenances(store, org).await.map_err(store_error)?;
    let mut names: Vec<&str> = stored.iter().map(|r| r.rule_group.as_str()).collect();
    names.dedup();
    let mut deleted_any = false;
    let mut provisioned = false;
    for name in names {
        let in_group: Vec<&StoredRule> = stored.iter().filter(|r| r.rule_group == name).collect();
        if in_group
            .iter()
            .any(|r| provs.get(&r.uid).is_some_and(|p| !p.is_empty()))
        {
            provisioned = true;
            continue;
        }
        let interval = in_group.first().map_or(0, |r| r.interval_seconds);
        let saved = store
            .save_rule_group(org, &folder.uid, name, interval, &[], super::now())
            .await
            .map_err(store_error)?;
        rules::forget_rules(store, org, &saved.deleted).await;
        deleted_any = true;
    }
    if !deleted_any && provisioned {
        return Err(ApiError::bad_request(format!(
            "failed to delete rule group: {PROVISIONED}"
        )));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "rules deleted"})),
    )
        .into_response())
}

/// `DELETE …/rules/{namespace}`: every group of the folder but provisioned ones.
pub(crate) async fn delete_namespace(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let folder = namespace_folder(&state.store, org, &namespace).await?;
    delete_groups(&state, org, &folder, None).await
}

/// `DELETE …/rules/{namespace}/{group}`.
pub(crate) async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = caller.0.org_id;
    let folder = namespace_folder(&state.store, org, &namespace).await?;
    delete_groups(&state, org, &folder, Some(&group)).await
}
