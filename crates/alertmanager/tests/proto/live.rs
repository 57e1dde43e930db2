//! Live oracle: run Debian's `prometheus-alertmanager`, create a silence through API v2, stop it
//! with SIGTERM (which writes the `silences` snapshot) and decode that file with our decoder.
//!
//! Skipped with a message when the binary is missing, unless `WATCHKEEPER_TEST_REQUIRE_SERVICES=1`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wk_alertmanager::proto::silence::matcher::Type;
use wk_alertmanager::proto::silence::{Matcher, MeshSilence};
use wk_alertmanager::proto::{decode_delimited, encode_delimited};

const BINARY: &str = "prometheus-alertmanager";

/// Removes the temporary storage directory and kills the server if the test fails midway.
struct Guard {
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn binary_available() -> bool {
    Command::new(BINARY)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Sends one HTTP/1.1 request and returns (status code, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((status, body))
}

fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if matches!(http(port, "GET", "/-/ready", ""), Ok((200, _))) {
            return;
        }
        sleep(Duration::from_millis(100));
    }
    panic!("{BINARY} did not become ready on port {port}");
}

fn start(dir: &Path, port: u16) -> Child {
    let config = dir.join("am.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: default\nreceivers:\n  - name: default\n",
    )
    .expect("write config");
    Command::new(BINARY)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .env("TZ", "UTC")
        .env("LC_ALL", "C.UTF-8")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager")
}

/// Sends SIGTERM to our own child (by its pid) and waits for its shutdown snapshot.
fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().expect("wait for alertmanager").is_some() {
            return;
        }
        sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("{BINARY} did not exit after SIGTERM");
}

#[test]
fn real_alertmanager_snapshot_decodes() {
    if !binary_available() {
        let reason = format!("{BINARY} not installed (Debian package prometheus-alertmanager)");
        assert!(
            std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "{reason}, but WATCHKEEPER_TEST_REQUIRE_SERVICES=1"
        );
        eprintln!("skipping real_alertmanager_snapshot_decodes: {reason}");
        return;
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("wk-am-proto-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).expect("create storage dir");
    let port = free_port();
    let mut guard = Guard {
        dir: dir.clone(),
        child: Some(start(&dir, port)),
    };
    wait_ready(port);

    let body = serde_json::json!({
        "matchers": [
            {"name": "alertname", "value": "Disk.*", "isRegex": true, "isEqual": true},
            {"name": "env", "value": "prod", "isRegex": false, "isEqual": false},
            {"name": "team", "value": "db|web", "isRegex": true, "isEqual": false},
        ],
        "startsAt": "2030-01-01T00:00:00Z",
        "endsAt": "2030-01-02T00:00:00Z",
        "createdBy": "watchkeeper-live",
        "comment": "live capture ✓",
    });
    let (status, reply) =
        http(port, "POST", "/api/v2/silences", &body.to_string()).expect("POST silence");
    assert_eq!(status, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).expect("JSON reply");
    let id = reply["silenceID"]
        .as_str()
        .expect("silenceID in reply")
        .to_string();

    terminate(guard.child.take().expect("running"));
    let bytes = std::fs::read(dir.join("data/silences")).expect("shutdown snapshot written");
    let silences = decode_delimited::<MeshSilence>(&bytes).expect("snapshot decodes");
    assert_eq!(silences.len(), 1);
    let silence = silences[0].silence.as_ref().expect("silence present");
    let matcher = |t: Type, name: &str, pattern: &str| Matcher {
        r#type: t.into(),
        name: name.into(),
        pattern: pattern.into(),
    };
    assert_eq!(silence.id, id);
    assert_eq!(
        silence.matchers,
        [
            matcher(Type::Regexp, "alertname", "Disk.*"),
            matcher(Type::NotEqual, "env", "prod"),
            matcher(Type::NotRegexp, "team", "db|web"),
        ]
    );
    assert_eq!(silence.created_by, "watchkeeper-live");
    assert_eq!(silence.comment, "live capture ✓");
    assert_eq!(
        encode_delimited(&silences),
        bytes,
        "re-encoding must be byte-identical"
    );
    let nflog = std::fs::read(dir.join("data/nflog")).expect("nflog snapshot written");
    assert!(nflog.is_empty(), "no notification was sent");
}
