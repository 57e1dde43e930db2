//! Webhook integration against real local HTTP(S) servers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use wk_alertmanager::alert::{Alert, zero_time};
use wk_alertmanager::config::{Authorization, BasicAuth, HttpClientConfig, WebhookConfig};
use wk_alertmanager::labels::LabelSet;
use wk_alertmanager::notify::webhook::WebhookIntegration;
use wk_alertmanager::notify::{GroupContext, Integration, NotifyError};

#[derive(Clone, Default)]
struct Recorder {
    status: Arc<Mutex<u16>>,
    requests: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

impl Recorder {
    fn last(&self) -> (HeaderMap, serde_json::Value, String) {
        let reqs = self.requests.lock().expect("lock");
        let (h, b) = reqs.last().expect("a request was received").clone();
        let raw = String::from_utf8(b.to_vec()).expect("utf-8 body");
        (h, serde_json::from_str(&raw).expect("JSON body"), raw)
    }
}

async fn hook(State(r): State<Recorder>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    r.requests.lock().expect("lock").push((headers, body));
    let code = *r.status.lock().expect("lock");
    let status = StatusCode::from_u16(code).expect("status");
    (status, format!("server says {code} {}", "x".repeat(3000)))
}

fn router(r: &Recorder) -> Router {
    Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone())
}

async fn serve() -> (Recorder, SocketAddr) {
    let r = Recorder::default();
    *r.status.lock().expect("lock") = 200;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(&r);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, addr)
}

fn t(s: i64, nanos: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(s, nanos).single().expect("time")
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs.iter().copied().collect()
}

fn alert(l: &[(&str, &str)], a: &[(&str, &str)], ends: DateTime<Utc>) -> Alert {
    Alert {
        labels: labels(l),
        annotations: labels(a),
        starts_at: t(1_700_000_000, 500_000_000),
        ends_at: ends,
        generator_url: "http://prom/graph?g0.expr=up&x=<y>".into(),
        updated_at: t(1_700_000_000, 0),
        timeout: false,
    }
}

fn ctx() -> GroupContext {
    GroupContext {
        group_key: "{}:{alertname=\"Test\"}".into(),
        group_labels: labels(&[("alertname", "Test")]),
        receiver: "team.a+b".into(),
        route_id: "{}".into(),
        group_interval: Duration::from_secs(300),
        repeat_interval: Duration::from_secs(3600),
        mute_time_intervals: vec![],
        active_time_intervals: vec![],
        now: t(1_700_000_100, 0),
    }
}

fn config(url: String, http: HttpClientConfig, max_alerts: u64) -> WebhookConfig {
    WebhookConfig {
        send_resolved: true,
        url: Some(url),
        url_file: None,
        max_alerts,
        http_config: http,
        timeout: None,
    }
}

fn two_alerts() -> Vec<Alert> {
    vec![
        alert(
            &[("alertname", "Test"), ("job", "a<&>\"é\n"), ("sev", "page")],
            &[("summary", "s \u{2028} ü"), ("shared", "x")],
            t(1_700_000_200, 0),
        ),
        alert(
            &[("alertname", "Test"), ("job", "b"), ("sev", "page")],
            &[("shared", "x")],
            t(1_700_000_050, 123_400_000),
        ),
    ]
}

async fn send(cfg: &WebhookConfig, alerts: &[Alert]) -> Result<(), NotifyError> {
    let wh = WebhookIntegration::new(cfg, 0, "http://am.example:9093".into()).expect("build");
    wh.notify(&ctx(), "first notification", alerts).await
}

fn retry_of(e: &NotifyError) -> bool {
    match e {
        NotifyError::Integration { retry, .. } => *retry,
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn payload_matches_golden() {
    let (r, addr) = serve().await;
    let cfg = config(
        format!("http://{addr}/hook"),
        HttpClientConfig::default(),
        0,
    );
    let alerts = two_alerts();
    send(&cfg, &alerts).await.expect("success");
    let (h, body, raw) = r.last();
    let golden = json!({
        "receiver": "team\\.a\\+b",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Test", "job": "a<&>\"é\n", "sev": "page"},
                "annotations": {"shared": "x", "summary": "s \u{2028} ü"},
                "startsAt": "2023-11-14T22:13:20.5Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom/graph?g0.expr=up&x=<y>",
                "fingerprint": alerts[0].fingerprint().to_string(),
            },
            {
                "status": "resolved",
                "labels": {"alertname": "Test", "job": "b", "sev": "page"},
                "annotations": {"shared": "x"},
                "startsAt": "2023-11-14T22:13:20.5Z",
                "endsAt": "2023-11-14T22:14:10.1234Z",
                "generatorURL": "http://prom/graph?g0.expr=up&x=<y>",
                "fingerprint": alerts[1].fingerprint().to_string(),
            }
        ],
        "groupLabels": {"alertname": "Test"},
        "commonLabels": {"alertname": "Test", "sev": "page"},
        "commonAnnotations": {"shared": "x"},
        "externalURL": "http://am.example:9093",
        "version": "4",
        "groupKey": "{}:{alertname=\"Test\"}",
        "truncatedAlerts": 0,
    });
    let (got, want) = (
        body.as_object().expect("obj"),
        golden.as_object().expect("obj"),
    );
    assert_eq!(got.len(), want.len());
    for (k, v) in want {
        assert_eq!(got.get(k), Some(v), "field {k}");
    }
    // Upstream field order, Go's HTML-safe escaping and the encoder's trailing newline.
    let order = [
        "\"receiver\"",
        "\"status\"",
        "\"alerts\"",
        "\"groupLabels\"",
        "\"commonLabels\"",
        "\"commonAnnotations\"",
        "\"externalURL\"",
        "\"version\"",
        "\"groupKey\"",
        "\"truncatedAlerts\"",
    ];
    let pos: Vec<usize> = order.iter().map(|k| raw.find(k).expect("key")).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "order {pos:?}");
    assert!(raw.contains("a\\u003c\\u0026\\u003e\\\"é\\n"), "{raw}");
    assert!(raw.contains("\\u2028"));
    assert!(raw.ends_with("}\n"));
    assert_eq!(h["content-type"], "application/json");
    let ua = h["user-agent"].to_str().expect("ua");
    assert!(ua.starts_with("Watchkeeper/"), "{ua}");
    assert!(h.get("authorization").is_none());
}

#[tokio::test]
async fn all_resolved_and_truncation() {
    let (r, addr) = serve().await;
    let mut alerts = two_alerts();
    alerts.push(alert(&[("alertname", "Other")], &[], zero_time()));
    let cfg = config(
        format!("http://{addr}/hook"),
        HttpClientConfig::default(),
        1,
    );
    // Only the first (firing) alert is kept.
    send(&cfg, &alerts).await.expect("success");
    let (_, body, _) = r.last();
    assert_eq!(body["truncatedAlerts"], 2);
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["commonLabels"]["job"], "a<&>\"é\n");
    // Resolved only.
    let cfg = config(
        format!("http://{addr}/hook"),
        HttpClientConfig::default(),
        0,
    );
    send(&cfg, &alerts[1..2]).await.expect("success");
    let (_, body, _) = r.last();
    assert_eq!(body["status"], "resolved");
    assert_eq!(body["truncatedAlerts"], 0);
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wk-webhook-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmpdir");
    d
}

#[tokio::test]
async fn credentials_headers() {
    let (r, addr) = serve().await;
    let url = format!("http://{addr}/hook");
    let basic = HttpClientConfig {
        basic_auth: Some(BasicAuth {
            username: "user".into(),
            password: Some("pass".into()),
            password_file: None,
        }),
        ..HttpClientConfig::default()
    };
    send(&config(url.clone(), basic, 0), &two_alerts())
        .await
        .expect("ok");
    assert_eq!(r.last().0["authorization"], "Basic dXNlcjpwYXNz");

    let dir = tmpdir("creds");
    let file = dir.join("token");
    std::fs::write(&file, "tok-1\n").expect("write");
    let bearer = HttpClientConfig {
        authorization: Some(Authorization {
            kind: None,
            credentials: None,
            credentials_file: Some(file.display().to_string()),
        }),
        ..HttpClientConfig::default()
    };
    let cfg = config(url.clone(), bearer, 0);
    send(&cfg, &two_alerts()).await.expect("ok");
    assert_eq!(r.last().0["authorization"], "Bearer tok-1");
    // The file is re-read on every send.
    std::fs::write(&file, "tok-2").expect("write");
    send(&cfg, &two_alerts()).await.expect("ok");
    assert_eq!(r.last().0["authorization"], "Bearer tok-2");

    let legacy = HttpClientConfig {
        bearer_token: Some("legacy".into()),
        ..HttpClientConfig::default()
    };
    send(&config(url.clone(), legacy, 0), &two_alerts())
        .await
        .expect("ok");
    assert_eq!(r.last().0["authorization"], "Bearer legacy");

    let custom = HttpClientConfig {
        authorization: Some(Authorization {
            kind: Some("Token".into()),
            credentials: Some("c".into()),
            credentials_file: None,
        }),
        ..HttpClientConfig::default()
    };
    send(&config(url, custom, 0), &two_alerts())
        .await
        .expect("ok");
    assert_eq!(r.last().0["authorization"], "Token c");
}

#[tokio::test]
async fn url_file_is_read_at_send_time() {
    let (r, addr) = serve().await;
    let dir = tmpdir("urlfile");
    let file = dir.join("url");
    let cfg = WebhookConfig {
        url: None,
        url_file: Some(file.display().to_string()),
        ..config(String::new(), HttpClientConfig::default(), 0)
    };
    let wh = WebhookIntegration::new(&cfg, 0, String::new()).expect("build");
    let err = wh
        .notify(&ctx(), "", &two_alerts())
        .await
        .expect_err("no file yet");
    assert!(!retry_of(&err));
    std::fs::write(&file, format!("http://{addr}/hook\n")).expect("write");
    wh.notify(&ctx(), "", &two_alerts()).await.expect("ok");
    assert_eq!(r.requests.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn status_classification() {
    let (r, addr) = serve().await;
    let url = format!("http://user:hunter2@{addr}/hook?token=sekrit");
    let cfg = config(url, HttpClientConfig::default(), 0);
    for (code, retry) in [
        (500, true),
        (503, true),
        (429, true),
        (400, false),
        (404, false),
    ] {
        *r.status.lock().expect("lock") = code;
        let err = send(&cfg, &two_alerts()).await.expect_err("failure");
        assert_eq!(retry_of(&err), retry, "status {code}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("unexpected status code {code}: server says")),
            "{msg}"
        );
        assert!(msg.len() < 1200, "body not truncated: {}", msg.len());
        assert!(!msg.contains("hunter2") && !msg.contains("sekrit"), "{msg}");
    }
    *r.status.lock().expect("lock") = 204;
    send(&cfg, &two_alerts()).await.expect("2xx is success");
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let cfg = config(
        format!("http://u:secretpw@{addr}/hook?k=secretq"),
        HttpClientConfig::default(),
        0,
    );
    let err = send(&cfg, &two_alerts()).await.expect_err("refused");
    assert!(retry_of(&err));
    let msg = err.to_string();
    assert!(
        !msg.contains("secretpw") && !msg.contains("secretq"),
        "{msg}"
    );
}

/// A `timeout` from the configuration ends a request the server does not answer in time, as a
/// retryable error; without it the same request succeeds.
#[tokio::test]
async fn configured_timeout_is_retryable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route(
        "/slow",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            StatusCode::OK
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/slow");
    let cfg = WebhookConfig {
        timeout: Some(Duration::from_millis(100)),
        ..config(url.clone(), HttpClientConfig::default(), 0)
    };
    let started = std::time::Instant::now();
    let err = send(&cfg, &two_alerts()).await.expect_err("timed out");
    assert!(retry_of(&err), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(550),
        "{:?}",
        started.elapsed()
    );
    let cfg = config(url, HttpClientConfig::default(), 0);
    send(&cfg, &two_alerts())
        .await
        .expect("no timeout configured");
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .stderr(std::process::Stdio::null())
        .current_dir(dir)
        .status()
        .expect("openssl runs");
    assert!(ok.success(), "openssl {args:?}");
}

/// A CA and a leaf for 127.0.0.1 signed by it.
fn make_pki(dir: &Path) {
    make_pki_for(dir, "IP:127.0.0.1");
}

/// A CA and a leaf with the subject alternative name `san` (e.g. `DNS:x`) signed by it.
fn make_pki_for(dir: &Path, san: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=wk test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

/// A recording HTTPS server with `leaf.pem`/`leaf.key` from `dir`, answering 200.
async fn serve_tls(dir: &Path) -> (Recorder, SocketAddr) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
    .await
    .expect("server TLS");
    let r = Recorder::default();
    *r.status.lock().expect("lock") = 200;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let server = axum_server::tls_rustls::from_tcp_rustls(listener, tls).expect("server");
    let app = router(&r);
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    (r, addr)
}

#[tokio::test]
async fn https_with_test_ca() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tmpdir("tls");
    make_pki(&dir);
    let (r, addr) = serve_tls(&dir).await;
    let url = format!("https://{addr}/hook");

    let mut with_ca = HttpClientConfig::default();
    with_ca.tls_config.ca_file = Some(dir.join("ca.pem").display().to_string());
    send(&config(url.clone(), with_ca, 0), &two_alerts())
        .await
        .expect("trusted via ca_file");

    let err = send(
        &config(url.clone(), HttpClientConfig::default(), 0),
        &two_alerts(),
    )
    .await
    .expect_err("unknown CA");
    assert!(retry_of(&err));

    let mut insecure = HttpClientConfig::default();
    insecure.tls_config.insecure_skip_verify = true;
    send(&config(url, insecure, 0), &two_alerts())
        .await
        .expect("insecure_skip_verify");
    assert_eq!(r.requests.lock().expect("lock").len(), 2);
}

/// `tls_config.server_name`: a server whose certificate names only `webhook.internal`, reached
/// by IP, is trusted when `server_name` says so, and refused without it or with another name.
#[tokio::test]
async fn https_with_server_name() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tmpdir("tls-name");
    make_pki_for(&dir, "DNS:webhook.internal");
    let (r, addr) = serve_tls(&dir).await;
    let url = format!("https://{addr}/hook");
    let with = |name: Option<&str>| {
        let mut http = HttpClientConfig::default();
        http.tls_config.ca_file = Some(dir.join("ca.pem").display().to_string());
        http.tls_config.server_name = name.map(str::to_owned);
        config(url.clone(), http, 0)
    };

    send(&with(Some("webhook.internal")), &two_alerts())
        .await
        .expect("verified against server_name");
    let err = send(&with(None), &two_alerts())
        .await
        .expect_err("the certificate does not name the IP");
    assert!(retry_of(&err));
    send(&with(Some("other.internal")), &two_alerts())
        .await
        .expect_err("the certificate does not name other.internal");
    assert_eq!(r.requests.lock().expect("lock").len(), 1);

    let mut bad = HttpClientConfig::default();
    bad.tls_config.server_name = Some("webhook.internal".into());
    bad.tls_config.ca_file = Some(dir.join("missing.pem").display().to_string());
    let e = WebhookIntegration::new(&config(url, bad, 0), 0, String::new())
        .expect_err("missing CA file");
    assert!(e.to_string().contains("missing.pem"), "{e}");
}

/// `http_config.oauth2`: a client-credentials token is fetched from a real local token endpoint
/// (client id and secret in basic auth, scopes and endpoint parameters in the form), cached
/// across notifications and sent as a bearer token; a failing token endpoint is a retryable
/// error.
#[tokio::test]
async fn oauth2_client_credentials() {
    /// A token request: its `Authorization` header and form body.
    type TokenRequest = (Option<String>, String);
    #[derive(Clone, Default)]
    struct Seen {
        token_requests: Arc<Mutex<Vec<TokenRequest>>>,
        hook_auth: Arc<Mutex<Vec<Option<String>>>>,
        fail: Arc<Mutex<bool>>,
    }
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/token",
            axum::routing::post(
                |State(s): State<Seen>, headers: HeaderMap, body: String| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    s.token_requests.lock().expect("lock").push((auth, body));
                    if *s.fail.lock().expect("lock") {
                        return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
                    }
                    (
                        StatusCode::OK,
                        json!({"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600})
                            .to_string(),
                    )
                },
            ),
        )
        .route(
            "/hook",
            axum::routing::post(|State(s): State<Seen>, headers: HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                s.hook_auth.lock().expect("lock").push(auth);
                StatusCode::OK
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let secret_file = tmpdir("oauth2").join("secret");
    std::fs::write(&secret_file, "s3cr&t\n").expect("secret file");
    let http: HttpClientConfig = serde_norway::from_str(&format!(
        "oauth2: {{client_id: 'my id', client_secret_file: '{}', scopes: [a, b], \
         token_url: 'http://{addr}/token', endpoint_params: {{audience: wk}}}}",
        secret_file.display()
    ))
    .expect("http_config");
    let cfg = config(format!("http://{addr}/hook"), http, 0);
    send(&cfg, &two_alerts()).await.expect("first");
    send(&cfg, &two_alerts()).await.expect("second");
    assert_eq!(
        *seen.hook_auth.lock().expect("lock"),
        [
            Some("Bearer tok-1".to_owned()),
            Some("Bearer tok-1".to_owned())
        ]
    );
    // One WebhookIntegration per `send`, so each fetched its own token; within one integration
    // the token is cached (checked below).
    let requests = seen.token_requests.lock().expect("lock").clone();
    let (auth, body) = &requests[0];
    // Basic base64("my+id:s3cr%26t"), the URL-encoded id and secret as Go's oauth2 sends them.
    assert_eq!(auth.as_deref(), Some("Basic bXkraWQ6czNjciUyNnQ="));
    assert_eq!(body, "grant_type=client_credentials&scope=a+b&audience=wk");

    let wh = WebhookIntegration::new(&cfg, 0, String::new()).expect("build");
    let before = seen.token_requests.lock().expect("lock").len();
    wh.notify(&ctx(), "", &two_alerts())
        .await
        .expect("notify 1");
    wh.notify(&ctx(), "", &two_alerts())
        .await
        .expect("notify 2");
    assert_eq!(
        seen.token_requests.lock().expect("lock").len(),
        before + 1,
        "the token is cached"
    );

    *seen.fail.lock().expect("lock") = true;
    let fresh = WebhookIntegration::new(&cfg, 0, String::new()).expect("build");
    let err = fresh
        .notify(&ctx(), "", &two_alerts())
        .await
        .expect_err("no token");
    assert!(retry_of(&err), "{err}");
    assert!(!err.to_string().contains("s3cr"), "{err}");
}
