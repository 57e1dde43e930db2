//! Data sources as the rest of Watchkeeper sees them: the built-in TestData source every
//! organization has, their secrets (`secureJsonData`, sealed with [`SecretBox`] in the
//! database, bound to organization, uid and key), and [`load`], which gives the evaluation
//! runtime a data source with its secrets decrypted. The HTTP API is `routes::datasources`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use wk_secrets::SecretBox;
use wk_store::{DataSource, Store, StoreError};

/// Uid of the built-in TestData data source.
pub const TESTDATA_UID: &str = "testdata";
/// Name of the built-in TestData data source.
pub const TESTDATA_NAME: &str = "TestData";
/// Plugin type of TestData (Grafana 10.4+; older Grafana called it `testdata`).
pub const TESTDATA_TYPE: &str = "grafana-testdata-datasource";

/// A data source with its secrets in clear, for the code that queries it.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSourceWithSecrets {
    /// The stored data source (its `secure_json_data` still sealed).
    pub source: DataSource,
    /// `jsonData`, parsed (an object; empty when none is stored). It also carries `user` and
    /// `database` (the top-level fields of Grafana's data source) when it does not set them
    /// itself, as Grafana's SQL plugins read `jsonData.database`.
    pub json_data: Map<String, Value>,
    /// The top-level `user` field (SQL data sources).
    pub user: String,
    /// The top-level `database` field (SQL data sources).
    pub database: String,
    /// `secureJsonData`, decrypted, by key.
    pub secure_json_data: BTreeMap<String, String>,
}

/// Why a data source could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The database failed.
    #[error("data source: {0}")]
    Store(#[from] StoreError),
    /// A secret could not be decrypted (usually another `[security] secret_key`).
    #[error("data source {uid:?}: secureJsonData.{key}: {message}")]
    Secret {
        /// The data source.
        uid: String,
        /// The secret's key.
        key: String,
        /// Why.
        message: String,
    },
    /// The stored JSON is not readable.
    #[error("data source {uid:?}: {message}")]
    Corrupt {
        /// The data source.
        uid: String,
        /// Why.
        message: String,
    },
}

/// The data source `uid` of organization `org_id` with its `jsonData` parsed and its
/// `secureJsonData` decrypted; `None` when there is no such data source.
pub async fn load(
    store: &Store,
    secrets: &SecretBox,
    org_id: i64,
    uid: &str,
) -> Result<Option<DataSourceWithSecrets>, LoadError> {
    let Some(source) = store.data_source(org_id, uid).await? else {
        return Ok(None);
    };
    let stored = parse_object(&source.json_data).map_err(|message| LoadError::Corrupt {
        uid: source.uid.clone(),
        message: format!("jsonData: {message}"),
    })?;
    let (mut json_data, user, database) = split_json_data(stored);
    for (key, value) in [("user", &user), ("database", &database)] {
        if !value.is_empty() && !json_data.contains_key(key) {
            json_data.insert(key.into(), Value::String(value.clone()));
        }
    }
    let secure_json_data = open_secrets(secrets, &source)?;
    Ok(Some(DataSourceWithSecrets {
        source,
        json_data,
        user,
        database,
        secure_json_data,
    }))
}

/// Creates the built-in TestData data source of `org_id` unless its uid or name is taken;
/// true when it was created.
pub async fn ensure_builtin(store: &Store, org_id: i64, now: i64) -> Result<bool, StoreError> {
    if store.data_source(org_id, TESTDATA_UID).await?.is_some()
        || store
            .data_source_by_name(org_id, TESTDATA_NAME)
            .await?
            .is_some()
    {
        return Ok(false);
    }
    let ds = DataSource {
        id: 0,
        org_id,
        uid: TESTDATA_UID.into(),
        name: TESTDATA_NAME.into(),
        kind: TESTDATA_TYPE.into(),
        access: "proxy".into(),
        url: String::new(),
        basic_auth: false,
        basic_auth_user: String::new(),
        is_default: false,
        read_only: false,
        json_data: "{}".into(),
        secure_json_data: "{}".into(),
        version: 0,
        created: 0,
        updated: 0,
    };
    match store.create_data_source(&ds, now).await {
        Ok(_) => Ok(true),
        // Another instance created it at the same moment.
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Creates the built-in data sources of every organization that lacks them; returns how many
/// were created.
pub async fn ensure_builtin_all(store: &Store, now: i64) -> Result<usize, StoreError> {
    let mut created = 0;
    for org in store.list_orgs().await? {
        if ensure_builtin(store, org.id, now).await? {
            created += 1;
        }
    }
    Ok(created)
}

/// The name shown for a plugin type (`typeName`).
pub(crate) fn type_name(kind: &str) -> String {
    match kind {
        "prometheus" => "Prometheus".into(),
        "loki" => "Loki".into(),
        "testdata" | TESTDATA_TYPE => "TestData".into(),
        "alertmanager" => "Alertmanager".into(),
        "postgres" | "grafana-postgresql-datasource" => "PostgreSQL".into(),
        "mysql" => "MySQL".into(),
        "graphite" => "Graphite".into(),
        "influxdb" => "InfluxDB".into(),
        "elasticsearch" => "Elasticsearch".into(),
        "tempo" => "Tempo".into(),
        "cloudwatch" => "CloudWatch".into(),
        other => other.to_owned(),
    }
}

/// A JSON object stored as text; empty text is an empty object.
pub(crate) fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn context(org_id: i64, uid: &str, key: &str) -> String {
    format!("datasource/{org_id}/{uid}/{key}")
}

/// The stored (sealed) secrets of a data source, by key.
fn stored_secrets(ds: &DataSource) -> Result<Map<String, Value>, LoadError> {
    parse_object(&ds.secure_json_data).map_err(|message| LoadError::Corrupt {
        uid: ds.uid.clone(),
        message: format!("secureJsonData: {message}"),
    })
}

/// Decrypts every secret of a data source.
pub(crate) fn open_secrets(
    secrets: &SecretBox,
    ds: &DataSource,
) -> Result<BTreeMap<String, String>, LoadError> {
    let mut out = BTreeMap::new();
    for (key, value) in stored_secrets(ds)? {
        let sealed = value.as_str().unwrap_or_default();
        let plain = secrets
            .open(&context(ds.org_id, &ds.uid, &key), sealed)
            .map_err(|e| LoadError::Secret {
                uid: ds.uid.clone(),
                key: key.clone(),
                message: e.to_string(),
            })?;
        out.insert(key, plain);
    }
    Ok(out)
}

/// Which secrets a stored data source has (`secureJsonFields`).
pub(crate) fn secure_fields(ds: &DataSource) -> Map<String, Value> {
    parse_object(&ds.secure_json_data)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, _)| (k, Value::Bool(true)))
        .collect()
}

/// The sealed `secureJsonData` to store for data source `uid` of `org_id`: the `given` values
/// (an empty value removes the key), plus the keys of `previous` (a stored data source, possibly
/// under another uid) not given, re-sealed for the new uid when it changed.
pub(crate) fn seal_secrets(
    secrets: &SecretBox,
    org_id: i64,
    uid: &str,
    given: &BTreeMap<String, String>,
    previous: Option<&DataSource>,
) -> Result<String, String> {
    let mut out = Map::new();
    if let Some(prev) = previous {
        let same_place = prev.org_id == org_id && prev.uid == uid;
        let old = stored_secrets(prev).map_err(|e| e.to_string())?;
        for (key, value) in old {
            if given.contains_key(&key) {
                continue;
            }
            let sealed = value.as_str().unwrap_or_default().to_owned();
            let kept = if same_place {
                sealed
            } else {
                let plain = secrets
                    .open(&context(prev.org_id, &prev.uid, &key), &sealed)
                    .map_err(|e| format!("secureJsonData.{key}: {e}"))?;
                secrets
                    .seal(&context(org_id, uid, &key), &plain)
                    .map_err(|e| format!("secureJsonData.{key}: {e}"))?
            };
            out.insert(key, Value::String(kept));
        }
    }
    for (key, value) in given {
        if value.is_empty() {
            continue;
        }
        let sealed = secrets
            .seal(&context(org_id, uid, key), value)
            .map_err(|e| format!("secureJsonData.{key}: {e}"))?;
        out.insert(key.clone(), Value::String(sealed));
    }
    Ok(Value::Object(out).to_string())
}

/// Keys of the stored `jsonData` that hold the top-level `user` and `database` fields (the
/// `data_source` table has no columns for them); never shown inside `jsonData`.
const STORED_USER: &str = "__watchkeeper_user";
const STORED_DATABASE: &str = "__watchkeeper_database";

/// The `jsonData` text to store: `json` plus the top-level `user` and `database` (empty: none).
pub(crate) fn stored_json_data(mut json: Map<String, Value>, user: &str, database: &str) -> String {
    json.remove(STORED_USER);
    json.remove(STORED_DATABASE);
    if !user.is_empty() {
        json.insert(STORED_USER.into(), Value::String(user.to_owned()));
    }
    if !database.is_empty() {
        json.insert(STORED_DATABASE.into(), Value::String(database.to_owned()));
    }
    Value::Object(json).to_string()
}

/// A stored `jsonData` split into what clients see, `user` and `database`.
pub(crate) fn split_json_data(
    mut json: Map<String, Value>,
) -> (Map<String, Value>, String, String) {
    let mut take = |key: &str| match json.remove(key) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    let user = take(STORED_USER);
    let database = take(STORED_DATABASE);
    (json, user, database)
}

fn shown(ds: &DataSource) -> (Map<String, Value>, String, String) {
    split_json_data(parse_object(&ds.json_data).unwrap_or_default())
}

/// Grafana's `DataSource` JSON (never the secrets).
pub(crate) fn to_json(ds: &DataSource) -> Value {
    let (json_data, user, database) = shown(ds);
    json!({
        "id": ds.id,
        "uid": ds.uid,
        "orgId": ds.org_id,
        "name": ds.name,
        "type": ds.kind,
        "typeName": type_name(&ds.kind),
        "access": ds.access,
        "url": ds.url,
        "user": user,
        "database": database,
        "basicAuth": ds.basic_auth,
        "basicAuthUser": ds.basic_auth_user,
        "withCredentials": false,
        "isDefault": ds.is_default,
        "jsonData": Value::Object(json_data),
        "secureJsonFields": Value::Object(secure_fields(ds)),
        "version": ds.version,
        "readOnly": ds.read_only,
    })
}

/// Grafana's list item (`GET /api/datasources`).
pub(crate) fn to_list_item(ds: &DataSource) -> Value {
    let (json_data, user, database) = shown(ds);
    json!({
        "id": ds.id,
        "uid": ds.uid,
        "orgId": ds.org_id,
        "name": ds.name,
        "type": ds.kind,
        "typeName": type_name(&ds.kind),
        "access": ds.access,
        "url": ds.url,
        "user": user,
        "database": database,
        "basicAuth": ds.basic_auth,
        "isDefault": ds.is_default,
        "jsonData": Value::Object(json_data),
        "readOnly": ds.read_only,
    })
}

/// Makes `uid` the only default data source of its organization (Grafana clears the flag of
/// the others when one is saved as default).
pub(crate) async fn clear_other_defaults(
    store: &Store,
    org_id: i64,
    uid: &str,
    now: i64,
) -> Result<(), StoreError> {
    for mut other in store.data_sources(org_id).await? {
        if other.uid != uid && other.is_default {
            other.is_default = false;
            store.update_data_source(&other, now).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(uid: &str, secure: &str) -> DataSource {
        DataSource {
            id: 1,
            org_id: 1,
            uid: uid.into(),
            name: "n".into(),
            kind: "prometheus".into(),
            access: "proxy".into(),
            url: String::new(),
            basic_auth: false,
            basic_auth_user: String::new(),
            is_default: false,
            read_only: false,
            json_data: "{}".into(),
            secure_json_data: secure.into(),
            version: 1,
            created: 0,
            updated: 0,
        }
    }

    #[test]
    fn secrets_are_sealed_kept_and_moved() {
        let b = SecretBox::new("k").expect("key");
        let given = BTreeMap::from([("password".to_owned(), "pw".to_owned())]);
        let sealed = seal_secrets(&b, 1, "a", &given, None).expect("seal");
        assert!(!sealed.contains("pw"));
        let ds = sample("a", &sealed);
        assert_eq!(open_secrets(&b, &ds).expect("open")["password"], "pw");
        assert_eq!(secure_fields(&ds)["password"], true);

        // A later save without the key keeps it; another key is added.
        let more = BTreeMap::from([("token".to_owned(), "t".to_owned())]);
        let kept = seal_secrets(&b, 1, "a", &more, Some(&ds)).expect("keep");
        let ds2 = sample("a", &kept);
        let open = open_secrets(&b, &ds2).expect("open");
        assert_eq!(
            (open["password"].as_str(), open["token"].as_str()),
            ("pw", "t")
        );

        // Under a new uid the kept secrets are re-sealed for it.
        let moved = seal_secrets(&b, 1, "b", &BTreeMap::new(), Some(&ds2)).expect("move");
        let ds3 = sample("b", &moved);
        assert_eq!(open_secrets(&b, &ds3).expect("open")["token"], "t");

        // An empty value removes the key; a sealed value does not open under another uid.
        let removed = BTreeMap::from([("token".to_owned(), String::new())]);
        let ds4 = sample(
            "b",
            &seal_secrets(&b, 1, "b", &removed, Some(&ds3)).expect("rm"),
        );
        assert!(!secure_fields(&ds4).contains_key("token"));
        assert!(open_secrets(&b, &sample("c", &moved)).is_err());
    }

    #[tokio::test]
    async fn load_decrypts_and_builtin_is_created_once() {
        let Some(t) = wk_store::testing::test_store(wk_store::Backend::Sqlite).await else {
            return;
        };
        let store = &t.store;
        let b = SecretBox::new("k").expect("key");
        assert!(ensure_builtin(store, 1, 0).await.expect("builtin"));
        assert!(!ensure_builtin(store, 1, 0).await.expect("again"));
        let td = load(store, &b, 1, TESTDATA_UID)
            .await
            .expect("load")
            .expect("testdata");
        assert_eq!(td.source.kind, TESTDATA_TYPE);
        assert!(td.secure_json_data.is_empty() && td.json_data.is_empty());

        let given = BTreeMap::from([("password".to_owned(), "pw".to_owned())]);
        let mut ds = sample(
            "p1",
            &seal_secrets(&b, 1, "p1", &given, None).expect("seal"),
        );
        let json: Map<String, Value> =
            serde_json::from_str(r#"{"httpMethod":"POST"}"#).expect("json");
        ds.json_data = stored_json_data(json, "reader", "metrics");
        store.create_data_source(&ds, 0).await.expect("create");
        let loaded = load(store, &b, 1, "p1").await.expect("load").expect("p1");
        assert_eq!(loaded.secure_json_data["password"], "pw");
        assert_eq!(loaded.json_data["httpMethod"], "POST");
        assert_eq!(
            (loaded.user.as_str(), loaded.database.as_str()),
            ("reader", "metrics")
        );
        assert_eq!(loaded.json_data["database"], "metrics");
        assert!(!loaded.json_data.contains_key(STORED_USER));
        let shown = to_json(&loaded.source);
        assert_eq!(
            (shown["user"].as_str(), shown["database"].as_str()),
            (Some("reader"), Some("metrics"))
        );
        assert_eq!(shown["jsonData"], json!({"httpMethod": "POST"}));
        assert!(load(store, &b, 1, "none").await.expect("load").is_none());
        let other = SecretBox::new("other").expect("key");
        assert!(matches!(
            load(store, &other, 1, "p1").await,
            Err(LoadError::Secret { .. })
        ));
    }

    #[test]
    fn json_never_shows_secrets() {
        let b = SecretBox::new("k").expect("key");
        let given = BTreeMap::from([("password".to_owned(), "hunter2".to_owned())]);
        let ds = sample("a", &seal_secrets(&b, 1, "a", &given, None).expect("seal"));
        let shown = to_json(&ds).to_string();
        assert!(
            !shown.contains("hunter2") && !shown.contains("wk1."),
            "{shown}"
        );
        assert_eq!(to_json(&ds)["secureJsonFields"]["password"], true);
        assert_eq!(type_name(TESTDATA_TYPE), "TestData");
    }
}
