//! Test harness (feature `testing`): fresh databases on every available backend, so store-backed
//! tests in any crate run against SQLite, PostgreSQL and MySQL, in parallel.
//!
//! SQLite is always available (a file in a new temp directory). PostgreSQL and MySQL are used
//! when [`POSTGRES_URL_VAR`] / [`MYSQL_URL_VAR`] hold an admin URL (e.g.
//! `postgres://root@127.0.0.1:5432/test`); each test database is created through that URL as
//! `wk_t_<unique>` and dropped when its guard drops. A backend whose variable is unset is skipped
//! with a message on stderr, or panics when [`REQUIRE_SERVICES_VAR`] is `1`.
//!
//! ```ignore
//! for t in wk_store::testing::test_stores().await {
//!     let org = t.store.ensure_org(1, "Main Org.", 0).await.unwrap();
//! }
//! ```

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

use crate::{Backend, Store, StoreOptions};

/// Admin URL of the PostgreSQL server used by tests.
pub const POSTGRES_URL_VAR: &str = "WATCHKEEPER_TEST_POSTGRES_URL";
/// Admin URL of the MySQL/MariaDB server used by tests.
pub const MYSQL_URL_VAR: &str = "WATCHKEEPER_TEST_MYSQL_URL";
/// When `1`, a missing service variable fails the test instead of skipping the backend.
pub const REQUIRE_SERVICES_VAR: &str = "WATCHKEEPER_TEST_REQUIRE_SERVICES";

/// A fresh, empty database (no migrations applied), removed on drop (best effort).
#[derive(Debug)]
pub struct TestDatabase {
    /// Its backend.
    pub backend: Backend,
    /// Options pointing at it (both `url` and the individual fields are filled), usable to
    /// connect more stores or to configure a second process.
    pub options: StoreOptions,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    Database { admin_url: String, name: String },
}

/// A connected, migrated store on its own fresh database.
#[derive(Debug)]
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// Options pointing at the same database.
    pub options: StoreOptions,
    // Declared last: dropped after the store, then drops the database.
    db: TestDatabase,
}

impl TestStore {
    /// Its backend.
    pub fn backend(&self) -> Backend {
        self.db.backend
    }
}

impl Deref for TestStore {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

fn env_url(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

fn admin_url(backend: Backend) -> Option<String> {
    let var = match backend {
        Backend::Sqlite => return None,
        Backend::Postgres => POSTGRES_URL_VAR,
        Backend::Mysql => MYSQL_URL_VAR,
    };
    let url = env_url(var);
    if url.is_none() {
        if env_url(REQUIRE_SERVICES_VAR).as_deref() == Some("1") {
            panic!("{var} is not set but {REQUIRE_SERVICES_VAR}=1: {backend} tests cannot run");
        }
        eprintln!("skipping {backend} backend: set {var} (e.g. in CI) to run this test on it");
    }
    url
}

/// Backends this test can use: SQLite, plus each service whose URL variable is set.
pub fn available_backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    out.extend(
        [Backend::Postgres, Backend::Mysql]
            .into_iter()
            .filter(|b| admin_url(*b).is_some()),
    );
    out
}

/// Ids of every migration this version knows, in order.
pub fn migration_ids() -> Vec<&'static str> {
    crate::migrate::known_ids()
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000_000);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("wk_t_{}_{nanos}_{n}", std::process::id())
}

/// Options for `backend` without creating anything: PostgreSQL/MySQL point at the admin
/// database from the environment (shared; prefer [`test_database`]), SQLite at a file in a new
/// temp directory that is not removed. `None` when the backend is unavailable.
pub fn test_options(backend: Backend) -> Option<StoreOptions> {
    match backend {
        Backend::Sqlite => Some(sqlite_options(
            std::env::temp_dir().join(unique_name()).join("wk.db"),
        )),
        _ => options_from_url(backend, &admin_url(backend)?),
    }
}

fn sqlite_options(path: PathBuf) -> StoreOptions {
    StoreOptions {
        backend: Backend::Sqlite,
        path,
        wal: true,
        busy_timeout: Duration::from_secs(10),
        ..StoreOptions::default()
    }
}

fn options_from_url(backend: Backend, url: &str) -> Option<StoreOptions> {
    let u = url::Url::parse(url).ok()?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let host = match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    Some(StoreOptions {
        backend,
        url: url.to_owned(),
        host,
        name: decode(u.path().trim_start_matches('/')),
        user: decode(u.username()),
        password: u.password().map(decode).unwrap_or_default(),
        max_open_conn: 5,
        ..StoreOptions::default()
    })
}

/// Creates a fresh empty database on `backend`; `None` when the backend is unavailable.
/// Panics when a configured server cannot create it.
pub async fn test_database(backend: Backend) -> Option<TestDatabase> {
    if backend == Backend::Sqlite {
        let dir = std::env::temp_dir().join(unique_name());
        return Some(TestDatabase {
            backend,
            options: sqlite_options(dir.join("wk.db")),
            cleanup: Cleanup::Dir(dir),
        });
    }
    let admin = admin_url(backend)?;
    let name = unique_name();
    let mut url = url::Url::parse(&admin).unwrap_or_else(|e| panic!("bad {backend} test url: {e}"));
    url.set_path(&format!("/{name}"));
    let options =
        options_from_url(backend, url.as_str()).unwrap_or_else(|| panic!("bad {backend} test url"));
    let mut last_err = None;
    for _ in 0..5 {
        match admin_exec(backend, &admin, &create_sql(backend, &name)).await {
            Ok(()) => {
                return Some(TestDatabase {
                    backend,
                    options,
                    cleanup: Cleanup::Database {
                        admin_url: admin,
                        name,
                    },
                });
            }
            // e.g. PostgreSQL's "source database template1 is being accessed by other users"
            Err(e) => last_err = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!(
        "cannot create {backend} test database {name}: {}",
        last_err.map(|e| e.to_string()).unwrap_or_default()
    );
}

fn create_sql(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Mysql => format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
        _ => format!("CREATE DATABASE \"{name}\""),
    }
}

/// Drops a test database, first ending sessions still using it (a leftover transaction would
/// otherwise block the drop on its metadata locks).
async fn drop_database(backend: Backend, admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    match backend {
        Backend::Postgres => {
            let force = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            if admin_exec(backend, admin_url, &force).await.is_ok() {
                return Ok(());
            }
            // PostgreSQL before 13 has no WITH (FORCE).
            let mut c = PgConnection::connect(admin_url).await?;
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            )
            .bind(name)
            .execute(&mut c)
            .await?;
            sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\"")))
                .execute(&mut c)
                .await?;
            c.close().await
        }
        Backend::Mysql => {
            let mut c = MySqlConnection::connect(admin_url).await?;
            let ids: Vec<u64> = sqlx::query_scalar(
                "SELECT CAST(id AS UNSIGNED) FROM information_schema.processlist WHERE db = ?",
            )
            .bind(name)
            .fetch_all(&mut c)
            .await?;
            for id in ids {
                // The session may end on its own meanwhile.
                let _ = sqlx::raw_sql(AssertSqlSafe(format!("KILL {id}")))
                    .execute(&mut c)
                    .await;
            }
            sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                .execute(&mut c)
                .await?;
            c.close().await
        }
        Backend::Sqlite => Ok(()),
    }
}

async fn admin_exec(backend: Backend, admin_url: &str, sql: &str) -> Result<(), sqlx::Error> {
    let sql = AssertSqlSafe(sql.to_owned());
    match backend {
        Backend::Postgres => {
            let mut c = PgConnection::connect(admin_url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await?;
            c.close().await
        }
        Backend::Mysql => {
            let mut c = MySqlConnection::connect(admin_url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await?;
            c.close().await
        }
        Backend::Sqlite => Ok(()),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                let (backend, admin_url, name2) = (self.backend, admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which cannot be blocked on; use a thread
                // with its own small runtime.
                let job = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    rt.block_on(drop_database(backend, &admin_url, &name2))
                        .map_err(|e| e.to_string())
                });
                match job.join() {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => eprintln!("could not drop {backend} test database {name}: {e}"),
                    Err(_) => eprintln!("could not drop {backend} test database {name}: panicked"),
                }
            }
        }
    }
}

/// Connects and migrates a store on a fresh database of `backend`; `None` when unavailable.
pub async fn test_store(backend: Backend) -> Option<TestStore> {
    let db = test_database(backend).await?;
    let store = Store::connect(&db.options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect test store on {backend}: {e}"));
    Some(TestStore {
        store,
        options: db.options.clone(),
        db,
    })
}

/// One connected store per available backend, each on its own fresh database.
pub async fn test_stores() -> Vec<TestStore> {
    let mut out = Vec::new();
    for backend in available_backends() {
        if let Some(t) = test_store(backend).await {
            out.push(t);
        }
    }
    out
}
