//! `[server] protocol = https` serves TLS with the configured certificate and key.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, Start, TempDir};

/// Runs openssl with `args` in `dir`, failing the test on error.
fn openssl(dir: &TempDir, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA and a server certificate for localhost/127.0.0.1 signed by it: (ca, cert, key).
fn make_certificates(dir: &TempDir) -> (PathBuf, PathBuf, PathBuf) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=watchkeeper test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.path().join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("ext file");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
    let p = |f: &str| dir.path().join(f);
    (p("ca.pem"), p("server.pem"), p("server.key"))
}

#[tokio::test]
async fn serves_https_with_configured_certificate() {
    let dir = TempDir::new("tls");
    let (ca, cert, key) = make_certificates(&dir);

    let mut server = Server::spawn(&Start {
        args: vec![
            "cfg:server.protocol=https".into(),
            format!("cfg:server.cert_file={}", cert.display()),
            format!("cfg:server.cert_key={}", key.display()),
        ],
        ..Start::default()
    });
    let pem = std::fs::read(&ca).expect("read CA");
    let ca = reqwest::Certificate::from_pem(&pem).expect("certificate");
    // HTTP/1.1: an idle HTTP/2 connection holds graceful shutdown for the whole drain timeout
    // (10 s), which would only slow this test down.
    let client = reqwest::Client::builder()
        .http1_only()
        .tls_certs_only([ca])
        .build()
        .expect("client");
    let url = format!("https://127.0.0.1:{}/api/health", server.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match client.get(&url).send().await {
            Ok(r) => {
                assert_eq!(r.status(), 200);
                break;
            }
            Err(e) => assert!(
                Instant::now() < deadline,
                "no https answer: {e:?}\n{}",
                server.log()
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Plain HTTP on the TLS port gets no answer, and a client that does not trust the certificate
    // refuses the connection.
    assert!(reqwest::get(server.url("/api/health")).await.is_err());
    assert!(reqwest::get(&url).await.is_err());
    let status = server.terminate(Duration::from_secs(30));
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn unreadable_certificate_is_a_clear_startup_error() {
    let dir = TempDir::new("tls-bad");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "not a certificate").expect("write");
    std::fs::write(&key, "not a key").expect("write");
    let mut server = Server::spawn(&Start {
        args: vec![
            "cfg:server.protocol=https".into(),
            format!("cfg:server.cert_file={}", cert.display()),
            format!("cfg:server.cert_key={}", key.display()),
        ],
        ..Start::default()
    });
    let status = server.wait_exit(Duration::from_secs(60));
    assert!(!status.success());
    let log = server.log();
    assert!(
        log.contains("cert_file") && log.contains(&cert.display().to_string()),
        "{log}"
    );
}
