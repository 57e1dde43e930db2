//! Failed login attempts (`login_attempt` table). Kept in the database so that brute-force
//! lockout holds across instances. Usernames are compared case-insensitively and cut to the
//! indexed column length (they are attacker-controlled).

use crate::Store;
use crate::db::{dispatch, dispatch_read};
use crate::error::{StoreError, query_err, truncate_indexed};

/// Normalized attempt key for `username`.
fn key(username: &str) -> String {
    truncate_indexed(&username.to_lowercase()).to_owned()
}

impl Store {
    /// Records a failed login for `username` from `ip`.
    pub async fn record_login_attempt(
        &self,
        username: &str,
        ip: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql =
            self.sql("INSERT INTO login_attempt (username, ip_address, created) VALUES (?, ?, ?)");
        let (user, ip) = (key(username), truncate_indexed(ip));
        dispatch!(self, pool => {
            sqlx::query(sql).bind(&user).bind(ip).bind(now).execute(pool).await.map(|_| ())
        })
        .map_err(query_err("record_login_attempt"))
    }

    /// Failed logins for `username` at or after `since`.
    pub async fn count_login_attempts(
        &self,
        username: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        let sql =
            self.sql("SELECT COUNT(*) FROM login_attempt WHERE username = ? AND created >= ?");
        let user = key(username);
        dispatch_read!(self, pool => {
            sqlx::query_scalar::<_, i64>(sql).bind(&user).bind(since).fetch_one(pool).await
        })
        .map_err(query_err("count_login_attempts"))
    }

    /// Forgets the failed logins of `username` (after a successful login).
    pub async fn clear_login_attempts(&self, username: &str) -> Result<(), StoreError> {
        let sql = self.sql("DELETE FROM login_attempt WHERE username = ?");
        let user = key(username);
        dispatch!(self, pool => sqlx::query(sql).bind(&user).execute(pool).await.map(|_| ()))
            .map_err(query_err("clear_login_attempts"))
    }

    /// Deletes attempts older than `before`; returns how many.
    pub async fn delete_login_attempts_before(&self, before: i64) -> Result<u64, StoreError> {
        let sql = self.sql("DELETE FROM login_attempt WHERE created < ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(before).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(query_err("delete_login_attempts_before"))
    }
}
