//! `tls_config.server_name`: the certificate of the webhook server is verified against the
//! configured name instead of the URL's host (useful when the URL holds an IP address).
//!
//! reqwest cannot override the name it verifies, so with `server_name` set the TLS client
//! configuration is built by [`wk_tls`] and handed to reqwest: the roots are `ca_file`'s
//! certificates, or the platform's like reqwest's default; client certificates and
//! `min_version` apply as usual. Unlike Go, the SNI sent is still the URL's host (none for an
//! IP address): rustls takes it from the connection.

use rustls::ClientConfig;
use wk_tls::{ClientTls, MinVersion, TlsError};

use super::http_client::ClientError;
use crate::config::TlsConfig;

fn err(m: impl Into<String>) -> ClientError {
    ClientError(m.into())
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| err(format!("unable to read {what} {path}: {e}")))
}

fn non_empty(o: &Option<String>) -> Option<&str> {
    o.as_deref().filter(|s| !s.is_empty())
}

/// The rustls client configuration for `tls_config` with `server_name` set.
pub(super) fn client_config(t: &TlsConfig, server_name: &str) -> Result<ClientConfig, ClientError> {
    let min_version = match non_empty(&t.min_version) {
        None | Some("TLS10" | "TLS11" | "TLS12") => MinVersion::Tls12,
        Some("TLS13") => MinVersion::Tls13,
        Some(other) => return Err(err(format!("unknown TLS version: {other}"))),
    };
    let ca = non_empty(&t.ca_file);
    let client_pem = match (non_empty(&t.cert_file), non_empty(&t.key_file)) {
        (Some(c), Some(k)) => Some((read(c, "client certificate")?, read(k, "client key")?)),
        (Some(_), None) => return Err(err("client cert file specified without client key file")),
        (None, Some(_)) => return Err(err("client key file specified without client cert file")),
        (None, None) => None,
    };
    let tls = ClientTls {
        ca_pem: ca.map(|ca| read(ca, "CA file")).transpose()?,
        client_pem,
        verify_name: Some(server_name.to_owned()),
        min_version,
        ..ClientTls::default()
    };
    let mut config = wk_tls::client_config(&tls).map_err(|e| match e {
        TlsError::Ca(_) => err(format!(
            "unable to use specified CA cert {}",
            ca.unwrap_or_default()
        )),
        TlsError::ClientCert(_) => err(format!(
            "unable to use specified client cert ({}) & key ({})",
            non_empty(&t.cert_file).unwrap_or_default(),
            non_empty(&t.key_file).unwrap_or_default()
        )),
        TlsError::ServerName(name) => err(format!("invalid tls_config.server_name {name:?}")),
        other => err(other.to_string()),
    })?;
    // Webhooks are sent over HTTP/1.1 only, like upstream.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
