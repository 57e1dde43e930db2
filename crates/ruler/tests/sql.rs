//! The SQL data sources against the real PostgreSQL and MariaDB of the test environment
//! (`WATCHKEEPER_TEST_POSTGRES_URL`, `WATCHKEEPER_TEST_MYSQL_URL`): a table of time, host and
//! value rows in a unique table, dropped at the end.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use serde_json::{Value as Json, json};
use sqlx::{AssertSqlSafe, Connection};
use wk_ruler::data::{Labels, Number, TimeRange, Value};
use wk_ruler::datasource::sql::query;
use wk_ruler::datasource::{DataSourceConfig, QueryError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Postgres,
    Mysql,
}

impl Db {
    fn var(self) -> &'static str {
        match self {
            Db::Postgres => "WATCHKEEPER_TEST_POSTGRES_URL",
            Db::Mysql => "WATCHKEEPER_TEST_MYSQL_URL",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Db::Postgres => "grafana-postgresql-datasource",
            Db::Mysql => "mysql",
        }
    }
}

/// The admin URL of `db`, or `None` (skip) unless services are required.
fn admin_url(db: Db) -> Option<String> {
    let url = std::env::var(db.var())
        .ok()
        .filter(|v| !v.trim().is_empty());
    if url.is_none() {
        if std::env::var("WATCHKEEPER_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!(
                "{} is not set but WATCHKEEPER_TEST_REQUIRE_SERVICES=1",
                db.var()
            );
        }
        eprintln!("skipping {db:?}: set {} to run this test on it", db.var());
    }
    url
}

async fn exec(db: Db, admin: &str, sql: &str) -> Result<(), sqlx::Error> {
    let sql = AssertSqlSafe(sql.to_owned());
    match db {
        Db::Postgres => {
            let mut c = sqlx::PgConnection::connect(admin).await?;
            sqlx::raw_sql(sql).execute(&mut c).await?;
            c.close().await
        }
        Db::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(admin).await?;
            sqlx::raw_sql(sql).execute(&mut c).await?;
            c.close().await
        }
    }
}

/// A data source pointing where `admin` points.
fn datasource(db: Db, uid: &str, admin: &str) -> DataSourceConfig {
    let u = url::Url::parse(admin).expect("admin url");
    let mut cfg = DataSourceConfig {
        uid: uid.into(),
        kind: db.kind().into(),
        url: format!(
            "{}:{}",
            u.host_str().unwrap_or("127.0.0.1"),
            u.port().unwrap_or(match db {
                Db::Postgres => 5432,
                Db::Mysql => 3306,
            })
        ),
        user: u.username().into(),
        database: u.path().trim_start_matches('/').into(),
        json_data: match db {
            Db::Postgres => json!({"sslmode": "disable"}),
            Db::Mysql => json!({}),
        },
        ..DataSourceConfig::default()
    };
    if let Some(p) = u.password() {
        cfg.secure.insert("password".into(), p.into());
    }
    cfg
}

fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000_000);
    format!("wk_ruler_{tag}_{}_{nanos}", std::process::id())
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `ms` as a UTC timestamp literal both databases read.
fn literal(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

const TIMEOUT: Duration = Duration::from_secs(10);

async fn checks(db: Db, admin: &str, table: &str, range: TimeRange) {
    let cfg = datasource(db, &format!("{db:?}-main"), admin);
    let run = |model: Json| {
        let cfg = cfg.clone();
        async move { query(&cfg, &model, range, TIMEOUT).await }
    };
    let (t1, t2) = (range.to - 600_000, range.to - 300_000);

    // Time series: one series per host, the row outside the range filtered out.
    let time_expr = match db {
        Db::Postgres => "ts AS time",
        Db::Mysql => "$__time(ts)",
    };
    let v = run(json!({
        "format": "time_series",
        "rawSql": format!("SELECT {time_expr}, host, value FROM {table} WHERE $__timeFilter(ts) ORDER BY ts"),
    }))
    .await
    .unwrap();
    let Value::Series(mut s) = v else {
        panic!("{v:?}")
    };
    s.sort_by(|a, b| a.labels.cmp(&b.labels));
    assert_eq!(s.len(), 3, "{s:?}");
    assert_eq!(s[0].labels, labels(&[("host", "a")]));
    assert_eq!(s[0].points, vec![(t1, Some(1.0)), (t2, Some(3.0))]);
    assert_eq!(s[1].labels, labels(&[("host", "b")]));
    assert_eq!(s[1].points, vec![(t1, Some(10.0)), (t2, Some(20.0))]);
    assert_eq!(s[2].labels, labels(&[("host", "c")]));
    assert_eq!(s[2].points, vec![(t2, None)]);

    // Epoch seconds as the time column, and the `$__unixEpoch…` macros.
    let epoch = match db {
        Db::Postgres => "$__timeEpoch(ts)",
        Db::Mysql => "UNIX_TIMESTAMP(ts) AS time",
    };
    let v = run(json!({
        "rawSql": format!("SELECT {epoch}, value FROM {table} WHERE host = 'a' AND ts >= {} AND ts <= {}",
            match db { Db::Postgres => "to_timestamp($__unixEpochFrom())", Db::Mysql => "FROM_UNIXTIME($__unixEpochFrom())" },
            match db { Db::Postgres => "to_timestamp($__unixEpochTo())", Db::Mysql => "FROM_UNIXTIME($__unixEpochTo())" }),
    }))
    .await
    .unwrap();
    let Value::Series(s) = v else { panic!("{v:?}") };
    assert_eq!(s.len(), 1);
    assert!(s[0].labels.is_empty());
    assert_eq!(
        s[0].points.iter().map(|p| p.0 / 1000).collect::<Vec<_>>(),
        vec![t1 / 1000, t2 / 1000]
    );

    // A table aggregate: numbers labelled by host.
    let v = run(json!({
        "format": "table",
        "rawSql": format!("SELECT host, avg(value) AS avg FROM {table} WHERE $__timeFilter(ts) GROUP BY host ORDER BY host"),
    }))
    .await
    .unwrap();
    assert_eq!(
        v,
        Value::Numbers(vec![
            Number {
                labels: labels(&[("host", "a")]),
                value: Some(2.0)
            },
            Number {
                labels: labels(&[("host", "b")]),
                value: Some(15.0)
            },
            Number {
                labels: labels(&[("host", "c")]),
                value: None
            },
        ])
    );

    // Integer and decimal results, several numeric columns.
    let v = run(json!({
        "rawSql": format!("SELECT count(*) AS n, sum(value) AS total FROM {table} WHERE $__timeFilter(ts)"),
    }))
    .await
    .unwrap();
    assert_eq!(
        v,
        Value::Numbers(vec![
            Number {
                labels: labels(&[("__name__", "n")]),
                value: Some(5.0)
            },
            Number {
                labels: labels(&[("__name__", "total")]),
                value: Some(34.0)
            },
        ])
    );

    // Nothing matches: no data.
    let v = run(json!({
        "rawSql": format!("SELECT host, value FROM {table} WHERE value > 1000"),
    }))
    .await
    .unwrap();
    assert_eq!(v, Value::NoData);

    // Bad SQL: the database's message, naming the data source.
    let e = run(json!({"rawSql": "SELEC 1"})).await.unwrap_err();
    let QueryError::Remote(m) = &e else {
        panic!("{e:?}")
    };
    assert!(m.contains(&cfg.uid) && m.contains("syntax"), "{m}");

    // A slow query times out.
    let sleep = match db {
        Db::Postgres => "SELECT 1 AS v FROM pg_sleep(5)",
        Db::Mysql => "SELECT SLEEP(5) AS v",
    };
    let e = query(
        &cfg,
        &json!({"rawSql": sleep}),
        range,
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert_eq!(e, QueryError::Timeout(Duration::from_millis(300)));
}

async fn wrong_credentials(db: Db, admin: &str) {
    let mut cfg = datasource(db, &format!("{db:?}-bad-login"), admin);
    let user = unique("user");
    match db {
        // The test server trusts every local login, so a password cannot be wrong there; an
        // unknown role fails the same way.
        Db::Postgres => cfg.user = user.clone(),
        Db::Mysql => {
            exec(
                db,
                admin,
                &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'right'"),
            )
            .await
            .expect("create user");
            cfg.user = user.clone();
            cfg.secure.insert("password".into(), "wrong".into());
        }
    }
    let range = TimeRange { from: 0, to: 1000 };
    let r = query(&cfg, &json!({"rawSql": "SELECT 1 AS v"}), range, TIMEOUT).await;
    if db == Db::Mysql {
        let _ = exec(db, admin, &format!("DROP USER '{user}'@'%'")).await;
    }
    let e = r.unwrap_err();
    let QueryError::Remote(m) = &e else {
        panic!("{e:?}")
    };
    assert!(m.contains(&cfg.uid), "{m}");
    match db {
        Db::Postgres => assert!(m.contains("does not exist"), "{m}"),
        Db::Mysql => assert!(m.contains("Access denied"), "{m}"),
    }
}

async fn run_on(db: Db) {
    let Some(admin) = admin_url(db) else { return };
    let table = unique("t");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    // Whole seconds, so epoch-second macros and timestamps agree exactly.
    let to = now / 1000 * 1000;
    let range = TimeRange {
        from: to - 3_600_000,
        to,
    };
    let (t1, t2, old) = (to - 600_000, to - 300_000, to - 7_200_000);
    let create = match db {
        Db::Postgres => format!(
            "CREATE TABLE {table} (ts timestamptz NOT NULL, host text NOT NULL, value double precision)"
        ),
        Db::Mysql => format!(
            "CREATE TABLE {table} (ts DATETIME(3) NOT NULL, host VARCHAR(64) NOT NULL, value DOUBLE)"
        ),
    };
    let zone = if db == Db::Postgres { "+00" } else { "" };
    let rows = [
        (t1, "a", "1"),
        (t2, "a", "3"),
        (t1, "b", "10"),
        (t2, "b", "20"),
        (t2, "c", "NULL"),
        (old, "a", "100"),
    ]
    .iter()
    .map(|(t, h, v)| format!("('{}{zone}', '{h}', {v})", literal(*t)))
    .collect::<Vec<_>>()
    .join(", ");
    exec(db, &admin, &create).await.expect("create table");
    let insert = format!("INSERT INTO {table} (ts, host, value) VALUES {rows}");
    let result = AssertUnwindSafe(async {
        exec(db, &admin, &insert).await.expect("insert rows");
        checks(db, &admin, &table, range).await;
        wrong_credentials(db, &admin).await;
    })
    .catch_unwind()
    .await;
    if let Err(e) = exec(db, &admin, &format!("DROP TABLE IF EXISTS {table}")).await {
        eprintln!("could not drop {table}: {e}");
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn postgres() {
    run_on(Db::Postgres).await;
}

#[tokio::test]
async fn mysql() {
    run_on(Db::Mysql).await;
}
