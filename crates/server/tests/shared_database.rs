//! Several instances on one PostgreSQL or MySQL database: simultaneous start, sessions valid on
//! every instance (no sticky sessions), and a database that is down at start.

mod common;

use std::time::Duration;

use common::rules::db_args;
use common::{Server, Start, login};
use serde_json::json;
use wk_store::Backend;
use wk_store::testing::test_database;

async fn two_instances_share_sessions(backend: Backend) {
    let Some(db) = test_database(backend).await else {
        return;
    };
    let start = Start {
        args: db_args(&db),
        ..Start::default()
    };
    // Both start at the same moment on a fresh database: both migrate-or-wait and come up.
    let a = Server::spawn(&start);
    let b = Server::spawn(&start);
    a.wait_healthy(Duration::from_secs(90)).await;
    b.wait_healthy(Duration::from_secs(90)).await;

    // A session issued by A is accepted by B, and a logout on B ends it on A.
    let raw = login(&common::browser(), &a, "admin", "admin").await;
    let http = reqwest::Client::new();
    let cookie = format!("watchkeeper_session={raw}");
    for s in [&a, &b] {
        let r = http
            .get(s.url("/api/user"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("user");
        assert_eq!(
            r.status(),
            200,
            "{backend}: session rejected; log:\n{}",
            s.log()
        );
    }
    // A user created on B exists on A.
    let r = http
        .post(b.url("/api/admin/users"))
        .basic_auth("admin", Some("admin"))
        .json(&json!({"login": "shared", "password": "shared-pw"}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 200);
    let r = http
        .get(a.url("/api/user"))
        .basic_auth("shared", Some("shared-pw"))
        .send()
        .await
        .expect("user on A");
    assert_eq!(r.status(), 200);

    let r = http
        .post(b.url("/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 200);
    let r = http
        .get(a.url("/api/user"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("after logout");
    assert_eq!(r.status(), 401);

    // One admin user and one main org, whichever instance created them.
    let users: serde_json::Value = http
        .get(a.url("/api/users"))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("json");
    let admins = users
        .as_array()
        .map(|u| u.iter().filter(|u| u["login"] == "admin").count());
    assert_eq!(admins, Some(1), "{users}");
}

#[tokio::test]
async fn postgres_two_instances_share_sessions() {
    two_instances_share_sessions(Backend::Postgres).await;
}

#[tokio::test]
async fn mysql_two_instances_share_sessions() {
    two_instances_share_sessions(Backend::Mysql).await;
}

#[tokio::test]
async fn database_down_at_start_is_retried_until_stopped() {
    let closed = common::free_port();
    let mut server = Server::spawn(&Start {
        args: vec![
            "cfg:database.type=postgres".into(),
            format!("cfg:database.host=127.0.0.1:{closed}"),
            "cfg:database.password=Sup3r-Secret-DB".into(),
            "cfg:database.connect_retry_max_backoff=1s".into(),
        ],
        ..Start::default()
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.log().matches("retry").count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no retries logged:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.log();
    assert!(
        log.contains(&format!("127.0.0.1:{closed}")),
        "error names the target:\n{log}"
    );
    assert!(!log.contains("Sup3r-Secret-DB"), "password leaked:\n{log}");
    let status = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "{status}; log:\n{}", server.log());
}

#[tokio::test]
async fn health_reports_a_failing_database() {
    let Some(db) = test_database(Backend::Postgres).await else {
        return;
    };
    let server = Server::start(&Start {
        args: db_args(&db),
        ..Start::default()
    })
    .await;
    // Take the database away under the running server.
    let admin = std::env::var("WATCHKEEPER_TEST_POSTGRES_URL").expect("admin url");
    let out = std::process::Command::new("psql")
        .arg(&admin)
        .arg("-c")
        .arg(format!(
            "DROP DATABASE \"{}\" WITH (FORCE)",
            db.options.name
        ))
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = reqwest::Client::new()
        .get(server.url("/api/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), 503, "log:\n{}", server.log());
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["database"], "failing");
}
