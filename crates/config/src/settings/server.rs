//! `[server]`: the HTTP listener and the public URL.

use std::path::PathBuf;
use std::time::Duration;

use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

/// The protocol the HTTP server speaks (`protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS; needs `cert_file` and `cert_key`.
    Https,
}

impl Protocol {
    /// The name used in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `protocol`: `http` (default) or `https`.
    pub protocol: Protocol,
    /// `http_addr`: address to bind; empty (default) means all interfaces.
    pub http_addr: String,
    /// `http_port` (default 3000).
    pub http_port: u16,
    /// `domain` (default `localhost`): the public host name.
    pub domain: String,
    /// `root_url`: the full public URL, always ending in `/`.
    pub root_url: String,
    /// `cert_file`: TLS certificate (PEM), required for https.
    pub cert_file: Option<PathBuf>,
    /// `cert_key`: TLS private key (PEM), required for https.
    pub cert_key: Option<PathBuf>,
    /// `read_timeout`: limit for reading a request; zero (default) means none.
    pub read_timeout: Duration,
    /// `router_logging` (default false): log every HTTP request.
    pub router_logging: bool,
    /// `enable_gzip` (default false): compress HTTP responses.
    pub enable_gzip: bool,
    /// `serve_from_sub_path` (default false): serve every route under the path of `root_url`.
    pub serve_from_sub_path: bool,
}

impl ServerSettings {
    /// The path routes are served under: the path of `root_url` without its trailing `/`
    /// when `serve_from_sub_path` is on (e.g. `/watchkeeper`), otherwise empty.
    pub fn sub_path(&self) -> String {
        if !self.serve_from_sub_path {
            return String::new();
        }
        url::Url::parse(&self.root_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default()
    }
}

impl ServerSettings {
    pub(crate) fn read(raw: &RawConfig, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, "server", diag);
        let protocol = r.parse("protocol", Protocol::Http, |s| {
            match s.to_ascii_lowercase().as_str() {
                "http" => Ok(Protocol::Http),
                "https" => Ok(Protocol::Https),
                "h2" | "socket" => Err(format!(
                    "protocol {s} is not supported by Watchkeeper: expected http or https"
                )),
                _ => Err("expected one of: http, https".to_string()),
            }
        });
        let http_port = r.try_port("http_port", 3000);
        let mut root_url = r.string("root_url", "http://localhost:3000/");
        if !root_url.ends_with('/') {
            root_url.push('/');
        }
        // root_url usually refers to protocol and http_port; an error there is reported once.
        if protocol.is_some()
            && http_port.is_some()
            && let Err(err) = url::Url::parse(&root_url)
        {
            r.problem("root_url", format!("invalid root_url {root_url:?}: {err}"));
        }
        let protocol = protocol.unwrap_or(Protocol::Http);
        let cert_file = r.path("cert_file");
        let cert_key = r.path("cert_key");
        if protocol == Protocol::Https {
            check_tls_file(&mut r, cert_file.as_ref(), "cert_file", "cert_file");
            check_tls_file(&mut r, cert_key.as_ref(), "cert_key", "key_file");
        }
        ServerSettings {
            protocol,
            http_addr: r.string("http_addr", ""),
            http_port: http_port.unwrap_or(3000),
            domain: r.string("domain", "localhost"),
            root_url,
            cert_file,
            cert_key,
            read_timeout: r.duration("read_timeout", Duration::ZERO),
            router_logging: r.bool("router_logging", false),
            enable_gzip: r.bool("enable_gzip", false),
            serve_from_sub_path: r.bool("serve_from_sub_path", false),
        }
    }
}

/// Grafana's HTTPS start-up checks: the file must be named and must exist.
fn check_tls_file(r: &mut SectionReader<'_>, path: Option<&PathBuf>, key: &str, label: &str) {
    match path {
        None => r.problem(
            "protocol",
            format!("{key} cannot be empty when using HTTPS"),
        ),
        Some(path) if !path.exists() => r.problem(
            key,
            format!(
                "cannot find SSL {label} at {:?}",
                path.display().to_string()
            ),
        ),
        Some(_) => {}
    }
}
