//! The HTTP side of the Prometheus data source: its settings as Grafana stores them, one cached
//! `reqwest` client per data source (rebuilt when the settings change), and one API call.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value as Json;
use wk_tls::ClientTls;

use super::response::{Data, Envelope};
use crate::datasource::{DataSourceConfig, QueryError};

/// What one query needs from the data source's settings.
#[derive(Debug)]
pub(super) struct Settings {
    /// Base URL (`url`), without a trailing slash.
    pub base: url::Url,
    /// POST (form-encoded, Grafana's default) or GET (`jsonData.httpMethod`).
    pub post: bool,
    /// Headers for every request: basic auth and `jsonData.httpHeaderName<n>`.
    pub headers: HeaderMap,
    /// `jsonData.queryTimeout`, sent as the `timeout` parameter.
    pub query_timeout: Option<String>,
    /// `jsonData.customQueryParameters`, added to every query.
    pub custom_params: Vec<(String, String)>,
    /// `jsonData.timeout` (seconds), the HTTP timeout Grafana applies.
    pub http_timeout: Option<Duration>,
    /// `jsonData.timeInterval`, the scrape interval.
    pub scrape_interval: Option<String>,
}

fn json_str<'a>(j: &'a Json, key: &str) -> Option<&'a str> {
    j.get(key)
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn json_bool(j: &Json, key: &str) -> bool {
    j.get(key).and_then(Json::as_bool).unwrap_or(false)
}

fn secret<'a>(cfg: &'a DataSourceConfig, key: &str) -> Option<&'a str> {
    cfg.secure
        .get(key)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

fn invalid(cfg: &DataSourceConfig, reason: impl std::fmt::Display) -> QueryError {
    QueryError::InvalidSettings(format!("prometheus data source {:?}: {reason}", cfg.uid))
}

/// A header value, marked sensitive so it never shows in logs.
fn header_value(cfg: &DataSourceConfig, what: &str, v: &str) -> Result<HeaderValue, QueryError> {
    let mut hv = HeaderValue::from_str(v)
        .map_err(|_| invalid(cfg, format!("{what} is not a valid HTTP header value")))?;
    hv.set_sensitive(true);
    Ok(hv)
}

impl Settings {
    /// Reads the settings Grafana's Prometheus data source uses for queries.
    pub(super) fn from_config(cfg: &DataSourceConfig) -> Result<Self, QueryError> {
        let j = &cfg.json_data;
        if json_bool(j, "sigV4Auth") {
            return Err(invalid(cfg, "SigV4 authentication is not supported"));
        }
        if j.get("azureCredentials").is_some_and(|v| !v.is_null()) {
            return Err(invalid(cfg, "Azure authentication is not supported"));
        }
        let base = url::Url::parse(cfg.url.trim())
            .map_err(|e| invalid(cfg, format!("invalid URL {:?}: {e}", cfg.url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid(cfg, format!("invalid URL {:?}", cfg.url)));
        }
        let post = match json_str(j, "httpMethod").map(str::to_ascii_uppercase) {
            None => true,
            Some(m) if m == "POST" => true,
            Some(m) if m == "GET" => false,
            Some(m) => return Err(invalid(cfg, format!("unsupported httpMethod {m:?}"))),
        };
        let mut headers = HeaderMap::new();
        if let Some(user) = cfg.basic_auth_user.as_deref() {
            use base64::Engine as _;
            let pass = secret(cfg, "basicAuthPassword").unwrap_or("");
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            headers.insert(
                AUTHORIZATION,
                header_value(cfg, "basic auth", &format!("Basic {token}"))?,
            );
        }
        for n in 1.. {
            let Some(name) = json_str(j, &format!("httpHeaderName{n}")) else {
                break;
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(cfg, format!("invalid header name {name:?}")))?;
            let value = secret(cfg, &format!("httpHeaderValue{n}")).unwrap_or("");
            headers.insert(
                name,
                header_value(cfg, &format!("httpHeaderValue{n}"), value)?,
            );
        }
        let custom_params = json_str(j, "customQueryParameters")
            .map(|q| {
                url::form_urlencoded::parse(q.trim_start_matches('?').as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let http_timeout = match j.get("timeout") {
            Some(Json::Number(n)) => n.as_f64(),
            Some(Json::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64);
        Ok(Self {
            base,
            post,
            headers,
            query_timeout: json_str(j, "queryTimeout").map(str::to_owned),
            custom_params,
            http_timeout,
            scrape_interval: json_str(j, "timeInterval").map(str::to_owned),
        })
    }

    /// The URL of `endpoint` (e.g. `api/v1/query`) under the base URL's path.
    fn endpoint(&self, endpoint: &str) -> url::Url {
        let mut u = self.base.clone();
        let path = format!("{}/{endpoint}", u.path().trim_end_matches('/'));
        u.set_path(&path);
        u
    }
}

/// TLS settings (`jsonData.tlsSkipVerify`, `tlsAuthWithCACert`, `tlsAuth`, `serverName`);
/// `None` when none is set, so reqwest's defaults (platform roots) apply.
fn tls(cfg: &DataSourceConfig) -> Result<Option<ClientTls>, QueryError> {
    let j = &cfg.json_data;
    let skip = json_bool(j, "tlsSkipVerify");
    let with_ca = json_bool(j, "tlsAuthWithCACert");
    let client = json_bool(j, "tlsAuth");
    let server_name = json_str(j, "serverName");
    if !skip && !with_ca && !client && server_name.is_none() {
        return Ok(None);
    }
    let pem = |key: &str| -> Result<Vec<u8>, QueryError> {
        secret(cfg, key)
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| invalid(cfg, format!("secureJsonData.{key} is required")))
    };
    Ok(Some(ClientTls {
        ca_pem: with_ca.then(|| pem("tlsCACert")).transpose()?,
        client_pem: if client {
            Some((pem("tlsClientCert")?, pem("tlsClientKey")?))
        } else {
            None
        },
        verify_name: server_name.map(str::to_owned),
        insecure_skip_verify: skip,
        ..ClientTls::default()
    }))
}

fn build_client(cfg: &DataSourceConfig) -> Result<reqwest::Client, QueryError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("Watchkeeper/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(90))
        .no_proxy();
    if let Some(t) = tls(cfg)? {
        let mut config = wk_tls::client_config(&t).map_err(|e| invalid(cfg, e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        b = b.tls_backend_preconfigured(config);
    }
    b.build().map_err(|e| {
        invalid(
            cfg,
            format!("building the HTTP client: {}", e.without_url()),
        )
    })
}

/// A hash of everything the client depends on (and more: any settings change rebuilds it).
fn settings_hash(cfg: &DataSourceConfig) -> u64 {
    let mut h = DefaultHasher::new();
    cfg.kind.hash(&mut h);
    cfg.url.hash(&mut h);
    cfg.json_data.to_string().hash(&mut h);
    cfg.secure.hash(&mut h);
    h.finish()
}

/// Built clients by data source uid, with the hash of the settings they were built from.
static CLIENTS: LazyLock<Mutex<HashMap<String, (u64, reqwest::Client)>>> =
    LazyLock::new(Default::default);

/// Most data sources whose clients are kept; beyond, the cache starts over.
const MAX_CACHED: usize = 1024;

/// The client for `cfg`, built once per uid and settings.
pub(super) fn client(cfg: &DataSourceConfig) -> Result<reqwest::Client, QueryError> {
    let hash = settings_hash(cfg);
    let mut cache = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((h, c)) = cache.get(&cfg.uid)
        && *h == hash
    {
        return Ok(c.clone());
    }
    let c = build_client(cfg)?;
    if cache.len() >= MAX_CACHED && !cache.contains_key(&cfg.uid) {
        cache.clear();
    }
    cache.insert(cfg.uid.clone(), (hash, c.clone()));
    Ok(c)
}

/// The URL without credentials, for messages.
fn display_url(u: &url::Url) -> String {
    let mut u = u.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

/// Calls `endpoint` with `params` and returns the response's `data`. `timeout` bounds the
/// whole exchange.
pub(super) async fn call(
    cfg: &DataSourceConfig,
    settings: &Settings,
    endpoint: &str,
    mut params: Vec<(String, String)>,
    timeout: Duration,
) -> Result<Data, QueryError> {
    let client = client(cfg)?;
    if let Some(t) = &settings.query_timeout {
        params.push(("timeout".into(), t.clone()));
    }
    params.extend(settings.custom_params.iter().cloned());
    let url = settings.endpoint(endpoint);
    let remote =
        |m: String| QueryError::Remote(format!("prometheus data source {:?}: {m}", cfg.uid));
    let request = if settings.post {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    } else {
        client.get(url.clone()).query(&params)
    };
    let timeout = settings.http_timeout.map_or(timeout, |t| t.min(timeout));
    let exchange = async {
        let response = request.headers(settings.headers.clone()).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    };
    let (status, body) = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => return Err(QueryError::Timeout(timeout)),
        Ok(Err(e)) if e.is_timeout() => return Err(QueryError::Timeout(timeout)),
        Ok(Err(e)) => {
            let mut detail = String::new();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                detail.push_str(&format!(": {s}"));
                source = s.source();
            }
            if detail.is_empty() {
                detail = format!(": {}", e.without_url());
            }
            return Err(remote(format!(
                "request to {} failed{detail}",
                display_url(&url)
            )));
        }
        Ok(Ok(r)) => r,
    };
    match serde_json::from_slice::<Envelope>(&body) {
        Ok(env) => {
            if let Some(e) = env.error_message() {
                return Err(remote(e));
            }
            match env.data {
                Some(d) if status.is_success() => Ok(d),
                _ => Err(remote(format!(
                    "unexpected HTTP {status} response without data"
                ))),
            }
        }
        Err(e) if status.is_success() => Err(remote(format!("invalid response: {e}"))),
        Err(_) => {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.trim().chars().take(300).collect();
            Err(remote(format!("HTTP {status}: {text}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(json_data: Json) -> DataSourceConfig {
        DataSourceConfig {
            uid: "p1".into(),
            kind: "prometheus".into(),
            url: "http://prom:9090/sub/".into(),
            json_data,
            ..DataSourceConfig::default()
        }
    }

    #[test]
    fn defaults_to_post_and_joins_paths() {
        let s = Settings::from_config(&cfg(json!({}))).unwrap();
        assert!(s.post);
        assert_eq!(
            s.endpoint("api/v1/query").as_str(),
            "http://prom:9090/sub/api/v1/query"
        );
        let s = Settings::from_config(&cfg(json!({"httpMethod": "GET"}))).unwrap();
        assert!(!s.post);
        assert!(Settings::from_config(&cfg(json!({"httpMethod": "PUT"}))).is_err());
    }

    #[test]
    fn headers_and_basic_auth() {
        let mut c =
            cfg(json!({"httpHeaderName1": "X-Scope-OrgID", "httpHeaderName2": "Authorization"}));
        c.secure.insert("httpHeaderValue1".into(), "tenant".into());
        c.secure
            .insert("httpHeaderValue2".into(), "Bearer t".into());
        let s = Settings::from_config(&c).unwrap();
        assert_eq!(s.headers["x-scope-orgid"], "tenant");
        assert_eq!(s.headers["authorization"], "Bearer t");
        let mut c = cfg(json!({}));
        c.basic_auth_user = Some("u".into());
        c.secure.insert("basicAuthPassword".into(), "p".into());
        let s = Settings::from_config(&c).unwrap();
        assert_eq!(s.headers["authorization"], "Basic dTpw");
    }

    #[test]
    fn other_settings() {
        let s = Settings::from_config(&cfg(json!({
            "queryTimeout": "20s", "customQueryParameters": "a=1&b=x%20y",
            "timeout": "5", "timeInterval": "30s"
        })))
        .unwrap();
        assert_eq!(s.query_timeout.as_deref(), Some("20s"));
        assert_eq!(
            s.custom_params,
            vec![("a".into(), "1".into()), ("b".into(), "x y".into())]
        );
        assert_eq!(s.http_timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.scrape_interval.as_deref(), Some("30s"));
    }

    #[test]
    fn rejects_bad_urls_and_unsupported_auth() {
        let mut c = cfg(json!({}));
        c.url = "prom:9090".into();
        assert!(matches!(
            Settings::from_config(&c),
            Err(QueryError::InvalidSettings(_))
        ));
        assert!(Settings::from_config(&cfg(json!({"sigV4Auth": true}))).is_err());
    }

    #[test]
    fn tls_settings() {
        assert!(tls(&cfg(json!({}))).unwrap().is_none());
        let t = tls(&cfg(json!({"tlsSkipVerify": true}))).unwrap().unwrap();
        assert!(t.insecure_skip_verify);
        assert!(tls(&cfg(json!({"tlsAuthWithCACert": true}))).is_err());
        let t = tls(&cfg(json!({"serverName": "prom.example"})))
            .unwrap()
            .unwrap();
        assert_eq!(t.verify_name.as_deref(), Some("prom.example"));
        // A client is built with skip-verify (rustls via wk-tls).
        assert!(build_client(&cfg(json!({"tlsSkipVerify": true}))).is_ok());
    }

    #[test]
    fn clients_are_cached_per_settings() {
        let a = cfg(json!({"x": 1}));
        let h1 = settings_hash(&a);
        assert_eq!(h1, settings_hash(&a));
        assert_ne!(h1, settings_hash(&cfg(json!({"x": 2}))));
        client(&a).unwrap();
        assert_eq!(CLIENTS.lock().unwrap().get("p1").unwrap().0, h1);
    }
}
