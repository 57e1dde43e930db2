//! Builds the HTTP client of a webhook from `http_config` (prometheus/common
//! `NewClientFromConfig` semantics, as far as reqwest allows) and computes the credentials
//! header per request, so `*_file` secrets are re-read on every send like upstream.
//!
//! `oauth2` tokens come from [`super::oauth2`], `tls_config.server_name` from
//! [`super::server_name`].

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Certificate, Client, Identity, redirect, tls};

use crate::config::{HttpClientConfig, TlsConfig};

/// Why an HTTP client could not be built or credentials could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(pub String);

fn err(m: impl Into<String>) -> ClientError {
    ClientError(m.into())
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| err(format!("unable to read {what} {path}: {e}")))
}

fn non_empty(o: &Option<String>) -> Option<&str> {
    o.as_deref().filter(|s| !s.is_empty())
}

/// Builds a reqwest client: HTTP/1.1 only (upstream disables HTTP/2 for webhooks), no proxy
/// unless `proxy_url`, redirects per `follow_redirects` (10 hops like Go), TLS per `tls_config`.
pub fn build_client(
    cfg: &HttpClientConfig,
    user_agent: &str,
    timeout: Option<Duration>,
) -> Result<Client, ClientError> {
    let mut b = Client::builder()
        .user_agent(user_agent)
        .http1_only()
        .redirect(if cfg.follow_redirects {
            redirect::Policy::limited(10)
        } else {
            redirect::Policy::none()
        });
    b = match non_empty(&cfg.proxy_url) {
        Some(p) => b.proxy(reqwest::Proxy::all(p).map_err(|_| err("invalid proxy_url"))?),
        None => b.no_proxy(),
    };
    if let Some(t) = timeout.filter(|t| !t.is_zero()) {
        b = b.timeout(t);
    }
    b = apply_tls(b, &cfg.tls_config)?;
    b.build()
        .map_err(|e| err(format!("building HTTP client: {}", e.without_url())))
}

fn apply_tls(
    mut b: reqwest::ClientBuilder,
    t: &TlsConfig,
) -> Result<reqwest::ClientBuilder, ClientError> {
    if let Some(name) = non_empty(&t.server_name)
        && !t.insecure_skip_verify
    {
        let config = super::server_name::client_config(t, name)?;
        return Ok(b.tls_backend_preconfigured(config));
    }
    if let Some(ca) = non_empty(&t.ca_file) {
        let certs = Certificate::from_pem_bundle(&read(ca, "CA file")?)
            .map_err(|_| err(format!("unable to use specified CA cert {ca}")))?;
        if certs.is_empty() {
            return Err(err(format!("unable to use specified CA cert {ca}")));
        }
        b = b.tls_certs_only(certs);
    }
    match (non_empty(&t.cert_file), non_empty(&t.key_file)) {
        (Some(c), Some(k)) => {
            let mut pem = read(c, "client certificate")?;
            pem.push(b'\n');
            pem.extend(read(k, "client key")?);
            let id = Identity::from_pem(&pem).map_err(|_| {
                err(format!(
                    "unable to use specified client cert ({c}) & key ({k})"
                ))
            })?;
            b = b.identity(id);
        }
        (Some(_), None) => return Err(err("client cert file specified without client key file")),
        (None, Some(_)) => return Err(err("client key file specified without client cert file")),
        (None, None) => {}
    }
    if t.insecure_skip_verify {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    if let Some(v) = non_empty(&t.min_version) {
        let v = match v {
            "TLS10" => tls::Version::TLS_1_0,
            "TLS11" => tls::Version::TLS_1_1,
            "TLS12" => tls::Version::TLS_1_2,
            "TLS13" => tls::Version::TLS_1_3,
            other => return Err(err(format!("unknown TLS version: {other}"))),
        };
        b = b.tls_version_min(v);
    }
    Ok(b)
}

/// The `Authorization` header for one request, reading `*_file` secrets now (trimmed like
/// upstream). `None` when the config carries no credentials.
pub fn auth_header(cfg: &HttpClientConfig) -> Result<Option<HeaderValue>, ClientError> {
    let value = if let Some(ba) = &cfg.basic_auth {
        let password = match (non_empty(&ba.password), non_empty(&ba.password_file)) {
            (Some(p), _) => p.to_owned(),
            (None, Some(f)) => file_secret(f, "basic auth password file")?,
            (None, None) => String::new(),
        };
        use base64::Engine as _;
        let raw = format!("{}:{}", ba.username, password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    } else if let Some(a) = &cfg.authorization {
        let kind = non_empty(&a.kind).unwrap_or("Bearer");
        let secret = match (non_empty(&a.credentials), non_empty(&a.credentials_file)) {
            (Some(c), _) => c.to_owned(),
            (None, Some(f)) => file_secret(f, "authorization credentials file")?,
            (None, None) => return Ok(None),
        };
        format!("{kind} {secret}")
    } else if let Some(t) = non_empty(&cfg.bearer_token) {
        format!("Bearer {t}")
    } else if let Some(f) = non_empty(&cfg.bearer_token_file) {
        format!("Bearer {}", file_secret(f, "bearer token file")?)
    } else {
        return Ok(None);
    };
    let mut hv = HeaderValue::from_str(&value)
        .map_err(|_| err("credentials contain characters not allowed in an HTTP header"))?;
    hv.set_sensitive(true);
    Ok(Some(hv))
}

fn file_secret(path: &str, what: &str) -> Result<String, ClientError> {
    let raw = read(path, what)?;
    Ok(String::from_utf8_lossy(&raw).trim().to_owned())
}
