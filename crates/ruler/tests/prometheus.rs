//! The Prometheus data source against a real Prometheus (Debian's `prometheus` package)
//! scraping itself, and against a scripted HTTP server for what a real one cannot show
//! (headers sent, HTTP failures, hanging servers).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wk_ruler::data::{TimeRange, Value};
use wk_ruler::datasource::prometheus::query;
use wk_ruler::datasource::{DataSourceConfig, QueryError};

/// A child process killed (and reaped) when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("wk-ruler-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The Prometheus binary, or `None` (skip) unless services are required.
fn prometheus_binary() -> Option<&'static str> {
    for bin in ["/usr/bin/prometheus", "prometheus"] {
        let found = Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return Some(bin);
        }
    }
    if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!(
            "/usr/bin/prometheus is missing but WATCHKEEPER_TEST_REQUIRE_SERVICES=1: \
             install the `prometheus` package (apt-get install prometheus)"
        );
    }
    eprintln!("skipping: /usr/bin/prometheus is not installed (apt-get install prometheus)");
    None
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn datasource(uid: &str, url: String, json_data: Json) -> DataSourceConfig {
    DataSourceConfig {
        uid: uid.into(),
        kind: "prometheus".into(),
        url,
        json_data,
        ..DataSourceConfig::default()
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

fn last(seconds: i64) -> TimeRange {
    let to = now_ms();
    TimeRange {
        from: to - seconds * 1000,
        to,
    }
}

async fn run(cfg: &DataSourceConfig, model: Json, range: TimeRange) -> Result<Value, QueryError> {
    query(cfg, &model, range, 1000, TIMEOUT).await
}

#[tokio::test]
async fn real_prometheus() {
    let Some(bin) = prometheus_binary() else {
        return;
    };
    let dir = TempDir::new("prom");
    let port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("config");
    let _prom = KillOnDrop(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let post = datasource("prom-post", url.clone(), json!({}));
    let get = datasource("prom-get", url.clone(), json!({"httpMethod": "GET"}));

    // Wait until `up` has a few samples.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = run(
            &post,
            json!({"expr": "count_over_time(up[1m]) >= 3"}),
            last(60),
        )
        .await;
        if matches!(r, Ok(Value::Series(_))) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus has no samples of up: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Instant `up`, by POST (the default) and GET: one number with Prometheus' labels.
    for cfg in [&post, &get] {
        let v = run(cfg, json!({"expr": "up", "instant": true}), last(60))
            .await
            .unwrap();
        let Value::Numbers(n) = v else {
            panic!("{}: {v:?}", cfg.uid)
        };
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].labels["job"], "prometheus");
        assert_eq!(n[0].labels["__name__"], "up");
        assert_eq!(n[0].value, Some(1.0));
    }

    // Range `up` (the default without `instant`), both methods: a series with points.
    for cfg in [&post, &get] {
        let v = run(cfg, json!({"expr": "up", "range": true}), last(30))
            .await
            .unwrap();
        let Value::Series(s) = v else {
            panic!("{}: {v:?}", cfg.uid)
        };
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].labels["job"], "prometheus");
        assert!(s[0].points.len() >= 3, "{:?}", s[0].points);
        assert!(s[0].points.iter().all(|(_, v)| *v == Some(1.0)));
        assert!(s[0].points.windows(2).all(|w| w[0].0 < w[1].0));
    }

    // Grafana's variables (Prometheus would refuse them unreplaced) and a min step; `or
    // vector(0)` gives a point at every step however young the data is.
    let v = run(
        &post,
        json!({"expr": "sum(rate(up[$__rate_interval])) or vector(0) + $__interval_ms * 0", "interval": "5s"}),
        last(120),
    )
    .await
    .unwrap();
    let Value::Series(s) = v else { panic!("{v:?}") };
    assert!(
        s[0].points.windows(2).all(|w| w[1].0 - w[0].0 == 5_000),
        "{s:?}"
    );

    // Nothing matches: no data, instant or range.
    for instant in [true, false] {
        let v = run(
            &post,
            json!({"expr": "sum(up) > 100", "instant": instant}),
            last(30),
        )
        .await
        .unwrap();
        assert_eq!(v, Value::NoData, "instant: {instant}");
    }

    // A scalar is one unlabelled number.
    let v = run(
        &get,
        json!({"expr": "scalar(sum(up))", "instant": true}),
        last(30),
    )
    .await
    .unwrap();
    let Value::Numbers(n) = v else {
        panic!("{v:?}")
    };
    assert!(n[0].labels.is_empty());
    assert_eq!(n[0].value, Some(1.0));

    // Bad PromQL: Prometheus' own message, naming the data source.
    for cfg in [&post, &get] {
        let e = run(cfg, json!({"expr": "sum(up", "instant": true}), last(30))
            .await
            .unwrap_err();
        let QueryError::Remote(m) = &e else {
            panic!("{e:?}")
        };
        assert!(m.contains(&cfg.uid), "{m}");
        assert!(m.contains("bad_data") && m.contains("parse error"), "{m}");
    }
}

#[tokio::test]
async fn unreachable_prometheus_fails_quickly() {
    let cfg = datasource(
        "prom-down",
        format!("http://127.0.0.1:{}", free_port()),
        json!({}),
    );
    let started = Instant::now();
    let e = run(&cfg, json!({"expr": "up"}), last(60))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let QueryError::Remote(m) = &e else {
        panic!("{e:?}")
    };
    assert!(m.contains("prom-down") && m.contains("request to"), "{m}");
}

/// What the scripted server saw of one request.
#[derive(Debug)]
struct Seen {
    request_line: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// Serves one request with `status` and `body` (or never answers when `status` is 0) and
/// returns the server's URL and what it saw.
async fn serve_once(status: u16, body: &'static str) -> (String, tokio::task::JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_end, content_length) = loop {
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed early");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                break (pos + 4, len);
            }
        };
        while buf.len() < head_end + content_length {
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed early");
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf[..head_end - 4]).into_owned();
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let seen = Seen {
            request_line,
            headers,
            body: String::from_utf8_lossy(&buf[head_end..]).into_owned(),
        };
        if status == 0 {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return seen;
        }
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(response.as_bytes()).await.unwrap();
        conn.shutdown().await.ok();
        seen
    });
    (url, task)
}

const EMPTY_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;

#[tokio::test]
async fn sends_credentials_headers_and_form() {
    let (url, seen) = serve_once(200, EMPTY_VECTOR).await;
    let mut cfg = datasource(
        "prom-auth",
        format!("{url}/prefix/"),
        json!({
            "httpHeaderName1": "X-Scope-OrgID",
            "queryTimeout": "20s",
            "customQueryParameters": "dedup=false"
        }),
    );
    cfg.basic_auth_user = Some("alice".into());
    cfg.secure
        .insert("basicAuthPassword".into(), "s3cret".into());
    cfg.secure
        .insert("httpHeaderValue1".into(), "tenant-1".into());
    let range = TimeRange {
        from: 1_700_000_000_000,
        to: 1_700_000_600_500,
    };
    let v = query(
        &cfg,
        &json!({"expr": "up == 1", "instant": true}),
        range,
        1000,
        TIMEOUT,
    )
    .await
    .unwrap();
    assert_eq!(v, Value::NoData);
    let seen = seen.await.unwrap();
    assert_eq!(seen.request_line, "POST /prefix/api/v1/query HTTP/1.1");
    // alice:s3cret
    assert_eq!(seen.headers["authorization"], "Basic YWxpY2U6czNjcmV0");
    assert_eq!(seen.headers["x-scope-orgid"], "tenant-1");
    assert_eq!(
        seen.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        seen.body,
        "query=up+%3D%3D+1&time=1700000600.5&timeout=20s&dedup=false"
    );
}

#[tokio::test]
async fn get_range_query_parameters() {
    let (url, seen) = serve_once(200, EMPTY_VECTOR).await;
    let cfg = datasource("prom-get-params", url, json!({"httpMethod": "GET"}));
    // One hour: Grafana's step for intervalMs 1000 and 43200 points is 1 s; start and end are
    // aligned down to it.
    let range = TimeRange {
        from: 1_700_000_000_400,
        to: 1_700_003_600_900,
    };
    query(&cfg, &json!({"expr": "up"}), range, 1000, TIMEOUT)
        .await
        .unwrap();
    let seen = seen.await.unwrap();
    assert_eq!(
        seen.request_line,
        "GET /api/v1/query_range?query=up&start=1700000000&end=1700003600&step=1 HTTP/1.1"
    );
    assert_eq!(seen.body, "");
}

#[tokio::test]
async fn http_failures_are_remote_errors() {
    let (url, _seen) = serve_once(503, "overloaded, try later").await;
    let cfg = datasource("prom-503", url, json!({}));
    let e = run(&cfg, json!({"expr": "up"}), last(60))
        .await
        .unwrap_err();
    let QueryError::Remote(m) = &e else {
        panic!("{e:?}")
    };
    assert!(
        m.contains("prom-503") && m.contains("HTTP 503") && m.contains("overloaded"),
        "{m}"
    );

    let (url, _seen) = serve_once(
        422,
        r#"{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}"#,
    )
    .await;
    let cfg = datasource("prom-422", url, json!({}));
    let e = run(&cfg, json!({"expr": "a + b"}), last(60))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        QueryError::Remote(
            "prometheus data source \"prom-422\": execution: many-to-many matching not allowed"
                .into()
        )
    );
}

#[tokio::test]
async fn hanging_server_times_out() {
    let (url, _seen) = serve_once(0, "").await;
    let cfg = datasource("prom-hang", url, json!({}));
    let started = Instant::now();
    let e = query(
        &cfg,
        &json!({"expr": "up"}),
        last(60),
        1000,
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert_eq!(e, QueryError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(3));
}
