//! Login sessions (`user_auth_token` table, Grafana's columns). Only token hashes are stored.

use crate::Store;
use crate::db::{dispatch, dispatch_read, insert_id};
use crate::error::{StoreError, check_indexed, query_err, unique_err};

/// Input for [`Store::create_auth_token`].
#[derive(Debug, Clone)]
pub struct NewAuthToken {
    /// Owner.
    pub user_id: i64,
    /// Hash of the session token.
    pub auth_token: String,
    /// Client user agent.
    pub user_agent: String,
    /// Client address.
    pub client_ip: String,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthToken {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Hash of the current token.
    pub auth_token: String,
    /// Hash of the token before the last rotation (equals `auth_token` until the first one).
    pub prev_auth_token: String,
    /// Client user agent.
    pub user_agent: String,
    /// Client address.
    pub client_ip: String,
    /// Whether the current token was presented by the client since it was issued.
    pub auth_token_seen: bool,
    /// When the current token was first seen, unix seconds (0 = not yet).
    pub seen_at: i64,
    /// Last rotation (creation counts), unix seconds.
    pub rotated_at: i64,
    /// Creation, unix seconds.
    pub created_at: i64,
    /// Last change, unix seconds.
    pub updated_at: i64,
    /// Revocation time, unix seconds; 0 = not revoked.
    pub revoked_at: i64,
}

/// `SELECT` of every [`AuthToken`] column, followed by `$tail`.
macro_rules! select_token {
    ($tail:literal) => {
        concat!(
            "SELECT id, user_id, auth_token, prev_auth_token, user_agent, client_ip, \
             auth_token_seen, seen_at, rotated_at, created_at, updated_at, revoked_at \
             FROM user_auth_token",
            $tail
        )
    };
}

impl Store {
    /// Stores a new session; `prev_auth_token` starts equal to `auth_token` (as in Grafana).
    pub async fn create_auth_token(
        &self,
        t: &NewAuthToken,
        now: i64,
    ) -> Result<AuthToken, StoreError> {
        check_indexed("auth token hash", &t.auth_token)?;
        let sql = self.insert_sql(
            "INSERT INTO user_auth_token (user_id, auth_token, prev_auth_token, user_agent, \
             client_ip, auth_token_seen, seen_at, rotated_at, created_at, updated_at, revoked_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let id = dispatch!(self, pool => {
            let q = sqlx::query(sql)
                .bind(t.user_id)
                .bind(&t.auth_token)
                .bind(&t.auth_token)
                .bind(&t.user_agent)
                .bind(&t.client_ip)
                .bind(false)
                .bind(0_i64)
                .bind(now)
                .bind(now)
                .bind(now)
                .bind(0_i64);
            insert_id(q, pool).await
        })
        .map_err(unique_err("create_auth_token", || {
            "auth token hash already exists".to_owned()
        }))?;
        Ok(AuthToken {
            id,
            user_id: t.user_id,
            auth_token: t.auth_token.clone(),
            prev_auth_token: t.auth_token.clone(),
            user_agent: t.user_agent.clone(),
            client_ip: t.client_ip.clone(),
            auth_token_seen: false,
            seen_at: 0,
            rotated_at: now,
            created_at: now,
            updated_at: now,
            revoked_at: 0,
        })
    }

    /// Finds the session whose current or previous token hash is `hashed` (revoked ones too;
    /// the caller checks `revoked_at`). A current-token match wins.
    pub async fn get_auth_token(&self, hashed: &str) -> Result<Option<AuthToken>, StoreError> {
        let sql = self.sql(select_token!(
            " WHERE auth_token = ? OR prev_auth_token = ? \
             ORDER BY CASE WHEN auth_token = ? THEN 0 ELSE 1 END LIMIT 1"
        ));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, AuthToken>(sql)
                .bind(hashed)
                .bind(hashed)
                .bind(hashed)
                .fetch_optional(pool)
                .await
        })
        .map_err(query_err("get_auth_token"))
    }

    /// Looks up a session by id.
    pub async fn get_auth_token_by_id(&self, id: i64) -> Result<Option<AuthToken>, StoreError> {
        let sql = self.sql(select_token!(" WHERE id = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, AuthToken>(sql).bind(id).fetch_optional(pool).await
        })
        .map_err(query_err("get_auth_token_by_id"))
    }

    /// Replaces the token of session `id` if its current hash is still `current_hash`:
    /// `prev_auth_token = current`, `auth_token = new`, unseen, `rotated_at = now`. Returns
    /// whether this call rotated it; of several racing callers exactly one wins.
    pub async fn rotate_auth_token(
        &self,
        id: i64,
        current_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        check_indexed("auth token hash", new_hash)?;
        let sql = self.sql(
            "UPDATE user_auth_token SET prev_auth_token = auth_token, auth_token = ?, \
             auth_token_seen = ?, rotated_at = ?, updated_at = ? WHERE id = ? AND auth_token = ?",
        );
        dispatch!(self, pool => {
            sqlx::query(sql)
                .bind(new_hash)
                .bind(false)
                .bind(now)
                .bind(now)
                .bind(id)
                .bind(current_hash)
                .execute(pool)
                .await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(unique_err("rotate_auth_token", || {
            "auth token hash already exists".to_owned()
        }))
    }

    /// Marks the current token of session `id` as seen by the client (no-op when `hashed` is
    /// not the current token, e.g. a late request with the previous one).
    pub async fn mark_auth_token_seen(
        &self,
        id: i64,
        hashed: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE user_auth_token SET auth_token_seen = ?, seen_at = ?, updated_at = ? \
             WHERE id = ? AND auth_token = ?",
        );
        dispatch!(self, pool => {
            sqlx::query(sql)
                .bind(true)
                .bind(now)
                .bind(now)
                .bind(id)
                .bind(hashed)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(query_err("mark_auth_token_seen"))
    }

    /// Revokes a session; false when it does not exist or was already revoked.
    pub async fn revoke_auth_token(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE user_auth_token SET revoked_at = ?, updated_at = ? WHERE id = ? AND revoked_at = 0",
        );
        dispatch!(self, pool => {
            sqlx::query(sql).bind(now).bind(now).bind(id).execute(pool).await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("revoke_auth_token"))
    }

    /// Revokes every live session of a user; returns how many were revoked.
    pub async fn revoke_user_auth_tokens(&self, user_id: i64, now: i64) -> Result<u64, StoreError> {
        let sql = self.sql(
            "UPDATE user_auth_token SET revoked_at = ?, updated_at = ? \
             WHERE user_id = ? AND revoked_at = 0",
        );
        dispatch!(self, pool => {
            sqlx::query(sql).bind(now).bind(now).bind(user_id).execute(pool).await
                .map(|r| r.rows_affected())
        })
        .map_err(query_err("revoke_user_auth_tokens"))
    }

    /// Deletes sessions created before `created_before` or last rotated before
    /// `rotated_before`; returns how many.
    pub async fn delete_expired_auth_tokens(
        &self,
        created_before: i64,
        rotated_before: i64,
    ) -> Result<u64, StoreError> {
        let sql = self.sql("DELETE FROM user_auth_token WHERE created_at < ? OR rotated_at < ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(created_before).bind(rotated_before).execute(pool).await
                .map(|r| r.rows_affected())
        })
        .map_err(query_err("delete_expired_auth_tokens"))
    }
}
