//! [`Store`]: connecting (with retry), health, and the per-dialect SQL helpers used by the
//! operation modules.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AssertSqlSafe;

use crate::db::{self, Pools, dispatch_read};
use crate::error::{StoreError, query_err};
use crate::options::{Backend, StoreOptions};
use crate::{migrate, resolve, sql};

/// Handle to the shared database. Cloning is cheap (the pools are reference-counted).
#[derive(Clone)]
pub struct Store {
    pub(crate) pools: Pools,
    backend: Backend,
    target: Arc<str>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// First delay of [`Store::connect_with_retry`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

impl Store {
    /// Connects to the database described by `opts` and applies pending migrations.
    pub async fn connect(opts: &StoreOptions) -> Result<Store, StoreError> {
        let resolved = resolve::resolve(opts)?;
        let pools = db::open(opts, &resolved).await?;
        if let Err(e) = migrate::run(&pools, &resolved.target).await {
            db::close(&pools).await;
            return Err(e);
        }
        Ok(Store {
            pools,
            backend: resolved.backend,
            target: resolved.target.into(),
        })
    }

    /// Like [`Store::connect`], but retries connection failures (not option or migration errors)
    /// with exponential backoff from 500 ms up to `max_backoff`, logging each failure. Returns
    /// [`StoreError::Cancelled`] as soon as `cancel` completes.
    pub async fn connect_with_retry(
        opts: &StoreOptions,
        max_backoff: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Result<Store, StoreError> {
        let mut cancel = std::pin::pin!(cancel);
        let target = opts.target();
        // A zero ceiling would spin; 50 ms is the smallest pause between attempts.
        let ceiling = max_backoff.max(Duration::from_millis(50));
        let mut backoff = FIRST_BACKOFF.min(ceiling);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let err = tokio::select! {
                biased;
                () = &mut cancel => return Err(StoreError::Cancelled),
                r = Store::connect(opts) => match r {
                    Ok(store) => return Ok(store),
                    Err(e) if e.is_connection() => e,
                    Err(e) => return Err(e),
                },
            };
            tracing::error!(
                target = %target,
                attempt,
                error = %err,
                retry_in = ?backoff,
                "cannot connect to the database; retrying"
            );
            tokio::select! {
                biased;
                () = &mut cancel => return Err(StoreError::Cancelled),
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(ceiling);
        }
    }

    /// Which engine this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Password-free description of the database, e.g. `postgres://root@127.0.0.1:5432/wk`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Checks that the database answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch_read!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
            .map_err(query_err("ping"))
    }

    /// Closes all connections; later calls fail with a pool-closed error.
    pub async fn close(&self) {
        db::close(&self.pools).await;
    }

    /// Ids of the migrations recorded in `migration_log`, in id order.
    pub async fn applied_migrations(&self) -> Result<Vec<String>, StoreError> {
        dispatch_read!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT id FROM migration_log ORDER BY id")
                .fetch_all(pool)
                .await
        })
        .map_err(query_err("applied_migrations"))
    }

    /// `sql` rewritten for this backend (placeholders, identifier quotes).
    pub(crate) fn sql(&self, sql: &'static str) -> AssertSqlSafe<std::borrow::Cow<'static, str>> {
        AssertSqlSafe(sql::convert(sql, self.backend))
    }

    /// An `INSERT` rewritten for this backend, returning the new id via `db::insert_id`.
    pub(crate) fn insert_sql(
        &self,
        sql: &'static str,
    ) -> AssertSqlSafe<std::borrow::Cow<'static, str>> {
        AssertSqlSafe(sql::insert(sql, self.backend))
    }

    /// Picks the statement variant for this backend's upsert syntax.
    pub(crate) fn pick(&self, mysql: &'static str, others: &'static str) -> &'static str {
        if self.backend == Backend::Mysql {
            mysql
        } else {
            others
        }
    }
}
