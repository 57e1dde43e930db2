//! Secrets of Grafana-managed contact points (`secureSettings`) in stored Alertmanager
//! configurations, handled like Grafana: every contact point gets a `uid` when saved; a
//! re-posted configuration that omits a secure setting keeps the stored value of the contact
//! point with the same `uid`; values are encrypted with `[security] secret_key` in the database
//! and decrypted only to build the running Alertmanager.
//!
//! Values stored by earlier versions in clear text (without the `wk1.` prefix) are still read,
//! and are encrypted the next time the configuration is saved.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use wk_secrets::SecretBox;

/// The stored (encrypted) and the runnable (decrypted) text of one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepared {
    /// What is saved in `alert_configuration`: secrets sealed.
    pub stored: String,
    /// What the Alertmanager is built from: secrets in clear.
    pub plain: String,
}

/// The contact point objects of a configuration document.
fn contact_points(doc: &mut Value) -> Vec<&mut Map<String, Value>> {
    let receivers = doc
        .pointer_mut("/alertmanager_config/receivers")
        .and_then(Value::as_array_mut);
    receivers
        .into_iter()
        .flatten()
        .filter_map(|r| r.get_mut("grafana_managed_receiver_configs"))
        .filter_map(Value::as_array_mut)
        .flatten()
        .filter_map(Value::as_object_mut)
        .collect()
}

fn uid_of(c: &Map<String, Value>) -> String {
    c.get("uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn context(uid: &str, key: &str) -> String {
    format!("{uid}/{key}")
}

/// The string secure settings of a contact point; a non-string value is an error.
fn secure_settings(c: &Map<String, Value>, uid: &str) -> Result<Map<String, Value>, String> {
    match c.get("secureSettings") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                return Err(format!(
                    "contact point {uid:?}: secureSettings.{k} must be a string"
                ));
            }
            Ok(m.clone())
        }
        Some(_) => Err(format!(
            "contact point {uid:?}: secureSettings must be an object of strings"
        )),
    }
}

/// Opens a stored value; clear text from earlier versions passes through.
fn open(secrets: &SecretBox, uid: &str, key: &str, stored: &str) -> Result<String, String> {
    if !SecretBox::is_sealed(stored) {
        return Ok(stored.to_owned());
    }
    secrets
        .open(&context(uid, key), stored)
        .map_err(|e| format!("contact point {uid:?}: secure setting {key}: {e}"))
}

/// Seals a value unless it is already sealed (copied from the stored version).
fn seal(secrets: &SecretBox, uid: &str, key: &str, value: &str) -> Result<String, String> {
    secrets
        .seal(&context(uid, key), value)
        .map_err(|e| format!("contact point {uid:?}: secure setting {key}: {e}"))
}

/// Secure settings of the previous stored version, by contact point uid (values as stored).
fn previous_settings(previous: Option<&str>) -> HashMap<String, Map<String, Value>> {
    let mut out = HashMap::new();
    let Some(mut doc) = previous.and_then(|p| serde_json::from_str::<Value>(p).ok()) else {
        return out;
    };
    for c in contact_points(&mut doc) {
        let uid = uid_of(c);
        if uid.is_empty() {
            continue;
        }
        if let Ok(s) = secure_settings(c, &uid) {
            out.insert(uid, s);
        }
    }
    out
}

/// Prepares a posted configuration for saving: assigns missing contact point uids (a uid used
/// twice is an error), carries over the stored secure settings the post omits (matched by
/// uid), and seals every secure setting for storage.
pub(crate) fn prepare(
    posted: &str,
    previous: Option<&str>,
    secrets: &SecretBox,
) -> Result<Prepared, String> {
    let mut stored: Value =
        serde_json::from_str(posted).map_err(|e| format!("invalid configuration JSON: {e}"))?;
    let previous = previous_settings(previous);
    let mut plain_settings = Vec::new();
    let mut seen = HashSet::new();
    for c in contact_points(&mut stored) {
        let mut uid = uid_of(c);
        if uid.is_empty() {
            uid = wk_auth::random_token(7).map_err(|e| e.to_string())?;
            c.insert("uid".into(), Value::from(uid.clone()));
        }
        if !seen.insert(uid.clone()) {
            return Err(format!("contact point uid {uid:?} is used more than once"));
        }
        let posted = secure_settings(c, &uid)?;
        let mut sealed = Map::new();
        let mut plain = Map::new();
        if let Some(old) = previous.get(&uid) {
            for (k, v) in old.iter().filter(|(k, _)| !posted.contains_key(*k)) {
                let v = v.as_str().unwrap_or_default();
                let clear = open(secrets, &uid, k, v)?;
                let kept = if SecretBox::is_sealed(v) {
                    v.to_owned()
                } else {
                    seal(secrets, &uid, k, &clear)?
                };
                sealed.insert(k.clone(), Value::from(kept));
                plain.insert(k.clone(), Value::from(clear));
            }
        }
        for (k, v) in &posted {
            let v = v.as_str().unwrap_or_default();
            sealed.insert(k.clone(), Value::from(seal(secrets, &uid, k, v)?));
            plain.insert(k.clone(), Value::from(v));
        }
        if !sealed.is_empty() || c.contains_key("secureSettings") {
            c.insert("secureSettings".into(), Value::Object(sealed));
        }
        plain_settings.push(plain);
    }
    let mut plain_doc = stored.clone();
    for (c, p) in contact_points(&mut plain_doc)
        .into_iter()
        .zip(plain_settings)
    {
        if c.contains_key("secureSettings") {
            c.insert("secureSettings".into(), Value::Object(p));
        }
    }
    Ok(Prepared {
        stored: stored.to_string(),
        plain: plain_doc.to_string(),
    })
}

/// The runnable text of a stored configuration: every secure setting decrypted.
pub(crate) fn reveal(stored: &str, secrets: &SecretBox) -> Result<String, String> {
    let mut doc: Value =
        serde_json::from_str(stored).map_err(|e| format!("invalid configuration JSON: {e}"))?;
    let mut any = false;
    for c in contact_points(&mut doc) {
        let uid = uid_of(c);
        let settings = secure_settings(c, &uid)?;
        if settings.is_empty() {
            continue;
        }
        let mut plain = Map::new();
        for (k, v) in &settings {
            let v = v.as_str().unwrap_or_default();
            plain.insert(k.clone(), Value::from(open(secrets, &uid, k, v)?));
        }
        c.insert("secureSettings".into(), Value::Object(plain));
        any = true;
    }
    Ok(if any {
        doc.to_string()
    } else {
        stored.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(points: Value) -> String {
        json!({"template_files": {}, "alertmanager_config": {
            "route": {"receiver": "r"},
            "receivers": [{"name": "r", "grafana_managed_receiver_configs": points}]}})
        .to_string()
    }

    fn points(text: &str) -> Vec<Value> {
        let doc: Value = serde_json::from_str(text).expect("json");
        doc["alertmanager_config"]["receivers"][0]["grafana_managed_receiver_configs"]
            .as_array()
            .expect("points")
            .clone()
    }

    fn secrets() -> SecretBox {
        SecretBox::new("test key").expect("key")
    }

    #[test]
    fn secrets_are_sealed_and_carried_over_by_uid() {
        let b = secrets();
        let first = config(json!([
            {"uid": "a", "type": "webhook", "settings": {"url": "http://x"},
             "secureSettings": {"password": "pw-a", "authorization_credentials": "tok"}},
            {"type": "webhook", "settings": {"url": "http://y"}, "secureSettings": {"password": "pw-new"}}
        ]));
        let p1 = prepare(&first, None, &b).expect("prepare");
        assert!(!p1.stored.contains("pw-a") && !p1.stored.contains("tok"));
        assert!(!p1.stored.contains("pw-new"));
        let stored = points(&p1.stored);
        let generated = stored[1]["uid"].as_str().expect("uid assigned").to_owned();
        assert_eq!(generated.len(), 14);
        assert_eq!(points(&p1.plain)[0]["secureSettings"]["password"], "pw-a");
        assert_eq!(reveal(&p1.stored, &b).expect("reveal"), p1.plain);

        // Re-posted without secrets, one changed: the rest are kept from the stored version.
        let second = config(json!([
            {"uid": "a", "type": "webhook", "settings": {"url": "http://x"},
             "secureSettings": {"password": "pw-a2"}},
            {"uid": generated, "type": "webhook", "settings": {"url": "http://y"}}
        ]));
        let p2 = prepare(&second, Some(&p1.stored), &b).expect("prepare");
        let plain = points(&p2.plain);
        assert_eq!(plain[0]["secureSettings"]["password"], "pw-a2");
        assert_eq!(
            plain[0]["secureSettings"]["authorization_credentials"],
            "tok"
        );
        assert_eq!(plain[1]["secureSettings"]["password"], "pw-new");
        // The kept value is copied as stored, not re-encrypted.
        assert_eq!(
            points(&p2.stored)[1]["secureSettings"]["password"],
            stored[1]["secureSettings"]["password"]
        );
        assert_eq!(reveal(&p2.stored, &b).expect("reveal"), p2.plain);

        // A contact point with another uid does not inherit anything.
        let third =
            config(json!([{"uid": "b", "type": "webhook", "settings": {"url": "http://x"}}]));
        let p3 = prepare(&third, Some(&p2.stored), &b).expect("prepare");
        assert!(points(&p3.plain)[0].get("secureSettings").is_none());
    }

    #[test]
    fn errors_name_the_problem() {
        let b = secrets();
        let dup = config(json!([
            {"uid": "a", "type": "webhook", "settings": {}},
            {"uid": "a", "type": "webhook", "settings": {}}
        ]));
        assert!(
            prepare(&dup, None, &b)
                .expect_err("dup")
                .contains("\"a\" is used more than once")
        );
        let bad =
            config(json!([{"uid": "a", "type": "webhook", "secureSettings": {"password": 1}}]));
        assert!(
            prepare(&bad, None, &b)
                .expect_err("bad")
                .contains("secureSettings.password")
        );
        let p = prepare(
            &config(json!([{"uid": "a", "type": "webhook", "secureSettings": {"password": "x"}}])),
            None,
            &b,
        )
        .expect("prepare");
        let other = SecretBox::new("another key").expect("key");
        let err = reveal(&p.stored, &other).expect_err("wrong key");
        assert!(err.contains("secret_key"), "{err}");
    }

    #[test]
    fn clear_text_from_earlier_versions_is_read_and_sealed_on_save() {
        let b = secrets();
        let legacy =
            config(json!([{"uid": "a", "type": "webhook", "secureSettings": {"password": "old"}}]));
        assert_eq!(reveal(&legacy, &b).expect("reveal"), legacy);
        let again = config(json!([{"uid": "a", "type": "webhook"}]));
        let p = prepare(&again, Some(&legacy), &b).expect("prepare");
        assert!(!p.stored.contains("old"));
        assert_eq!(points(&p.plain)[0]["secureSettings"]["password"], "old");
    }
}
