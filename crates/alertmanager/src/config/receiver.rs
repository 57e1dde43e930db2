//! `receivers`: webhook and email integrations with Alertmanager 0.25's defaults and checks.
//! Other integration keys are recognised and rejected as not supported yet.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::ConfigError;
use super::global::GlobalConfig;
use super::http::HttpClientConfig;

/// A named receiver with its integrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    /// Unique name routes refer to.
    pub name: String,
    /// `webhook_configs`.
    pub webhook_configs: Vec<WebhookConfig>,
    /// `email_configs`, with global SMTP defaults applied.
    pub email_configs: Vec<EmailConfig>,
}

/// One `webhook_configs` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Notify about resolved alerts (default true).
    pub send_resolved: bool,
    /// Target URL (http or https), unless `url_file` is used.
    pub url: Option<String>,
    /// File holding the URL (relative paths as written).
    pub url_file: Option<String>,
    /// Maximum alerts per message; 0 means all.
    pub max_alerts: u64,
    /// HTTP client settings (the global ones when absent).
    pub http_config: HttpClientConfig,
    /// Per-request time limit (`timeout`, Alertmanager 0.28+); `None` or zero means none.
    pub timeout: Option<std::time::Duration>,
}

/// One `email_configs` entry after applying the global `smtp_*` defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// Notify about resolved alerts (default false).
    pub send_resolved: bool,
    /// Recipients (template).
    pub to: String,
    /// Sender (template).
    pub from: String,
    /// HELO/EHLO host name.
    pub hello: String,
    /// SMTP server `host:port`.
    pub smarthost: String,
    /// SMTP auth user.
    pub auth_username: String,
    /// SMTP auth password.
    pub auth_password: String,
    /// SMTP auth password file.
    pub auth_password_file: String,
    /// CRAM-MD5 secret.
    pub auth_secret: String,
    /// PLAIN identity.
    pub auth_identity: String,
    /// Headers with canonical names (`Subject`, `To`, `From` filled in when absent).
    pub headers: BTreeMap<String, String>,
    /// HTML body template.
    pub html: Option<String>,
    /// Text body template.
    pub text: Option<String>,
    /// Require STARTTLS.
    pub require_tls: bool,
    /// TLS settings for the SMTP connection.
    pub tls_config: super::http::TlsConfig,
}

/// Integration keys of Alertmanager 0.25 that this implementation rejects for now.
const UNSUPPORTED: [&str; 10] = [
    "discord_configs",
    "pagerduty_configs",
    "slack_configs",
    "opsgenie_configs",
    "wechat_configs",
    "pushover_configs",
    "victorops_configs",
    "sns_configs",
    "telegram_configs",
    "webex_configs",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReceiver {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    webhook_configs: Option<Vec<RawWebhook>>,
    #[serde(default)]
    email_configs: Option<Vec<RawEmail>>,
    #[serde(default)]
    discord_configs: Option<serde_norway::Value>,
    #[serde(default)]
    pagerduty_configs: Option<serde_norway::Value>,
    #[serde(default)]
    slack_configs: Option<serde_norway::Value>,
    #[serde(default)]
    opsgenie_configs: Option<serde_norway::Value>,
    #[serde(default)]
    wechat_configs: Option<serde_norway::Value>,
    #[serde(default)]
    pushover_configs: Option<serde_norway::Value>,
    #[serde(default)]
    victorops_configs: Option<serde_norway::Value>,
    #[serde(default)]
    sns_configs: Option<serde_norway::Value>,
    #[serde(default)]
    telegram_configs: Option<serde_norway::Value>,
    #[serde(default)]
    webex_configs: Option<serde_norway::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    #[serde(default)]
    send_resolved: Option<bool>,
    #[serde(default)]
    http_config: Option<HttpClientConfig>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    url_file: Option<String>,
    #[serde(default)]
    max_alerts: u64,
    #[serde(default)]
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    #[serde(default)]
    send_resolved: Option<bool>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    hello: Option<String>,
    #[serde(default)]
    smarthost: Option<String>,
    #[serde(default)]
    auth_username: Option<String>,
    #[serde(default)]
    auth_password: Option<String>,
    #[serde(default)]
    auth_password_file: Option<String>,
    #[serde(default)]
    auth_secret: Option<String>,
    #[serde(default)]
    auth_identity: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    require_tls: Option<bool>,
    #[serde(default)]
    tls_config: super::http::TlsConfig,
}

impl RawReceiver {
    fn unsupported(&self) -> Option<&'static str> {
        let present = [
            &self.discord_configs,
            &self.pagerduty_configs,
            &self.slack_configs,
            &self.opsgenie_configs,
            &self.wechat_configs,
            &self.pushover_configs,
            &self.victorops_configs,
            &self.sns_configs,
            &self.telegram_configs,
            &self.webex_configs,
        ];
        UNSUPPORTED
            .iter()
            .zip(present)
            .find(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
    }

    /// Validates and applies defaults; `path` is e.g. `receivers[0]`.
    pub(super) fn build(self, path: &str, g: &GlobalConfig) -> Result<Receiver, ConfigError> {
        let name = match &self.name {
            Some(n) if !n.is_empty() => n.clone(),
            _ => return Err(ConfigError::invalid(path, "missing name in receiver")),
        };
        let mut webhook_configs = Vec::new();
        for (i, w) in self.webhook_configs.into_iter().flatten().enumerate() {
            webhook_configs.push(w.build(&format!("{path}.webhook_configs[{i}]"), g)?);
        }
        let mut email_configs = Vec::new();
        for (i, e) in self.email_configs.into_iter().flatten().enumerate() {
            email_configs.push(e.build(&format!("{path}.email_configs[{i}]"), g)?);
        }
        Ok(Receiver {
            name,
            webhook_configs,
            email_configs,
        })
    }

    /// The receiver's name as written (for error messages).
    pub(super) fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The first unsupported integration key present, as an error.
    pub(super) fn check_supported(&self) -> Result<(), ConfigError> {
        match self.unsupported() {
            Some(k) => Err(ConfigError::Unsupported {
                receiver: self.name().to_owned(),
                integration: k.to_owned(),
            }),
            None => Ok(()),
        }
    }
}

/// Checks an http(s) URL the way Alertmanager's `config.URL` does.
pub(super) fn check_url(path: &str, s: &str) -> Result<(), ConfigError> {
    let (scheme, rest) = s.split_once("://").unwrap_or(("", s));
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(ConfigError::invalid(
            path,
            format!("unsupported scheme {scheme:?} for URL"),
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() {
        return Err(ConfigError::invalid(path, "missing host for URL"));
    }
    Ok(())
}

impl RawWebhook {
    fn build(self, path: &str, g: &GlobalConfig) -> Result<WebhookConfig, ConfigError> {
        match (&self.url, &self.url_file) {
            (None, None) => {
                return Err(ConfigError::invalid(
                    path,
                    "one of url or url_file must be configured",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    path,
                    "at most one of url & url_file must be configured",
                ));
            }
            (Some(u), None) => check_url(&format!("{path}.url"), u)?,
            (None, Some(_)) => {}
        }
        let http_config = self.http_config.unwrap_or_else(|| g.http_config.clone());
        http_config.validate(&format!("{path}.http_config"))?;
        let timeout = match &self.timeout {
            Some(t) => Some(
                super::duration::parse_model_duration(t)
                    .map_err(|e| ConfigError::invalid(format!("{path}.timeout"), e.to_string()))?,
            ),
            None => None,
        };
        Ok(WebhookConfig {
            send_resolved: self.send_resolved.unwrap_or(true),
            url: self.url,
            url_file: self.url_file,
            max_alerts: self.max_alerts,
            http_config,
            timeout,
        })
    }
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for ASCII token names.
fn canonical_header(k: &str) -> String {
    if !k
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-!#$%&'*+.^_`|~".contains(&b))
    {
        return k.to_owned();
    }
    let mut upper = true;
    k.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Checks `host:port` like Alertmanager's `HostPort` (empty is allowed: it means unset).
pub(super) fn check_host_port(path: &str, s: &str) -> Result<(), ConfigError> {
    if s.is_empty() {
        return Ok(());
    }
    let bad = |m: &str| Err(ConfigError::invalid(path, format!("address {s}: {m}")));
    let port = if let Some(rest) = s.strip_prefix('[') {
        match rest.split_once(']') {
            Some((_, tail)) => match tail.strip_prefix(':') {
                Some(p) => p,
                None if tail.is_empty() => return bad("missing port in address"),
                None => return bad("too many colons in address"),
            },
            None => return bad("missing ']' in address"),
        }
    } else {
        match s.rsplit_once(':') {
            None => return bad("missing port in address"),
            Some((h, _)) if h.contains(':') => return bad("too many colons in address"),
            Some((_, p)) => p,
        }
    };
    if port.is_empty() {
        return Err(ConfigError::invalid(
            path,
            format!("address {s:?}: port cannot be empty"),
        ));
    }
    Ok(())
}

fn or_global(v: Option<String>, g: &str) -> String {
    match v {
        Some(s) if !s.is_empty() => s,
        _ => g.to_owned(),
    }
}

impl RawEmail {
    fn build(self, path: &str, g: &GlobalConfig) -> Result<EmailConfig, ConfigError> {
        let to = match self.to {
            Some(t) if !t.is_empty() => t,
            _ => {
                return Err(ConfigError::invalid(
                    path,
                    "missing to address in email config",
                ));
            }
        };
        let mut headers = BTreeMap::new();
        for (k, v) in self.headers {
            let key = canonical_header(&k);
            if headers.insert(key.clone(), v).is_some() {
                return Err(ConfigError::invalid(
                    path,
                    format!("duplicate header {key:?} in email config"),
                ));
            }
        }
        if let Some(s) = &self.smarthost {
            check_host_port(&format!("{path}.smarthost"), s)?;
        }
        let smarthost = or_global(self.smarthost, &g.smtp_smarthost);
        if smarthost.is_empty() {
            return Err(ConfigError::invalid(path, "no global SMTP smarthost set"));
        }
        let from = or_global(self.from, &g.smtp_from);
        if from.is_empty() {
            return Err(ConfigError::invalid(
                path,
                "no global mail from address set",
            ));
        }
        let has_pw = self.auth_password.as_deref().is_some_and(|s| !s.is_empty());
        let has_pw_file = self
            .auth_password_file
            .as_deref()
            .is_some_and(|s| !s.is_empty());
        if has_pw && has_pw_file {
            return Err(ConfigError::invalid(
                path,
                "at most one of auth_password & auth_password_file must be configured",
            ));
        }
        let (auth_password, auth_password_file) = if has_pw || has_pw_file {
            (
                self.auth_password.unwrap_or_default(),
                self.auth_password_file.unwrap_or_default(),
            )
        } else {
            (
                g.smtp_auth_password.clone(),
                g.smtp_auth_password_file.clone(),
            )
        };
        headers
            .entry("Subject".into())
            .or_insert_with(|| r#"{{ template "email.default.subject" . }}"#.to_owned());
        headers.entry("To".into()).or_insert_with(|| to.clone());
        headers.entry("From".into()).or_insert_with(|| from.clone());
        Ok(EmailConfig {
            send_resolved: self.send_resolved.unwrap_or(false),
            to,
            from,
            hello: or_global(self.hello, &g.smtp_hello),
            smarthost,
            auth_username: or_global(self.auth_username, &g.smtp_auth_username),
            auth_password,
            auth_password_file,
            auth_secret: or_global(self.auth_secret, &g.smtp_auth_secret),
            auth_identity: or_global(self.auth_identity, &g.smtp_auth_identity),
            headers,
            html: Some(
                self.html
                    .unwrap_or_else(|| r#"{{ template "email.default.html" . }}"#.to_owned()),
            ),
            text: self.text,
            require_tls: self.require_tls.unwrap_or(g.smtp_require_tls),
            tls_config: self.tls_config,
        })
    }
}
