use std::time::{Duration, Instant};

use wk_store::testing::{available_backends, migration_ids, test_database, test_stores};
use wk_store::{Backend, Store, StoreError, StoreOptions};

use crate::T0;

const SECRET: &str = "s3cr3t-Pa55word";

fn closed_port(backend: Backend) -> StoreOptions {
    StoreOptions {
        backend,
        host: "127.0.0.1:1".into(),
        name: "watchkeeper".into(),
        user: "root".into(),
        password: SECRET.into(),
        ..StoreOptions::default()
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    for backend in available_backends() {
        let db = test_database(backend).await.expect("database");
        let first = Store::connect(&db.options).await.expect("first connect");
        let second = Store::connect(&db.options).await.expect("second connect");
        assert_eq!(
            first.applied_migrations().await.expect("log"),
            migration_ids(),
            "{backend}"
        );
        assert_eq!(
            second.applied_migrations().await.expect("log"),
            migration_ids(),
            "{backend}"
        );
        second.close().await;
        first.close().await;
        let third = Store::connect(&db.options).await.expect("reconnect");
        assert_eq!(
            third.applied_migrations().await.expect("log"),
            migration_ids(),
            "{backend}"
        );
        third.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_apply_once() {
    for backend in available_backends() {
        let db = test_database(backend).await.expect("database");
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let options = db.options.clone();
            tasks.push(tokio::spawn(async move { Store::connect(&options).await }));
        }
        let mut stores = Vec::new();
        for task in tasks {
            stores.push(
                task.await
                    .expect("join")
                    .unwrap_or_else(|e| panic!("{backend}: {e}")),
            );
        }
        for store in &stores {
            assert_eq!(
                store.applied_migrations().await.expect("log"),
                migration_ids(),
                "{backend}"
            );
        }
        for store in &stores {
            store.close().await;
        }
    }
}

#[tokio::test]
async fn stores_on_one_database_share_state() {
    for t in test_stores().await {
        let other = Store::connect(&t.options).await.expect("second instance");
        t.kv_set(1, "ns", "k", "from-first", T0).await.expect("set");
        let seen = other
            .kv_get(1, "ns", "k")
            .await
            .expect("get")
            .expect("visible");
        assert_eq!(seen.value, "from-first", "{}", t.backend());
        other.close().await;
    }
}

#[tokio::test]
async fn connect_with_individual_fields() {
    for t in test_stores().await {
        if t.backend() == Backend::Sqlite {
            continue;
        }
        let fields = StoreOptions {
            url: String::new(),
            ..t.options.clone()
        };
        let store = Store::connect(&fields)
            .await
            .expect("connect by host/name/user");
        store.ping().await.expect("ping");
        assert_eq!(store.backend(), t.backend());
        assert!(
            store
                .target()
                .starts_with(&format!("{}://root@127.0.0.1:", t.backend()))
        );
        store.close().await;
    }
}

#[tokio::test]
async fn ping_target_and_close() {
    for t in test_stores().await {
        t.ping().await.expect("ping");
        assert!(!t.target().is_empty());
        let store = Store::connect(&t.options).await.expect("connect");
        store.close().await;
        let err = store.ping().await.expect_err("closed");
        assert!(err.is_connection(), "{}: {err}", t.backend());
    }
}

#[tokio::test]
async fn sqlite_creates_parent_dirs_and_accepts_urls() {
    let dir = std::env::temp_dir().join(format!("wk-store-test-{}", std::process::id()));
    let path = dir.join("a/b/wk.db");
    let opts = StoreOptions {
        path: path.clone(),
        ..StoreOptions::default()
    };
    assert_eq!(opts.target(), format!("sqlite3:{}", path.display()));
    let store = Store::connect(&opts).await.expect("connect");
    assert_eq!(store.backend(), Backend::Sqlite);
    store.close().await;
    assert!(path.exists());

    let by_url = StoreOptions {
        url: format!("sqlite://{}", path.display()),
        ..StoreOptions::default()
    };
    let store = Store::connect(&by_url).await.expect("url");
    assert_eq!(
        store.applied_migrations().await.expect("log"),
        migration_ids()
    );
    store.close().await;

    let memory = StoreOptions {
        url: "sqlite::memory:".into(),
        ..StoreOptions::default()
    };
    let store = Store::connect(&memory).await.expect("memory");
    store.kv_set(1, "n", "k", "v", T0).await.expect("set");
    assert!(store.kv_get(1, "n", "k").await.expect("get").is_some());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn closed_port_fails_fast_as_connection_error() {
    for backend in [Backend::Postgres, Backend::Mysql] {
        let started = Instant::now();
        let err = Store::connect(&closed_port(backend))
            .await
            .expect_err("closed port");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{backend}: took {:?}",
            started.elapsed()
        );
        assert!(err.is_connection(), "{backend}: {err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains(&format!("{backend}://root@127.0.0.1:1/watchkeeper")),
            "{shown}"
        );
        assert!(
            !shown.contains(SECRET) && !format!("{err:?}").contains(SECRET),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn retry_stops_when_cancelled() {
    let started = Instant::now();
    let cancel = tokio::time::sleep(Duration::from_millis(1200));
    let r = Store::connect_with_retry(
        &closed_port(Backend::Postgres),
        Duration::from_secs(2),
        cancel,
    )
    .await;
    assert!(matches!(r, Err(StoreError::Cancelled)), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn retry_does_not_retry_option_errors_and_connects() {
    let bad = StoreOptions {
        ssl_mode: "sometimes".into(),
        ..closed_port(Backend::Postgres)
    };
    let r = Store::connect_with_retry(&bad, Duration::from_secs(1), std::future::pending()).await;
    assert!(matches!(r, Err(StoreError::InvalidOptions(_))), "{r:?}");

    let dir = std::env::temp_dir().join(format!("wk-store-retry-{}", std::process::id()));
    let ok = StoreOptions {
        path: dir.join("wk.db"),
        ..StoreOptions::default()
    };
    let store = Store::connect_with_retry(&ok, Duration::from_secs(1), std::future::pending())
        .await
        .expect("connects");
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn invalid_options_are_reported() {
    let mismatch = StoreOptions {
        backend: Backend::Postgres,
        url: format!("mysql://root:{SECRET}@127.0.0.1:1/x"),
        ..StoreOptions::default()
    };
    let err = Store::connect(&mismatch)
        .await
        .expect_err("scheme mismatch");
    assert!(
        matches!(err, StoreError::InvalidOptions(_)) && !err.is_connection(),
        "{err}"
    );
    assert!(!err.to_string().contains(SECRET));

    let scheme = StoreOptions {
        url: "oracle://x".into(),
        ..StoreOptions::default()
    };
    assert!(matches!(
        Store::connect(&scheme).await,
        Err(StoreError::InvalidOptions(_))
    ));

    let missing_ca = StoreOptions {
        ca_cert_path: Some("/nonexistent/ca.pem".into()),
        ..closed_port(Backend::Mysql)
    };
    assert!(matches!(
        Store::connect(&missing_ca).await,
        Err(StoreError::InvalidOptions(_))
    ));
    assert!(
        "sqlite3"
            .parse::<Backend>()
            .is_ok_and(|b| b == Backend::Sqlite)
    );
    assert!("oracle".parse::<Backend>().is_err());
}

#[test]
fn password_is_never_displayed() {
    let opts = closed_port(Backend::Postgres);
    for shown in [format!("{opts:?}"), opts.to_string(), opts.target()] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    assert!(format!("{opts:?}").contains("<redacted>"));
    assert_eq!(opts.to_string(), "postgres://root@127.0.0.1:1/watchkeeper");

    let by_url = StoreOptions {
        url: format!("mysql://admin:{SECRET}@db.example:3306/wk?ssl-mode=required"),
        ..StoreOptions::default()
    };
    for shown in [format!("{by_url:?}"), by_url.to_string()] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    assert_eq!(by_url.target(), "mysql://admin@db.example:3306/wk");
    assert_eq!(Backend::Sqlite.to_string(), "sqlite3");
    assert_eq!(Backend::Mysql.to_string(), "mysql");
}

#[test]
fn futures_are_send() {
    fn send<T: Send>(_: T) {}
    let opts = StoreOptions::default();
    send(Store::connect(&opts));
    send(Store::connect_with_retry(
        &opts,
        Duration::from_secs(1),
        std::future::pending(),
    ));
    let _ = |s: Store| {
        send(async move {
            let _ = s
                .create_user(&crate::new_user("x", 1, wk_store::OrgRole::Viewer), 0)
                .await;
            let _ = s.kv_set(1, "a", "b", "c", 0).await;
            let _ = s.rotate_auth_token(1, "a", "b", 0).await;
        })
    };
}
