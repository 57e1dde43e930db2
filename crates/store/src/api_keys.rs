//! API tokens (`api_key` table). Only token hashes are stored.

use crate::Store;
use crate::db::{dispatch, dispatch_read, insert_id};
use crate::error::{StoreError, check_indexed, query_err, unique_err};
use crate::role::OrgRole;

/// Input for [`Store::create_api_key`].
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// Organization the token acts in.
    pub org_id: i64,
    /// Name, unique within the organization.
    pub name: String,
    /// Hash of the token.
    pub key_hash: String,
    /// Role the token acts with.
    pub role: OrgRole,
    /// Expiry, unix seconds (`None` = never).
    pub expires: Option<i64>,
}

/// A stored API token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    /// Row id.
    pub id: i64,
    /// Organization the token acts in.
    pub org_id: i64,
    /// Name, unique within the organization.
    pub name: String,
    /// Hash of the token.
    pub key_hash: String,
    /// Role the token acts with.
    #[sqlx(try_from = "String")]
    pub role: OrgRole,
    /// Creation, unix seconds.
    pub created: i64,
    /// Last change, unix seconds.
    pub updated: i64,
    /// Expiry, unix seconds (`None` = never).
    pub expires: Option<i64>,
    /// Last use, unix seconds (`None` = never used).
    pub last_used_at: Option<i64>,
}

/// `SELECT` of every [`ApiKey`] column, followed by `$tail`.
macro_rules! select_key {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, name, key_hash, role, created, updated, expires, last_used_at \
             FROM api_key",
            $tail
        )
    };
}

impl Store {
    /// Stores a new API token; a duplicate name in the org (or duplicate hash) is a `Conflict`.
    pub async fn create_api_key(&self, k: &NewApiKey, now: i64) -> Result<ApiKey, StoreError> {
        check_indexed("api key name", &k.name)?;
        check_indexed("api key hash", &k.key_hash)?;
        let sql = self.insert_sql(
            "INSERT INTO api_key (org_id, name, key_hash, role, created, updated, expires, \
             last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let id = dispatch!(self, pool => {
            let q = sqlx::query(sql)
                .bind(k.org_id)
                .bind(&k.name)
                .bind(&k.key_hash)
                .bind(k.role.as_str())
                .bind(now)
                .bind(now)
                .bind(k.expires)
                .bind(None::<i64>);
            insert_id(q, pool).await
        })
        .map_err(unique_err("create_api_key", || {
            format!(
                "an API key named {:?} already exists in organization {}",
                k.name, k.org_id
            )
        }))?;
        Ok(ApiKey {
            id,
            org_id: k.org_id,
            name: k.name.clone(),
            key_hash: k.key_hash.clone(),
            role: k.role,
            created: now,
            updated: now,
            expires: k.expires,
            last_used_at: None,
        })
    }

    /// Finds a token by hash (expired ones too; the caller checks `expires`).
    pub async fn get_api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = self.sql(select_key!(" WHERE key_hash = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, ApiKey>(sql).bind(key_hash).fetch_optional(pool).await
        })
        .map_err(query_err("get_api_key_by_hash"))
    }

    /// Tokens of an organization, by name.
    pub async fn list_api_keys(&self, org_id: i64) -> Result<Vec<ApiKey>, StoreError> {
        let sql = self.sql(select_key!(" WHERE org_id = ? ORDER BY name, id"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, ApiKey>(sql).bind(org_id).fetch_all(pool).await
        })
        .map_err(query_err("list_api_keys"))
    }

    /// Deletes token `id` of `org_id`; false when there is no such token in that org.
    pub async fn delete_api_key(&self, org_id: i64, id: i64) -> Result<bool, StoreError> {
        let sql = self.sql("DELETE FROM api_key WHERE org_id = ? AND id = ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(org_id).bind(id).execute(pool).await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("delete_api_key"))
    }

    /// Records a use of token `id` (`last_used_at`).
    pub async fn touch_api_key(&self, id: i64, now: i64) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE api_key SET last_used_at = ? WHERE id = ?");
        dispatch!(self, pool => sqlx::query(sql).bind(now).bind(id).execute(pool).await.map(|_| ()))
            .map_err(query_err("touch_api_key"))
    }
}
