//! Grafana's JSON form of an Alertmanager configuration (`PostableUserConfig`): an
//! `alertmanager_config` whose receivers hold Grafana-managed contact points
//! (`grafana_managed_receiver_configs`), plus `template_files`. It is converted into the plain
//! [`Config`] (so the usual validation applies); only the `webhook` contact point type is
//! supported so far. A receiver may instead hold Alertmanager integrations written as in
//! Alertmanager's YAML (`webhook_configs` with `send_resolved`, `timeout`, ...), so an existing
//! Alertmanager configuration can be posted as it is.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Config, ConfigError};

/// The configuration an organization starts with, in Grafana's JSON form.
pub const DEFAULT_GRAFANA_CONFIG: &str = r#"{"template_files":{},"alertmanager_config":{"route":{"receiver":"default","group_by":["grafana_folder","alertname"]},"receivers":[{"name":"default","grafana_managed_receiver_configs":[]}]}}"#;

/// Why a Grafana configuration is rejected.
#[derive(Debug, thiserror::Error)]
pub enum GrafanaConfigError {
    /// Not valid JSON of the expected shape.
    #[error("invalid configuration JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A contact point is invalid or unsupported.
    #[error("receiver {receiver:?}: {message}")]
    Receiver {
        /// The receiver's name.
        receiver: String,
        /// What is wrong.
        message: String,
    },
    /// The converted configuration fails validation.
    #[error("{0}")]
    Config(#[from] ConfigError),
}

/// Grafana's `PostableUserConfig`.
#[derive(Debug, Clone, Deserialize)]
pub struct PostableUserConfig {
    /// Template files by name.
    #[serde(default)]
    pub template_files: BTreeMap<String, String>,
    /// The Alertmanager configuration.
    pub alertmanager_config: PostableApiAlertingConfig,
}

/// The `alertmanager_config` part.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostableApiAlertingConfig {
    /// `global` section, passed through.
    #[serde(default)]
    pub global: Option<Value>,
    /// Routing tree, passed through.
    #[serde(default)]
    pub route: Option<Value>,
    /// Inhibition rules, passed through.
    #[serde(default)]
    pub inhibit_rules: Vec<Value>,
    /// Deprecated mute time intervals, passed through.
    #[serde(default)]
    pub mute_time_intervals: Vec<Value>,
    /// Time intervals, passed through.
    #[serde(default)]
    pub time_intervals: Vec<Value>,
    /// Template globs, passed through.
    #[serde(default)]
    pub templates: Vec<String>,
    /// Receivers with Grafana-managed contact points.
    #[serde(default)]
    pub receivers: Vec<PostableApiReceiver>,
}

/// A receiver: Grafana-managed contact points, or Alertmanager integrations
/// (`webhook_configs`, ...) written as in Alertmanager's YAML, but not both.
#[derive(Debug, Clone, Deserialize)]
pub struct PostableApiReceiver {
    /// Its name.
    pub name: String,
    /// Its contact points.
    #[serde(default)]
    pub grafana_managed_receiver_configs: Vec<GrafanaReceiver>,
    /// Alertmanager integration keys (`webhook_configs`, `email_configs`, ...), validated by
    /// the Alertmanager configuration parser.
    #[serde(flatten)]
    pub integrations: Map<String, Value>,
}

/// A Grafana-managed contact point.
#[derive(Debug, Clone, Deserialize)]
pub struct GrafanaReceiver {
    /// Stable id.
    #[serde(default)]
    pub uid: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Type, e.g. `webhook`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Do not send resolved notifications.
    #[serde(default, rename = "disableResolveMessage")]
    pub disable_resolve_message: bool,
    /// Settings.
    #[serde(default)]
    pub settings: Map<String, Value>,
    /// Secret settings, which override `settings`.
    #[serde(default, rename = "secureSettings")]
    pub secure_settings: BTreeMap<String, String>,
}

impl PostableUserConfig {
    /// Parses Grafana's JSON form (plain Alertmanager YAML is not accepted).
    pub fn from_json(text: &str) -> Result<Self, GrafanaConfigError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Converts and validates into a plain [`Config`].
    pub fn to_config(&self) -> Result<Config, GrafanaConfigError> {
        let am = &self.alertmanager_config;
        let mut doc = Map::new();
        if let Some(g) = &am.global {
            doc.insert("global".into(), g.clone());
        }
        if let Some(r) = &am.route {
            doc.insert("route".into(), r.clone());
        }
        doc.insert(
            "inhibit_rules".into(),
            Value::from(am.inhibit_rules.clone()),
        );
        doc.insert(
            "mute_time_intervals".into(),
            Value::from(am.mute_time_intervals.clone()),
        );
        doc.insert(
            "time_intervals".into(),
            Value::from(am.time_intervals.clone()),
        );
        doc.insert("templates".into(), json!(am.templates));
        let mut receivers = Vec::new();
        for r in &am.receivers {
            receivers.push(receiver(r)?);
        }
        doc.insert("receivers".into(), Value::from(receivers));
        // JSON is YAML, so the regular parser and validation apply.
        Ok(Config::from_yaml(&Value::Object(doc).to_string())?)
    }
}

/// One receiver in Alertmanager's form: its Alertmanager integrations as written, or its
/// Grafana contact points converted.
fn receiver(r: &PostableApiReceiver) -> Result<Value, GrafanaConfigError> {
    let fail = |message: String| GrafanaConfigError::Receiver {
        receiver: r.name.clone(),
        message,
    };
    let mut out = r.integrations.clone();
    if !r.grafana_managed_receiver_configs.is_empty() {
        if let Some(key) = out.keys().next() {
            return Err(fail(format!(
                "cannot mix grafana_managed_receiver_configs with Alertmanager integrations ({key})"
            )));
        }
        let hooks = r
            .grafana_managed_receiver_configs
            .iter()
            .map(webhook)
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        out.insert("webhook_configs".into(), Value::from(hooks));
    }
    out.insert("name".into(), Value::from(r.name.clone()));
    Ok(Value::Object(out))
}

fn setting(c: &GrafanaReceiver, key: &str) -> Option<String> {
    if let Some(v) = c.secure_settings.get(key) {
        return Some(v.clone());
    }
    match c.settings.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn webhook(c: &GrafanaReceiver) -> Result<Value, String> {
    if c.kind != "webhook" {
        return Err(format!(
            "contact point type {} is not supported yet",
            c.kind
        ));
    }
    let url = setting(c, "url").ok_or("webhook contact point needs a url")?;
    if let Some(m) = setting(c, "httpMethod")
        && !m.eq_ignore_ascii_case("POST")
    {
        return Err(format!("httpMethod {m} is not supported yet"));
    }
    let max_alerts: u64 = match setting(c, "maxAlerts") {
        Some(v) => v
            .parse()
            .map_err(|_| format!("maxAlerts {v:?} is not a non-negative number"))?,
        None => 0,
    };
    let mut http = Map::new();
    let user = setting(c, "username");
    let password = setting(c, "password");
    if user.is_some() || password.is_some() {
        http.insert(
            "basic_auth".into(),
            json!({"username": user.unwrap_or_default(), "password": password.unwrap_or_default()}),
        );
    }
    if let Some(creds) = setting(c, "authorization_credentials") {
        let kind = setting(c, "authorization_scheme").unwrap_or_else(|| "Bearer".into());
        http.insert(
            "authorization".into(),
            json!({"type": kind, "credentials": creds}),
        );
    }
    Ok(json!({
        "url": url,
        "send_resolved": !c.disable_resolve_message,
        "max_alerts": max_alerts,
        "http_config": http,
    }))
}
