//! Generic key/value storage per organization and namespace (`kv_store` table), e.g. for
//! Alertmanager state snapshots (base64 text, possibly megabytes; up to 16 MiB on MySQL).

use crate::Store;
use crate::db::{dispatch, dispatch_read};
use crate::error::{StoreError, check_indexed, query_err};

/// A stored value and when it was last written.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KvEntry {
    /// The value.
    pub value: String,
    /// Last write, unix seconds.
    pub updated: i64,
}

/// A listed entry: key plus [`KvEntry`] columns.
#[derive(sqlx::FromRow)]
struct KvRow {
    key: String,
    value: String,
    updated: i64,
}

impl Store {
    /// Reads a value.
    pub async fn kv_get(
        &self,
        org_id: i64,
        namespace: &str,
        key: &str,
    ) -> Result<Option<KvEntry>, StoreError> {
        let sql = self.sql(
            "SELECT value, updated FROM kv_store WHERE org_id = ? AND namespace = ? AND \"key\" = ?",
        );
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, KvEntry>(sql)
                .bind(org_id)
                .bind(namespace)
                .bind(key)
                .fetch_optional(pool)
                .await
        })
        .map_err(query_err("kv_get"))
    }

    /// Inserts or overwrites a value in one statement (safe when instances write concurrently).
    pub async fn kv_set(
        &self,
        org_id: i64,
        namespace: &str,
        key: &str,
        value: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        check_indexed("kv namespace", namespace)?;
        check_indexed("kv key", key)?;
        let sql = self.sql(self.pick(
            "INSERT INTO kv_store (org_id, namespace, \"key\", value, created, updated) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE value = VALUES(value), updated = VALUES(updated)",
            "INSERT INTO kv_store (org_id, namespace, \"key\", value, created, updated) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (org_id, namespace, \"key\") \
             DO UPDATE SET value = excluded.value, updated = excluded.updated",
        ));
        dispatch!(self, pool => {
            sqlx::query(sql)
                .bind(org_id)
                .bind(namespace)
                .bind(key)
                .bind(value)
                .bind(now)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(query_err("kv_set"))
    }

    /// Deletes a value; false when it did not exist.
    pub async fn kv_delete(
        &self,
        org_id: i64,
        namespace: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let sql =
            self.sql("DELETE FROM kv_store WHERE org_id = ? AND namespace = ? AND \"key\" = ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(org_id).bind(namespace).bind(key).execute(pool).await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("kv_delete"))
    }

    /// All entries of a namespace, by key (byte order, the same on every backend).
    pub async fn kv_list(
        &self,
        org_id: i64,
        namespace: &str,
    ) -> Result<Vec<(String, KvEntry)>, StoreError> {
        let sql = self
            .sql("SELECT \"key\", value, updated FROM kv_store WHERE org_id = ? AND namespace = ?");
        let rows = dispatch_read!(self, pool => {
            sqlx::query_as::<_, KvRow>(sql).bind(org_id).bind(namespace).fetch_all(pool).await
        })
        .map_err(query_err("kv_list"))?;
        let mut out: Vec<(String, KvEntry)> = rows
            .into_iter()
            .map(|r| {
                (
                    r.key,
                    KvEntry {
                        value: r.value,
                        updated: r.updated,
                    },
                )
            })
            .collect();
        // Sorted here: SQL ORDER BY follows the database collation, which differs by backend.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}
