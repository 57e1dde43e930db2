//! `http_config.oauth2`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) as
//! prometheus/common uses it. A token is fetched from `token_url` when none is cached or the
//! cached one expires within 10 seconds, and sent as `Authorization: <type> <token>`.
//!
//! Client authentication follows Go's `oauth2` auto-detection: HTTP basic auth with the
//! URL-encoded id and secret first, and, if the endpoint refuses that, the id and secret in the
//! form body. The secret file, if used, is read on every token request.

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

use super::http_client::ClientError;
use crate::config::OAuth2;

/// A token is renewed when it expires within this margin.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// The token endpoint's answer (the fields used).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A cached token: the header value and when it stops being usable.
struct Cached {
    header: HeaderValue,
    expires: Option<Instant>,
}

/// Fetches and caches tokens for one webhook.
pub struct TokenSource {
    config: OAuth2,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.config.token_url)
            .finish_non_exhaustive()
    }
}

fn err(m: impl Into<String>) -> ClientError {
    ClientError(m.into())
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TokenSource {
    /// A source for `config` (validated by the configuration parser).
    pub fn new(config: &OAuth2) -> Self {
        Self {
            config: config.clone(),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    fn secret(&self) -> Result<String, ClientError> {
        match (&self.config.client_secret, &self.config.client_secret_file) {
            (Some(s), _) if !s.is_empty() => Ok(s.clone()),
            (_, Some(f)) if !f.is_empty() => std::fs::read_to_string(f)
                .map(|s| s.trim().to_owned())
                .map_err(|e| err(format!("unable to read oauth2 client secret file {f}: {e}"))),
            _ => Ok(String::new()),
        }
    }

    /// The `Authorization` header value, from the cache or a new token.
    pub async fn header(&self, client: &reqwest::Client) -> Result<HeaderValue, ClientError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.expires.is_none_or(|e| e > Instant::now() + EXPIRY_MARGIN)
        {
            return Ok(c.header.clone());
        }
        let fresh = self.fetch(client).await?;
        let header = fresh.header.clone();
        *cached = Some(fresh);
        Ok(header)
    }

    async fn fetch(&self, client: &reqwest::Client) -> Result<Cached, ClientError> {
        let secret = self.secret()?;
        let requested = Instant::now();
        let first = self.request(client, &secret, true).await;
        let body = match first {
            Ok(body) => body,
            // Go's auto-detection: retry with the credentials in the body.
            Err(_) => self.request(client, &secret, false).await?,
        };
        let token: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| err(format!("oauth2: invalid token response: {e}")))?;
        if token.access_token.is_empty() {
            return Err(err("oauth2: server response missing access_token"));
        }
        let kind = match token.token_type.as_str() {
            "" | "bearer" | "Bearer" => "Bearer",
            "mac" => "MAC",
            "basic" => "Basic",
            other => other,
        };
        let mut header = HeaderValue::from_str(&format!("{kind} {}", token.access_token))
            .map_err(|_| err("oauth2: the token contains characters not allowed in a header"))?;
        header.set_sensitive(true);
        Ok(Cached {
            header,
            expires: token
                .expires_in
                .filter(|s| *s > 0)
                .map(|s| requested + Duration::from_secs(s)),
        })
    }

    /// One token request; `in_header` puts the client credentials in basic auth, else in the body.
    async fn request(
        &self,
        client: &reqwest::Client,
        secret: &str,
        in_header: bool,
    ) -> Result<Vec<u8>, ClientError> {
        let c = &self.config;
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            if !c.scopes.is_empty() {
                form.append_pair("scope", &c.scopes.join(" "));
            }
            for (k, v) in &c.endpoint_params {
                form.append_pair(k, v);
            }
            if !in_header {
                form.append_pair("client_id", &c.client_id);
                form.append_pair("client_secret", secret);
            }
            form.finish()
        };
        let mut req = client
            .post(&c.token_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json");
        if in_header {
            let raw = format!("{}:{}", url_encode(&c.client_id), url_encode(secret));
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            );
            let mut hv = HeaderValue::from_str(&value)
                .map_err(|_| err("oauth2: client credentials not allowed in a header"))?;
            hv.set_sensitive(true);
            req = req.header(AUTHORIZATION, hv);
        }
        let resp = req
            .body(form)
            .send()
            .await
            .map_err(|e| err(format!("oauth2: token request failed: {}", e.without_url())))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| {
            err(format!(
                "oauth2: reading the token response: {}",
                e.without_url()
            ))
        })?;
        if !status.is_success() {
            return Err(err(format!("oauth2: token endpoint answered {status}")));
        }
        Ok(body.to_vec())
    }
}
