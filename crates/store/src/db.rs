//! The typed-pool layer that replaces sqlx's `Any` driver.
//!
//! [`Pools`] holds one typed pool per backend. The `dispatch!`, `dispatch_read!` and
//! `transaction!` macros expand a query body once per backend, so the same source text
//! type-checks against `Sqlite`, `Postgres` and `MySql` with their native types. SQL passes
//! through [`crate::sql`] to get each dialect's placeholders and identifier quotes.
//!
//! SQLite gets a single-connection writer pool (all writes, and every transaction, go through it,
//! so in-process writers queue instead of failing with `SQLITE_BUSY`), plus, in WAL mode, a
//! read-only pool for plain reads: WAL readers never block or wait for the writer, so session
//! lookups do not queue behind writes. Without WAL a reader would block the writer, so both names
//! point at the one writer pool.

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::mysql::{MySql, MySqlPool};
use sqlx::postgres::{PgPool, Postgres};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, Database, Executor, Row};

use crate::error::StoreError;
use crate::options::StoreOptions;
use crate::resolve::{Connect, Resolved, sqlite_parent};

/// One typed pool per backend.
#[derive(Clone, Debug)]
pub(crate) enum Pools {
    /// SQLite writer (max 1 connection) and reader pool (the writer itself without WAL).
    Sqlite { write: SqlitePool, read: SqlitePool },
    /// PostgreSQL pool.
    Postgres(PgPool),
    /// MySQL / MariaDB pool.
    Mysql(MySqlPool),
}

/// Expands `$body` once per backend with `$pool` bound to that backend's (writer) pool.
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pools {
            $crate::db::Pools::Sqlite { write: $pool, .. } => $body,
            $crate::db::Pools::Postgres($pool) => $body,
            $crate::db::Pools::Mysql($pool) => $body,
        }
    };
}
pub(crate) use dispatch;

/// Like `dispatch!`, but SQLite uses the read pool. Only for statements that do not write.
macro_rules! dispatch_read {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pools {
            $crate::db::Pools::Sqlite { read: $pool, .. } => $body,
            $crate::db::Pools::Postgres($pool) => $body,
            $crate::db::Pools::Mysql($pool) => $body,
        }
    };
}
pub(crate) use dispatch_read;

/// Runs `$body` (which uses `&mut *$tx` as executor and may leave early with `?` or
/// `return Err(..)`) in a transaction: commits when it yields a value, rolls back explicitly on
/// error (not lazily on drop, so no connection goes back to the pool holding locks). SQLite uses
/// `BEGIN IMMEDIATE` so that the write lock is taken up front (a deferred read-then-write
/// transaction could fail when another process writes in between).
/// Never call other `Store` methods inside: the SQLite writer pool has a single connection.
macro_rules! transaction {
    ($store:expr, $op:expr, $tx:ident => $body:expr) => {
        match &$store.pools {
            $crate::db::Pools::Sqlite { write, .. } => {
                let $tx = write.begin_with("BEGIN IMMEDIATE").await;
                $crate::db::transaction!(@run $tx, $op, $body)
            }
            $crate::db::Pools::Postgres(pool) => {
                let $tx = pool.begin().await;
                $crate::db::transaction!(@run $tx, $op, $body)
            }
            $crate::db::Pools::Mysql(pool) => {
                let $tx = pool.begin().await;
                $crate::db::transaction!(@run $tx, $op, $body)
            }
        }
    };
    (@run $tx:ident, $op:expr, $body:expr) => {{
        let mut $tx = $tx.map_err($crate::error::query_err($op))?;
        let result: Result<_, $crate::error::StoreError> = async { Ok($body) }.await;
        match result {
            Ok(value) => {
                $tx.commit().await.map_err($crate::error::query_err($op))?;
                value
            }
            Err(e) => {
                // Best effort: if this fails the connection is broken and sqlx discards it.
                let _ = $tx.rollback().await;
                return Err(e);
            }
        }
    }};
}
pub(crate) use transaction;

/// How each backend reports the id of a row just inserted by an `INSERT` built with
/// [`crate::sql::insert`] (which adds `RETURNING id` for PostgreSQL).
pub(crate) trait InsertId: Database {
    /// Executes `query` and returns the new row's id.
    fn insert_id<'c, E>(
        query: Query<'c, Self, <Self as Database>::Arguments>,
        executor: E,
    ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send + 'c
    where
        E: Executor<'c, Database = Self> + 'c;
}

impl InsertId for Sqlite {
    async fn insert_id<'c, E>(
        query: Query<'c, Self, <Self as Database>::Arguments>,
        executor: E,
    ) -> Result<i64, sqlx::Error>
    where
        E: Executor<'c, Database = Self> + 'c,
    {
        Ok(query.execute(executor).await?.last_insert_rowid())
    }
}

impl InsertId for MySql {
    async fn insert_id<'c, E>(
        query: Query<'c, Self, <Self as Database>::Arguments>,
        executor: E,
    ) -> Result<i64, sqlx::Error>
    where
        E: Executor<'c, Database = Self> + 'c,
    {
        let id = query.execute(executor).await?.last_insert_id();
        i64::try_from(id).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
}

impl InsertId for Postgres {
    async fn insert_id<'c, E>(
        query: Query<'c, Self, <Self as Database>::Arguments>,
        executor: E,
    ) -> Result<i64, sqlx::Error>
    where
        E: Executor<'c, Database = Self> + 'c,
    {
        query.fetch_one(executor).await?.try_get::<i64, _>(0)
    }
}

/// Executes an insert and returns the new id, whatever the backend (inferred from `query`).
pub(crate) fn insert_id<'c, DB, E>(
    query: Query<'c, DB, <DB as Database>::Arguments>,
    executor: E,
) -> impl Future<Output = Result<i64, sqlx::Error>> + Send + 'c
where
    DB: InsertId,
    E: Executor<'c, Database = DB> + 'c,
{
    DB::insert_id(query, executor)
}

/// Acquire timeout for every pool (also bounds how long connect waits for a first connection).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

fn pool_options<DB: Database>(o: &StoreOptions) -> sqlx::pool::PoolOptions<DB> {
    let mut p = sqlx::pool::PoolOptions::<DB>::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .max_lifetime((!o.conn_max_lifetime.is_zero()).then_some(o.conn_max_lifetime))
        .idle_timeout(if o.max_idle_conn == 0 {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(600)
        });
    if o.max_open_conn > 0 {
        p = p.max_connections(o.max_open_conn);
    }
    p
}

/// Opens the pools described by `r` (after checking that one connection can be made).
pub(crate) async fn open(o: &StoreOptions, r: &Resolved) -> Result<Pools, StoreError> {
    let connect_err = |source| StoreError::Connect {
        target: r.target.clone(),
        source,
    };
    match &r.connect {
        Connect::Sqlite { options, in_memory } => {
            if !in_memory && let Some(dir) = sqlite_parent(options.get_filename()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::InvalidOptions(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            // The single writer stays open: reopening costs, and in-memory data would vanish.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(u32::from(*in_memory))
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
                .await
                .map_err(connect_err)?;
            if !o.wal || *in_memory {
                return Ok(Pools::Sqlite {
                    read: write.clone(),
                    write,
                });
            }
            enable_wal(&write, o.busy_timeout)
                .await
                .map_err(connect_err)?;
            let readers = if o.max_open_conn == 0 {
                4
            } else {
                o.max_open_conn
            };
            let read = pool_options::<Sqlite>(o)
                .max_connections(readers)
                .connect_lazy_with(options.clone().read_only(true));
            Ok(Pools::Sqlite { write, read })
        }
        Connect::Postgres(options) => {
            probe(options).await.map_err(connect_err)?;
            Ok(Pools::Postgres(
                pool_options::<Postgres>(o).connect_lazy_with(options.clone()),
            ))
        }
        Connect::Mysql(options) => {
            probe(options).await.map_err(connect_err)?;
            Ok(Pools::Mysql(
                pool_options::<MySql>(o).connect_lazy_with(options.clone()),
            ))
        }
    }
}

/// How long the first connection of [`open`] may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Opens (and closes) one connection outside the pool. sqlx pools keep retrying "connection
/// refused" until the acquire timeout; connecting must instead fail fast with the real error so
/// that the caller can log it and back off.
async fn probe<C>(options: &C) -> Result<(), sqlx::Error>
where
    C: ConnectOptions,
    C::Connection: Sized,
{
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no connection within {}s", CONNECT_TIMEOUT.as_secs()),
        ))),
    }
}

/// Switches the database file to WAL. The switch needs an exclusive lock that SQLite's busy
/// handler does not wait for, so concurrent openers retry here until the busy timeout.
async fn enable_wal(pool: &SqlitePool, busy: Duration) -> Result<(), sqlx::Error> {
    let deadline = Instant::now() + busy.max(Duration::from_secs(5));
    loop {
        match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
            .fetch_one(pool)
            .await
        {
            Ok(mode) => {
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(mode, "sqlite did not switch to WAL journal mode");
                }
                return Ok(());
            }
            Err(sqlx::Error::Database(e)) if Instant::now() < deadline && is_sqlite_busy(&*e) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED, including their extended codes.
fn is_sqlite_busy(e: &dyn sqlx::error::DatabaseError) -> bool {
    e.code()
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Closes every pool, waiting for checked-out connections to come back.
pub(crate) async fn close(pools: &Pools) {
    match pools {
        Pools::Sqlite { write, read } => {
            read.close().await;
            write.close().await;
        }
        Pools::Postgres(p) => p.close().await,
        Pools::Mysql(p) => p.close().await,
    }
}
