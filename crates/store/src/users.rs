//! Users (`user` table). Login and email are unique case-insensitively: lowercased copies
//! (`login_lower`, `email_lower`) carry the unique indexes and serve lookups, while the
//! original spelling is kept for display.

use crate::Store;
use crate::db::{dispatch, dispatch_read, insert_id, transaction};
use crate::error::{StoreError, check_indexed, query_err, unique_err};
use crate::role::OrgRole;

/// Input for [`Store::create_user`] and [`Store::ensure_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name; defaults to `email` when empty (as in Grafana).
    pub login: String,
    /// Email; defaults to `login` when empty (as in Grafana).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password hash (PHC string); never the password itself.
    pub password_hash: String,
    /// Server admin flag.
    pub is_admin: bool,
    /// Organization the user joins (and starts in).
    pub org_id: i64,
    /// Role in that organization.
    pub role: OrgRole,
}

/// A stored user.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name as entered.
    pub login: String,
    /// Email as entered.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password hash (PHC string).
    pub password_hash: String,
    /// Server admin flag.
    pub is_admin: bool,
    /// Disabled users cannot log in.
    pub is_disabled: bool,
    /// Current organization.
    pub org_id: i64,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Last change, unix seconds.
    pub updated: i64,
    /// Last activity, unix seconds (0 = never).
    pub last_seen_at: i64,
}

impl std::fmt::Debug for User {
    /// Like a derived `Debug`, but without the password hash.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("is_admin", &self.is_admin)
            .field("is_disabled", &self.is_disabled)
            .field("org_id", &self.org_id)
            .field("created", &self.created)
            .field("updated", &self.updated)
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}

/// `SELECT` of every [`User`] column, followed by `$tail`.
macro_rules! select_user {
    ($tail:literal) => {
        concat!(
            "SELECT id, login, email, name, password_hash, is_admin, is_disabled, org_id, \
             created, updated, last_seen_at FROM \"user\"",
            $tail
        )
    };
}

/// Lowercased key used for uniqueness and lookups.
fn fold(s: &str) -> String {
    s.to_lowercase()
}

impl Store {
    /// Creates a user and its membership in `u.org_id` (with `u.role`) in one transaction.
    /// A login or email already used by anyone (as login or email, ignoring case) is a
    /// `Conflict`; a missing org is `NotFound`.
    pub async fn create_user(&self, u: &NewUser, now: i64) -> Result<User, StoreError> {
        const OP: &str = "create_user";
        let login = if u.login.is_empty() {
            &u.email
        } else {
            &u.login
        };
        let email = if u.email.is_empty() {
            &u.login
        } else {
            &u.email
        };
        check_indexed("login", login)?;
        check_indexed("email", email)?;
        let (login_l, email_l) = (fold(login), fold(email));
        let taken = || format!("a user with login {login:?} or email {email:?} already exists");

        let check_org = self.sql("SELECT COUNT(*) FROM org WHERE id = ?");
        let check_user = self.sql(
            "SELECT COUNT(*) FROM \"user\" WHERE login_lower IN (?, ?) OR email_lower IN (?, ?)",
        );
        let insert_user = self.insert_sql(
            "INSERT INTO \"user\" (login, login_lower, email, email_lower, name, password_hash, \
             is_admin, is_disabled, org_id, created, updated, last_seen_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let insert_member = self.sql(
            "INSERT INTO org_user (org_id, user_id, role, created, updated) VALUES (?, ?, ?, ?, ?)",
        );
        let id = transaction!(self, OP, tx => {
            let orgs: i64 = sqlx::query_scalar(check_org)
                .bind(u.org_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            if orgs == 0 {
                return Err(StoreError::NotFound(format!("organization {}", u.org_id)));
            }
            let users: i64 = sqlx::query_scalar(check_user)
                .bind(&login_l)
                .bind(&email_l)
                .bind(&login_l)
                .bind(&email_l)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            if users > 0 {
                return Err(StoreError::Conflict(taken()));
            }
            let id = insert_id(
                sqlx::query(insert_user)
                    .bind(login)
                    .bind(&login_l)
                    .bind(email)
                    .bind(&email_l)
                    .bind(&u.name)
                    .bind(&u.password_hash)
                    .bind(u.is_admin)
                    .bind(false)
                    .bind(u.org_id)
                    .bind(now)
                    .bind(now)
                    .bind(0_i64),
                &mut *tx,
            )
            .await
            .map_err(unique_err(OP, taken))?;
            sqlx::query(insert_member)
                .bind(u.org_id)
                .bind(id)
                .bind(u.role.as_str())
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            id
        });
        Ok(User {
            id,
            login: login.clone(),
            email: email.clone(),
            name: u.name.clone(),
            password_hash: u.password_hash.clone(),
            is_admin: u.is_admin,
            is_disabled: false,
            org_id: u.org_id,
            created: now,
            updated: now,
            last_seen_at: 0,
        })
    }

    /// Returns the user with `u.login` (or `u.email`), creating it first if missing; the flag
    /// tells whether this call created it. Safe when several instances start at once.
    pub async fn ensure_user(&self, u: &NewUser, now: i64) -> Result<(User, bool), StoreError> {
        let key = if u.login.is_empty() {
            &u.email
        } else {
            &u.login
        };
        if let Some(user) = self.get_user_by_login_or_email(key).await? {
            return Ok((user, false));
        }
        match self.create_user(u, now).await {
            Ok(user) => Ok((user, true)),
            Err(StoreError::Conflict(msg)) => match self.get_user_by_login_or_email(key).await? {
                Some(user) => Ok((user, false)),
                None => Err(StoreError::Conflict(msg)),
            },
            Err(e) => Err(e),
        }
    }

    /// Looks up a user by id.
    pub async fn get_user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let sql = self.sql(select_user!(" WHERE id = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, User>(sql).bind(id).fetch_optional(pool).await
        })
        .map_err(query_err("get_user"))
    }

    /// Looks up a user whose login or email equals `login_or_email`, ignoring case; a login
    /// match wins over another user's email match.
    pub async fn get_user_by_login_or_email(
        &self,
        login_or_email: &str,
    ) -> Result<Option<User>, StoreError> {
        let key = fold(login_or_email);
        let sql = self.sql(select_user!(
            " WHERE login_lower = ? OR email_lower = ? \
             ORDER BY CASE WHEN login_lower = ? THEN 0 ELSE 1 END LIMIT 1"
        ));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, User>(sql)
                .bind(&key)
                .bind(&key)
                .bind(&key)
                .fetch_optional(pool)
                .await
        })
        .map_err(query_err("get_user_by_login_or_email"))
    }

    /// All users, by login.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = self.sql(select_user!(" ORDER BY login_lower, id"));
        dispatch_read!(self, pool => sqlx::query_as::<_, User>(sql).fetch_all(pool).await)
            .map_err(query_err("list_users"))
    }

    /// Replaces the password hash; false when the user does not exist.
    pub async fn set_user_password(
        &self,
        id: i64,
        password_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql("UPDATE \"user\" SET password_hash = ?, updated = ? WHERE id = ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(password_hash).bind(now).bind(id).execute(pool).await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("set_user_password"))
    }

    /// Grants or revokes server admin; false when the user does not exist.
    pub async fn set_user_admin(
        &self,
        id: i64,
        is_admin: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql("UPDATE \"user\" SET is_admin = ?, updated = ? WHERE id = ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(is_admin).bind(now).bind(id).execute(pool).await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("set_user_admin"))
    }

    /// Switches the user's current org; false when the user does not exist or is not a member.
    pub async fn set_user_org(&self, id: i64, org_id: i64, now: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE \"user\" SET org_id = ?, updated = ? WHERE id = ? AND EXISTS \
             (SELECT 1 FROM org_user WHERE org_user.org_id = ? AND org_user.user_id = ?)",
        );
        dispatch!(self, pool => {
            sqlx::query(sql)
                .bind(org_id)
                .bind(now)
                .bind(id)
                .bind(org_id)
                .bind(id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("set_user_org"))
    }

    /// Records activity (`last_seen_at`).
    pub async fn touch_user_seen(&self, id: i64, now: i64) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE \"user\" SET last_seen_at = ? WHERE id = ?");
        dispatch!(self, pool => sqlx::query(sql).bind(now).bind(id).execute(pool).await.map(|_| ()))
            .map_err(query_err("touch_user_seen"))
    }

    /// Deletes a user with its memberships and sessions; false when it did not exist.
    pub async fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        const OP: &str = "delete_user";
        let members = self.sql("DELETE FROM org_user WHERE user_id = ?");
        let tokens = self.sql("DELETE FROM user_auth_token WHERE user_id = ?");
        let user = self.sql("DELETE FROM \"user\" WHERE id = ?");
        Ok(transaction!(self, OP, tx => {
            for sql in [members, tokens] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await.map_err(query_err(OP))?;
            }
            sqlx::query(user)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(query_err(OP))?
                .rows_affected()
                > 0
        }))
    }
}
