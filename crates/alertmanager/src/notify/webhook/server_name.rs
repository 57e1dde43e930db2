//! `tls_config.server_name`: the certificate of the webhook server is verified against the
//! configured name instead of the URL's host (useful when the URL holds an IP address).
//!
//! reqwest cannot override the name it verifies, so with `server_name` set the TLS client
//! configuration is built here (rustls with aws-lc-rs, the workspace's one crypto stack) and
//! handed to reqwest: the roots are `ca_file`'s certificates, or the platform's like reqwest's
//! default; client certificates and `min_version` apply as usual. Unlike Go, the SNI sent is
//! still the URL's host (none for an IP address): rustls takes it from the connection.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::http_client::ClientError;
use crate::config::TlsConfig;

/// Delegates to `inner`, but verifies the certificate against `name`.
#[derive(Debug)]
struct FixedNameVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedNameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn err(m: impl Into<String>) -> ClientError {
    ClientError(m.into())
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| err(format!("unable to read {what} {path}: {e}")))
}

/// The verifier for `t`: `ca_file`'s roots or the platform's, checked against `server_name`.
fn verifier(
    t: &TlsConfig,
    server_name: &str,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ClientError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| err(format!("invalid tls_config.server_name {server_name:?}")))?;
    let inner: Arc<dyn ServerCertVerifier> = match t.ca_file.as_deref().filter(|s| !s.is_empty()) {
        Some(ca) => {
            let pem = read(ca, "CA file")?;
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert =
                    cert.map_err(|_| err(format!("unable to use specified CA cert {ca}")))?;
                roots
                    .add(cert)
                    .map_err(|_| err(format!("unable to use specified CA cert {ca}")))?;
            }
            if roots.is_empty() {
                return Err(err(format!("unable to use specified CA cert {ca}")));
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(provider),
            )
            .build()
            .map_err(|e| err(format!("unable to use specified CA cert {ca}: {e}")))?
        }
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(Arc::clone(provider))
                .map_err(|e| err(format!("loading the platform's root certificates: {e}")))?,
        ),
    };
    Ok(Arc::new(FixedNameVerifier { inner, name }))
}

/// The rustls client configuration for `tls_config` with `server_name` set.
pub(super) fn client_config(t: &TlsConfig, server_name: &str) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] =
        match t.min_version.as_deref().filter(|s| !s.is_empty()) {
            None | Some("TLS10" | "TLS11" | "TLS12") => rustls::ALL_VERSIONS,
            Some("TLS13") => &[&rustls::version::TLS13],
            Some(other) => return Err(err(format!("unknown TLS version: {other}"))),
        };
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(|e| err(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier(t, server_name, &provider)?);
    let cert = t.cert_file.as_deref().filter(|s| !s.is_empty());
    let key = t.key_file.as_deref().filter(|s| !s.is_empty());
    let mut config = match (cert, key) {
        (Some(c), Some(k)) => {
            let bad = || {
                err(format!(
                    "unable to use specified client cert ({c}) & key ({k})"
                ))
            };
            let chain = CertificateDer::pem_slice_iter(&read(c, "client certificate")?)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| bad())?;
            let key = PrivateKeyDer::from_pem_slice(&read(k, "client key")?).map_err(|_| bad())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|_| bad())?
        }
        (Some(_), None) => return Err(err("client cert file specified without client key file")),
        (None, Some(_)) => return Err(err("client key file specified without client cert file")),
        (None, None) => builder.with_no_client_auth(),
    };
    // Webhooks are sent over HTTP/1.1 only, like upstream.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
