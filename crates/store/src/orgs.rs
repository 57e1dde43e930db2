//! Organizations (`org` table).

use crate::Store;
use crate::db::{Pools, dispatch, dispatch_read, insert_id};
use crate::error::{StoreError, check_indexed, query_err, unique_err};

/// An organization (tenant).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Org {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Last change, unix seconds.
    pub updated: i64,
}

/// `SELECT` of every [`Org`] column, followed by `$tail`.
macro_rules! select_org {
    ($tail:literal) => {
        concat!("SELECT id, name, created, updated FROM org", $tail)
    };
}

impl Store {
    /// Makes sure org `id` exists, creating it as `name` if not; an existing org keeps its name.
    /// Safe when several instances start at once. Fails with `Conflict` when `name` belongs to a
    /// different org.
    pub async fn ensure_org(&self, id: i64, name: &str, now: i64) -> Result<Org, StoreError> {
        const OP: &str = "ensure_org";
        check_indexed("org name", name)?;
        // Any unique violation (id or name) is ignored; the lookup below tells which it was.
        let sql = self.sql(self.pick(
            "INSERT INTO org (id, name, created, updated) VALUES (?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE id = id",
            "INSERT INTO org (id, name, created, updated) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        ));
        let inserted = dispatch!(self, pool => {
            sqlx::query(sql).bind(id).bind(name).bind(now).bind(now).execute(pool).await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err(OP))?;
        if inserted && let Pools::Postgres(pool) = &self.pools {
            // An explicit id does not advance the serial sequence; move it past the largest id
            // (never backwards, in case another instance just took a value).
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('org', 'id'), GREATEST( \
                   (SELECT COALESCE(MAX(id), 1) FROM org), \
                   COALESCE(pg_sequence_last_value(pg_get_serial_sequence('org', 'id')::regclass), 1)))",
            )
            .execute(pool)
            .await
            .map_err(query_err(OP))?;
        }
        match self.get_org(id).await? {
            Some(org) => Ok(org),
            None => Err(StoreError::Conflict(format!(
                "organization name {name:?} is taken by another organization"
            ))),
        }
    }

    /// Creates an organization; a duplicate name is a `Conflict`.
    pub async fn create_org(&self, name: &str, now: i64) -> Result<Org, StoreError> {
        check_indexed("org name", name)?;
        let sql = self.insert_sql("INSERT INTO org (name, created, updated) VALUES (?, ?, ?)");
        let id = dispatch!(self, pool => {
            insert_id(sqlx::query(sql).bind(name).bind(now).bind(now), pool).await
        })
        .map_err(unique_err("create_org", || {
            format!("organization {name:?} already exists")
        }))?;
        Ok(Org {
            id,
            name: name.to_owned(),
            created: now,
            updated: now,
        })
    }

    /// Looks up an organization by id.
    pub async fn get_org(&self, id: i64) -> Result<Option<Org>, StoreError> {
        let sql = self.sql(select_org!(" WHERE id = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, Org>(sql).bind(id).fetch_optional(pool).await
        })
        .map_err(query_err("get_org"))
    }

    /// All organizations, by id.
    pub async fn list_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let sql = self.sql(select_org!(" ORDER BY id"));
        dispatch_read!(self, pool => sqlx::query_as::<_, Org>(sql).fetch_all(pool).await)
            .map_err(query_err("list_orgs"))
    }
}
