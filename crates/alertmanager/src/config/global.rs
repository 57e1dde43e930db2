//! The `global` section: `resolve_timeout`, the default `http_config`, the `smtp_*` defaults of
//! email integrations, and the other 0.25 keys (kept as written for future integrations).

use std::time::Duration;

use serde::Deserialize;

use super::duration::parse_model_duration;
use super::error::ConfigError;
use super::http::HttpClientConfig;
use super::receiver::check_host_port;

/// Parsed `global` section with Alertmanager's defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalConfig {
    /// Time after which an alert without `EndsAt` is resolved (default 5m).
    pub resolve_timeout: Duration,
    /// Default HTTP client settings of integrations.
    pub http_config: HttpClientConfig,
    /// Default `from` of email configs.
    pub smtp_from: String,
    /// Default HELO host (default `localhost`).
    pub smtp_hello: String,
    /// Default smarthost `host:port`.
    pub smtp_smarthost: String,
    /// Default SMTP user.
    pub smtp_auth_username: String,
    /// Default SMTP password.
    pub smtp_auth_password: String,
    /// Default SMTP password file.
    pub smtp_auth_password_file: String,
    /// Default CRAM-MD5 secret.
    pub smtp_auth_secret: String,
    /// Default PLAIN identity.
    pub smtp_auth_identity: String,
    /// Default `require_tls` (default true).
    pub smtp_require_tls: bool,
    /// The other 0.25 global keys (Slack, PagerDuty, … URLs and keys), as written.
    pub others: OtherGlobals,
}

/// Global keys for integrations that are not implemented yet, accepted and kept.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[allow(missing_docs)]
pub struct OtherGlobals {
    pub slack_api_url: Option<String>,
    pub slack_api_url_file: Option<String>,
    pub victorops_api_key: Option<String>,
    pub victorops_api_key_file: Option<String>,
    pub victorops_api_url: Option<String>,
    pub pagerduty_url: Option<String>,
    pub opsgenie_api_key: Option<String>,
    pub opsgenie_api_key_file: Option<String>,
    pub opsgenie_api_url: Option<String>,
    pub wechat_api_url: Option<String>,
    pub wechat_api_secret: Option<String>,
    pub wechat_api_corp_id: Option<String>,
    pub telegram_api_url: Option<String>,
    pub webex_api_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGlobal {
    #[serde(default)]
    resolve_timeout: Option<String>,
    #[serde(default)]
    http_config: Option<HttpClientConfig>,
    #[serde(default)]
    smtp_from: Option<String>,
    #[serde(default)]
    smtp_hello: Option<String>,
    #[serde(default)]
    smtp_smarthost: Option<String>,
    #[serde(default)]
    smtp_auth_username: Option<String>,
    #[serde(default)]
    smtp_auth_password: Option<String>,
    #[serde(default)]
    smtp_auth_password_file: Option<String>,
    #[serde(default)]
    smtp_auth_secret: Option<String>,
    #[serde(default)]
    smtp_auth_identity: Option<String>,
    #[serde(default)]
    smtp_require_tls: Option<bool>,
    #[serde(default)]
    slack_api_url: Option<String>,
    #[serde(default)]
    slack_api_url_file: Option<String>,
    #[serde(default)]
    victorops_api_key: Option<String>,
    #[serde(default)]
    victorops_api_key_file: Option<String>,
    #[serde(default)]
    victorops_api_url: Option<String>,
    #[serde(default)]
    pagerduty_url: Option<String>,
    #[serde(default)]
    opsgenie_api_key: Option<String>,
    #[serde(default)]
    opsgenie_api_key_file: Option<String>,
    #[serde(default)]
    opsgenie_api_url: Option<String>,
    #[serde(default)]
    wechat_api_url: Option<String>,
    #[serde(default)]
    wechat_api_secret: Option<String>,
    #[serde(default)]
    wechat_api_corp_id: Option<String>,
    #[serde(default)]
    telegram_api_url: Option<String>,
    #[serde(default)]
    webex_api_url: Option<String>,
}

impl RawGlobal {
    pub(super) fn build(self) -> Result<GlobalConfig, ConfigError> {
        let resolve_timeout = match &self.resolve_timeout {
            Some(s) => parse_model_duration(s)
                .map_err(|e| ConfigError::invalid("global.resolve_timeout", e.to_string()))?,
            None => Duration::from_secs(300),
        };
        let http_config = self.http_config.unwrap_or_default();
        http_config.validate("global.http_config")?;
        let smtp_smarthost = self.smtp_smarthost.unwrap_or_default();
        check_host_port("global.smtp_smarthost", &smtp_smarthost)?;
        if self.slack_api_url.is_some() && self.slack_api_url_file.is_some() {
            return Err(ConfigError::invalid(
                "global",
                "at most one of slack_api_url & slack_api_url_file must be configured",
            ));
        }
        if self.opsgenie_api_key.is_some() && self.opsgenie_api_key_file.is_some() {
            return Err(ConfigError::invalid(
                "global",
                "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured",
            ));
        }
        if self.smtp_auth_password.is_some() && self.smtp_auth_password_file.is_some() {
            return Err(ConfigError::invalid(
                "global",
                "at most one of smtp_auth_password & smtp_auth_password_file must be configured",
            ));
        }
        Ok(GlobalConfig {
            resolve_timeout,
            http_config,
            smtp_from: self.smtp_from.unwrap_or_default(),
            smtp_hello: self.smtp_hello.unwrap_or_else(|| "localhost".to_owned()),
            smtp_smarthost,
            smtp_auth_username: self.smtp_auth_username.unwrap_or_default(),
            smtp_auth_password: self.smtp_auth_password.unwrap_or_default(),
            smtp_auth_password_file: self.smtp_auth_password_file.unwrap_or_default(),
            smtp_auth_secret: self.smtp_auth_secret.unwrap_or_default(),
            smtp_auth_identity: self.smtp_auth_identity.unwrap_or_default(),
            smtp_require_tls: self.smtp_require_tls.unwrap_or(true),
            others: OtherGlobals {
                slack_api_url: self.slack_api_url,
                slack_api_url_file: self.slack_api_url_file,
                victorops_api_key: self.victorops_api_key,
                victorops_api_key_file: self.victorops_api_key_file,
                victorops_api_url: self.victorops_api_url,
                pagerduty_url: self.pagerduty_url,
                opsgenie_api_key: self.opsgenie_api_key,
                opsgenie_api_key_file: self.opsgenie_api_key_file,
                opsgenie_api_url: self.opsgenie_api_url,
                wechat_api_url: self.wechat_api_url,
                wechat_api_secret: self.wechat_api_secret,
                wechat_api_corp_id: self.wechat_api_corp_id,
                telegram_api_url: self.telegram_api_url,
                webex_api_url: self.webex_api_url,
            },
        })
    }
}
