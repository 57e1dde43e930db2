//! `http_config` (prometheus/common `HTTPClientConfig` as vendored by Alertmanager 0.25) and its
//! validation: credentials are mutually exclusive and TLS versions must be known.

use serde::Deserialize;

use super::error::ConfigError;

/// HTTP client settings of an integration (or the global default).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientConfig {
    /// `basic_auth`.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// `authorization` (type defaults to `Bearer`).
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// `oauth2` client-credentials settings.
    #[serde(default)]
    pub oauth2: Option<OAuth2>,
    /// Legacy `bearer_token`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// Legacy `bearer_token_file`.
    #[serde(default)]
    pub bearer_token_file: Option<String>,
    /// `tls_config`.
    #[serde(default)]
    pub tls_config: TlsConfig,
    /// `proxy_url`.
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// `follow_redirects` (default true).
    #[serde(default = "yes")]
    pub follow_redirects: bool,
    /// `enable_http2` (default true).
    #[serde(default = "yes")]
    pub enable_http2: bool,
}

fn yes() -> bool {
    true
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        Self {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: TlsConfig::default(),
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

/// `basic_auth`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    #[serde(default)]
    pub username: String,
    /// Inline password.
    #[serde(default)]
    pub password: Option<String>,
    /// Password read from a file.
    #[serde(default)]
    pub password_file: Option<String>,
}

/// `authorization`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// Scheme; `Bearer` when empty.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Inline credentials.
    #[serde(default)]
    pub credentials: Option<String>,
    /// Credentials read from a file.
    #[serde(default)]
    pub credentials_file: Option<String>,
}

/// `oauth2`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    /// Client id (required).
    #[serde(default)]
    pub client_id: String,
    /// Inline client secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Client secret read from a file.
    #[serde(default)]
    pub client_secret_file: Option<String>,
    /// Requested scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Token endpoint (required).
    #[serde(default)]
    pub token_url: String,
    /// Extra token request parameters.
    #[serde(default)]
    pub endpoint_params: std::collections::BTreeMap<String, String>,
}

/// `tls_config`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// CA bundle path.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Client certificate path.
    #[serde(default)]
    pub cert_file: Option<String>,
    /// Client key path.
    #[serde(default)]
    pub key_file: Option<String>,
    /// Expected server name.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Skip certificate verification.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Minimum TLS version, `TLS10` … `TLS13`.
    #[serde(default)]
    pub min_version: Option<String>,
}

fn set(o: &Option<String>) -> bool {
    o.as_deref().is_some_and(|s| !s.is_empty())
}

impl HttpClientConfig {
    /// Applies prometheus/common's checks; `path` locates the `http_config` in errors.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let err = |m: &str| Err(ConfigError::invalid(path, m));
        let bearer = set(&self.bearer_token) || set(&self.bearer_token_file);
        if set(&self.bearer_token) && set(&self.bearer_token_file) {
            return err("at most one of bearer_token & bearer_token_file must be configured");
        }
        if self.basic_auth.is_some() && bearer {
            return err(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
            );
        }
        if let Some(b) = &self.basic_auth
            && set(&b.password)
            && set(&b.password_file)
        {
            return err("at most one of basic_auth password & password_file must be configured");
        }
        if let Some(a) = &self.authorization {
            if bearer {
                return err(
                    "authorization is not compatible with bearer_token & bearer_token_file",
                );
            }
            if set(&a.credentials) && set(&a.credentials_file) {
                return err(
                    "at most one of authorization credentials & credentials_file must be configured",
                );
            }
            if a.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("basic"))
            {
                return err(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
                );
            }
        }
        if self.basic_auth.is_some() && self.authorization.is_some() {
            return err("at most one of basic_auth & authorization must be configured");
        }
        if let Some(o) = &self.oauth2 {
            if self.basic_auth.is_some() {
                return err("at most one of oauth2 & basic_auth must be configured");
            }
            if o.client_id.is_empty() {
                return err("oauth2 client_id must be configured");
            }
            if set(&o.client_secret) && set(&o.client_secret_file) {
                return err(
                    "at most one of oauth2 client_secret & client_secret_file must be configured",
                );
            }
            if o.token_url.is_empty() {
                return err("oauth2 token_url must be configured");
            }
            if bearer {
                return err(
                    "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
                );
            }
            if self.authorization.is_some() {
                return err("at most one of oauth2 & authorization must be configured");
            }
        }
        if let Some(v) = &self.tls_config.min_version
            && !["TLS10", "TLS11", "TLS12", "TLS13"].contains(&v.as_str())
        {
            return err(&format!("unknown TLS version: {v}"));
        }
        Ok(())
    }
}
