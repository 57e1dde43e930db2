//! The generic webhook integration (`webhook_configs`): POSTs the version-4 JSON message
//! ([`payload`]) to a URL with the client built from `http_config` ([`http_client`]).
//!
//! Outcome classification (upstream `Retrier` for webhooks, plus 429):
//! - 2xx: success;
//! - 5xx and 429: retryable error (Alertmanager 0.25 does not retry 429 for webhooks;
//!   Watchkeeper does, as later upstream versions classify it as rate limiting);
//! - other status codes (4xx, and 3xx when redirects are not followed): non-retryable;
//! - connection failures and timeouts: retryable;
//! - unreadable `url_file`, invalid URL or credentials files: non-retryable.
//!
//! Error messages carry the status code and at most 1 KiB of the response body, never the URL
//! (it may hold userinfo or secret query parameters) nor credentials.
//!
//! Requests carry `User-Agent: Watchkeeper/<crate version>` (upstream sends
//! `Alertmanager/<version>`) and `Content-Type: application/json`.

pub mod http_client;
mod oauth2;
pub mod payload;
mod server_name;

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use crate::alert::Alert;
use crate::config::WebhookConfig;
use crate::notify::{BoxFuture, GroupContext, Integration, NotifyError};

pub use http_client::ClientError;
pub use payload::{Message, MessageAlert, MessageOptions, build_message, encode};

/// Integration name used in the nflog and metrics.
pub const NAME: &str = "webhook";

/// Most response-body bytes quoted in an error message.
pub const MAX_ERROR_BODY: usize = 1024;

/// The `User-Agent` header value.
pub fn user_agent() -> String {
    format!("Watchkeeper/{}", env!("CARGO_PKG_VERSION"))
}

/// Optional behaviour beyond the 0.25 configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookOptions {
    /// The external URL reported as `externalURL`.
    pub external_url: String,
    /// Per-request timeout when the configuration sets none; `None` = none.
    pub timeout: Option<Duration>,
    /// Send `notification_reason` (newer upstream payload; 0.25 does not).
    pub notification_reason: bool,
}

/// One configured webhook.
#[derive(Debug, Clone)]
pub struct WebhookIntegration {
    config: WebhookConfig,
    index: u32,
    client: reqwest::Client,
    opts: WebhookOptions,
    /// Token source when `http_config.oauth2` is set.
    oauth2: Option<std::sync::Arc<oauth2::TokenSource>>,
}

impl WebhookIntegration {
    /// Builds the integration with Alertmanager 0.25 behaviour.
    pub fn new(
        config: &WebhookConfig,
        index: u32,
        external_url: String,
    ) -> Result<Self, ClientError> {
        let opts = WebhookOptions {
            external_url,
            ..WebhookOptions::default()
        };
        Self::with_options(config, index, opts)
    }

    /// Builds the integration with extra options.
    pub fn with_options(
        config: &WebhookConfig,
        index: u32,
        opts: WebhookOptions,
    ) -> Result<Self, ClientError> {
        let timeout = config.timeout.filter(|t| !t.is_zero()).or(opts.timeout);
        let client = http_client::build_client(&config.http_config, &user_agent(), timeout)?;
        let oauth2 = config
            .http_config
            .oauth2
            .as_ref()
            .map(|o| std::sync::Arc::new(oauth2::TokenSource::new(o)));
        Ok(Self {
            config: config.clone(),
            index,
            client,
            opts,
            oauth2,
        })
    }

    fn fail(&self, retry: bool, message: impl Into<String>) -> NotifyError {
        NotifyError::Integration {
            integration: NAME.to_owned(),
            index: self.index,
            retry,
            message: message.into(),
            reason: crate::notify::FailureReason::Other,
        }
    }

    fn target_url(&self) -> Result<reqwest::Url, NotifyError> {
        let raw = match (&self.config.url, &self.config.url_file) {
            (Some(u), _) if !u.is_empty() => u.clone(),
            (_, Some(f)) if !f.is_empty() => std::fs::read_to_string(f)
                .map_err(|e| self.fail(false, format!("read url_file: {e}")))?
                .trim()
                .to_owned(),
            _ => return Err(self.fail(false, "no URL configured")),
        };
        reqwest::Url::parse(&raw).map_err(|e| self.fail(false, format!("invalid URL: {e}")))
    }

    async fn send(
        &self,
        ctx: &GroupContext,
        reason: &str,
        alerts: &[Alert],
    ) -> Result<(), NotifyError> {
        let mopts = MessageOptions {
            max_alerts: self.config.max_alerts,
            external_url: self.opts.external_url.clone(),
            notification_reason: self.opts.notification_reason,
        };
        let msg = build_message(ctx, reason, alerts, &mopts);
        let body = encode(&msg).map_err(|e| self.fail(false, format!("encoding message: {e}")))?;
        let url = self.target_url()?;
        let auth = http_client::auth_header(&self.config.http_config)
            .map_err(|e| self.fail(false, e.0))?;
        let mut req = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(a) = auth {
            req = req.header(AUTHORIZATION, a);
        }
        if let Some(source) = &self.oauth2 {
            // A token that cannot be obtained is retried like a connection failure.
            let token = source
                .header(&self.client)
                .await
                .map_err(|e| self.fail(true, e.0))?;
            req = req.header(AUTHORIZATION, token);
        }
        let mut resp = req.send().await.map_err(|e| self.fail(true, describe(e)))?;
        let status = resp.status();
        let mut snippet = Vec::new();
        while snippet.len() < MAX_ERROR_BODY {
            match resp.chunk().await {
                Ok(Some(c)) => snippet.extend_from_slice(&c),
                Ok(None) | Err(_) => break,
            }
        }
        if status.is_success() {
            return Ok(());
        }
        let code = status.as_u16();
        let retry = status.is_server_error() || code == 429;
        let text = truncate_utf8(&snippet, MAX_ERROR_BODY);
        let mut message = format!("unexpected status code {code}");
        if !text.is_empty() {
            message.push_str(": ");
            message.push_str(&text);
        }
        let mut err = self.fail(retry, message);
        if let NotifyError::Integration { reason, .. } = &mut err {
            *reason = crate::notify::FailureReason::from_status(code);
        }
        Err(err)
    }
}

/// A reqwest error without its URL, with the source chain.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut out = kind.to_owned();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// At most `max` bytes of `b` as text, cut at a character boundary.
fn truncate_utf8(b: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(b.get(..max.min(b.len())).unwrap_or(b));
    let s = s.trim_end_matches('\u{FFFD}');
    s.trim().to_owned()
}

impl Integration for WebhookIntegration {
    fn name(&self) -> &str {
        NAME
    }

    fn index(&self) -> u32 {
        self.index
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(
        &'a self,
        ctx: &'a GroupContext,
        reason: &'a str,
        alerts: &'a [Alert],
    ) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(self.send(ctx, reason, alerts))
    }
}
