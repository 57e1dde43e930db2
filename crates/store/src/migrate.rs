//! Applies pending migrations at connect, under a database-wide lock so that several instances
//! starting at once on one database migrate it exactly once.
//!
//! - SQLite: everything in one `BEGIN IMMEDIATE` transaction (other writers wait on the busy
//!   timeout; SQLite DDL is transactional).
//! - PostgreSQL: `pg_advisory_lock` on a dedicated connection; each migration and its log row
//!   commit together in one transaction on that connection.
//! - MySQL: `GET_LOCK` on a dedicated connection, migrations run on that same connection. DDL
//!   auto-commits there, so idempotence comes from the lock, the log and `IF NOT EXISTS`.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::mysql::{MySqlConnection, MySqlPool};
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{AssertSqlSafe, Connection};

use crate::db::Pools;
use crate::error::StoreError;
use crate::migrations::{MIGRATION_LOG, MIGRATIONS, Migration};
use crate::options::Backend;
use crate::sql;

/// Key for `pg_advisory_lock` (ASCII "wk-migr"); advisory locks are per database.
const PG_LOCK_KEY: i64 = 0x0077_6b2d_6d69_6772;
/// How long MySQL waits for another instance's migrations before giving up.
const MYSQL_LOCK_TIMEOUT_SECS: i64 = 300;

/// Builds a [`StoreError::Migration`] for step `id`.
fn mig_err(target: &str, id: &str) -> impl FnOnce(sqlx::Error) -> StoreError + use<> {
    let (target, id) = (target.to_owned(), id.to_owned());
    move |e| StoreError::Migration {
        id,
        target,
        source: Box::new(e),
    }
}

/// Creates `migration_log` if needed and returns the ids it holds. `$conn`: `&mut Connection`.
macro_rules! prepare_log {
    ($conn:ident, $backend:expr, $target:expr) => {{
        for stmt in MIGRATION_LOG.create_statements($backend) {
            sqlx::raw_sql(AssertSqlSafe(stmt))
                .execute(&mut *$conn)
                .await
                .map_err(mig_err($target, "migration_log"))?;
        }
        sqlx::query_scalar::<_, String>("SELECT id FROM migration_log")
            .fetch_all(&mut *$conn)
            .await
            .map_err(mig_err($target, "migration_log"))?
    }};
}

/// Runs one migration's statements and records it in the log.
macro_rules! apply_one {
    ($conn:ident, $backend:expr, $target:expr, $m:expr) => {{
        let m: &Migration = $m;
        for stmt in m.statements($backend) {
            sqlx::raw_sql(AssertSqlSafe(stmt))
                .execute(&mut *$conn)
                .await
                .map_err(mig_err($target, m.id))?;
        }
        sqlx::query(AssertSqlSafe(sql::convert(
            "INSERT INTO migration_log (id, description, applied_at) VALUES (?, ?, ?)",
            $backend,
        )))
        .bind(m.id)
        .bind(m.description)
        .bind(unix_now())
        .execute(&mut *$conn)
        .await
        .map_err(mig_err($target, m.id))?;
        tracing::info!(target = %$target, id = m.id, "applied database migration");
    }};
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Migrations not yet in `applied`, in order; warns about ids this binary does not know.
fn pending(applied: Vec<String>, target: &str) -> Vec<&'static Migration> {
    let applied: HashSet<String> = applied.into_iter().collect();
    for id in &applied {
        if !MIGRATIONS.iter().any(|m| m.id == id) {
            tracing::warn!(
                target,
                id,
                "database has a migration this version does not know"
            );
        }
    }
    MIGRATIONS
        .iter()
        .filter(|m| !applied.contains(m.id))
        .collect()
}

/// Applies every pending migration.
pub(crate) async fn run(pools: &Pools, target: &str) -> Result<(), StoreError> {
    match pools {
        Pools::Sqlite { write, .. } => sqlite(write, target).await,
        Pools::Postgres(p) => postgres(p, target).await,
        Pools::Mysql(p) => mysql(p, target).await,
    }
}

async fn sqlite(pool: &SqlitePool, target: &str) -> Result<(), StoreError> {
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(mig_err(target, "lock"))?;
    let conn: &mut SqliteConnection = &mut tx;
    let applied = prepare_log!(conn, Backend::Sqlite, target);
    for m in pending(applied, target) {
        apply_one!(conn, Backend::Sqlite, target, m);
    }
    tx.commit().await.map_err(mig_err(target, "commit"))
}

async fn postgres(pool: &PgPool, target: &str) -> Result<(), StoreError> {
    let lock_err = mig_err(target, "lock");
    let mut conn = pool
        .acquire()
        .await
        .map_err(mig_err(target, "lock"))?
        .detach();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut conn)
        .await
        .map_err(lock_err)?;
    let result = postgres_locked(&mut conn, target).await;
    // Closing the session releases the lock even if the unlock fails.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    result
}

async fn postgres_locked(conn: &mut PgConnection, target: &str) -> Result<(), StoreError> {
    let applied = prepare_log!(conn, Backend::Postgres, target);
    for m in pending(applied, target) {
        let mut tx = conn.begin().await.map_err(mig_err(target, m.id))?;
        let c: &mut PgConnection = &mut tx;
        apply_one!(c, Backend::Postgres, target, m);
        tx.commit().await.map_err(mig_err(target, m.id))?;
    }
    Ok(())
}

async fn mysql(pool: &MySqlPool, target: &str) -> Result<(), StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(mig_err(target, "lock"))?
        .detach();
    // Named per database so that unrelated databases on one server do not wait for each other.
    let got: Option<i64> = sqlx::query_scalar(
        "SELECT GET_LOCK(LEFT(CONCAT('watchkeeper_migrations.', DATABASE()), 64), ?)",
    )
    .bind(MYSQL_LOCK_TIMEOUT_SECS)
    .fetch_one(&mut conn)
    .await
    .map_err(mig_err(target, "lock"))?;
    if got != Some(1) {
        let _ = conn.close().await;
        return Err(StoreError::Migration {
            id: "lock".to_owned(),
            target: target.to_owned(),
            source: format!(
                "another instance held the migration lock for {MYSQL_LOCK_TIMEOUT_SECS}s"
            )
            .into(),
        });
    }
    let result = mysql_locked(&mut conn, target).await;
    let _ =
        sqlx::query("SELECT RELEASE_LOCK(LEFT(CONCAT('watchkeeper_migrations.', DATABASE()), 64))")
            .execute(&mut conn)
            .await;
    let _ = conn.close().await;
    result
}

async fn mysql_locked(conn: &mut MySqlConnection, target: &str) -> Result<(), StoreError> {
    let applied = prepare_log!(conn, Backend::Mysql, target);
    for m in pending(applied, target) {
        apply_one!(conn, Backend::Mysql, target, m);
    }
    Ok(())
}

/// Ids of every known migration, in order.
#[cfg(feature = "testing")]
pub(crate) fn known_ids() -> Vec<&'static str> {
    MIGRATIONS.iter().map(|m| m.id).collect()
}
