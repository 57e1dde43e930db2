//! The server on its embedded defaults (SQLite): health, login, sessions, roles, JSON errors,
//! metrics, API tokens, users and organizations, graceful shutdown.

mod common;

use std::time::Duration;

use common::{Server, Start, browser, login, session_cookie};
use serde_json::{Value, json};

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.expect("json body")
}

#[tokio::test]
async fn health_login_metrics_and_shutdown() {
    let mut server = Server::start(&Start::default()).await;
    let http = reqwest::Client::new();

    let r = http
        .get(server.url("/api/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), 200);
    let body = json_of(r).await;
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["commit"].as_str().is_some_and(|c| !c.is_empty()));

    // The default database file is where the docs say.
    assert!(server.home.path().join("data/watchkeeper.db").exists());

    // Not signed in: 401 JSON; wrong password: 401 JSON.
    let r = http
        .get(server.url("/api/user"))
        .send()
        .await
        .expect("user");
    assert_eq!(r.status(), 401);
    assert!(json_of(r).await["message"].is_string());
    let r = http
        .post(server.url("/login"))
        .json(&json!({"user": "admin", "password": "wrong"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(r).await["message"], "Invalid username or password");

    // Admin login with the default password, then the session cookie works.
    let b = browser();
    login(&b, &server, "admin", "admin").await;
    let me = json_of(b.get(server.url("/api/user")).send().await.expect("me")).await;
    assert_eq!(me["login"], "admin");
    assert_eq!(me["orgId"], 1);
    assert_eq!(me["isGrafanaAdmin"], true);
    let orgs = json_of(b.get(server.url("/api/orgs")).send().await.expect("orgs")).await;
    assert_eq!(orgs, json!([{"id": 1, "name": "Main Org."}]));

    // Metrics: process metrics and the request we just made.
    let r = http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("text");
    for needle in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
        "watchkeeper_http_request_duration_seconds_count{handler=\"/api/user\",method=\"GET\",status_code=\"200\"}",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from /metrics:\n{text}"
        );
    }

    // Logout revokes the session on the server, not just in the browser.
    let raw = login(&browser(), &server, "admin", "admin").await;
    let r = http
        .post(server.url("/logout"))
        .header("cookie", format!("watchkeeper_session={raw}"))
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 200);
    let r = http
        .get(server.url("/api/user"))
        .header("cookie", format!("watchkeeper_session={raw}"))
        .send()
        .await
        .expect("user after logout");
    assert_eq!(r.status(), 401);

    let status = server.terminate(Duration::from_secs(30));
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        server.log()
    );
    assert!(server.log().contains("stopped"), "{}", server.log());
}

#[tokio::test]
async fn json_errors_and_limits() {
    let server = Server::start(&Start::default()).await;
    let http = reqwest::Client::new();
    let admin = |rb: reqwest::RequestBuilder| rb.basic_auth("admin", Some("admin"));

    let r = http.get(server.url("/api/nope")).send().await.expect("404");
    assert_eq!(r.status(), 404);
    assert_eq!(json_of(r).await["message"], "Not found");

    let r = http
        .delete(server.url("/api/health"))
        .send()
        .await
        .expect("405");
    assert_eq!(r.status(), 405);
    assert!(json_of(r).await["message"].is_string());

    let r = admin(http.post(server.url("/api/orgs")))
        .header("content-type", "application/json")
        .body("{\"name\": 5}")
        .send()
        .await
        .expect("bad field");
    assert_eq!(r.status(), 400);
    let msg = json_of(r).await["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(msg.contains("name"), "message names the field: {msg}");

    let r = http
        .get(server.url("/api/user"))
        .header("authorization", "Basic !!!")
        .send()
        .await
        .expect("bad basic");
    assert_eq!(r.status(), 401);

    let big = "x".repeat(17 * 1024 * 1024);
    // A fresh client: the server closes the connection after refusing the body.
    let r = admin(reqwest::Client::new().post(server.url("/api/orgs")))
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{big}\"}}"))
        .send()
        .await
        .expect("too large");
    assert_eq!(r.status(), 413);
    assert!(json_of(r).await["message"].is_string());
}

#[tokio::test]
async fn users_orgs_roles_and_tokens() {
    let server = Server::start(&Start::default()).await;
    let http = reqwest::Client::new();
    let admin = |rb: reqwest::RequestBuilder| rb.basic_auth("admin", Some("admin"));

    // Create a user: a Viewer of the main org.
    let r = admin(http.post(server.url("/api/admin/users")))
        .json(&json!({"name": "Vera", "email": "vera@example.com", "login": "vera", "password": "vera-pw"}))
        .send()
        .await
        .expect("create user");
    assert_eq!(r.status(), 200);
    let vera_id = json_of(r).await["id"].as_i64().expect("id");
    let r = admin(http.post(server.url("/api/admin/users")))
        .json(&json!({"login": "vera", "password": "other-pw"}))
        .send()
        .await
        .expect("duplicate");
    assert_eq!(r.status(), 412);

    let vera = |rb: reqwest::RequestBuilder| rb.basic_auth("vera", Some("vera-pw"));
    // Viewer: may read itself, may not manage users (403), and server-admin routes are closed.
    assert_eq!(
        vera(http.get(server.url("/api/user")))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
    let r = vera(http.get(server.url("/api/org/users")))
        .send()
        .await
        .expect("org users");
    assert_eq!(r.status(), 403);
    assert!(
        json_of(r).await["message"]
            .as_str()
            .is_some_and(|m| m.contains("Admin"))
    );
    assert_eq!(
        vera(http.get(server.url("/api/users")))
            .send()
            .await
            .expect("users")
            .status(),
        403
    );

    // Promote to Admin of the org; now the org routes open.
    let r = admin(http.patch(server.url(&format!("/api/org/users/{vera_id}"))))
        .json(&json!({"role": "Admin"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
    let users = json_of(
        vera(http.get(server.url("/api/org/users")))
            .send()
            .await
            .expect("list"),
    )
    .await;
    let roles: Vec<(String, String)> = users
        .as_array()
        .expect("array")
        .iter()
        .map(|u| {
            (
                u["login"].as_str().unwrap_or("").into(),
                u["role"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert!(
        roles.contains(&("vera".into(), "Admin".into())),
        "{roles:?}"
    );
    let r = admin(http.patch(server.url(&format!("/api/org/users/{vera_id}"))))
        .json(&json!({"role": "Owner"}))
        .send()
        .await
        .expect("bad role");
    assert_eq!(r.status(), 400);

    // A second org; the admin becomes its Admin; the last admin cannot be removed.
    let r = admin(http.post(server.url("/api/orgs")))
        .json(&json!({"name": "Ops"}))
        .send()
        .await
        .expect("org");
    let org2 = json_of(r).await["orgId"].as_i64().expect("orgId");
    let r = admin(http.post(server.url("/api/orgs")))
        .json(&json!({"name": "Ops"}))
        .send()
        .await
        .expect("dup org");
    assert_eq!(r.status(), 409);
    let r = admin(http.get(server.url("/api/org/users")))
        .header("X-Grafana-Org-Id", org2.to_string())
        .send()
        .await
        .expect("org2 users");
    let members = json_of(r).await;
    assert_eq!(members.as_array().map(|a| a.len()), Some(1), "{members}");
    let admin_id = members[0]["userId"].as_i64().expect("userId");
    let r = admin(http.delete(server.url(&format!("/api/org/users/{admin_id}"))))
        .header("X-Grafana-Org-Id", org2.to_string())
        .send()
        .await
        .expect("remove last admin");
    assert_eq!(r.status(), 400);
    let r = vera(http.get(server.url("/api/org/users")))
        .header("X-Grafana-Org-Id", org2.to_string())
        .send()
        .await
        .expect("not a member");
    assert_eq!(r.status(), 403);

    // API tokens: created by an org admin, used as Bearer, role enforced, expiry honoured.
    let r = vera(http.post(server.url("/api/auth/keys")))
        .json(&json!({"name": "ci", "role": "Viewer"}))
        .send()
        .await
        .expect("key");
    assert_eq!(r.status(), 200);
    let key = json_of(r).await;
    let token = key["key"].as_str().expect("key").to_string();
    let bearer = |rb: reqwest::RequestBuilder| rb.bearer_auth(&token);
    assert_eq!(
        bearer(http.get(server.url("/api/org/users")))
            .send()
            .await
            .expect("viewer key")
            .status(),
        403
    );
    let r = bearer(http.get(server.url("/api/user")))
        .send()
        .await
        .expect("key user");
    assert_eq!(r.status(), 403, "tokens are not users");
    let r = http
        .get(server.url("/api/org/users"))
        .bearer_auth("wk_nope")
        .send()
        .await
        .expect("bad key");
    assert_eq!(r.status(), 401);
    let listed = json_of(
        vera(http.get(server.url("/api/auth/keys")))
            .send()
            .await
            .expect("keys"),
    )
    .await;
    assert_eq!(listed[0]["name"], "ci");
    assert!(
        listed[0].get("key").is_none(),
        "the raw key is shown only once"
    );
    let r = vera(http.delete(server.url(&format!("/api/auth/keys/{}", key["id"]))))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 200);
    let r = http
        .get(server.url("/api/health"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("deleted key");
    assert_eq!(r.status(), 401);

    // Password change: old password checked, new one works.
    let b = browser();
    login(&b, &server, "vera", "vera-pw").await;
    let r = b
        .put(server.url("/api/user/password"))
        .json(&json!({"oldPassword": "nope", "newPassword": "vera-new"}))
        .send()
        .await
        .expect("bad old");
    assert_eq!(r.status(), 401);
    let r = b
        .put(server.url("/api/user/password"))
        .json(&json!({"oldPassword": "vera-pw", "newPassword": "vera-new"}))
        .send()
        .await
        .expect("change");
    assert_eq!(r.status(), 200);
    assert_eq!(
        vera(http.get(server.url("/api/user")))
            .send()
            .await
            .expect("old pw")
            .status(),
        401
    );
}

#[tokio::test]
async fn login_lockout_across_requests() {
    let server = Server::start(&Start {
        args: vec!["cfg:security.brute_force_login_protection_max_attempts=2".into()],
        ..Start::default()
    })
    .await;
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let r = http
            .post(server.url("/login"))
            .json(&json!({"user": "admin", "password": "Wr0ng-Secret-XYZ"}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 401);
    }
    let r = http
        .post(server.url("/login"))
        .json(&json!({"user": "admin", "password": "admin"}))
        .send()
        .await
        .expect("locked");
    assert_eq!(r.status(), 401);
    let msg = json_of(r).await["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(msg.contains("too many"), "{msg}");
    assert!(session_cookie_absent(&server).await);
    assert!(
        !server.log().contains("Wr0ng-Secret-XYZ"),
        "passwords are never logged"
    );
}

async fn session_cookie_absent(server: &Server) -> bool {
    let r = reqwest::Client::new()
        .post(server.url("/login"))
        .json(&json!({"user": "admin", "password": "admin"}))
        .send()
        .await
        .expect("login");
    session_cookie(&r).is_none()
}

#[tokio::test]
async fn admin_password_from_config_and_env() {
    let server = Server::start(&Start {
        env: vec![(
            "WATCHKEEPER_SECURITY_ADMIN_PASSWORD".into(),
            "from-env-pw".into(),
        )],
        ..Start::default()
    })
    .await;
    let b = browser();
    login(&b, &server, "admin", "from-env-pw").await;
    assert!(
        !server.log().contains("from-env-pw"),
        "password must never be logged"
    );
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut server = Server::start(&Start::default()).await;
    let body = r#"{"user": "admin", "password": "admin"}"#;
    let (head, tail) = body.split_at(10);
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    );
    conn.write_all(request.as_bytes())
        .await
        .expect("write head");
    // Wait until the server is handling our request: the body read is in progress.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let pid = server.pid();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !server.log().contains("shutting down") {
        assert!(
            std::time::Instant::now() < deadline,
            "no shutdown:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // New connections are no longer accepted once shutdown has begun.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", server.port))
            .await
            .is_err(),
        "listener still open during shutdown"
    );
    // The request in flight still completes.
    conn.write_all(tail.as_bytes()).await.expect("write tail");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.expect("read answer");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "in-flight request cut off: {answer:?}"
    );
    let status = server.terminate(Duration::from_secs(30));
    assert!(status.success(), "{status}; log:\n{}", server.log());
}
