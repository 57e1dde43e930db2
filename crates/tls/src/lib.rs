//! TLS client configurations for every outgoing TLS connection that cannot use a library's
//! defaults (webhooks with `server_name`, Redis): rustls with aws-lc-rs, the workspace's one
//! crypto stack. Owns the roots (a CA bundle or the platform's), client certificates, the name
//! a certificate is checked against, the minimum version, cipher suites by their Go names and
//! skipping verification. Reading files is left to callers, whose settings name them.

mod verify;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedCipherSuite};

pub use rustls;

/// The lowest TLS version to speak; rustls speaks TLS 1.2 and 1.3 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinVersion {
    /// TLS 1.2 (also what Go's `VersionTLS10` and `VersionTLS11` give here).
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

impl MinVersion {
    /// Parses a Go name (`VersionTLS10` … `VersionTLS13`), as dskit's `tls_min_version` takes.
    pub fn from_go(name: &str) -> Option<Self> {
        match name {
            "VersionTLS10" | "VersionTLS11" | "VersionTLS12" => Some(Self::Tls12),
            "VersionTLS13" => Some(Self::Tls13),
            _ => None,
        }
    }
}

/// What a TLS client needs, with files already read.
#[derive(Clone, Default)]
pub struct ClientTls {
    /// PEM CA certificates to trust instead of the platform's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate chain and private key (mutual TLS).
    pub client_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// Check the server's certificate against this name instead of the name the caller
    /// connects with.
    pub verify_name: Option<String>,
    /// The lowest version offered.
    pub min_version: MinVersion,
    /// TLS 1.2 cipher suites by their Go (IANA) names; empty keeps the defaults. As in Go,
    /// TLS 1.3 suites are not configurable and naming them changes nothing.
    pub cipher_suites: Vec<String>,
    /// Accept any certificate (signatures in the handshake are still checked).
    pub insecure_skip_verify: bool,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca_pem", &self.ca_pem.is_some())
            .field("client_pem", &self.client_pem.is_some())
            .field("verify_name", &self.verify_name)
            .field("min_version", &self.min_version)
            .field("cipher_suites", &self.cipher_suites)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

/// Why a TLS client configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// The CA bundle holds no usable certificate.
    #[error("no usable CA certificate: {0}")]
    Ca(String),
    /// The client certificate or key is unusable.
    #[error("unusable client certificate or key: {0}")]
    ClientCert(String),
    /// The name to verify against is not a DNS name or IP address.
    #[error("invalid server name {0:?}")]
    ServerName(String),
    /// The platform's root certificates could not be loaded.
    #[error("loading the platform's root certificates: {0}")]
    PlatformRoots(String),
    /// A cipher suite name is unknown or not offered by this build.
    #[error("unsupported cipher suite {name:?} (supported: {supported})")]
    CipherSuite {
        /// The name given.
        name: String,
        /// The names that work, comma separated.
        supported: String,
    },
    /// The versions and suites do not fit together.
    #[error("TLS versions: {0}")]
    Versions(String),
}

/// A valid name for `ServerName`, or the error naming it.
pub fn server_name(name: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(name.to_owned()).map_err(|_| TlsError::ServerName(name.to_owned()))
}

/// The Go name of a rustls cipher suite (`TLS13_AES_128_GCM_SHA256` is Go's
/// `TLS_AES_128_GCM_SHA256`).
fn go_name(s: &SupportedCipherSuite) -> String {
    let name = format!("{:?}", s.suite());
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// The provider with the TLS 1.2 suites restricted to `names` (Go's rule: TLS 1.3 suites stay).
fn provider(names: &[String]) -> Result<CryptoProvider, TlsError> {
    let mut p = rustls::crypto::aws_lc_rs::default_provider();
    if names.is_empty() {
        return Ok(p);
    }
    let all = p.cipher_suites.clone();
    let supported = || all.iter().map(go_name).collect::<Vec<_>>().join(", ");
    let mut keep: Vec<SupportedCipherSuite> = all
        .iter()
        .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)))
        .copied()
        .collect();
    for name in names {
        let name = name.trim();
        // Go's older alias for the ChaCha20 suites.
        let canonical = match name {
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => {
                format!("{name}_SHA256")
            }
            _ => name.to_owned(),
        };
        let suite = all
            .iter()
            .find(|s| go_name(s) == canonical)
            .ok_or_else(|| TlsError::CipherSuite {
                name: name.to_owned(),
                supported: supported(),
            })?;
        if !keep.contains(suite) {
            keep.push(*suite);
        }
    }
    p.cipher_suites = keep;
    Ok(p)
}

/// TLS 1.3 alone.
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// The versions to offer: from `min`, and 1.3 only when no TLS 1.2 suite is left.
fn versions(
    min: MinVersion,
    p: &CryptoProvider,
) -> &'static [&'static rustls::SupportedProtocolVersion] {
    let tls12 = p
        .cipher_suites
        .iter()
        .any(|s| matches!(s, SupportedCipherSuite::Tls12(_)));
    if min == MinVersion::Tls13 || !tls12 {
        TLS13_ONLY
    } else {
        rustls::ALL_VERSIONS
    }
}

/// Builds the rustls client configuration for `t` (no ALPN set).
pub fn client_config(t: &ClientTls) -> Result<ClientConfig, TlsError> {
    let provider = Arc::new(provider(&t.cipher_suites)?);
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions(t.min_version, &provider))
        .map_err(|e| TlsError::Versions(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier(t, &provider)?);
    match &t.client_pem {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| TlsError::ClientCert(format!("certificate: {e}")))?;
            if chain.is_empty() {
                return Err(TlsError::ClientCert("no certificate in the PEM".into()));
            }
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| TlsError::ClientCert(format!("key: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::ClientCert(e.to_string()))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The certificate verifier for `t`.
fn verifier(
    t: &ClientTls,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::client::danger::ServerCertVerifier>, TlsError> {
    if t.insecure_skip_verify {
        return Ok(Arc::new(verify::AnyCertificate(Arc::clone(provider))));
    }
    let inner: Arc<dyn rustls::client::danger::ServerCertVerifier> = match &t.ca_pem {
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| TlsError::Ca(e.to_string()))?;
                roots.add(cert).map_err(|e| TlsError::Ca(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(TlsError::Ca("no certificate in the PEM".into()));
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(provider),
            )
            .build()
            .map_err(|e| TlsError::Ca(e.to_string()))?
        }
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(Arc::clone(provider))
                .map_err(|e| TlsError::PlatformRoots(e.to_string()))?,
        ),
    };
    Ok(match &t.verify_name {
        Some(name) => Arc::new(verify::FixedName {
            inner,
            name: server_name(name)?,
        }),
        None => inner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_versions_parse() {
        assert_eq!(MinVersion::from_go("VersionTLS13"), Some(MinVersion::Tls13));
        assert_eq!(MinVersion::from_go("VersionTLS10"), Some(MinVersion::Tls12));
        assert_eq!(MinVersion::from_go("TLS13"), None);
    }

    #[test]
    fn cipher_suites_restrict_tls12_only() {
        let p = provider(&["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()]).unwrap();
        let names: Vec<_> = p.cipher_suites.iter().map(go_name).collect();
        assert!(names.contains(&"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_owned()));
        assert!(!names.contains(&"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".to_owned()));
        assert!(
            names.contains(&"TLS_AES_128_GCM_SHA256".to_owned()),
            "TLS 1.3 stays"
        );
        assert_eq!(versions(MinVersion::Tls12, &p).len(), 2);
    }

    #[test]
    fn only_tls13_suites_mean_tls13_only() {
        let p = provider(&["TLS_AES_128_GCM_SHA256".into()]).unwrap();
        assert_eq!(versions(MinVersion::Tls12, &p).len(), 1);
    }

    #[test]
    fn go_chacha_alias_is_known() {
        assert!(provider(&["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305".into()]).is_ok());
    }

    #[test]
    fn unsupported_suite_is_named() {
        let e = provider(&["TLS_RSA_WITH_AES_128_CBC_SHA".into()]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("TLS_RSA_WITH_AES_128_CBC_SHA"), "{text}");
        assert!(
            text.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            "{text}"
        );
    }

    #[test]
    fn bad_pem_is_an_error() {
        let t = ClientTls {
            ca_pem: Some(b"not a certificate".to_vec()),
            ..Default::default()
        };
        assert!(matches!(client_config(&t), Err(TlsError::Ca(_))));
        let t = ClientTls {
            verify_name: Some("bad name!".into()),
            ca_pem: None,
            ..Default::default()
        };
        assert!(matches!(
            client_config(&t),
            Err(TlsError::ServerName(_)) | Err(TlsError::PlatformRoots(_))
        ));
    }
}
