//! File provisioning at start, as Grafana's: data sources from
//! `<provisioning>/datasources/*.yaml|yml`, then alert rules from
//! `<provisioning>/alerting/*.yaml|yml`.
//!
//! String values may use environment variables (`$VAR`, `${VAR}`; `$$` is a literal `$`), as
//! Grafana expands them; in alerting files, rule query models are left as written (math
//! expressions such as `$A > 1`, macros such as `$__timeFilter`) and annotations expand only
//! `${VAR}` (so `{{ $labels.x }}` stays). Every file is read and checked (YAML, fields, rules validated against
//! the data sources as they will be) before anything is written, so a bad file changes nothing
//! and the error names the file and the field.
//!
//! - Data sources are created or updated by `uid` (else by `name`) in `orgId` (default 1); they
//!   are read-only unless `editable: true`; `secureJsonData` is sealed like the API's;
//!   `deleteDatasources` (`name`, `orgId`) are deleted first.
//! - Rule groups go to the folder with their `folder` title (created when missing). Each rule
//!   of the file is created or replaced by uid (moved from another group if needed); rules of
//!   the group the file does not list are kept, as in Grafana; the group takes the file's
//!   interval. Provisioned rules get provenance `file`. `deleteRules` are deleted.
//!   Contact points, policies, templates and mute timings in alerting files are not supported
//!   yet and are ignored with a warning.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value as Yaml;
use wk_ruler::rule::Rule;
use wk_ruler::rule::provisioning::AlertingFile;
use wk_ruler::rule::validate::{self, RuleError};
use wk_secrets::SecretBox;
use wk_store::{DataSource, Store, StoreError};

use crate::ApiOptions;
use crate::datasources::{clear_other_defaults, seal_secrets, stored_json_data};
use crate::rules;

/// A provisioning file that cannot be applied: which file, which field, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningError {
    /// The file (or directory).
    pub file: PathBuf,
    /// The field's path in the file (`groups[0].rules[1].condition`), empty when it is about the
    /// whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ProvisioningError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.field,
                self.message
            )
        }
    }
}

impl std::error::Error for ProvisioningError {}

impl ProvisioningError {
    fn new(file: &Path, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            field: field.into(),
            message: message.into(),
        }
    }

    fn rule(file: &Path, e: RuleError) -> Self {
        Self::new(file, e.field, e.message)
    }

    fn store(file: &Path, e: StoreError) -> Self {
        Self::new(file, "", e.to_string())
    }
}

/// What provisioning applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Data sources created or updated.
    pub data_sources: usize,
    /// Data sources deleted.
    pub deleted_data_sources: usize,
    /// Rule groups saved.
    pub rule_groups: usize,
    /// Rules deleted by `deleteRules`.
    pub deleted_rules: usize,
}

// ---------------------------------------------------------------------------------------------
// Environment variables

/// Keys whose values are numbers or booleans: after expansion, a string there is converted.
const INT_KEYS: &[&str] = &[
    "apiVersion",
    "orgId",
    "version",
    "panelId",
    "from",
    "to",
    "missingSeriesEvalsToResolve",
];
const BOOL_KEYS: &[&str] = &[
    "isDefault",
    "basicAuth",
    "withCredentials",
    "editable",
    "isPaused",
];

/// Expands `$VAR` and `${VAR}` like Go's `os.ExpandEnv` (unset: empty), `$$` being a literal `$`.
pub(crate) fn expand_env_with(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    text.split("$$")
        .map(|part| expand_part(part, lookup))
        .collect::<Vec<_>>()
        .join("$")
}

fn expand_part(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' || i + 1 >= bytes.len() {
            i += 1;
            continue;
        }
        out.push_str(&s[start..i]);
        let rest = &s[i + 1..];
        let (name, used) = if let Some(inner) = rest.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                // Go eats an unclosed `${`.
                None => ("", rest.len()),
            }
        } else if rest.starts_with(|c: char| c.is_ascii_digit() || "*#$@!?-".contains(c)) {
            (&rest[..1], 1)
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if len == 0 {
                // `$` not followed by a name stays.
                out.push('$');
                i += 1;
                start = i;
                continue;
            }
            (&rest[..len], len)
        };
        if !name.is_empty() {
            out.push_str(&lookup(name).unwrap_or_default());
        }
        i += 1 + used;
        start = i;
    }
    out.push_str(&s[start..]);
    out
}

/// Which strings of a subtree are expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expand {
    /// `$VAR`, `${VAR}`, `$$`.
    All,
    /// Only `${VAR}` (rule annotations, whose templates use `$labels`, `$values`).
    Braced,
    /// Nothing (rule query models, whose macros such as `$__timeFilter` or math expressions
    /// such as `$A > 1` must stay).
    Never,
}

/// Which documents: data source files expand every string; alerting files leave query models
/// alone and expand only `${VAR}` in annotations, as Grafana does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doc {
    DataSources,
    Alerting,
}

/// Expands only `${VAR}`.
fn expand_braced(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let Some(end) = rest[at + 2..].find('}') else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(&lookup(&rest[at + 2..at + 2 + end]).unwrap_or_default());
        rest = &rest[at + 3 + end..];
    }
    out.push_str(rest);
    out
}

/// Expands the strings of a YAML document; under a number or boolean key an expanded string
/// that reads as one becomes one.
fn expand_yaml(
    v: &mut Yaml,
    key: Option<&str>,
    mode: Expand,
    doc: Doc,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    match v {
        Yaml::String(s) => {
            if !s.contains('$') || mode == Expand::Never {
                return;
            }
            let expanded = match mode {
                Expand::Braced => expand_braced(s, lookup),
                _ => expand_env_with(s, lookup),
            };
            let typed = key.and_then(|k| {
                if INT_KEYS.contains(&k) {
                    expanded.trim().parse::<i64>().ok().map(Yaml::from)
                } else if BOOL_KEYS.contains(&k) {
                    expanded.trim().parse::<bool>().ok().map(Yaml::Bool)
                } else {
                    None
                }
            });
            *v = typed.unwrap_or(Yaml::String(expanded));
        }
        Yaml::Sequence(items) => {
            for item in items {
                expand_yaml(item, None, mode, doc, lookup);
            }
        }
        Yaml::Mapping(m) => {
            for (k, item) in m.iter_mut() {
                let k = k.as_str();
                let child = match (doc, k) {
                    (Doc::Alerting, Some("model")) => Expand::Never,
                    (Doc::Alerting, Some("annotations")) if mode == Expand::All => Expand::Braced,
                    _ => mode,
                };
                expand_yaml(item, k, child, doc, lookup);
            }
        }
        Yaml::Tagged(t) => expand_yaml(&mut t.value, key, mode, doc, lookup),
        Yaml::Null | Yaml::Bool(_) | Yaml::Number(_) => {}
    }
}

/// Reads a YAML file with its environment variables expanded.
fn read_yaml(file: &Path, kind: Doc) -> Result<Yaml, ProvisioningError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ProvisioningError::new(file, "", format!("cannot read: {e}")))?;
    let mut doc: Yaml = serde_norway::from_str(&text)
        .map_err(|e| ProvisioningError::new(file, "", format!("invalid YAML: {e}")))?;
    expand_yaml(&mut doc, None, Expand::All, kind, &|name| {
        std::env::var(name).ok()
    });
    Ok(doc)
}

/// The `*.yaml` and `*.yml` files of a directory, by name; none when it does not exist.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, ProvisioningError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ProvisioningError::new(
                dir,
                "",
                format!("cannot read the directory: {e}"),
            ));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| x == "yaml" || x == "yml")
        })
        .collect();
    files.sort();
    Ok(files)
}

// ---------------------------------------------------------------------------------------------
// Data source files

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DatasourcesFile {
    #[serde(default)]
    api_version: Option<i64>,
    #[serde(default)]
    datasources: Vec<Yaml>,
    #[serde(default)]
    delete_datasources: Vec<Yaml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileDataSource {
    #[serde(default)]
    org_id: Option<i64>,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    basic_auth: bool,
    #[serde(default)]
    basic_auth_user: String,
    #[serde(default)]
    user: Option<Yaml>,
    #[serde(default)]
    database: Option<Yaml>,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    json_data: Option<serde_json::Value>,
    #[serde(default)]
    secure_json_data: Option<BTreeMap<String, Yaml>>,
    #[serde(default)]
    editable: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileDeleteDataSource {
    #[serde(default)]
    org_id: Option<i64>,
    #[serde(default)]
    name: String,
}

/// A checked data source of a file.
struct PlannedDataSource {
    org_id: i64,
    name: String,
    kind: String,
    uid: String,
    access: String,
    url: String,
    basic_auth: bool,
    basic_auth_user: String,
    is_default: bool,
    json_data: String,
    secure: BTreeMap<String, String>,
    read_only: bool,
}

struct DataSourcePlan {
    file: PathBuf,
    deletes: Vec<(i64, String)>,
    sources: Vec<PlannedDataSource>,
}

fn scalar_string(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}

fn check_org(
    file: &Path,
    field: &str,
    org_id: i64,
    orgs: &HashSet<i64>,
) -> Result<(), ProvisioningError> {
    if orgs.contains(&org_id) {
        Ok(())
    } else {
        Err(ProvisioningError::new(
            file,
            field,
            format!("organization {org_id} not found"),
        ))
    }
}

fn parse_datasources(
    file: &Path,
    orgs: &HashSet<i64>,
) -> Result<DataSourcePlan, ProvisioningError> {
    let doc = read_yaml(file, Doc::DataSources)?;
    if doc.is_null() {
        return Ok(DataSourcePlan {
            file: file.to_owned(),
            deletes: Vec::new(),
            sources: Vec::new(),
        });
    }
    let parsed: DatasourcesFile = serde_norway::from_value(doc)
        .map_err(|e| ProvisioningError::new(file, "", format!("invalid file: {e}")))?;
    if let Some(v) = parsed.api_version
        && v != 1
    {
        return Err(ProvisioningError::new(
            file,
            "apiVersion",
            format!("{v} is not supported (only 1)"),
        ));
    }
    let mut deletes = Vec::new();
    for (i, item) in parsed.delete_datasources.into_iter().enumerate() {
        let at = |f: &str| format!("deleteDatasources[{i}]{f}");
        let d: FileDeleteDataSource = serde_norway::from_value(item)
            .map_err(|e| ProvisioningError::new(file, at(""), e.to_string()))?;
        if d.name.trim().is_empty() {
            return Err(ProvisioningError::new(file, at(".name"), "required"));
        }
        let org_id = d.org_id.unwrap_or(1);
        check_org(file, &at(".orgId"), org_id, orgs)?;
        deletes.push((org_id, d.name));
    }
    let mut sources = Vec::new();
    for (i, item) in parsed.datasources.into_iter().enumerate() {
        let at = |f: &str| format!("datasources[{i}]{f}");
        let d: FileDataSource = serde_norway::from_value(item)
            .map_err(|e| ProvisioningError::new(file, at(""), e.to_string()))?;
        if d.name.trim().is_empty() {
            return Err(ProvisioningError::new(file, at(".name"), "required"));
        }
        if d.kind.trim().is_empty() {
            return Err(ProvisioningError::new(file, at(".type"), "required"));
        }
        if !d.uid.is_empty()
            && let Some(problem) = rules::uid_problem(&d.uid)
        {
            return Err(ProvisioningError::new(file, at(".uid"), problem));
        }
        let org_id = d.org_id.unwrap_or(1);
        check_org(file, &at(".orgId"), org_id, orgs)?;
        let text = |v: Option<&Yaml>, field: &str| {
            v.map_or(Some(String::new()), scalar_string)
                .ok_or_else(|| ProvisioningError::new(file, at(field), "must be a string"))
        };
        let user = text(d.user.as_ref(), ".user")?;
        let database = text(d.database.as_ref(), ".database")?;
        let json_data = match d.json_data {
            None | Some(serde_json::Value::Null) => {
                stored_json_data(Default::default(), &user, &database)
            }
            Some(serde_json::Value::Object(m)) => stored_json_data(m, &user, &database),
            Some(_) => {
                return Err(ProvisioningError::new(
                    file,
                    at(".jsonData"),
                    "must be a mapping",
                ));
            }
        };
        let mut secure = BTreeMap::new();
        for (k, v) in d.secure_json_data.unwrap_or_default() {
            let s = scalar_string(&v).ok_or_else(|| {
                ProvisioningError::new(
                    file,
                    at(&format!(".secureJsonData.{k}")),
                    "must be a string",
                )
            })?;
            secure.insert(k, s);
        }
        sources.push(PlannedDataSource {
            org_id,
            name: d.name.trim().to_owned(),
            kind: d.kind.trim().to_owned(),
            uid: d.uid,
            access: if d.access.is_empty() {
                "proxy".into()
            } else {
                d.access
            },
            url: d.url,
            basic_auth: d.basic_auth,
            basic_auth_user: d.basic_auth_user,
            is_default: d.is_default,
            json_data,
            secure,
            read_only: !d.editable,
        });
    }
    Ok(DataSourcePlan {
        file: file.to_owned(),
        deletes,
        sources,
    })
}

/// A failed write, and whether it was a conflict worth retrying.
struct ApplyError {
    conflict: bool,
    error: ProvisioningError,
}

/// Applies one data source: updated by uid, else by name (re-created when its uid changes),
/// else created.
async fn apply_datasource(
    store: &Store,
    secrets: &SecretBox,
    file: &Path,
    p: &PlannedDataSource,
    now: i64,
) -> Result<(), ApplyError> {
    let err = |e: StoreError| ApplyError {
        conflict: matches!(e, StoreError::Conflict(_)),
        error: ProvisioningError::store(file, e),
    };
    let by_uid = if p.uid.is_empty() {
        None
    } else {
        store.data_source(p.org_id, &p.uid).await.map_err(err)?
    };
    let by_name = store
        .data_source_by_name(p.org_id, &p.name)
        .await
        .map_err(err)?;
    let (existing, uid) = match (by_uid, by_name) {
        (Some(d), Some(o)) if o.uid != d.uid => {
            // Checked before writing; only a concurrent change gets here.
            return Err(ApplyError {
                conflict: false,
                error: ProvisioningError::new(
                    file,
                    "",
                    format!(
                        "data source {:?}: the name is used by the data source with uid {:?}",
                        p.uid, o.uid
                    ),
                ),
            });
        }
        (Some(d), _) => {
            let uid = d.uid.clone();
            (Some(d), uid)
        }
        (None, Some(d)) if p.uid.is_empty() || p.uid == d.uid => {
            let uid = d.uid.clone();
            (Some(d), uid)
        }
        (None, Some(d)) => {
            // Same name, new uid: re-created under the uid the file gives.
            store
                .delete_data_source(p.org_id, &d.uid)
                .await
                .map_err(err)?;
            (Some(d), p.uid.clone())
        }
        (None, None) => (
            None,
            if p.uid.is_empty() {
                rules::short_uid()
            } else {
                p.uid.clone()
            },
        ),
    };
    let secure =
        seal_secrets(secrets, p.org_id, &uid, &p.secure, existing.as_ref()).map_err(|m| {
            ApplyError {
                conflict: false,
                error: ProvisioningError::new(file, "", m),
            }
        })?;
    let ds = DataSource {
        id: 0,
        org_id: p.org_id,
        uid: uid.clone(),
        name: p.name.clone(),
        kind: p.kind.clone(),
        access: p.access.clone(),
        url: p.url.clone(),
        basic_auth: p.basic_auth,
        basic_auth_user: p.basic_auth_user.clone(),
        is_default: p.is_default,
        read_only: p.read_only,
        json_data: p.json_data.clone(),
        secure_json_data: secure,
        version: 0,
        created: 0,
        updated: 0,
    };
    let updated = match &existing {
        Some(e) if e.uid == uid => store.update_data_source(&ds, now).await.map_err(err)?,
        _ => None,
    };
    if updated.is_none() {
        store.create_data_source(&ds, now).await.map_err(err)?;
    }
    if p.is_default {
        clear_other_defaults(store, p.org_id, &uid, now)
            .await
            .map_err(err)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Alerting files

/// A checked rule group of a file.
struct PlannedGroup {
    org_id: i64,
    folder: String,
    name: String,
    interval_seconds: i64,
    rules: Vec<Rule>,
}

struct AlertingPlan {
    file: PathBuf,
    groups: Vec<PlannedGroup>,
    deletes: Vec<(i64, String)>,
}

/// Top-level keys of Grafana's alerting files that are not supported yet.
const UNSUPPORTED_ALERTING_KEYS: &[&str] = &[
    "contactPoints",
    "deleteContactPoints",
    "policies",
    "resetPolicies",
    "templates",
    "deleteTemplates",
    "muteTimes",
    "deleteMuteTimes",
];

fn parse_alerting(file: &Path) -> Result<Option<AlertingFile>, ProvisioningError> {
    let doc = read_yaml(file, Doc::Alerting)?;
    if doc.is_null() {
        return Ok(None);
    }
    let ignored: Vec<&str> = UNSUPPORTED_ALERTING_KEYS
        .iter()
        .copied()
        .filter(|k| doc.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    if !ignored.is_empty() {
        tracing::warn!(file = %file.display(), keys = ?ignored, "alerting provisioning: these sections are not supported and are ignored");
    }
    let text = serde_norway::to_string(&doc)
        .map_err(|e| ProvisioningError::new(file, "", format!("invalid YAML: {e}")))?;
    AlertingFile::parse(&text)
        .map(Some)
        .map_err(|e| ProvisioningError::rule(file, e))
}

/// Everything checked, nothing written yet.
struct Plan {
    datasources: Vec<DataSourcePlan>,
    alerting: Vec<AlertingPlan>,
}

/// The data source types each organization will have once the data source files are applied.
/// Also refuses a data source whose uid and name belong to two different existing ones.
async fn planned_types(
    store: &Store,
    dir: &Path,
    orgs: &HashSet<i64>,
    plans: &[DataSourcePlan],
) -> Result<HashMap<i64, HashMap<String, String>>, ProvisioningError> {
    let mut by_org: HashMap<i64, Vec<(String, String, String)>> = HashMap::new();
    for org in orgs {
        let list = store
            .data_sources(*org)
            .await
            .map_err(|e| ProvisioningError::store(dir, e))?
            .into_iter()
            .map(|d| (d.uid, d.name, d.kind))
            .collect();
        by_org.insert(*org, list);
    }
    for plan in plans {
        for (org, name) in &plan.deletes {
            if let Some(list) = by_org.get_mut(org) {
                list.retain(|(_, n, _)| n != name);
            }
        }
        for (i, p) in plan.sources.iter().enumerate() {
            let list = by_org.entry(p.org_id).or_default();
            if !p.uid.is_empty()
                && list.iter().any(|(u, _, _)| *u == p.uid)
                && let Some((other, _, _)) =
                    list.iter().find(|(u, n, _)| *n == p.name && *u != p.uid)
            {
                return Err(ProvisioningError::new(
                    &plan.file,
                    format!("datasources[{i}].name"),
                    format!(
                        "{:?} is the name of the data source with uid {other:?}, not of {:?}",
                        p.name, p.uid
                    ),
                ));
            }
            let uid = if p.uid.is_empty() {
                list.iter()
                    .find(|(_, n, _)| *n == p.name)
                    .map(|(u, _, _)| u.clone())
                    .unwrap_or_default()
            } else {
                p.uid.clone()
            };
            list.retain(|(u, n, _)| *u != uid && *n != p.name);
            if !uid.is_empty() {
                list.push((uid, p.name.clone(), p.kind.clone()));
            }
        }
    }
    Ok(by_org
        .into_iter()
        .map(|(org, list)| (org, list.into_iter().map(|(u, _, k)| (u, k)).collect()))
        .collect())
}

/// Reads and checks every file; writes nothing.
async fn plan(store: &Store, dir: &Path, opts: &ApiOptions) -> Result<Plan, ProvisioningError> {
    let orgs: HashSet<i64> = store
        .list_orgs()
        .await
        .map_err(|e| ProvisioningError::store(dir, e))?
        .into_iter()
        .map(|o| o.id)
        .collect();

    let mut datasources = Vec::new();
    for file in yaml_files(&dir.join("datasources"))? {
        datasources.push(parse_datasources(&file, &orgs)?);
    }
    // One default per organization across all files (Grafana's rule).
    let mut defaults: HashMap<i64, &Path> = HashMap::new();
    for plan in &datasources {
        for (i, p) in plan.sources.iter().enumerate() {
            if p.is_default && defaults.insert(p.org_id, &plan.file).is_some() {
                return Err(ProvisioningError::new(
                    &plan.file,
                    format!("datasources[{i}].isDefault"),
                    format!(
                        "only one data source per organization can be the default (organization {})",
                        p.org_id
                    ),
                ));
            }
        }
    }
    let types = planned_types(store, dir, &orgs, &datasources).await?;
    let no_types = HashMap::new();

    let mut alerting = Vec::new();
    // uid → (file, field) of its first mention, to refuse a second.
    let mut seen: HashMap<String, (PathBuf, String)> = HashMap::new();
    let mut provenances: HashMap<i64, HashMap<String, String>> = HashMap::new();
    for org in &orgs {
        provenances.insert(
            *org,
            rules::provenances(store, *org)
                .await
                .map_err(|e| ProvisioningError::store(dir, e))?,
        );
    }
    for file in yaml_files(&dir.join("alerting"))? {
        let Some(parsed) = parse_alerting(&file)? else {
            continue;
        };
        let mut groups = Vec::new();
        for (i, g) in parsed.groups.iter().enumerate() {
            let at = |f: &str| format!("groups[{i}].{f}");
            let org_id = g.org_id.unwrap_or(1);
            check_org(&file, &at("orgId"), org_id, &orgs)?;
            if g.name.trim().is_empty() {
                return Err(ProvisioningError::new(&file, at("name"), "required"));
            }
            if g.folder.trim().is_empty() {
                return Err(ProvisioningError::new(&file, at("folder"), "required"));
            }
            let (interval_ms, group_rules) = g
                .to_rules(i)
                .map_err(|e| ProvisioningError::rule(&file, e))?;
            rules::check_interval(&at("interval"), interval_ms, opts)
                .map_err(|e| ProvisioningError::rule(&file, e))?;
            let org_types = types.get(&org_id).unwrap_or(&no_types);
            rules::with_context(org_types, opts, |ctx| {
                validate::group(&group_rules, interval_ms, "interval", "", ctx)
            })
            .map_err(|e| ProvisioningError::rule(&file, e.within(&format!("groups[{i}]."))))?;
            for (j, r) in group_rules.iter().enumerate() {
                let field = format!("groups[{i}].rules[{j}].uid");
                if let Some(problem) = rules::uid_problem(&r.uid) {
                    return Err(ProvisioningError::new(&file, field, problem));
                }
                if let Some((other, other_field)) = seen.get(&r.uid) {
                    return Err(ProvisioningError::new(
                        &file,
                        field,
                        format!(
                            "{:?} is also provisioned at {}: {other_field}",
                            r.uid,
                            other.display()
                        ),
                    ));
                }
                seen.insert(r.uid.clone(), (file.clone(), field.clone()));
                let stored = provenances
                    .get(&org_id)
                    .and_then(|p| p.get(&r.uid))
                    .cloned()
                    .unwrap_or_default();
                if !rules::provenance_allows(&stored, rules::PROVENANCE_FILE) {
                    return Err(ProvisioningError::new(
                        &file,
                        field,
                        format!(
                            "cannot change provenance from '{stored}' to '{}'",
                            rules::PROVENANCE_FILE
                        ),
                    ));
                }
            }
            groups.push(PlannedGroup {
                org_id,
                folder: g.folder.trim().to_owned(),
                name: g.name.trim().to_owned(),
                interval_seconds: rules::seconds(interval_ms),
                rules: group_rules,
            });
        }
        let mut deletes = Vec::new();
        for (k, d) in parsed.delete_rules.iter().enumerate() {
            let field = format!("deleteRules[{k}].uid");
            if d.uid.trim().is_empty() {
                return Err(ProvisioningError::new(&file, field, "required"));
            }
            let org_id = d.org_id.unwrap_or(1);
            check_org(&file, &format!("deleteRules[{k}].orgId"), org_id, &orgs)?;
            let stored = provenances
                .get(&org_id)
                .and_then(|p| p.get(&d.uid))
                .cloned()
                .unwrap_or_default();
            if !rules::provenance_allows(&stored, rules::PROVENANCE_FILE) {
                return Err(ProvisioningError::new(
                    &file,
                    field,
                    format!(
                        "cannot delete with provenance '{}', the rule has '{stored}'",
                        rules::PROVENANCE_FILE
                    ),
                ));
            }
            deletes.push((org_id, d.uid.clone()));
        }
        alerting.push(AlertingPlan {
            file,
            groups,
            deletes,
        });
    }
    check_titles(store, &alerting).await?;
    Ok(Plan {
        datasources,
        alerting,
    })
}

/// Refuses rule titles that would be used twice in one folder once the files are applied
/// (titles are unique per folder).
async fn check_titles(store: &Store, plans: &[AlertingPlan]) -> Result<(), ProvisioningError> {
    /// A rule title a file puts in a folder: title, file, field.
    type Placed<'a> = (String, &'a Path, String);
    // (org, folder title) → the rules the files put there.
    let mut by_folder: BTreeMap<(i64, String), Vec<Placed<'_>>> = BTreeMap::new();
    let mut file_uids: HashSet<(i64, String)> = HashSet::new();
    for plan in plans {
        for (i, g) in plan.groups.iter().enumerate() {
            for (j, r) in g.rules.iter().enumerate() {
                by_folder
                    .entry((g.org_id, g.folder.clone()))
                    .or_default()
                    .push((
                        r.title.clone(),
                        &plan.file,
                        format!("groups[{i}].rules[{j}].title"),
                    ));
                file_uids.insert((g.org_id, r.uid.clone()));
            }
        }
        for (org, uid) in &plan.deletes {
            file_uids.insert((*org, uid.clone()));
        }
    }
    for ((org, folder), planned) in &by_folder {
        let mut titles: HashMap<&str, String> = HashMap::new();
        let existing_folder = store
            .folders(*org)
            .await
            .map_err(|e| ProvisioningError::store(planned[0].1, e))?
            .into_iter()
            .find(|f| f.parent_uid.is_none() && f.title == *folder);
        let kept = match &existing_folder {
            Some(f) => store
                .rules(*org, Some(&f.uid), None)
                .await
                .map_err(|e| ProvisioningError::store(planned[0].1, e))?
                .into_iter()
                .filter(|r| !file_uids.contains(&(*org, r.uid.clone())))
                .collect(),
            None => Vec::new(),
        };
        for r in &kept {
            titles.insert(r.title.as_str(), format!("rule {} in the folder", r.uid));
        }
        for (title, file, field) in planned {
            if let Some(other) = titles.get(title.as_str()) {
                return Err(ProvisioningError::new(
                    file,
                    field.clone(),
                    format!("title {title:?} is already used by {other} {folder:?}"),
                ));
            }
            titles.insert(
                title.as_str(),
                format!("{}: {field} in folder", file.display()),
            );
        }
    }
    Ok(())
}

/// The uid of the top-level folder titled `title`, created when missing.
async fn folder_uid(store: &Store, org: i64, title: &str, now: i64) -> Result<String, StoreError> {
    let find = |folders: Vec<wk_store::Folder>| {
        folders
            .into_iter()
            .find(|f| f.parent_uid.is_none() && f.title == title)
            .map(|f| f.uid)
    };
    if let Some(uid) = find(store.folders(org).await?) {
        return Ok(uid);
    }
    match store
        .create_folder(org, &rules::short_uid(), title, None, now)
        .await
    {
        Ok(f) => Ok(f.uid),
        // Created by another instance at the same moment.
        Err(StoreError::Conflict(m)) => {
            find(store.folders(org).await?).ok_or(StoreError::Conflict(m))
        }
        Err(e) => Err(e),
    }
}

/// Removes one rule from whatever group holds it; true when it existed.
async fn remove_rule(store: &Store, org: i64, uid: &str, now: i64) -> Result<bool, StoreError> {
    let Some(current) = store.rule(org, uid).await? else {
        return Ok(false);
    };
    let group = store
        .rules(org, Some(&current.namespace_uid), Some(&current.rule_group))
        .await?;
    let keep: Vec<_> = group
        .iter()
        .filter(|r| r.uid != uid)
        .map(rules::keep)
        .collect();
    store
        .save_rule_group(
            org,
            &current.namespace_uid,
            &current.rule_group,
            current.interval_seconds,
            &keep,
            now,
        )
        .await?;
    Ok(true)
}

async fn apply_group(store: &Store, g: &PlannedGroup, now: i64) -> Result<(), StoreError> {
    let folder = folder_uid(store, g.org_id, &g.folder, now).await?;
    // Rules provisioned into this group from another one move here.
    for r in &g.rules {
        if let Some(s) = store.rule(g.org_id, &r.uid).await?
            && (s.namespace_uid != folder || s.rule_group != g.name)
        {
            remove_rule(store, g.org_id, &r.uid, now).await?;
        }
    }
    let existing = store.rules(g.org_id, Some(&folder), Some(&g.name)).await?;
    let mut to_save: Vec<_> = g.rules.iter().map(rules::to_save).collect();
    to_save.extend(
        existing
            .iter()
            .filter(|e| !g.rules.iter().any(|r| r.uid == e.uid))
            .map(rules::keep),
    );
    store
        .save_rule_group(
            g.org_id,
            &folder,
            &g.name,
            g.interval_seconds,
            &to_save,
            now,
        )
        .await?;
    for r in &g.rules {
        rules::set_provenance(store, g.org_id, &r.uid, rules::PROVENANCE_FILE, now).await?;
    }
    Ok(())
}

/// A short pause before retrying a write another instance raced with.
async fn backoff(attempt: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
}

/// Applies the provisioning files under `dir` (`[paths] provisioning`): checks every file, then
/// writes data sources, then rule groups. An error names the file and the field.
pub async fn provision(
    store: &Store,
    secrets: &SecretBox,
    dir: &Path,
    opts: &ApiOptions,
) -> Result<Summary, ProvisioningError> {
    let plan = plan(store, dir, opts).await?;
    let now = wk_auth::unix_now();
    let mut summary = Summary::default();
    for p in &plan.datasources {
        for (org, name) in &p.deletes {
            let found = store
                .data_source_by_name(*org, name)
                .await
                .map_err(|e| ProvisioningError::store(&p.file, e))?;
            if let Some(d) = found {
                store
                    .delete_data_source(*org, &d.uid)
                    .await
                    .map_err(|e| ProvisioningError::store(&p.file, e))?;
                summary.deleted_data_sources += 1;
            }
        }
        for s in &p.sources {
            let mut attempt: u64 = 0;
            loop {
                attempt += 1;
                match apply_datasource(store, secrets, &p.file, s, now).await {
                    // Another instance sharing the database wrote it at the same moment.
                    Err(e) if e.conflict && attempt < 3 => backoff(attempt).await,
                    Err(e) => return Err(e.error),
                    Ok(()) => break,
                }
            }
            summary.data_sources += 1;
        }
        tracing::info!(file = %p.file.display(), data_sources = p.sources.len(), deleted = p.deletes.len(), "provisioned data sources");
    }
    let _guard = rules::WRITE_LOCK.lock().await;
    for p in &plan.alerting {
        for g in &p.groups {
            let mut attempt: u64 = 0;
            loop {
                attempt += 1;
                match apply_group(store, g, now).await {
                    // Another instance sharing the database wrote it at the same moment.
                    Err(StoreError::Conflict(_)) if attempt < 3 => backoff(attempt).await,
                    Err(e) => return Err(ProvisioningError::store(&p.file, e)),
                    Ok(()) => break,
                }
            }
            summary.rule_groups += 1;
        }
        for (org, uid) in &p.deletes {
            let removed = remove_rule(store, *org, uid, now)
                .await
                .map_err(|e| ProvisioningError::store(&p.file, e))?;
            if removed {
                rules::forget_rules(store, *org, std::slice::from_ref(uid)).await;
                summary.deleted_rules += 1;
            }
        }
        tracing::info!(file = %p.file.display(), groups = p.groups.len(), deleted_rules = p.deletes.len(), "provisioned alert rules");
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.example".into()),
            "PORT" => Some("5432".into()),
            "1" => Some("one".into()),
            _ => None,
        }
    }

    #[test]
    fn env_expansion_follows_go() {
        let e = |s: &str| expand_env_with(s, &env);
        assert_eq!(e("http://$HOST:${PORT}/x"), "http://db.example:5432/x");
        assert_eq!(e("cost $$5 for $HOST"), "cost $5 for db.example");
        assert_eq!(e("$UNSET-x"), "-x");
        assert_eq!(e("a $ b"), "a $ b");
        assert_eq!(e("end$"), "end$");
        assert_eq!(e("${unclosed"), "");
        assert_eq!(e("$1x"), "onex");
        assert_eq!(e("{{ $$labels.instance }}"), "{{ $labels.instance }}");
    }

    #[test]
    fn typed_keys_are_converted_after_expansion() {
        let mut doc: Yaml = serde_norway::from_str(
            "orgId: $PORT\nname: $PORT\nisDefault: \"${BOOL}\"\njsonData: {port: $PORT}\n",
        )
        .expect("yaml");
        let lookup = |n: &str| {
            if n == "BOOL" {
                Some("true".to_owned())
            } else {
                env(n)
            }
        };
        expand_yaml(&mut doc, None, Expand::All, Doc::DataSources, &lookup);
        assert_eq!(doc.get("orgId"), Some(&Yaml::from(5432)));
        assert_eq!(doc.get("name"), Some(&Yaml::String("5432".into())));
        assert_eq!(doc.get("isDefault"), Some(&Yaml::Bool(true)));
        assert_eq!(
            doc.get("jsonData").and_then(|j| j.get("port")),
            Some(&Yaml::String("5432".into()))
        );
    }

    #[test]
    fn alerting_models_and_annotation_templates_are_kept() {
        let mut doc: Yaml = serde_norway::from_str(
            "groups:\n- name: g\n  folder: $HOST\n  rules:\n  - labels: {team: $HOST}\n    annotations: {summary: '{{ $labels.x }} on ${HOST}'}\n    data:\n    - model: {expression: '$A > 1'}\n",
        )
        .expect("yaml");
        expand_yaml(&mut doc, None, Expand::All, Doc::Alerting, &env);
        let g = &doc["groups"][0];
        assert_eq!(g["folder"], Yaml::String("db.example".into()));
        let r = &g["rules"][0];
        assert_eq!(r["labels"]["team"], Yaml::String("db.example".into()));
        assert_eq!(
            r["annotations"]["summary"],
            Yaml::String("{{ $labels.x }} on db.example".into())
        );
        assert_eq!(
            r["data"][0]["model"]["expression"],
            Yaml::String("$A > 1".into())
        );
    }

    const DS: &str = "apiVersion: 1\ndatasources:\n  - name: P\n    type: prometheus\n    uid: p\n    secureJsonData: {password: pw}\n";
    const RULES: &str = "apiVersion: 1\ngroups:\n  - name: g\n    folder: F\n    interval: 1m\n    rules:\n      - uid: r1\n        title: T\n        condition: B\n        data:\n          - {refId: A, datasourceUid: p, relativeTimeRange: {from: 60, to: 0}, model: {expr: up}}\n          - {refId: B, datasourceUid: __expr__, model: {type: math, expression: '$A > 1'}}\n";

    fn write_dir(tag: &str, ds: &str, rules: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wk-prov-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (sub, text) in [("datasources", ds), ("alerting", rules)] {
            std::fs::create_dir_all(dir.join(sub)).expect("dir");
            std::fs::write(dir.join(sub).join("a.yaml"), text).expect("write");
        }
        dir
    }

    #[tokio::test]
    async fn files_are_applied_and_a_bad_one_changes_nothing() {
        let Some(t) = wk_store::testing::test_store(wk_store::Backend::Sqlite).await else {
            return;
        };
        let store = &t.store;
        store.ensure_org(1, "Main Org.", 0).await.expect("org");
        let secrets = SecretBox::new("k").expect("key");
        let opts = ApiOptions::default();

        // A rule on a data source the same run provisions; PromQL checked.
        let bad = write_dir("bad", DS, &RULES.replace("expr: up", "expr: 'rate(up[5m]'"));
        let e = provision(store, &secrets, &bad, &opts)
            .await
            .expect_err("bad promql");
        assert_eq!(e.field, "groups[0].rules[0].data[0].model.expr", "{e}");
        assert!(e.file.ends_with("alerting/a.yaml"), "{e}");
        assert!(store.data_source(1, "p").await.expect("ds").is_none());
        let _ = std::fs::remove_dir_all(&bad);

        let good = write_dir("good", DS, RULES);
        let summary = provision(store, &secrets, &good, &opts)
            .await
            .expect("apply");
        assert_eq!((summary.data_sources, summary.rule_groups), (1, 1));
        let ds = store.data_source(1, "p").await.expect("ds").expect("p");
        assert!(ds.read_only && !ds.secure_json_data.contains("pw"));
        let rule = store.rule(1, "r1").await.expect("rule").expect("r1");
        assert_eq!(
            (
                rule.rule_group.as_str(),
                rule.interval_seconds,
                rule.version
            ),
            ("g", 60, 1)
        );
        assert_eq!(
            rules::provenance(store, 1, "r1").await.expect("prov"),
            rules::PROVENANCE_FILE
        );
        // The math expression was not expanded as an environment variable.
        assert!(rule.definition.contains("$A > 1"), "{}", rule.definition);

        // Applied again: no new rule version.
        provision(store, &secrets, &good, &opts)
            .await
            .expect("again");
        let again = store.rule(1, "r1").await.expect("rule").expect("r1");
        assert_eq!(again.version, 1);
        let _ = std::fs::remove_dir_all(&good);
    }

    #[test]
    fn errors_name_file_and_field() {
        let e =
            ProvisioningError::new(Path::new("/p/alerting/a.yaml"), "groups[0].interval", "bad");
        assert_eq!(e.to_string(), "/p/alerting/a.yaml: groups[0].interval: bad");
        let e = ProvisioningError::new(Path::new("/p/x.yaml"), "", "invalid YAML");
        assert_eq!(e.to_string(), "/p/x.yaml: invalid YAML");
    }
}
